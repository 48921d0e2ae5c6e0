"""The plane each state's surface is evaluated on: directions and origin, written to the store.

:func:`build_planes` runs once per store, after the states are captured. With
``around: current`` every state gets its own draw of random directions (re-normalized
to that state's weights) and the plane travels with the weights; otherwise one plane
(random at the final or a fixed point, PCA of the trajectory, three points, a line) is
shared, and each state's projection onto it is where the minimizer ball sits.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from lossfilm.compute.store import folder as st
from lossfilm.compute.config.compute import ComputeConfig
from lossfilm.compute.landscape.directions import (
    line_plane,
    pca_plane,
    perturbable,
    project,
    random_plane,
    three_point_plane,
)

__all__ = ["build_planes", "load_point"]


def load_point(path: str) -> dict:
    """The state dict of a checkpoint file named in ``directions.points``."""
    from lossfilm.compute.training.capture import CheckpointInfo

    state, _ = CheckpointInfo(Path(path), 0.0, "index").load()
    return state


def _fit_range(values: np.ndarray, margin: float) -> tuple[float, float]:
    """``[lo, hi]`` around ``values`` widened by ``margin`` of their span on each side."""
    lo, hi = float(np.min(values)), float(np.max(values))
    span = max(hi - lo, 1e-6, 0.1 * max(abs(lo), abs(hi)))
    return lo - margin * span, hi + margin * span


def build_planes(cfg: ComputeConfig, folder: Path, states: list[dict]) -> tuple:
    """The landscape section's planes: write directions (and shared origin) files and fill
    ``origin``, ``directions``, ``ball`` of each state.

    Experiments with planes of their own (``build_planes`` in their module) replace this;
    :func:`lossfilm.compute.stage.run.compute_sequence` chooses.

    Returns ``fitted`` ranges for :func:`grid_axes` (None to use the configured ranges) and a
    JSON-able description of the directions.
    """
    land = cfg.landscape
    dcfg = land.directions
    desc = dataclasses.asdict(dcfg) | {"around": land.around}
    inc = dcfg.include_states

    def weights(i):
        return st.load_tensors(folder / states[i]["weights"])

    if land.around == "current":
        for i, s in enumerate(states):
            path = folder / "directions" / f"{st.state_name(s['index'])}.pt"
            if not path.exists():
                d1, d2 = random_plane(perturbable(weights(i), inc), dcfg)
                st.save_tensors(path, {"d1": d1, "d2": d2})
            s.update(origin=s["weights"], directions=str(path.relative_to(folder)), ball=[0.0, 0.0])
        return None, desc

    shared = folder / "directions" / "shared.pt"
    origin_path = folder / "directions" / "origin.pt"
    plane_points = np.zeros((0, 2))
    if shared.exists() and origin_path.exists():
        obj = st.load_tensors(shared)
        d1, d2, origin = obj["d1"], obj["d2"], st.load_tensors(origin_path)
        plane_points = obj["points"].numpy()
        desc.update(obj.get("extra", {}))
    else:
        extra = {}
        if dcfg.kind == "random":
            origin = weights(len(states) - 1) if land.around == "final" else load_point(dcfg.points[0])
            d1, d2 = random_plane(perturbable(origin, inc), dcfg)
        elif dcfg.kind == "pca":
            origin = weights(len(states) - 1)
            traj = [perturbable(weights(i), inc) for i in range(len(states))]
            d1, d2, explained, _ = pca_plane(traj, perturbable(origin, inc), dcfg.ignore)
            extra["explained_variance"] = [float(v) for v in explained]
        else:
            pts = [load_point(p) for p in dcfg.points]
            origin = pts[0]
            p = [perturbable(q, inc) for q in pts]
            if dcfg.kind == "three_point":
                d1, d2, plane_points = three_point_plane(*p)
            else:
                d1, d2, plane_points = line_plane(p[0], p[1], dcfg if dcfg.kind == "line_random" else None)
        desc.update(extra)
        st.save_tensors(origin_path, origin)
        st.save_tensors(
            shared, {"d1": d1, "d2": d2, "points": torch.as_tensor(plane_points, dtype=torch.float64), "extra": extra}
        )
    balls = []
    for i, s in enumerate(states):
        ab = project(perturbable(weights(i), inc), origin, d1, d2)
        s.update(origin="directions/origin.pt", directions="directions/shared.pt", ball=list(ab))
        balls.append(ab)
    fitted = None
    if land.grid.fit and dcfg.kind in ("pca", "three_point", "line", "line_random"):
        pts = np.concatenate([np.asarray(balls), plane_points.reshape(-1, 2)])
        ra = _fit_range(pts[:, 0], dcfg.margin)
        if dcfg.kind == "line":
            rb = None
        elif dcfg.kind == "line_random":
            rb = tuple(land.grid.range_b or land.grid.range)
        else:
            rb = _fit_range(pts[:, 1], dcfg.margin)
        fitted = (ra, rb)
    return fitted, desc

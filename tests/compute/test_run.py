"""compute_sequence end to end on a tiny scene: exact stored points, resume, kill -9, guards."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from lossfilm.compute.store import folder as st
from lossfilm.compute.config.compute import ComputeConfig, config_from_dict, parse_executor
from lossfilm.compute.config.data import DataConfig
from lossfilm.compute.config.landscape import DirectionsConfig
from lossfilm.compute.config.model import ModelConfig
from lossfilm.compute.stage.run import compute_sequence, plan_tiles
from lossfilm.compute.config.compute import numbers_hash
from lossfilm.compute.config.landscape import EvalConfig, GridConfig, LandscapeConfig
from lossfilm.compute.config.train import CaptureConfig, TrainConfig

ROOT = Path(__file__).resolve().parents[2]
KILL_POINTS = 51


def tiny(points=9, kind="random", around="current", **grid) -> ComputeConfig:
    return ComputeConfig(
        model=ModelConfig(hidden=(8,)),
        data=DataConfig(samples=200),
        train=TrainConfig(epochs=2, batch_size=50, capture=CaptureConfig(every=1)),
        landscape=LandscapeConfig(
            directions=DirectionsConfig(kind=kind),
            around=around,
            grid=GridConfig(points=points, **grid),
            eval=EvalConfig(samples=100, points_per_tile=2 * points),
        ),
        executor="serial",
    )


def arrays(folder) -> np.ndarray:
    return st.open(folder).sequence().loss


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ref")
    return compute_sequence(tiny(), folder, progress=False)


def test_store_is_complete_and_described(reference):
    s = st.open(reference)
    m = s.manifest
    assert s.complete and m["complete"] and len(s.states) == 3  # initial + 2 epochs
    assert m["axes"] == ["state", "b", "a"] and m["config_hash"] == numbers_hash(tiny())
    assert m["metrics"] == ["loss", "accuracy"] and m["data"]["eval_samples"] == 100
    seq = s.sequence()
    assert seq.loss.shape == (3, 9, 9) and seq.channels["accuracy"].shape == (3, 9, 9)
    np.testing.assert_array_equal(seq.ball, np.zeros((3, 2)))
    assert {"train_loss", "lr", "eval_loss"} <= set(seq.values)
    # the middle of the odd grid is the origin: its loss is the state's own eval loss
    np.testing.assert_allclose(seq.loss[:, 4, 4], seq.values["eval_loss"], rtol=1e-6)


def test_any_stored_point_recomputed_with_plain_torch(reference):
    s = st.open(reference)
    x, y = s.eval_data()
    rng = np.random.default_rng(0)
    for i in range(len(s.states)):
        origin = s.origin(i)
        d1, d2 = s.directions(i)
        for r, c in rng.integers(0, 9, size=(2, 2)):
            a, b = s.a[c], s.b[r]
            model = s.model()
            model.load_state_dict({k: origin[k] + a * d1[k] + b * d2[k] if k in d1 else origin[k] for k in origin})
            model.eval()
            with torch.no_grad():
                want = float(F.cross_entropy(model(x), y))
            assert s.loss(i)[r, c] == pytest.approx(want, rel=1e-5)


def test_resume_after_interruption_gives_identical_arrays(reference, tmp_path):
    cfg = tiny()
    compute_sequence(cfg, tmp_path, progress=False, max_tiles=4)
    s = st.open(tmp_path)
    assert not s.complete and s.manifest["complete"] is False
    assert len(list((tmp_path / "surfaces").rglob("*.npz"))) >= 1
    compute_sequence(cfg, tmp_path, progress=False)
    assert st.open(tmp_path).complete
    # the claim is bit-identity: each tile is computed by the same code whether resumed or not
    np.testing.assert_array_equal(arrays(tmp_path), arrays(reference))
    # a complete store is left alone
    mtime = st.surface_path(tmp_path, 0).stat().st_mtime_ns
    compute_sequence(cfg, tmp_path, progress=False)
    assert st.surface_path(tmp_path, 0).stat().st_mtime_ns == mtime
    # fresh=True recomputes everything, to the same numbers
    compute_sequence(cfg, tmp_path, progress=False, fresh=True)
    assert st.surface_path(tmp_path, 0).stat().st_mtime_ns != mtime
    np.testing.assert_array_equal(arrays(tmp_path), arrays(reference))  # same path again


@pytest.mark.slow
def test_kill_9_during_a_pool_run_then_rerun(tmp_path):
    """A process pool run killed with SIGKILL mid-way; the rerun finishes from the files."""
    # big enough (3 × 51² points) that the kill lands well before the end even on a fast machine
    cfg = dataclasses.replace(tiny(points=KILL_POINTS), executor="local:2")
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(ROOT)!r})
        from tests.compute.test_run import tiny
        import dataclasses
        from lossfilm.compute.stage.run import compute_sequence
        if __name__ == "__main__":
            compute_sequence(dataclasses.replace(tiny(points={KILL_POINTS}), executor="local:2"),
                             {str(tmp_path)!r}, progress=False)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if len(list((tmp_path / "surfaces").rglob("*.npz"))) >= 2:
                break
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    s = st.open(tmp_path)
    assert not s.complete
    compute_sequence(dataclasses.replace(cfg, executor="serial"), tmp_path, progress=False)
    resumed = arrays(tmp_path)
    assert not list(tmp_path.rglob("*.tmp"))  # a killed write leaves no litter after the rerun
    fresh = compute_sequence(dataclasses.replace(cfg, executor="serial"), tmp_path / "fresh", progress=False)
    # pool workers run 1 thread each, the serial rerun 2: same numbers to float rounding
    np.testing.assert_allclose(resumed, arrays(fresh), rtol=1e-6)


def test_pca_plane_around_final(tmp_path):
    cfg = tiny(kind="pca", around="final")
    compute_sequence(cfg, tmp_path, progress=False)
    s = st.open(tmp_path)
    seq = s.sequence()
    assert tuple(seq.ball[-1]) == (0.0, 0.0)  # the final state is the origin
    assert s.manifest["directions"]["explained_variance"][0] > 0
    # the fitted grid covers the projected trajectory
    assert s.a[0] < seq.ball[:, 0].min() and s.a[-1] > seq.ball[:, 0].max()
    assert s.b[0] < seq.ball[:, 1].min() and s.b[-1] > seq.ball[:, 1].max()


def test_guards_and_hash(tmp_path):
    big = dataclasses.replace(tiny(points=101), max_points=1000)
    with pytest.raises(ValueError, match="max_points"):
        compute_sequence(big, tmp_path, progress=False)
    assert numbers_hash(tiny()) == numbers_hash(tiny())
    assert numbers_hash(tiny()) == numbers_hash(dataclasses.replace(tiny(), executor="local:3"))
    assert numbers_hash(tiny()) != numbers_hash(tiny(points=11))
    assert parse_executor("local:3") == ("local", 3)
    with pytest.raises(ValueError, match="executor"):
        ComputeConfig(executor="threads")
    assert plan_tiles(5, 10, 20) == [(0, 2), (2, 4), (4, 5)]
    assert config_from_dict(ModelConfig, {"hidden": [4, 4]}).hidden == (4, 4)


def test_checkpoints_on_a_fixed_three_point_plane(reference, tmp_path):
    """States read from a checkpoint folder, sliced by the plane through three of them."""
    ckpts = reference / "weights"
    points = tuple(str(ckpts / f"{st.state_name(i)}.pt") for i in range(3))
    base = tiny()
    cfg = dataclasses.replace(
        base,
        checkpoints=str(ckpts),
        landscape=dataclasses.replace(
            base.landscape,
            directions=DirectionsConfig(kind="three_point", points=points, margin=0.5),
            around="fixed",
        ),
    )
    compute_sequence(cfg, tmp_path, progress=False)
    s = st.open(tmp_path)
    seq = s.sequence()
    assert seq.loss.shape == (3, 9, 9)
    coords = st.load_tensors(tmp_path / "directions" / "shared.pt")["points"].numpy()
    np.testing.assert_allclose(seq.ball, coords, atol=1e-5)  # each state sits on its point
    assert seq.ball[0].tolist() == [0.0, 0.0] and seq.ball[1] == pytest.approx([1.0, 0.0], abs=1e-5)
    assert s.a[0] < 0.0 < 1.0 < s.a[-1]  # grid fitted around the three points
    np.testing.assert_allclose(seq.values["origin_loss"], seq.values["eval_loss"][0], rtol=1e-6)


def test_auto_executor_picks_what_the_probes_say_is_faster():
    from lossfilm.compute.stage.tiles import POOL_START_S, faster_executor

    # a small MLP: a point costs the same with 1 thread as with 2 (Python overhead)
    kind, seconds = faster_executor(1e-3, 1e-3, 40_000, 2)
    assert kind == "local" and seconds == pytest.approx(POOL_START_S + 20.0)
    # a conv net already uses both cores in one process: the pool only adds its start-up
    assert faster_executor(1e-3, 2e-3, 40_000, 2) == ("serial", pytest.approx(40.0))
    # a short job is not worth starting processes for; one worker never is
    assert faster_executor(1e-3, 1e-3, 3_000, 2)[0] == "serial"
    assert faster_executor(1e-3, 1e-4, 40_000, 1)[0] == "serial"


def test_checkpoint_values_become_overlay_values(tmp_path):
    from lossfilm.compute.training.capture import Recorder
    from lossfilm.compute.model.zoo import build_model

    model = build_model(ModelConfig(hidden=(8,)), (2,), 2)
    rec = Recorder(tmp_path / "run", model)
    for epoch in range(3):
        rec.capture(epoch=epoch, train_loss=1.0 - 0.25 * epoch, lr=0.1 / (epoch + 1))
        with torch.no_grad():
            model[1].weight.mul_(1.1)
    cfg = dataclasses.replace(tiny(), checkpoints=str(tmp_path / "run"), model=ModelConfig(hidden=(8,)))
    compute_sequence(cfg, tmp_path / "store", progress=False)
    seq = st.open(tmp_path / "store").sequence()
    np.testing.assert_allclose(seq.values["train_loss"], [1.0, 0.75, 0.5])
    np.testing.assert_allclose(seq.values["lr"], [0.1, 0.05, 0.1 / 3])
    assert np.all(np.isfinite(seq.values["eval_loss"]))


def test_line_between_two_checkpoints_is_one_row(reference, tmp_path):
    ckpts = reference / "weights"
    points = tuple(str(ckpts / f"{st.state_name(i)}.pt") for i in (0, 2))
    base = tiny()
    cfg = dataclasses.replace(
        base,
        checkpoints=str(ckpts),
        landscape=dataclasses.replace(
            base.landscape, directions=DirectionsConfig(kind="line", points=points), around="fixed"
        ),
    )
    compute_sequence(cfg, tmp_path, progress=False)
    seq = st.open(tmp_path).sequence()
    assert seq.loss.shape == (3, 1, 9) and seq.b.tolist() == [0.0]
    assert seq.ball[2] == pytest.approx([1.0, 0.0], abs=1e-5)
    assert seq.a[0] < 0.0 and seq.a[-1] > 1.0


def test_checkpoints_of_another_architecture_are_refused(reference, tmp_path):
    cfg = dataclasses.replace(tiny(), checkpoints=str(reference / "weights"), model=ModelConfig(hidden=(5,)))
    with pytest.raises(ValueError, match="does not fit compute.model"):
        compute_sequence(cfg, tmp_path, progress=False)

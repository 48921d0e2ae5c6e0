"""The pipeline: scene -> compute -> store -> mesh -> camera -> render -> encode.

Each stage reads only what the stage before it wrote. The surface sequence is cached on
disk under the hash of the ``compute`` section, so editing the camera, the look or the
output never retrains; a changed ``compute`` section gets a folder of its own, so nothing
computed before is overwritten. Frames stream from the mesh stage through the renderer
into ffmpeg one at a time, in chunks that a killed render resumes from.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import numpy as np

from lossfilm.compute.execution.progress import format_seconds, say
from lossfilm.compute.config.compute import numbers_hash
from lossfilm.render.scene.scene import Scene, as_dict, stage_hash

if TYPE_CHECKING:  # the film's parts import scipy and torch-side stores: loaded when used
    from lossfilm.render.camera.path import CameraPath
    from lossfilm.render.mesh.film_surface import FilmSurface

__all__ = ["Film", "compute_stage", "open_film", "run_film", "preview_scene", "say"]

VERSION = "0.1.0"
#: --preview: small, fast, same film.
PREVIEW_FPS = "15"
PREVIEW_MESH_RESOLUTION = 128
#: framed orbits show the floor this far (per plane size) around a plinth standing on one.
FLOOR_FOOTING = 0.08


def note(message: str) -> None:
    say(True, "lossfilm", message)


def preview_scene(scene: Scene) -> Scene:
    """The same film as a fast draft: 15 fps, no MSAA, no motion blur or depth of field, a coarser mesh.

    The frame size of a preview is ``output.preview_height`` (360 by default, 640×360
    for a 16:9 film), applied by the encoder's ``frame_size(preview=True)``.
    """
    output = dataclasses.replace(scene.output, fps=PREVIEW_FPS)
    render = dataclasses.replace(scene.render, msaa=0,
                                 motion_blur=dataclasses.replace(scene.render.motion_blur, enabled=False),
                                 dof=dataclasses.replace(scene.render.dof, enabled=False))
    mesh = dataclasses.replace(scene.mesh, resolution=min(scene.mesh.resolution, PREVIEW_MESH_RESOLUTION))
    return dataclasses.replace(scene, output=output, render=render, mesh=mesh)


#: --tiny: the whole pipeline in seconds, for tests and smoke checks of any scene.
TINY_FILM_SECONDS = 1.5
TINY_SIZE = (160, 90)
#: --tiny: images (shapes) at most this side, conv nets one block per stage at most this wide.
TINY_IMAGE_SIZE = 8
TINY_CONV_WIDTH = 4
#: (target, coarse) of a refined grid under --tiny: levels of stride 4, 2 and 1
TINY_REFINE = (17, 5)


def tiny_scene(scene: Scene) -> Scene:
    """The same scene shrunk to run end to end in seconds on a CPU.

    At most 3 epochs on at most 400 samples (images at most 8×8; a cnn/resnet keeps its
    switches at depth 1 and width ≤ 4), a 9×9 grid evaluated on at most 256 samples,
    a 40-point mesh, every shot scaled so the film lasts 1.5 s, 160×90 at 10 fps without
    MSAA. Everything else (model, directions, shots, look, profile) is the scene's own,
    so a tiny run exercises the real code paths of the scene.
    """
    c = scene.compute
    train = dataclasses.replace(c.train, epochs=min(c.train.epochs, 3))
    data = dataclasses.replace(c.data, samples=min(c.data.samples or 400, 400),
                               image_size=min(c.data.image_size, TINY_IMAGE_SIZE))
    model = c.model
    if model.kind in ("cnn", "resnet"):  # conv nets keep their kind and switches, at their smallest
        model = dataclasses.replace(model, depth=1, width=min(model.width, TINY_CONV_WIDTH))
    land = c.landscape
    refine = land.grid.refine
    if refine.enabled:  # refined scenes stay refined, on the smallest grid with two levels
        refine = dataclasses.replace(refine, target=TINY_REFINE[0], coarse=TINY_REFINE[1],
                                     budget=max(refine.budget, TINY_REFINE[1] ** 2 / TINY_REFINE[0] ** 2))
    grid = dataclasses.replace(land.grid, points=9, shape=None, refine=refine)
    evaluation = dataclasses.replace(land.eval, samples=min(land.eval.samples, 256))
    landscape = dataclasses.replace(land, grid=grid, eval=evaluation)
    compute = dataclasses.replace(c, model=model, train=train, data=data, landscape=landscape, executor="serial")
    compute = dataclasses.replace(compute, curvature=tiny_curvature(c.curvature))
    total = sum(shot.duration for shot in scene.camera.shots)
    scale = TINY_FILM_SECONDS / total
    shots = tuple(_scaled_shot(shot, scale) for shot in scene.camera.shots)
    t = scene.mesh.time
    time_cfg = dataclasses.replace(t, hold_start=t.hold_start * scale, hold_end=t.hold_end * scale)
    mesh = dataclasses.replace(scene.mesh, resolution=min(scene.mesh.resolution, 40), time=time_cfg)
    camera = dataclasses.replace(scene.camera, shots=shots)
    light = dataclasses.replace(scene.render.light, shadow_map_size=512)
    render = dataclasses.replace(scene.render, msaa=0, light=light)
    output = dataclasses.replace(
        scene.output, size=TINY_SIZE, resolution=None, fps="10", preset="veryfast", audio=None
    )
    return dataclasses.replace(
        scene, compute=compute, mesh=mesh, camera=camera, render=render, output=output
    )


def _scaled_shot(shot, scale: float):
    """A shot ``scale`` times as long; its lens keys' times, and a keyframes shot's key
    times (and key velocities), too."""
    from lossfilm.render.scene.camera import KeyframeShot

    def keyed(keys: tuple) -> tuple:
        return tuple((t * scale, value) for t, value in keys)

    shot = dataclasses.replace(shot, duration=shot.duration * scale, focus=keyed(shot.focus), fstop=keyed(shot.fstop))
    if isinstance(shot, KeyframeShot):
        shot = dataclasses.replace(shot, times=tuple(t * scale for t in shot.times),
                                   tangents=tuple(v / scale for v in shot.tangents))
    return shot


def tiny_curvature(cfg):
    """Curvature settings of ``--tiny``: a few Lanczos steps and probes (same code paths)."""
    return dataclasses.replace(cfg, iterations=min(cfg.iterations, 8), trace_samples=min(cfg.trace_samples, 2),
                               subgrid_iterations=min(cfg.subgrid_iterations, 4))


def draft_scene(scene: Scene, *, preview: bool = False, tiny: bool = False) -> Scene:
    """Apply ``--tiny`` and/or ``--preview``."""
    if tiny:
        scene = tiny_scene(scene)
    if preview:
        scene = preview_scene(scene)
    return scene


# ----------------------------------------------------------------------------- compute


def surfaces_folder(scene: Scene, out: Path) -> Path:
    """Where the surface sequence of this compute section lives: one folder per
    :func:`~lossfilm.compute.config.compute.numbers_hash`, the store's own definition of
    what changes the numbers, so the same scene on a laptop and on a cluster, on a CPU or
    a GPU, shares its surfaces.
    """
    if scene.compute.store is not None:  # a store made elsewhere (lossfilm import): filmed as it is
        return Path(scene.compute.store).expanduser().resolve()
    return out / "surfaces" / numbers_hash(scene.compute)


def compute_stage(scene: Scene, out: Path, *, force: bool = False, executor: str | None = None) -> Path:
    """Train/evaluate, or reuse the stored surfaces when the compute section is unchanged."""
    from lossfilm.compute.store import folder as store
    from lossfilm.compute.curvature.spectra import curvature_current
    from lossfilm.compute.stage.run import compute_sequence

    folder = surfaces_folder(scene, out)
    if scene.compute.store is not None:
        return given_store(folder)
    if not force and store.is_complete(folder) and curvature_current(scene.compute.curvature, folder):
        note(f"reusing stored surfaces {folder} (nothing that changes the numbers changed)")
        return folder
    started = time.perf_counter()
    compute_sequence(scene.compute, folder, force=force, fresh=force, executor=executor)
    note(f"surfaces stored in {folder} ({format_seconds(time.perf_counter() - started)})")
    return folder


def given_store(folder: Path) -> Path:
    """``compute.store``: a finished store filmed as it is; nothing is computed or changed."""
    from lossfilm.compute.store import folder as store

    try:
        opened = store.open(folder)
    except (ValueError, OSError, KeyError) as exc:
        raise ValueError(
            f"compute.store: {exc}; make one with `lossfilm import FILE... --out {folder}`"
        ) from None
    if not opened.complete:
        raise ValueError(f"compute.store: {folder} is not complete; finish it with `lossfilm compute`")
    note(f"filming the surfaces in {folder} (compute.store{': imported' if opened.imported else ''})")
    return folder


# ----------------------------------------------------------------------------- film


@dataclasses.dataclass
class Film:
    """Everything needed to draw any frame of a scene: surface, camera and size."""

    scene: Scene
    surface: FilmSurface
    camera: CameraPath
    fps: float
    size: tuple[int, int]

    @property
    def n_frames(self) -> int:
        return self.surface.n_frames

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps


def open_film(scene: Scene, folder: Path, *, size: tuple[int, int] | None = None) -> Film:
    """Mesh stage and camera for a stored surface sequence."""
    from lossfilm.compute.store import folder as store
    from lossfilm.render.mesh.film_surface import FilmSurface
    from lossfilm.render.scene.output import parse_fps
    from lossfilm.render.camera.path import CameraPath
    from lossfilm.render.scene.camera import camera_duration

    sequence = store.open(folder).sequence()
    fps = float(parse_fps(scene.output.fps))
    duration = camera_duration(scene.camera)
    surface = FilmSurface(sequence, scene.mesh, duration, fps)
    base = scene.render.base
    # a solid plinth is framed down to its bottom; fading walls are not (they fade out)
    plane = surface.topology.bounds.size
    base_depth = base.depth * plane if base.enabled and base.fade == 0 else 0.0
    # standing on a floor, a strip of it in front of the plinth is framed too
    footing = FLOOR_FOOTING * plane if base_depth and scene.render.floor.enabled else 0.0
    dof = scene.render.dof  # what a shot without lens keys focuses on, for focus eased across transitions
    lens = (dof.distance if dof.focus == "distance" else dof.focus, dof.fstop)
    camera = CameraPath(scene.camera, surface, fps, base_depth=base_depth, footing=footing, lens=lens)
    return Film(scene, surface, camera, fps, tuple(size or scene.output.size))


class FrameRenderer:
    """A GL context and renderer for one film; draws frames by index."""

    def __init__(self, film: Film, *, transparent: bool = False) -> None:
        from lossfilm.render.gl.context import create_context
        from lossfilm.render.gl.renderer import SurfaceRenderer

        self.film = film
        self.ctx = create_context()
        self.renderer = SurfaceRenderer(
            self.ctx, film.surface.topology, film.scene.render, film.size, transparent=transparent
        )
        self._buffer: np.ndarray | None = None

    def frames(self, start: int, stop: int) -> Iterator[np.ndarray]:
        """Frames ``start..stop-1``, each read back into one reused buffer.

        A yielded array is overwritten by the next one: consume it (encode, copy) first.
        At 4K this saves a 25 MB allocation per frame.
        """
        w, h = self.film.size
        if self._buffer is None:
            self._buffer = np.empty((h, w, self.renderer.components), np.uint8)
        blur = self.film.scene.render.motion_blur
        if blur.enabled and blur.samples > 1:  # sub-frames in film time (render.shutter)
            from lossfilm.render.gl.shutter import render_blurred

            for i in range(max(int(start), 0), min(int(stop), self.film.n_frames)):
                render_blurred(self.renderer, self.film.surface, self.film.camera, i, self.film.fps, blur,
                               self._buffer)
                yield self._buffer
            return
        for frame in self.film.surface.frames(start, stop):
            pose = self.film.camera.pose_at(frame.time)
            self.renderer.render_into(frame, pose, self._buffer)
            yield self._buffer

    def release(self) -> None:
        self.renderer.release()
        self.ctx.release()


# Worker processes rebuild the film from references (scene file, overrides, folders) and
# keep it for the next chunk: tasks never carry GL objects or arrays.
_WORKER_CACHE: dict[tuple, FrameRenderer] = {}


@dataclasses.dataclass(frozen=True)
class RenderJob:
    """A picklable reference to a film to render: enough to rebuild it in any process."""

    scene_path: str
    overrides: tuple[str, ...]
    preview: bool
    folder: str
    tiny: bool = False

    def film(self) -> Film:
        from lossfilm.render.scene.scene import load_scene

        scene = draft_scene(load_scene(self.scene_path, self.overrides), preview=self.preview, tiny=self.tiny)
        return open_film(scene, Path(self.folder), size=scene.output.frame_size(preview=self.preview))

    def __call__(self, start: int, stop: int) -> Iterator[np.ndarray]:
        # File stamps in the key: a long-lived (Dask) worker must not keep drawing a scene
        # or a store that was edited since; an outdated film is released, not kept.
        stamps = tuple(_stamp(p) for p in (self.scene_path, Path(self.folder) / "manifest.json"))
        key = (self.scene_path, self.overrides, self.preview, self.folder, self.tiny, stamps)
        if key not in _WORKER_CACHE:
            for old in [k for k in _WORKER_CACHE if k[:5] == key[:5]]:
                _WORKER_CACHE.pop(old).release()
            film = self.film()
            _WORKER_CACHE[key] = FrameRenderer(film, transparent=transparent(film.scene))
        return _WORKER_CACHE[key].frames(start, stop)


def _stamp(path: str | Path) -> tuple[int, int]:
    st = Path(path).stat()
    return st.st_mtime_ns, st.st_size


def film_path(scene: Scene, out: Path, preview: bool) -> Path:
    """Where the film goes; a preview never overwrites the real film."""
    return scene.output.output_path(scene.name, out, preview=preview)


def transparent(scene: Scene) -> bool:
    return scene.render.background.kind == "transparent"


def run_film(
    scene: Scene, out: Path, job: RenderJob, *, force: bool = False, executor: str | None = None
) -> Path:
    """Render and encode the whole film, chunked and resumable; returns the film's path.

    ``executor`` (``--executor``) overrides ``output.executor``: where chunks render.
    """
    from lossfilm.render.output.chunks import render_film

    film = job.film()
    path = film_path(film.scene, out, job.preview)
    # Where chunks are rendered (workers, executor) does not change their pixels: keep the key.
    placement_free = dataclasses.replace(film.scene.output, workers=1, executor="")
    render_key = stage_hash(dataclasses.replace(film.scene, output=placement_free), job.preview)
    work_dir = out / ".chunks" / render_key
    if force and work_dir.exists():
        shutil.rmtree(work_dir)
    note(
        f"rendering {film.n_frames} frames at {film.size[0]}×{film.size[1]}, {film.fps:g} fps"
        f" ({film.duration:.1f} s of film) to {path}"
    )
    started = time.perf_counter()
    result = render_film(
        film.scene.output, path, film.n_frames, job, work_dir,
        alpha=transparent(film.scene), preview=job.preview,
        executor=executor, cluster=film.scene.compute.cluster,
    )
    if not film.scene.output.keep_chunks:
        shutil.rmtree(work_dir, ignore_errors=True)
    note(f"film written in {format_seconds(time.perf_counter() - started)}")
    return Path(result)


def still_metadata(scene: Scene, **extra: object) -> dict[str, str]:
    """PNG text chunks that trace a figure back to its scene."""
    meta = {
        "Software": f"lossfilm {VERSION}",
        "lossfilm:scene": scene.name,
        "lossfilm:scene-hash": stage_hash(scene),
        "lossfilm:compute-hash": stage_hash(scene.compute),
    }
    meta.update({f"lossfilm:{k}": str(v) for k, v in extra.items()})
    meta["lossfilm:config"] = json.dumps(as_dict(scene), separators=(",", ":"), default=str)
    return meta

"""Chunked, resumable, parallel rendering of a film.

A film of ``n`` frames is cut into chunks ``[k*c, (k+1)*c)``. Each chunk is rendered and
encoded into its own segment file (same codec parameters; a separate encode, so every
H.264/H.265 segment starts with a keyframe) written atomically (temp name + rename).
A restarted render finds the segments already on disk, checks them (exact frame count)
and renders only the missing ones. The segments are then joined *without re-encoding*
(ffmpeg's concat demuxer, ``-c copy``; +faststart for MP4) and the audio is muxed in
at the join.

Parallel chunks run in an ``concurrent.futures.Executor`` (a spawn pool, or a Dask
cluster through ``output.executor``; see :mod:`lossfilm.compute.execution.executors`). Only references cross
the process boundary: a chunk job carries the :class:`~lossfilm.render.output.encode.EncodeSpec` (plain
values), the frame range, the segment path and ``render_range``, a picklable top-level
callable such as :class:`FrameSource` (function + arguments that are paths, hashes,
numbers). Each worker builds its own GL context inside ``render_range``; GL contexts and
torch state do not survive ``fork``, hence :func:`make_executor` uses ``spawn``.

Segments are named after a fingerprint of the codec parameters, frame count and chunk
length, so a render with other settings never reuses a stale segment. The *content* is
the caller's: give each scene (or scene hash) its own ``work_dir``.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import os
import pickle
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from lossfilm.compute.execution.executors import DaskExecutor, open_executor

from lossfilm.compute.config.cluster import ClusterConfig, parse_executor_spec
from lossfilm.compute.execution.faults import die, fault_due, fault_point
from lossfilm.compute.execution.progress import Progress
from lossfilm.compute.store.integrity import WriteFailed
from lossfilm.render.output.encode import (
    EncodeSpec,
    VideoWriter,
    audio_args,
    encode_spec,
    partial_path,
    publish,
    remove,
    run_ffmpeg,
)
from lossfilm.render.scene.output import OutputConfig
from lossfilm.render.output.probe import FRAME_GLOB, count_frames
from lossfilm.render.output.segment_check import (
    forget_segment,
    record_segment,
    remove_stale_partials,
    segment_damage,
    set_aside_segment,
)

__all__ = [
    "FrameSource",
    "ChunkJob",
    "chunk_ranges",
    "fingerprint",
    "plan_chunks",
    "segment_is_valid",
    "encode_chunk",
    "join_segments",
    "render_chunked",
    "make_executor",
    "render_film",
]

RenderRange = Callable[[int, int], Iterator[np.ndarray]]


@dataclasses.dataclass(frozen=True)
class FrameSource:
    """A picklable reference to a film's frames: ``fn(*args, start, stop)`` yields them.

    ``fn`` must be a module-level function and ``args`` plain references (a scene path,
    a store folder, a hash), so a worker process can rebuild what it needs, GL context
    included, from them.
    """

    fn: Callable[..., Iterator[np.ndarray]]
    args: tuple = ()

    def __call__(self, start: int, stop: int) -> Iterator[np.ndarray]:
        return self.fn(*self.args, start, stop)


@dataclasses.dataclass(frozen=True)
class ChunkJob:
    """One chunk to render: frames ``[start, stop)`` of ``spec`` into ``segment``."""

    spec: EncodeSpec
    index: int
    start: int
    stop: int
    segment: Path
    render_range: RenderRange

    @property
    def frames(self) -> int:
        return self.stop - self.start


def chunk_ranges(n_frames: int, chunk_frames: int) -> list[tuple[int, int]]:
    """``[(0, c), (c, 2c), ..., (kc, n)]``: the frame ranges of the chunks."""
    if n_frames < 1:
        raise ValueError(f"a film needs at least one frame, got {n_frames}")
    if chunk_frames < 1:
        raise ValueError(f"chunk_frames must be >= 1, got {chunk_frames}")
    return [(s, min(s + chunk_frames, n_frames)) for s in range(0, n_frames, chunk_frames)]


def fingerprint(spec: EncodeSpec, n_frames: int, chunk_frames: int) -> str:
    """Short hash of everything that makes a segment reusable (not the output path)."""
    key = repr((spec.size, str(spec.fps), spec.codec, spec.pix_fmt, spec.muxer,
                spec.codec_args, spec.alpha, spec.bt709, n_frames, chunk_frames))
    return hashlib.sha1(key.encode()).hexdigest()[:10]


def plan_chunks(
    spec: EncodeSpec, n_frames: int, render_range: RenderRange, work_dir: Path, chunk_frames: int
) -> list[ChunkJob]:
    """The jobs of every chunk of the film, in order (done or not)."""
    fp = fingerprint(spec, n_frames, chunk_frames)
    ext = "" if spec.is_frames else "." + spec.muxer
    return [
        ChunkJob(spec, k, start, stop, Path(work_dir) / f"seg-{fp}-{k:05d}{ext}", render_range)
        for k, (start, stop) in enumerate(chunk_ranges(n_frames, chunk_frames))
    ]


def segment_is_valid(job: ChunkJob) -> bool:
    """Whether the job's segment exists and holds exactly its frames."""
    seg = job.segment
    if job.spec.is_frames:
        if not seg.is_dir():
            return False
        names = {p.name for p in seg.glob(FRAME_GLOB)}
        return names == {f"frame_{i:06d}.png" for i in range(job.start, job.stop)}
    if not seg.is_file():
        return False
    if segment_damage(seg) is not None:  # right frame count or not, its bytes changed
        return False
    try:
        return count_frames(seg) == job.frames
    except RuntimeError:  # unreadable: rendered again
        return False


def encode_chunk(job: ChunkJob, on_frame: Callable[[int], None] | None = None) -> int:
    """Render and encode one chunk into its segment (atomically). Returns its frame count.

    This is the function a worker process runs; ``on_frame`` is for in-process progress.
    """
    expected = job.frames
    with VideoWriter(job.spec, path=job.segment, with_audio=False,
                     start_number=job.start, faststart=False) as writer:
        for frame in job.render_range(job.start, job.stop):
            if writer.frames_written == expected:
                raise ValueError(f"render_range({job.start}, {job.stop}) yielded more than {expected} frames")
            writer.write(frame)
            fault_point("frame")  # test-only: LOSSFILM_FAULT=frame:N (compute.execution.faults)
            if on_frame is not None:
                on_frame(1)
        if writer.frames_written != expected:
            raise ValueError(
                f"render_range({job.start}, {job.stop}) yielded {writer.frames_written} frames, "
                f"expected {expected}"
            )
    record_segment(job.segment)  # after the segment is in place: a digest never outlives it
    return expected


def _concat_list(segments: list[Path], list_path: Path) -> None:
    lines = []
    for seg in segments:
        quoted = str(seg.resolve()).replace("'", "'\\''")
        lines.append(f"file '{quoted}'\n")
    try:
        list_path.write_text("".join(lines))
    except OSError as exc:  # a full disk: named like every other write
        list_path.unlink(missing_ok=True)
        raise WriteFailed(list_path, exc) from exc


def join_segments(spec: EncodeSpec, segments: list[Path], n_frames: int, work_dir: Path) -> Path:
    """Join the segments, in order, into ``spec.path`` without re-encoding; mux audio here."""
    tmp = partial_path(spec.path)
    spec.path.parent.mkdir(parents=True, exist_ok=True)
    remove(tmp)
    try:
        if spec.is_frames:
            tmp.mkdir()
            for seg in segments:
                for png in sorted(seg.glob(FRAME_GLOB)):
                    try:  # a hard link costs nothing; a copy where links are not allowed
                        os.link(png, tmp / png.name)
                    except OSError:
                        shutil.copy2(png, tmp / png.name)
        else:
            list_path = Path(work_dir) / f"concat-{os.getpid()}.txt"
            _concat_list(segments, list_path)
            a_in, a_out = audio_args(spec, spec.seconds(n_frames), 1)
            args = ["-f", "concat", "-safe", "0", "-i", str(list_path), *a_in, *a_out,
                    "-c:v", "copy"]
            if "hvc1" in spec.codec_args:
                args += ["-tag:v", "hvc1"]
            if spec.faststart:
                args += ["-movflags", "+faststart"]
            try:
                run_ffmpeg([*args, "-f", spec.muxer, str(tmp)], f"joining segments into {spec.path}",
                           spec.path, on_start=lambda proc: _fault_mid_join(proc, tmp))
            finally:
                list_path.unlink(missing_ok=True)
        fault_point("publish")  # test-only: the temporary is whole, the film not yet in place
        publish(tmp, spec.path)
    except BaseException:
        remove(tmp)
        raise
    return spec.path


def _fault_mid_join(proc: subprocess.Popen, tmp: Path) -> None:
    """``LOSSFILM_FAULT=join:N``: once ffmpeg writes the film's temporary, kill it, then us.

    A job killed as a whole (a cgroup, a scheduler) takes the join's ffmpeg with it, leaving
    a temporary cut wherever ffmpeg was (or whole, when it was faster than this check).
    """
    if not fault_due("join"):
        return
    deadline = time.monotonic() + 10.0
    while proc.poll() is None and time.monotonic() < deadline:
        if tmp.exists() and tmp.stat().st_size > 0:
            break
        time.sleep(0.001)
    proc.kill()
    die()


def _check_picklable(render_range: RenderRange) -> None:
    try:
        pickle.dumps(render_range)
    except Exception as err:  # pickle raises several types
        raise ValueError(
            "render_range must be picklable to run in worker processes: use a module-level "
            f"function or FrameSource(fn, args) holding only references ({err})"
        ) from err


def render_chunked(
    spec: EncodeSpec,
    n_frames: int,
    render_range: RenderRange,
    work_dir: str | Path,
    *,
    chunk_frames: int,
    executor: concurrent.futures.Executor | None = None,
    progress: bool = True,
    keep_segments: bool = False,
) -> Path:
    """Render a film chunk by chunk into ``spec.path``, reusing segments already on disk.

    Parameters
    ----------
    n_frames : frames in the film.
    render_range : ``render_range(start, stop)`` yields the ``(H, W, 3|4)`` frames of
        ``[start, stop)``; picklable when ``executor`` runs processes.
    work_dir : folder of the segments (one per scene; survives a crash for the resume).
    chunk_frames : frames per chunk.
    executor : runs chunks in parallel; None renders in this process.
    progress : print progress over frames (what, how far, time left).
    keep_segments : keep the segments after a successful join (default: delete them).

    Returns
    -------
    The final path (``spec.path``).
    """
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    for stale in work_dir.glob(".seg-*.partial*"):
        remove(stale)  # left by a render that was killed mid-chunk
    jobs = plan_chunks(spec, n_frames, render_range, work_dir, chunk_frames)
    todo = [job for job in jobs if not segment_is_valid(job)]
    for job in todo:
        if job.segment.exists():  # segments appear whole (atomic): one that fails is damaged
            set_aside_segment(job.segment, segment_damage(job.segment) or "wrong frame count or unreadable")
        forget_segment(job.segment)
    done = n_frames - sum(job.frames for job in todo)
    what = f"rendering {spec.path.name}"
    with Progress(what, n_frames, unit="frames", done=done, enabled=progress) as bar:
        if executor is None:
            for job in todo:
                encode_chunk(job, bar.advance)
        elif todo:
            if isinstance(executor, (concurrent.futures.ProcessPoolExecutor, DaskExecutor)):
                _check_picklable(render_range)
            futures = {executor.submit(encode_chunk, job): job for job in todo}
            try:
                for fut in concurrent.futures.as_completed(futures):
                    bar.advance(fut.result())
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise
    remove_stale_partials(spec.path)  # a join killed mid-way (kill -9) left its temporary
    out = join_segments(spec, [job.segment for job in jobs], n_frames, work_dir)
    if not keep_segments:
        for job in jobs:
            remove(job.segment)
            forget_segment(job.segment)
    return out


def make_executor(
    workers: int, executor: str = "", cluster: ClusterConfig | None = None
) -> concurrent.futures.Executor | None:
    """Where chunks render: None (in this process), a ``spawn`` pool, or a Dask cluster.

    ``executor`` is an executor setting (:mod:`lossfilm.compute.execution.executors`); ``""`` or ``auto``
    means ``workers`` (1: in this process, N: a pool of N), ``local`` a pool of all cores.
    """
    if workers < 1:
        raise ValueError(f"output.workers: {workers} must be >= 1")
    spec = parse_executor_spec(executor or "auto", "output.executor")
    if spec.kind == "auto":
        spec = parse_executor_spec("serial" if workers == 1 else f"local:{workers}")
    return open_executor(spec, cluster, local_workers=os.cpu_count() or 1)


def render_film(
    cfg: OutputConfig,
    path: str | Path,
    n_frames: int,
    render_range: RenderRange,
    work_dir: str | Path,
    *,
    alpha: bool = False,
    preview: bool = False,
    progress: bool = True,
    executor: str | None = None,
    cluster: ClusterConfig | None = None,
) -> Path:
    """What the pipeline calls: the ``output:`` config, frames, a work folder -> a film.

    Builds the :class:`~lossfilm.render.output.encode.EncodeSpec`, cuts the film into
    ``cfg.chunk_seconds`` chunks, renders them in this process (``workers: 1``), a
    spawn pool of ``cfg.workers`` processes or where ``executor`` (else
    ``cfg.executor``) says, e.g. ``dask://host:8786`` with ``cluster`` settings, and
    joins them into ``path``. Frames from ``render_range`` must have the size
    ``encode_spec(cfg, path, preview=preview).size``.
    """
    spec = encode_spec(cfg, path, alpha=alpha, preview=preview)
    executor = make_executor(cfg.workers, executor or cfg.executor, cluster)
    try:
        return render_chunked(spec, n_frames, render_range, work_dir,
                              chunk_frames=cfg.chunk_frames(), executor=executor,
                              progress=progress, keep_segments=cfg.keep_chunks)
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)

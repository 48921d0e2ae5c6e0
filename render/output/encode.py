"""Frames in, a film out: the ffmpeg side of lossfilm.

:class:`VideoWriter` streams frames, one at a time, into imageio-ffmpeg's bundled ffmpeg
through a raw-video pipe; nothing holds the film in memory. What ffmpeg is asked to do
(:class:`EncodeSpec`, from the ``output:`` config by :func:`encode_spec`) lives in
:mod:`lossfilm.render.output.codecs` and is importable from here too.

A film is written under a hidden temporary name next to its final path and renamed at
:meth:`VideoWriter.close`, so a killed or failed encode never leaves a truncated file
under the name a user (or a resumed render) would trust.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

from lossfilm.render.output.codecs import (  # the spec's API, also importable from here
    LARGE_FRAME_LOOKAHEAD,
    LARGE_FRAME_PIXELS,
    EncodeSpec,
    audio_args,
    encode_spec,
    nvenc_available,
    output_args,
    video_filter,
)
from lossfilm.compute.store.integrity import WriteFailed
from lossfilm.render.output.probe import FRAME_PATTERN, ffmpeg_exe

__all__ = [
    "EncodeSpec",
    "encode_spec",
    "VideoWriter",
    "mux_audio",
    "nvenc_available",
    "video_filter",
    "output_args",
    "audio_args",
    "partial_path",
    "publish",
    "remove",
    "run_ffmpeg",
    "ffmpeg_failed",
    "LARGE_FRAME_LOOKAHEAD",
    "LARGE_FRAME_PIXELS",
]

#: Lines of ffmpeg's stderr quoted in an error.
ERROR_TAIL_CHARS = 1500
#: errors that only writing causes: ffmpeg failing with one of these could not write its
#: output (a full disk, a quota, a file-size limit, a read-only mount).
WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS)


def ffmpeg_failed(path: Path, what: str, stderr: str, returncode: int | None) -> Exception:
    """The error to raise for a failed ffmpeg run that wrote (or was to write) ``path``.

    A write error is :class:`~lossfilm.compute.store.integrity.WriteFailed` naming ``path``
    (``cannot write PATH: No space left on device``), as for every file lossfilm writes;
    ffmpeg says it in its log (``Error writing trailer ...: No space left on device``) and
    in its exit status (``AVERROR(errno) & 0xff``). Anything else quotes ffmpeg's log.
    """
    for code in WRITE_ERRNOS:
        if os.strerror(code) in stderr or (returncode is not None and returncode == 256 - code):
            return WriteFailed(path, OSError(code, os.strerror(code)))
    return RuntimeError(f"{what}: {stderr[-ERROR_TAIL_CHARS:]}")


def partial_path(path: Path) -> Path:
    """Hidden temporary sibling of ``path``, unique to this process."""
    return path.with_name(f".{path.name}.{os.getpid()}.partial")


def publish(tmp: Path, path: Path) -> None:
    """Atomically move a finished file or folder ``tmp`` to ``path`` (same file system)."""
    if tmp.is_dir() and path.is_dir():
        # rename() cannot replace a non-empty folder: move the old one aside first.
        old = path.with_name(f".{path.name}.{os.getpid()}.old")
        os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)


def remove(path: Path) -> None:
    """Delete a file or folder if it is there."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def run_ffmpeg(args: list[str], what: str, writes: Path,
               on_start: Callable[[subprocess.Popen], None] | None = None) -> None:
    """Run ffmpeg to completion; on failure raise :func:`ffmpeg_failed`'s error.

    ``writes`` is the file the output becomes (named when it cannot be written);
    ``on_start(proc)`` is called once ffmpeg runs (the join's test-only fault point).
    """
    proc = subprocess.Popen([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        if on_start is not None:
            on_start(proc)
        _, err = proc.communicate()
    except BaseException:  # Ctrl-C, SIGTERM: ffmpeg stops with us
        proc.kill()
        proc.wait()
        raise
    if proc.returncode != 0:
        raise ffmpeg_failed(writes, f"{what} failed", err.decode(errors="replace"), proc.returncode)


_INPUT_PIX_FMT = {(np.dtype(np.uint8), 3): "rgb24", (np.dtype(np.uint8), 4): "rgba",
                  (np.dtype(np.uint16), 3): "rgb48le", (np.dtype(np.uint16), 4): "rgba64le"}


class VideoWriter:
    """Stream frames into ffmpeg; the file appears under its final name only at close.

    Parameters
    ----------
    spec : what to write.
    path : write here instead of ``spec.path`` (chunk segments).
    with_audio : mux ``spec.audio`` at close (segments leave audio to the join).
    start_number : number of the first PNG (frames profile), so chunks number globally.
    faststart : override the MP4 fast-start flag (segments skip it: the join applies it).

    Use as a context manager: an exception inside the block discards the partial output.
    Frames are ``(H, W, 3 or 4)`` uint8 (or uint16 for 16-bit sources), row 0 = top,
    ``(H, W) == spec.size[::-1]``.
    """

    def __init__(
        self,
        spec: EncodeSpec,
        *,
        path: str | Path | None = None,
        with_audio: bool = True,
        start_number: int = 0,
        faststart: bool | None = None,
    ) -> None:
        self.spec = spec
        self.path = Path(path) if path is not None else spec.path
        self.with_audio = with_audio and spec.audio is not None
        self.start_number = start_number
        self.faststart = faststart
        self.frames_written = 0
        self._tmp = partial_path(self.path)
        self._proc: subprocess.Popen | None = None
        self._log = None
        self._layout: tuple[np.dtype, int] | None = None
        self._closed = False

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _start(self, dtype: np.dtype, channels: int) -> None:
        w, h = self.spec.size
        self.path.parent.mkdir(parents=True, exist_ok=True)
        remove(self._tmp)
        head = ["-f", "rawvideo", "-pix_fmt", _INPUT_PIX_FMT[(dtype, channels)],
                "-s", f"{w}x{h}", "-r", str(self.spec.fps), "-i", "-"]
        if self.spec.is_frames:
            self._tmp.mkdir(parents=True)
            tail = ["-vf", video_filter(self.spec), "-c:v", "png", "-pix_fmt", self.spec.pix_fmt,
                    "-start_number", str(self.start_number), "-f", "image2",
                    str(self._tmp / FRAME_PATTERN)]
        else:
            faststart = self.faststart if not self.with_audio else False
            tail = [*output_args(self.spec, faststart=faststart), "-an", "-f", self.spec.muxer,
                    str(self._tmp)]
        # stderr goes to a file, not a pipe: a pipe nobody reads can fill and stall ffmpeg.
        self._log = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *head, *tail],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log,
        )
        self._layout = (dtype, channels)

    def _error(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-ERROR_TAIL_CHARS:]

    def write(self, frame: np.ndarray) -> None:
        """Append one ``(H, W, 3|4)`` uint8/uint16 frame (row 0 = top)."""
        if self._closed:
            raise RuntimeError("write() on a closed VideoWriter")
        frame = np.asarray(frame)
        w, h = self.spec.size
        if frame.ndim != 3 or frame.shape[:2] != (h, w) or frame.shape[2] not in (3, 4):
            raise ValueError(f"frame of shape {frame.shape}; expected ({h}, {w}, 3 or 4)")
        if frame.dtype not in (np.uint8, np.uint16):
            raise ValueError(f"frame dtype {frame.dtype}; expected uint8 or uint16")
        layout = (frame.dtype, frame.shape[2])
        if self._proc is None:
            self._start(*layout)
        elif layout != self._layout:
            raise ValueError(f"frame {self.frames_written} is {layout}, earlier frames {self._layout}")
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame, dtype=frame.dtype.newbyteorder("<")).data)
        except BrokenPipeError:
            rc = self._proc.wait()
            message = self._error()
            self.abort()
            raise ffmpeg_failed(self.path, f"ffmpeg stopped while encoding {self.path}", message, rc) from None
        self.frames_written += 1

    def close(self) -> Path:
        """Finish the encode, mux audio, and move the result to its final path."""
        if self._closed:
            return self.path
        if self._proc is None:
            self.abort()
            raise ValueError(f"no frames were written to {self.path}")
        self._proc.stdin.close()
        rc = self._proc.wait()
        if rc != 0:
            message = self._error()
            self.abort()
            raise ffmpeg_failed(self.path, f"ffmpeg failed encoding {self.path} (exit {rc})", message, rc)
        try:
            if self.with_audio:
                muxed = self._tmp.with_name(self._tmp.name + ".mux")
                mux_audio(self.spec, self._tmp, muxed, self.frames_written, faststart=self.faststart)
                os.replace(muxed, self._tmp)
            publish(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise
        self._closed = True
        self._log.close()
        return self.path

    def abort(self) -> None:
        """Stop ffmpeg and delete the partial output; the final path is left untouched."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        if self._proc is not None and self._proc.stdin and not self._proc.stdin.closed:
            try:
                self._proc.stdin.close()
            except BrokenPipeError:
                pass
        remove(self._tmp)
        remove(self._tmp.with_name(self._tmp.name + ".mux"))
        if self._log is not None:
            self._log.close()
        self._closed = True


def mux_audio(
    spec: EncodeSpec, video: Path, out: Path, n_frames: int, *, faststart: bool | None = None
) -> None:
    """Copy the video stream of ``video`` and add ``spec.audio`` (AAC, trimmed, faded) into ``out``."""
    a_in, a_out = audio_args(spec, spec.seconds(n_frames), 1)
    args = ["-i", str(video), *a_in, *a_out, "-c:v", "copy"]
    if "hvc1" in spec.codec_args:
        args += ["-tag:v", "hvc1"]
    if spec.faststart if faststart is None else faststart:
        args += ["-movflags", "+faststart"]
    run_ffmpeg([*args, "-f", spec.muxer, str(out)], f"muxing audio into {spec.path}", spec.path)

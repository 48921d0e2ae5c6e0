"""Frames in, a film out: the ffmpeg side of lossfilm.

:func:`encode_spec` turns the ``output:`` config into an :class:`EncodeSpec` (everything
ffmpeg needs, made of plain values so it pickles into worker processes).
:class:`VideoWriter` streams frames, one at a time, into imageio-ffmpeg's bundled ffmpeg
through a raw-video pipe; nothing holds the film in memory.

A film is written under a hidden temporary name next to its final path and renamed at
:meth:`VideoWriter.close`, so a killed or failed encode never leaves a truncated file
under the name a user (or a resumed render) would trust.

Colour: the renderer's frames are sRGB. Video profiles convert them to Y'CbCr with the
BT.709 matrix (limited range) *and* tag the stream BT.709, so the matrix a player uses
to decode is the one used to encode (ffmpeg's default conversion is BT.601 and untagged,
which shifts hues in every browser).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import subprocess
import tempfile
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np

from render.output import OutputConfig
from render.probe import FRAME_PATTERN, ffmpeg_exe, probe

__all__ = [
    "EncodeSpec",
    "render_chunked",
    "encode_spec",
    "VideoWriter",
    "nvenc_available",
    "video_filter",
    "output_args",
    "audio_args",
    "partial_path",
    "publish",
]

#: Seconds the NVENC trial encode may take before NVENC is declared unusable.
NVENC_TRIAL_TIMEOUT = 20.0
#: NVENC speed preset (p1 fastest .. p7 best); p5 is near x264 'slow' quality at GPU speed.
NVENC_PRESET = "p5"
#: Frames larger than this (pixels; above 1440p) get x264's lookahead capped: memory.
LARGE_FRAME_PIXELS = 2560 * 1440
#: x264 rc-lookahead for large frames (preset veryfast's value; 4K ffmpeg RSS 1.1 GB vs 2.1 GB).
LARGE_FRAME_LOOKAHEAD = 10
#: Lines of ffmpeg's stderr quoted in an error.
ERROR_TAIL_CHARS = 1500


@dataclasses.dataclass(frozen=True)
class EncodeSpec:
    """Everything needed to encode one film; plain values only, so it pickles.

    Attributes
    ----------
    path : final file (or folder, for the frames profile).
    size : ``(width, height)`` the frames must have.
    fps : exact frame rate.
    profile : profile name (``web``, ``master``, ``edit``, ``frames``).
    codec, pix_fmt, muxer : ffmpeg encoder, stored pixel format and muxer.
    crf, preset : quality and speed (None where the codec has none).
    alpha : frames carry alpha and the profile keeps it (ProRes 4444, RGBA PNG).
    audio : audio file to mux, or None.
    codec_args : encoder arguments after ``-c:v codec``.
    bt709 : convert with and tag BT.709 (video profiles).
    """

    path: Path
    size: tuple[int, int]
    fps: Fraction
    profile: str
    codec: str
    pix_fmt: str
    muxer: str
    crf: int | None = None
    preset: str | None = None
    alpha: bool = False
    audio: str | None = None
    audio_fade: float = 1.0
    audio_kbps: int = 192
    codec_args: tuple[str, ...] = ()
    bt709: bool = True

    @property
    def is_frames(self) -> bool:
        """Whether the output is a folder of PNGs rather than a video file."""
        return self.muxer == "image2"

    @property
    def faststart(self) -> bool:
        """MP4 files get their index up front so browsers play before the download ends."""
        return self.muxer == "mp4"

    def seconds(self, n_frames: int) -> float:
        """Duration of ``n_frames`` frames."""
        return float(Fraction(n_frames) / self.fps)


@functools.lru_cache(maxsize=None)
def nvenc_available(codec: str = "h264_nvenc") -> bool:
    """Whether a tiny trial encode with ``codec`` works here (answer cached per process).

    Listing the encoder is not enough: the bundled ffmpeg always lists NVENC, and it
    only works with an NVIDIA driver and a free encoder session.
    """
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
            "-f", "lavfi", "-i", "color=black:s=256x256:r=30:d=0.2",
            "-c:v", codec, "-f", "null", "-"]
    try:
        out = subprocess.run(args, capture_output=True, timeout=NVENC_TRIAL_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0


def _codec_args(codec: str, crf: int | None, preset: str | None, extra: tuple[str, ...]):
    args: list[str] = []
    if codec in ("libx264", "libx265"):
        args += ["-preset", preset, "-crf", str(crf)]
    elif codec.endswith("_nvenc"):
        # Constant-quality VBR: the NVENC counterpart of CRF (cq uses the same 0..51 scale).
        args += ["-preset", NVENC_PRESET, "-tune", "hq", "-rc", "vbr", "-cq", str(crf), "-b:v", "0"]
    return tuple(args) + tuple(extra)


def encode_spec(
    cfg: OutputConfig, path: str | Path, *, alpha: bool = False, preview: bool = False
) -> EncodeSpec:
    """Resolve the ``output:`` config into an :class:`EncodeSpec` for ``path``.

    Parameters
    ----------
    alpha : the renderer draws a transparent background (RGBA frames). ProRes becomes
        4444 and PNGs RGBA; H.264/H.265 have no alpha and drop it.
    preview : a quick look in the same profile, at ``cfg.preview_height`` (or less) and,
        for x264/x265, ``cfg.preview_preset`` speed.

    Raises
    ------
    ValueError
        ``nvenc: on`` without a working NVENC, or an ``audio`` file that does not exist.
    """
    profile = cfg.profile_spec
    codec, pix_fmt = profile.codec, profile.pix_fmt
    extra = profile.args
    preset = (cfg.preview_preset if preview else cfg.preset) or profile.default_preset
    crf = cfg.crf if cfg.crf is not None else profile.default_crf
    keeps_alpha = alpha and profile.alpha_pix_fmt is not None
    if keeps_alpha:
        pix_fmt = profile.alpha_pix_fmt
        extra = profile.alpha_args if profile.alpha_args is not None else extra
    if profile.codec == "png" and cfg.png_depth == 16:
        pix_fmt = "rgba64be" if keeps_alpha else "rgb48be"
    if profile.nvenc_codec and cfg.nvenc != "off":
        usable = nvenc_available(profile.nvenc_codec)
        if cfg.nvenc == "on" and not usable:
            raise ValueError(
                f"output.nvenc: 'on' but a trial {profile.nvenc_codec} encode failed "
                "(needs an NVIDIA GPU and driver); use nvenc: auto or off"
            )
        if usable:
            codec, pix_fmt = profile.nvenc_codec, profile.nvenc_pix_fmt
            # x264/x265 private options do not apply; keep only container tags.
            extra = ("-tag:v", "hvc1") if "hvc1" in profile.args else ()
            if codec == "hevc_nvenc":
                extra += ("-profile:v", "main10")
            preset = None
    audio = cfg.audio
    if audio is not None:
        if profile.codec == "png":
            warnings.warn("output.audio is ignored by the frames profile (PNG files have no sound)")
            audio = None
        elif not Path(audio).is_file():
            raise ValueError(f"output.audio: {audio!r} is not a file")
        else:
            try:
                sound = probe(audio).has_audio
            except ValueError:
                sound = False
            if not sound:
                raise ValueError(f"output.audio: ffmpeg finds no audio stream in {audio!r}")
    size = cfg.frame_size(preview=preview)
    if codec == "libx264" and size[0] * size[1] > LARGE_FRAME_PIXELS:
        # x264 holds rc-lookahead frames in memory (50 at preset slow: ffmpeg alone ~2 GB
        # at 4K, measured); a short lookahead keeps a 4K film's process tree under 2 GiB
        extra = tuple(extra) + ("-rc-lookahead", str(LARGE_FRAME_LOOKAHEAD))
    return EncodeSpec(
        path=Path(path),
        size=size,
        fps=cfg.frame_rate(),
        profile=profile.name,
        codec=codec,
        pix_fmt=pix_fmt,
        muxer=profile.muxer,
        crf=crf if codec in ("libx264", "libx265") or codec.endswith("_nvenc") else None,
        preset=preset if codec in ("libx264", "libx265") else None,
        alpha=keeps_alpha,
        audio=audio,
        audio_fade=cfg.audio_fade,
        audio_kbps=cfg.audio_kbps,
        codec_args=_codec_args(codec, crf, preset, extra),
        bt709=profile.bt709,
    )


def __getattr__(name: str):
    # render_chunked lives in render.chunks (which imports this module); it is also
    # reachable here because the pipeline API lists it with the encoder.
    if name == "render_chunked":
        from render.chunks import render_chunked

        return render_chunked
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def video_filter(spec: EncodeSpec) -> str:
    """The ``-vf`` chain: RGB -> stored pixel format, BT.709 matrix and tags for video."""
    if not spec.bt709:
        return f"format={spec.pix_fmt}"
    return (
        "scale=out_color_matrix=bt709:out_range=tv:flags=bicubic+accurate_rnd,"
        f"format={spec.pix_fmt},"
        # Tags travel on the frames in ffmpeg >= 7; the -color_* options alone leave
        # primaries and transfer 'unknown'.
        "setparams=colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv"
    )


def output_args(spec: EncodeSpec, *, faststart: bool | None = None) -> list[str]:
    """Encoder and tag arguments for the video stream (after the inputs)."""
    args = ["-vf", video_filter(spec), "-c:v", spec.codec, *spec.codec_args, "-pix_fmt", spec.pix_fmt]
    if spec.bt709:
        args += ["-colorspace", "bt709", "-color_primaries", "bt709",
                 "-color_trc", "bt709", "-color_range", "tv"]
    if spec.faststart if faststart is None else faststart:
        args += ["-movflags", "+faststart"]
    return args


def audio_args(spec: EncodeSpec, film_seconds: float, input_index: int) -> tuple[list[str], list[str]]:
    """``(input args, output args)`` muxing ``spec.audio`` as AAC, trimmed and faded out.

    The audio is cut at the film's end (``-t`` on its input) and faded over the last
    ``spec.audio_fade`` seconds of whichever ends first, the film or the audio.
    """
    if spec.audio is None:
        return [], []
    audio_seconds = probe(spec.audio).duration or film_seconds
    end = min(film_seconds, audio_seconds)
    fade = min(spec.audio_fade, end)
    inputs = ["-t", f"{film_seconds:.6f}", "-i", str(spec.audio)]
    outputs = ["-map", "0:v:0", "-map", f"{input_index}:a:0",
               "-c:a", "aac", "-b:a", f"{spec.audio_kbps}k"]
    if fade > 0:
        outputs += ["-af", f"afade=t=out:st={end - fade:.6f}:d={fade:.6f}"]
    return inputs, outputs


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


def run_ffmpeg(args: list[str], what: str) -> None:
    """Run ffmpeg to completion; raise RuntimeError quoting its stderr on failure."""
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
                         capture_output=True)
    if out.returncode != 0:
        raise RuntimeError(f"{what} failed: {out.stderr.decode(errors='replace')[-ERROR_TAIL_CHARS:]}")


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
            self._proc.wait()
            message = self._error()
            self.abort()
            raise RuntimeError(f"ffmpeg stopped while encoding {self.path}: {message}") from None
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
            raise RuntimeError(f"ffmpeg failed encoding {self.path} (exit {rc}): {message}")
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
    run_ffmpeg([*args, "-f", spec.muxer, str(out)], f"muxing audio into {spec.path}")

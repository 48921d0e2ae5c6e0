"""Look inside a video with the bundled ffmpeg: what a decoder reports, and its pixels.

imageio-ffmpeg ships ``ffmpeg`` but no ``ffprobe``, so :func:`probe` reads the stream
description ffmpeg prints for ``ffmpeg -i FILE`` and counts frames exactly by copying the
packets into the ``framecrc`` muxer (no decoding: fast even for 4K). The frame rate comes
from the packet durations in the stream time base, so ``24000/1001`` is reported exactly,
not as the rounded ``23.98`` ffmpeg prints.

A folder of numbered PNGs (the ``frames`` profile) is probed like a video.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

__all__ = [
    "VideoInfo",
    "ffmpeg_exe",
    "probe",
    "count_frames",
    "read_frames",
    "read_audio",
    "FRAME_GLOB",
]

#: Name pattern of the frames profile's PNGs (ffmpeg image2 syntax) and its glob.
FRAME_PATTERN = "frame_%06d.png"
FRAME_GLOB = "frame_*.png"
#: Seconds a probe may take before it is treated as a hung ffmpeg.
PROBE_TIMEOUT = 120.0


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of imageio-ffmpeg's bundled ffmpeg binary."""
    try:
        import imageio_ffmpeg
    except ImportError as err:  # pragma: no cover - a declared dependency
        raise RuntimeError("encoding needs imageio-ffmpeg: pip install imageio-ffmpeg") from err
    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    """What a decoder reports about a video file (or a PNG-sequence folder)."""

    codec: str
    #: codec profile as ffmpeg names it (``High``, ``Main 10``, ``HQ``, ``4444``) or ``""``.
    codec_profile: str
    #: container tag (``avc1``, ``hvc1``, ``apch``) or ``""``.
    codec_tag: str
    pix_fmt: str
    width: int
    height: int
    #: exact number of video frames (packets) in the stream.
    frames: int
    fps: Fraction
    #: container duration in seconds (``frames / fps`` for a PNG folder).
    duration: float
    color_range: str | None
    color_space: str | None
    color_primaries: str | None
    color_transfer: str | None
    has_audio: bool
    audio_codec: str | None
    audio_rate: int | None


def _run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", *args],
        capture_output=True,
        timeout=PROBE_TIMEOUT,
    )


_VIDEO_RE = re.compile(r"Stream #\d+:\d+.*?: Video: (?P<rest>.*)")
_AUDIO_RE = re.compile(r"Stream #\d+:\d+.*?: Audio: (?P<codec>\w+)[^,]*, (?P<rate>\d+) Hz")
_DURATION_RE = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_SIZE_RE = re.compile(r"(?<![\w.])(\d{2,5})x(\d{2,5})(?![\w.])")
_FPS_RE = re.compile(r"([\d.]+k?) fps")


def _split_top(text: str) -> list[str]:
    """Split ffmpeg's stream description at commas outside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur).strip())
    return parts


def _parse_video_stream(rest: str) -> dict:
    parts = _split_top(rest)
    head = parts[0].split()
    codec = head[0]
    prof = re.match(r"\w+ \(([^)]*)\)", parts[0])
    codec_profile = prof.group(1) if prof and "/" not in prof.group(1) else ""
    fourcc = re.search(r"\((\w{4}) / 0x[0-9A-Fa-f]+\)", parts[0])
    pix = re.match(r"(\w+)(?:\((.*)\))?", parts[1])
    pix_fmt = pix.group(1)
    rng = space = prim = trc = None
    if pix.group(2):
        for tag in (t.strip() for t in pix.group(2).split(",")):
            if tag in ("tv", "pc"):
                rng = tag
            elif tag in ("progressive", "tt", "bb", "tb", "bt", "top first", "bottom first"):
                continue
            elif "/" in tag:  # space/primaries/transfer when they differ
                space, prim, trc = (None if t == "unknown" else t for t in tag.split("/"))
            else:  # one name: all three agree
                space = prim = trc = tag
    size = next(m for m in (_SIZE_RE.search(p) for p in parts[2:]) if m)
    fps = _FPS_RE.search(rest)
    return {
        "codec": codec,
        "codec_profile": codec_profile,
        "codec_tag": fourcc.group(1) if fourcc else "",
        "pix_fmt": pix_fmt,
        "width": int(size.group(1)),
        "height": int(size.group(2)),
        "fps_text": fps.group(1) if fps else None,
        "color_range": rng,
        "color_space": space,
        "color_primaries": prim,
        "color_transfer": trc,
    }


def _packet_timing(path: Path) -> tuple[int, Fraction | None]:
    """Exact packet count and frame rate from packet durations (no decoding)."""
    out = _run(["-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-"])
    if out.returncode != 0:
        raise RuntimeError(f"cannot read packets of {path}: {out.stderr.decode()[-500:]}")
    tb, durations, n = None, [], 0
    for line in out.stdout.decode().splitlines():
        if line.startswith("#tb 0:"):
            num, den = line.split(":", 1)[1].strip().split("/")
            tb = Fraction(int(num), int(den))
        elif line and not line.startswith("#"):
            n += 1
            fields = [f.strip() for f in line.split(",")]
            durations.append(int(fields[3]))
    fps = None
    positive = sorted(d for d in durations if d > 0)
    if tb is not None and positive:
        fps = 1 / (positive[len(positive) // 2] * tb)
    return n, fps


def _fps_from_text(text: str | None) -> Fraction:
    if not text:
        return Fraction(0)
    value = float(text[:-1]) * 1000 if text.endswith("k") else float(text)
    from lossfilm.render.scene.output import parse_fps  # the NTSC snapping rule lives there

    return parse_fps(value)


def _probe_folder(folder: Path) -> VideoInfo:
    files = sorted(folder.glob(FRAME_GLOB))
    if not files:
        raise ValueError(f"{folder}: no {FRAME_GLOB} files to probe")
    first = probe(files[0])
    return dataclasses.replace(
        first, frames=len(files), fps=Fraction(0), duration=0.0, codec_profile=""
    )


def probe(path: str | Path) -> VideoInfo:
    """Describe a video (codec, pixel format, size, exact frames and rate, colour tags, audio).

    Raises
    ------
    ValueError
        If ``path`` does not exist or holds no video stream.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: no such file to probe")
    if path.is_dir():
        return _probe_folder(path)
    text = _run(["-i", str(path)]).stderr.decode(errors="replace")
    video = _VIDEO_RE.search(text)
    audio = _AUDIO_RE.search(text)
    duration = _DURATION_RE.search(text)
    seconds = (
        int(duration.group(1)) * 3600 + int(duration.group(2)) * 60 + float(duration.group(3))
        if duration
        else 0.0
    )
    if video is None:
        if audio is not None:  # an audio-only file: still useful (its duration)
            return VideoInfo("", "", "", "", 0, 0, 0, Fraction(0), seconds, None, None, None, None,
                             True, audio.group("codec"), int(audio.group("rate")))
        raise ValueError(f"{path}: no video stream ({text.strip().splitlines()[-1]})")
    v = _parse_video_stream(video.group("rest"))
    single_image = path.suffix.lower() in (".png", ".jpg", ".jpeg", ".tif", ".tiff")
    if single_image:
        frames, fps = 1, Fraction(0)
    else:
        frames, fps = _packet_timing(path)
        if fps is None:
            fps = _fps_from_text(v["fps_text"])
    return VideoInfo(
        codec=v["codec"],
        codec_profile=v["codec_profile"],
        codec_tag=v["codec_tag"],
        pix_fmt=v["pix_fmt"],
        width=v["width"],
        height=v["height"],
        frames=frames,
        fps=fps,
        duration=seconds,
        color_range=v["color_range"],
        color_space=v["color_space"],
        color_primaries=v["color_primaries"],
        color_transfer=v["color_transfer"],
        has_audio=audio is not None,
        audio_codec=audio.group("codec") if audio else None,
        audio_rate=int(audio.group("rate")) if audio else None,
    )


def count_frames(path: str | Path) -> int:
    """Exact number of video frames in a file (packets copied, not decoded)."""
    return _packet_timing(Path(path))[0]


def read_frames(
    path: str | Path,
    *,
    every: int = 1,
    size: tuple[int, int] | None = None,
    alpha: bool = False,
    depth: int = 8,
) -> Iterator[np.ndarray]:
    """Decode a video (or PNG folder) to RGB frames, one at a time.

    Parameters
    ----------
    every : keep every ``every``-th frame (0, every, 2*every, ...).
    size : ``(width, height)`` to scale to, or the stored size.
    alpha : decode RGBA instead of RGB.
    depth : 8 (uint8) or 16 (uint16) bits per channel.

    Yields
    ------
    (H, W, 3 or 4) uint8 or uint16, row 0 = top.
    """
    path = Path(path)
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    if depth not in (8, 16):
        raise ValueError(f"depth must be 8 or 16, got {depth}")
    info = probe(path)
    width, height = size if size is not None else (info.width, info.height)
    channels = 4 if alpha else 3
    pix_fmt = {(8, 3): "rgb24", (8, 4): "rgba", (16, 3): "rgb48le", (16, 4): "rgba64le"}[
        (depth, channels)
    ]
    dtype = np.uint8 if depth == 8 else np.dtype("<u2")
    if path.is_dir():
        first = sorted(path.glob(FRAME_GLOB))[0]
        start = int(first.stem.split("_")[-1])
        source = ["-start_number", str(start), "-i", str(path / FRAME_PATTERN)]
    else:
        source = ["-i", str(path)]
    filters = []
    if every > 1:
        filters.append(f"select=not(mod(n\\,{every}))")
    if size is not None:
        filters.append(f"scale={width}:{height}")
    vf = ["-vf", ",".join(filters)] if filters else []
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", *source, *vf,
           "-map", "0:v:0", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"]
    nbytes = width * height * channels * np.dtype(dtype).itemsize
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        while True:
            buf = proc.stdout.read(nbytes)
            if len(buf) < nbytes:
                break
            yield np.frombuffer(buf, dtype=dtype).reshape(height, width, channels)
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        rc = proc.wait()
    if rc != 0:
        raise RuntimeError(f"decoding {path} failed: {err[-500:]}")


def read_audio(path: str | Path, *, rate: int = 8000) -> np.ndarray:
    """Decode the first audio stream to mono float32 samples in [-1, 1] at ``rate`` Hz.

    Returns
    -------
    (n,) float32
    """
    out = _run(["-loglevel", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1",
                "-ar", str(rate), "-f", "s16le", "-"])
    if out.returncode != 0:
        raise RuntimeError(f"decoding audio of {path} failed: {out.stderr.decode()[-500:]}")
    return np.frombuffer(out.stdout, dtype="<i2").astype(np.float32) / 32768.0

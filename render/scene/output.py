"""What a film is delivered as: size, frame rate, output profile, chunking, audio.

:class:`OutputConfig` is the ``output:`` section of a scene file. The output *profiles*
(``web``, ``master``, ``edit``, ``frames``) live in one registry, :data:`PROFILES`, each with
a one-line description, so the CLI and the docs can list them.

Frame rates are kept as strings in the config (``"30"``, ``"29.97"``, ``"24000/1001"``)
and parsed to an exact :class:`fractions.Fraction` by :func:`parse_fps`; a number given in
YAML (``fps: 30`` or ``fps: 29.97``) is accepted and stored as its string. The NTSC rates
written as decimals (23.976, 29.97, 59.94, ...) are read as the exact ``N*1000/1001`` rates
that players and editors expect.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

from lossfilm.compute.config.cluster import parse_executor_spec
from lossfilm.compute.config.options import option

__all__ = [
    "Profile",
    "PROFILES",
    "RESOLUTIONS",
    "X26X_PRESETS",
    "OutputConfig",
    "parse_fps",
    "even_size",
    "profile_extension",
]

#: Named resolutions: the frame height; the width follows the aspect of ``size``.
RESOLUTIONS: dict[str, int] = {"720p": 720, "1080p": 1080, "1440p": 1440, "4k": 2160}

#: Speed presets understood by libx264 and libx265 (fastest first).
X26X_PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast",
    "medium", "slow", "slower", "veryslow", "placebo",
)

#: Largest frame side the codecs here accept (H.264 level 6.2 / HEVC allow 8192 wide).
MAX_SIDE = 8192
#: Highest frame rate accepted; above this a film is almost surely a typo.
MAX_FPS = 240
#: How close a decimal rate must be to ``N*1000/1001`` to be read as that NTSC rate.
NTSC_TOLERANCE = 2e-3


@dataclasses.dataclass(frozen=True)
class Profile:
    """One output profile: codec, pixel format and container of a delivery."""

    name: str
    description: str
    #: ffmpeg encoder (``libx264``), or ``png`` for an image sequence.
    codec: str
    #: pixel format written to the file.
    pix_fmt: str
    #: file extension without the dot (``""`` for a folder of frames).
    ext: str
    #: ffmpeg muxer (``mp4``, ``mov``, ``image2``).
    muxer: str
    default_crf: int | None = None
    default_preset: str | None = None
    #: encoder arguments always given.
    args: tuple[str, ...] = ()
    #: (codec args, pix_fmt) used instead when the frames carry alpha; None: alpha dropped.
    alpha_args: tuple[str, ...] | None = None
    alpha_pix_fmt: str | None = None
    #: NVENC encoder that can stand in for ``codec`` (None: no hardware path).
    nvenc_codec: str | None = None
    nvenc_pix_fmt: str | None = None
    #: whether frames are tagged and converted as BT.709 video (not for PNG).
    bt709: bool = True


PROFILES: dict[str, Profile] = {
    "web": Profile(
        name="web",
        description="H.264 (libx264) yuv420p MP4, CRF 18, BT.709, fast start: plays everywhere",
        codec="libx264",
        pix_fmt="yuv420p",
        ext="mp4",
        muxer="mp4",
        default_crf=18,
        default_preset="slow",
        nvenc_codec="h264_nvenc",
        nvenc_pix_fmt="yuv420p",
    ),
    "master": Profile(
        name="master",
        description="H.265 (libx265) 10-bit yuv420p10le MP4 (hvc1), CRF 18: archive quality",
        codec="libx265",
        pix_fmt="yuv420p10le",
        ext="mp4",
        muxer="mp4",
        default_crf=18,
        default_preset="medium",
        args=("-tag:v", "hvc1", "-x265-params", "log-level=error"),
        nvenc_codec="hevc_nvenc",
        nvenc_pix_fmt="p010le",
    ),
    "edit": Profile(
        name="edit",
        description="ProRes 422 HQ (prores_ks) .mov for editing; ProRes 4444 with alpha if transparent",
        codec="prores_ks",
        pix_fmt="yuv422p10le",
        ext="mov",
        muxer="mov",
        args=("-profile:v", "3", "-vendor", "apl0"),
        alpha_args=("-profile:v", "4", "-vendor", "apl0", "-alpha_bits", "16"),
        alpha_pix_fmt="yuva444p10le",
    ),
    "frames": Profile(
        name="frames",
        description="numbered PNG sequence in a folder (8-bit, or 16-bit with png_depth: 16)",
        codec="png",
        pix_fmt="rgb24",
        ext="",
        muxer="image2",
        alpha_pix_fmt="rgba",
        bt709=False,
    ),
}


def parse_fps(value: str | int | float | Fraction) -> Fraction:
    """Exact frame rate of ``"30"``, ``30``, ``29.97``, ``"24000/1001"``.

    Decimal rates within :data:`NTSC_TOLERANCE` of ``N*1000/1001`` (23.976, 29.97, 59.94)
    become that exact fraction; other decimals are read exactly (``"12.5"`` -> 25/2).

    Raises
    ------
    ValueError
        If the value is not a positive rate up to :data:`MAX_FPS`.
    """
    if isinstance(value, bool):
        raise ValueError(f"output.fps: expected a number or 'N/D', got {value!r}")
    try:
        if isinstance(value, Fraction):
            fps = value
        elif isinstance(value, int):
            fps = Fraction(value)
        else:
            text = str(value).strip()
            if "/" in text:
                num, den = text.split("/", 1)
                fps = Fraction(int(num), int(den))
            else:
                fps = Fraction(text)
    except (ValueError, ZeroDivisionError) as err:
        raise ValueError(f"output.fps: cannot read {value!r} as a frame rate ('30', 29.97 or '24000/1001')") from err
    if fps.denominator != 1 and fps.denominator != 1001:
        ntsc = round(float(fps) * 1001 / 1000)
        if ntsc > 0 and abs(float(fps) - ntsc * 1000 / 1001) < NTSC_TOLERANCE:
            fps = Fraction(ntsc * 1000, 1001)
    if not 0 < fps <= MAX_FPS:
        raise ValueError(f"output.fps: {value!r} is outside (0, {MAX_FPS}] frames per second")
    return fps


def profile_extension(profile: str, *, transparent: bool = False) -> str:
    """File extension of a profile with its dot (``".mp4"``), ``""`` for a PNG folder.

    ``transparent`` does not change the container (ProRes 4444 is still ``.mov``); it is
    accepted so callers need not know which profiles keep alpha.
    """
    if profile not in PROFILES:
        raise ValueError(f"output.profile: {profile!r} is not one of {', '.join(PROFILES)}")
    ext = PROFILES[profile].ext
    return f".{ext}" if ext else ""


def even_size(width: float, height: float) -> tuple[int, int]:
    """Round a frame size to the nearest even integers (4:2:0 chroma needs even sides)."""
    return max(2, 2 * int(round(width / 2))), max(2, 2 * int(round(height / 2)))


@dataclasses.dataclass(frozen=True)
class OutputConfig:
    """How the film is delivered: size, frame rate, profile, quality, audio and chunking."""

    size: tuple[int, int] = option((3840, 2160), "frame size [width, height] in pixels, both even")
    resolution: str | None = option(
        None,
        "named height (720p, 1080p, 1440p, 4k) that overrides size; width keeps size's aspect",
        choices=tuple(RESOLUTIONS),
    )
    fps: str = option("30", "frame rate: 30, 29.97 or '24000/1001' (kept as text, read exactly)")
    profile: str = option("web", "output profile: " + ", ".join(PROFILES), choices=tuple(PROFILES))
    crf: int | None = option(
        None, "quality override (x264/x265/NVENC CQ; lower is better); profile default if unset",
        min=0, max=51,
    )
    preset: str | None = option(
        None, "x264/x265 speed preset (ultrafast..placebo); profile default (web: slow) if unset",
        choices=X26X_PRESETS,
    )
    audio: str | None = option(None, "audio file muxed as AAC, trimmed to the film, faded out")
    audio_fade: float = option(1.0, "seconds of fade-out at the end of the audio", min=0.0)
    audio_kbps: int = option(192, "AAC bit rate in kbit/s", min=32, max=512)
    chunk_seconds: float = option(
        2.0, "film seconds per chunk: the unit of parallel and resumable rendering",
        min=0.0, exclusive_min=True,
    )
    workers: int = option(1, "chunks rendered at once: 1 = in this process, N = a process pool", min=1)
    executor: str = option(
        "", "where chunks render: '' = per workers, serial, local[:N], dask://HOST[:PORT] or slurm"
    )
    nvenc: str = option(
        "auto", "NVIDIA hardware encoding: auto (if a trial encode works), on, off",
        choices=("auto", "on", "off"),
    )
    filename: str | None = option(None, "output file (or folder) name; default <scene name>.<ext>")
    png_depth: int = option(8, "bits per channel of the frames profile's PNGs", choices=(8, 16))
    preview_height: int = option(360, "frame height of --preview renders", min=64, max=2160)
    preview_preset: str = option(
        "veryfast", "x264/x265 preset of --preview renders", choices=X26X_PRESETS
    )
    keep_chunks: bool = option(False, "keep the chunk segments after they are joined")

    def __post_init__(self) -> None:
        # Numbers from YAML (fps: 30, fps: 29.97) are kept as their text so the config
        # stays one type; parse_fps reads the exact rate from it.
        if not isinstance(self.fps, str):
            object.__setattr__(self, "fps", str(self.fps))
        parse_fps(self.fps)
        if isinstance(self.size, list):
            object.__setattr__(self, "size", tuple(self.size))
        if (
            len(self.size) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in self.size)
        ):
            raise ValueError(f"output.size: expected [width, height] integers, got {self.size!r}")
        w, h = self.size
        if not (2 <= w <= MAX_SIDE and 2 <= h <= MAX_SIDE):
            raise ValueError(f"output.size: {w}x{h} is outside 2..{MAX_SIDE} pixels per side")
        if w % 2 or h % 2:
            raise ValueError(f"output.size: {w}x{h} must be even in both sides (4:2:0 video)")
        if self.resolution is not None and self.resolution not in RESOLUTIONS:
            raise ValueError(
                f"output.resolution: {self.resolution!r} is not one of {', '.join(RESOLUTIONS)}"
            )
        if self.profile not in PROFILES:
            raise ValueError(f"output.profile: {self.profile!r} is not one of {', '.join(PROFILES)}")
        if self.crf is not None and not 0 <= self.crf <= 51:
            raise ValueError(f"output.crf: {self.crf} is outside 0..51")
        for key in ("preset", "preview_preset"):
            value = getattr(self, key)
            if value is not None and value not in X26X_PRESETS:
                raise ValueError(f"output.{key}: {value!r} is not one of {', '.join(X26X_PRESETS)}")
        if self.nvenc not in ("auto", "on", "off"):
            raise ValueError(f"output.nvenc: {self.nvenc!r} is not one of auto, on, off")
        if self.png_depth not in (8, 16):
            raise ValueError(f"output.png_depth: {self.png_depth} must be 8 or 16")
        if not self.chunk_seconds > 0:
            raise ValueError(f"output.chunk_seconds: {self.chunk_seconds} must be > 0")
        if self.workers < 1:
            raise ValueError(f"output.workers: {self.workers} must be >= 1")
        if self.executor:
            parse_executor_spec(self.executor, "output.executor")
        if self.audio_fade < 0:
            raise ValueError(f"output.audio_fade: {self.audio_fade} must be >= 0")
        if self.filename is not None and (not self.filename or "/" in self.filename):
            raise ValueError(f"output.filename: {self.filename!r} must be a plain file name")

    @property
    def profile_spec(self) -> Profile:
        """The :class:`Profile` named by ``profile``."""
        return PROFILES[self.profile]

    def frame_rate(self) -> Fraction:
        """Exact frames per second."""
        return parse_fps(self.fps)

    def frame_size(self, *, preview: bool = False) -> tuple[int, int]:
        """``(width, height)`` of the film's frames; ``preview`` scales to ``preview_height``."""
        w, h = self.size
        target = RESOLUTIONS[self.resolution] if self.resolution else h
        if preview:
            target = min(target, self.preview_height)
        if target == h:
            return w, h
        return even_size(w * target / h, target)

    def chunk_frames(self) -> int:
        """Frames per chunk (at least one)."""
        return max(1, int(round(self.chunk_seconds * float(self.frame_rate()))))

    def output_path(self, scene_name: str, out_dir: str | Path, *, preview: bool = False) -> Path:
        """Where the film goes: ``out_dir/<filename or scene name>.<ext>``.

        A preview is named ``<name>-preview.<ext>`` so it never overwrites the real film.
        """
        out_dir = Path(out_dir)
        if self.filename and not preview:
            return out_dir / self.filename
        stem = Path(self.filename).stem if self.filename else scene_name
        return out_dir / (stem + ("-preview" if preview else "") + profile_extension(self.profile))

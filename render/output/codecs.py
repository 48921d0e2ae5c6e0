"""What ffmpeg is asked to do: the ``output:`` config resolved into codec arguments.

:func:`encode_spec` turns an :class:`~lossfilm.render.scene.output.OutputConfig` into an
:class:`EncodeSpec`: codec, pixel format, muxer, quality and speed, NVENC when a trial
encode proves it works, audio. :func:`output_args` and :func:`audio_args` spell it as
ffmpeg arguments. Everything here is plain values, so a spec pickles into the worker
processes that render chunks; :mod:`lossfilm.render.output.encode` runs ffmpeg with it.

Colour: the renderer's frames are sRGB. Video profiles convert them to Y'CbCr with the
BT.709 matrix (limited range) *and* tag the stream BT.709, so the matrix a player uses
to decode is the one used to encode (ffmpeg's default conversion is BT.601 and untagged,
which shifts hues in every browser).
"""

from __future__ import annotations

import dataclasses
import functools
import subprocess
import warnings
from fractions import Fraction
from pathlib import Path

from lossfilm.render.scene.output import OutputConfig
from lossfilm.render.output.probe import ffmpeg_exe, probe

__all__ = ["EncodeSpec", "encode_spec", "nvenc_available", "video_filter", "output_args",
           "audio_args", "LARGE_FRAME_LOOKAHEAD", "LARGE_FRAME_PIXELS"]

#: Seconds the NVENC trial encode may take before NVENC is declared unusable.
NVENC_TRIAL_TIMEOUT = 20.0
#: NVENC speed preset (p1 fastest .. p7 best); p5 is near x264 'slow' quality at GPU speed.
NVENC_PRESET = "p5"
#: Frames larger than this (pixels; above 1440p) get x264's lookahead capped: memory.
LARGE_FRAME_PIXELS = 2560 * 1440
#: x264 rc-lookahead for large frames (preset veryfast's value; 4K ffmpeg RSS 1.1 GB vs 2.1 GB).
LARGE_FRAME_LOOKAHEAD = 10

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

"""Output config, profiles and VideoWriter: decode what was written and check it."""

from __future__ import annotations

import subprocess
import wave
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from lossfilm.render.output.encode import VideoWriter, encode_spec, nvenc_available, output_args
from lossfilm.render.scene.output import PROFILES, OutputConfig, parse_fps, profile_extension
from lossfilm.render.output.probe import ffmpeg_exe, probe, read_audio, read_frames

W, H = 320, 180


def gradient_frames(start: int, stop: int, *, size=(W, H), channels: int = 3):
    """Smooth moving colour gradients, like a rendered landscape (never a flat frame)."""
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    for i in range(start, stop):
        f = np.empty((h, w, channels), np.uint8)
        f[..., 0] = 40 + 180 * x / w
        f[..., 1] = 40 + 180 * (y / h + 0.02 * i) % 180
        f[..., 2] = 128 + 60 * np.sin(0.05 * x + 0.3 * i)
        if channels == 4:
            f[..., 3] = (255 * x / w).astype(np.uint8)
        yield f


def small(profile: str, **kw) -> OutputConfig:
    kw.setdefault("preset", None if profile == "edit" else "veryfast")
    return OutputConfig(size=(W, H), profile=profile, nvenc="off", **kw)


def write_film(spec, n: int, channels: int = 3) -> Path:
    with VideoWriter(spec) as writer:
        for frame in gradient_frames(0, n, channels=channels):
            writer.write(frame)
    return spec.path


# --- config ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [("30", Fraction(30)), (30, Fraction(30)), (29.97, Fraction(30000, 1001)),
     ("24000/1001", Fraction(24000, 1001)), (23.976, Fraction(24000, 1001)),
     ("59.94", Fraction(60000, 1001)), ("12.5", Fraction(25, 2)), (25.0, Fraction(25))],
)
def test_parse_fps(value, expected):
    assert parse_fps(value) == expected


@pytest.mark.parametrize("bad", ["abc", 0, -24, "1/0", True, "1000"])
def test_parse_fps_rejects(bad):
    with pytest.raises(ValueError, match="output.fps"):
        parse_fps(bad)


def test_output_config_sizes_and_validation():
    assert OutputConfig().frame_size() == (3840, 2160)
    assert OutputConfig(resolution="1080p").frame_size() == (1920, 1080)
    assert OutputConfig(size=(1000, 1000), resolution="720p").frame_size() == (720, 720)
    assert OutputConfig().frame_size(preview=True) == (640, 360)
    assert OutputConfig(fps=29.97).fps == "29.97"
    assert OutputConfig(fps=29.97).frame_rate() == Fraction(30000, 1001)
    assert OutputConfig(fps="24000/1001", chunk_seconds=2.0).chunk_frames() == 48
    for bad, key in [({"size": (321, 180)}, "output.size"), ({"profile": "gif"}, "output.profile"),
                     ({"crf": 60}, "output.crf"), ({"preset": "quick"}, "output.preset"),
                     ({"resolution": "8k"}, "output.resolution"), ({"workers": 0}, "output.workers"),
                     ({"chunk_seconds": 0.0}, "output.chunk_seconds"), ({"fps": "x"}, "output.fps")]:
        with pytest.raises(ValueError, match=key):
            OutputConfig(**bad)


def test_output_path_and_profile_registry(tmp_path):
    assert OutputConfig().output_path("tunnel", tmp_path) == tmp_path / "tunnel.mp4"
    assert OutputConfig(profile="edit").output_path("tunnel", tmp_path) == tmp_path / "tunnel.mov"
    assert OutputConfig(profile="frames").output_path("tunnel", tmp_path) == tmp_path / "tunnel"
    assert OutputConfig(profile="edit").output_path("t", tmp_path, preview=True).name == "t-preview.mov"
    assert OutputConfig(filename="x.mp4").output_path("tunnel", tmp_path).name == "x.mp4"
    assert set(PROFILES) == {"web", "master", "edit", "frames"}
    assert all(p.description for p in PROFILES.values())


def test_encode_spec_defaults_and_preview(tmp_path):
    spec = encode_spec(OutputConfig(nvenc="off"), tmp_path / "a.mp4")
    assert (spec.codec, spec.pix_fmt, spec.crf, spec.preset) == ("libx264", "yuv420p", 18, "slow")
    args = output_args(spec)
    assert args[args.index("-movflags") + 1] == "+faststart"
    assert args[args.index("-color_primaries") + 1] == "bt709"
    preview = encode_spec(OutputConfig(profile="master", nvenc="off"), tmp_path / "p.mp4", preview=True)
    assert (preview.codec, preview.preset, preview.size) == ("libx265", "veryfast", (640, 360))
    assert profile_extension("edit", transparent=True) == ".mov"
    assert profile_extension("frames") == ""
    master = encode_spec(OutputConfig(profile="master", nvenc="off"), tmp_path / "m.mp4")
    assert master.codec_args[master.codec_args.index("-tag:v") + 1] == "hvc1"
    with pytest.raises(ValueError, match="output.audio"):
        encode_spec(OutputConfig(audio=str(tmp_path / "missing.wav"), nvenc="off"), tmp_path / "a.mp4")
    (tmp_path / "noise.wav").write_bytes(b"not a sound file at all")
    with pytest.raises(ValueError, match="output.audio: ffmpeg finds no audio"):
        encode_spec(OutputConfig(audio=str(tmp_path / "noise.wav"), nvenc="off"), tmp_path / "a.mp4")


def test_nvenc_probe_is_cached_and_on_requires_it(tmp_path):
    first = nvenc_available()
    assert isinstance(first, bool)
    assert nvenc_available() is first
    if not first:
        with pytest.raises(ValueError, match="output.nvenc"):
            encode_spec(OutputConfig(nvenc="on"), tmp_path / "a.mp4")
    else:  # pragma: no cover - only on a machine with an NVIDIA driver
        assert encode_spec(OutputConfig(nvenc="on"), tmp_path / "a.mp4").codec == "h264_nvenc"


# --- profiles, decoded ----------------------------------------------------------------


@pytest.mark.parametrize(
    "profile, fps, alpha, codec, codec_profile, pix_prefix",
    [
        ("web", "24000/1001", False, "h264", "High", "yuv420p"),
        ("master", "30", False, "hevc", "Main 10", "yuv420p10le"),
        ("edit", "29.97", False, "prores", "HQ", "yuv422p10le"),
        # ProRes 4444 is encoded 10-bit and decoded by ffmpeg as 12-bit: check the family.
        ("edit", "25", True, "prores", "4444", "yuva444p"),
    ],
)
def test_video_profiles_decode_as_specified(tmp_path, profile, fps, alpha, codec, codec_profile,
                                            pix_prefix):
    cfg = small(profile, fps=fps)
    spec = encode_spec(cfg, cfg.output_path("film", tmp_path), alpha=alpha)
    n = 7
    path = write_film(spec, n, channels=4 if alpha else 3)
    info = probe(path)
    assert path.suffix == "." + PROFILES[profile].ext
    assert info.codec == codec
    assert info.codec_profile == codec_profile
    assert info.pix_fmt.startswith(pix_prefix)
    assert (info.width, info.height) == (W, H)
    assert info.frames == n
    assert info.fps == parse_fps(fps)
    if not alpha:
        assert (info.color_range, info.color_space, info.color_primaries, info.color_transfer) == (
            "tv", "bt709", "bt709", "bt709")
    decoded = list(read_frames(path, alpha=alpha))
    assert len(decoded) == n
    source = list(gradient_frames(0, n, channels=4 if alpha else 3))
    assert np.abs(decoded[-1].astype(int) - source[-1]).mean() < 3.0
    assert list(tmp_path.glob(".*partial*")) == []


def test_web_uses_bt709_matrix(tmp_path):
    """Pure red must land on BT.709 luma (Y'=63), not BT.601 (Y'=82): tags match pixels."""
    spec = encode_spec(small("web", crf=0), tmp_path / "red.mp4")
    with VideoWriter(spec) as writer:
        for _ in range(2):
            writer.write(np.broadcast_to(np.array([255, 0, 0], np.uint8), (H, W, 3)))
    raw = subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-i", str(spec.path), "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"], capture_output=True, check=True).stdout
    luma = np.frombuffer(raw[: W * H], np.uint8)
    assert abs(float(np.median(luma)) - (16 + 219 * 0.2126)) <= 1.0


def test_frames_profile_8_and_16_bit(tmp_path):
    spec8 = encode_spec(small("frames"), tmp_path / "f8")
    write_film(spec8, 5)
    names = sorted(p.name for p in spec8.path.iterdir())
    assert names == [f"frame_{i:06d}.png" for i in range(5)]
    info = probe(spec8.path)
    assert (info.codec, info.pix_fmt, info.frames, info.width) == ("png", "rgb24", 5, W)
    back8 = list(read_frames(spec8.path))
    assert all(np.array_equal(a, b) for a, b in zip(back8, gradient_frames(0, 5)))

    spec16 = encode_spec(small("frames", png_depth=16), tmp_path / "f16")
    rng = np.random.default_rng(0)
    frames16 = [rng.integers(0, 65536, size=(H, W, 3), dtype=np.uint16) for _ in range(3)]
    with VideoWriter(spec16) as writer:
        for f in frames16:
            writer.write(f)
    assert probe(spec16.path).pix_fmt == "rgb48be"
    back16 = list(read_frames(spec16.path, depth=16))
    assert len(back16) == 3
    assert all(np.array_equal(a, b) for a, b in zip(back16, frames16))


def write_tone(path: Path, seconds: float, rate: int = 22050) -> None:
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.5 * np.sin(2 * np.pi * 440.0 * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())


def test_audio_is_aac_trimmed_and_faded(tmp_path):
    wav = tmp_path / "tone.wav"
    write_tone(wav, 3.0)
    spec = encode_spec(small("web", fps="30", audio=str(wav), audio_fade=0.5), tmp_path / "a.mp4")
    write_film(spec, 30)  # one second of film, three of audio
    info = probe(spec.path)
    assert info.has_audio and info.audio_codec == "aac"
    assert info.frames == 30
    assert info.duration == pytest.approx(1.0, abs=0.1)
    sound = read_audio(spec.path, rate=8000)
    assert len(sound) / 8000 == pytest.approx(1.0, abs=0.06)
    rms = lambda s: float(np.sqrt(np.mean(s**2)))  # noqa: E731
    assert rms(sound[800:2400]) == pytest.approx(0.5 / np.sqrt(2), rel=0.1)  # untouched start
    assert rms(sound[-400:]) < 0.25 * rms(sound[800:2400])  # faded out at the end


def test_failed_encode_leaves_no_file_and_keeps_old_one(tmp_path):
    spec = encode_spec(small("web"), tmp_path / "film.mp4")
    with pytest.raises(RuntimeError, match="boom"):
        with VideoWriter(spec) as writer:
            for i, frame in enumerate(gradient_frames(0, 10)):
                if i == 5:
                    raise RuntimeError("boom")
                writer.write(frame)
    assert not spec.path.exists()
    assert list(tmp_path.iterdir()) == []

    spec.path.write_bytes(b"previous film")
    with pytest.raises(RuntimeError):
        with VideoWriter(spec) as writer:
            writer.write(next(gradient_frames(0, 1)))
            raise RuntimeError("killed")
    assert spec.path.read_bytes() == b"previous film"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.mp4"]


def test_writer_rejects_bad_frames_and_empty_films(tmp_path):
    spec = encode_spec(small("web"), tmp_path / "film.mp4")
    writer = VideoWriter(spec)
    with pytest.raises(ValueError, match="shape"):
        writer.write(np.zeros((H, W + 2, 3), np.uint8))
    with pytest.raises(ValueError, match="dtype"):
        writer.write(np.zeros((H, W, 3), np.float32))
    with pytest.raises(ValueError, match="no frames"):
        writer.close()
    assert list(tmp_path.iterdir()) == []


def test_sixteen_bit_frames_feed_ten_bit_master(tmp_path):
    spec = encode_spec(small("master", crf=4), tmp_path / "deep.mp4")
    y, x = np.mgrid[0:H, 0:W]
    ramp = np.stack([x * 65535 // (W - 1), y * 65535 // (H - 1), np.full_like(x, 30000)], -1)
    with VideoWriter(spec) as writer:
        for _ in range(3):
            writer.write(ramp.astype(np.uint16))
    assert probe(spec.path).pix_fmt == "yuv420p10le"
    back = next(read_frames(spec.path, depth=16)).astype(np.int64)
    # about one 10-bit step (64 in 16-bit units) on average; the same ramp sent as
    # 8-bit frames lands near 265, so this fails if the pipe drops to 8 bits
    assert np.abs(back - ramp).mean() < 2 * 64


def test_ffmpeg_failure_is_reported_with_its_message(tmp_path):
    import dataclasses

    spec = encode_spec(small("web"), tmp_path / "film.mp4")
    broken = dataclasses.replace(spec, codec_args=spec.codec_args + ("-profile:v", "nonsense"))
    with pytest.raises(RuntimeError, match="ffmpeg.*(nonsense|profile)"):
        with VideoWriter(broken) as writer:
            for frame in gradient_frames(0, 20):
                writer.write(frame)
    assert list(tmp_path.iterdir()) == []


def test_nvenc_variants_replace_software_codecs(tmp_path, monkeypatch):
    """The spec built when the trial encode succeeds (forced here: no NVIDIA driver in CI)."""
    from lossfilm.render.output import codecs

    monkeypatch.setattr(codecs, "nvenc_available", lambda codec="h264_nvenc": True)
    web = encode_spec(OutputConfig(crf=20), tmp_path / "w.mp4")
    assert (web.codec, web.pix_fmt, web.preset) == ("h264_nvenc", "yuv420p", None)
    assert web.codec_args[web.codec_args.index("-cq") + 1] == "20"
    assert "-crf" not in web.codec_args
    master = encode_spec(OutputConfig(profile="master"), tmp_path / "m.mp4")
    assert (master.codec, master.pix_fmt) == ("hevc_nvenc", "p010le")
    assert "hvc1" in master.codec_args and "main10" in master.codec_args
    assert "-x265-params" not in master.codec_args
    edit = encode_spec(OutputConfig(profile="edit"), tmp_path / "e.mov")
    assert edit.codec == "prores_ks"  # no hardware ProRes: stays in software
    off = encode_spec(OutputConfig(nvenc="off"), tmp_path / "o.mp4")
    assert off.codec == "libx264"

"""probe / read_frames / read_audio against files made by the real bundled ffmpeg."""

from __future__ import annotations

import subprocess
import wave
from fractions import Fraction

import numpy as np
import pytest

from lossfilm.render.output.probe import _parse_video_stream, count_frames, ffmpeg_exe, probe, read_audio, read_frames


def _lavfi(path, source: str, *extra: str) -> None:
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", source,
         *extra, str(path)],
        check=True,
    )


def write_tone(path, seconds: float, rate: int = 8000, freq: float = 440.0) -> None:
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.5 * np.sin(2 * np.pi * freq * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())


def test_probe_reports_exact_ntsc_rate_and_frame_count(tmp_path):
    path = tmp_path / "ntsc.mp4"
    # 48 frames at 24000/1001: ffmpeg itself prints '23.98 fps'; probe must be exact.
    _lavfi(path, "testsrc2=s=160x90:r=24000/1001", "-frames:v", "48", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p")
    info = probe(path)
    assert info.codec == "h264"
    assert (info.width, info.height) == (160, 90)
    assert info.frames == 48
    assert count_frames(path) == 48
    assert info.fps == Fraction(24000, 1001)
    assert info.duration == pytest.approx(48 * 1001 / 24000, abs=0.02)
    assert info.has_audio is False


def test_parse_stream_line_colour_tags():
    one = _parse_video_stream(
        "h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709, progressive), 320x180 "
        "[SAR 1:1 DAR 16:9], 262 kb/s, 30 fps, 30 tbr, 15360 tbn (default)"
    )
    assert (one["codec"], one["codec_profile"], one["pix_fmt"]) == ("h264", "High", "yuv420p")
    assert one["codec_tag"] == "avc1"
    assert (one["width"], one["height"]) == (320, 180)
    assert (one["color_range"], one["color_space"], one["color_primaries"], one["color_transfer"]) == (
        "tv", "bt709", "bt709", "bt709")
    mixed = _parse_video_stream(
        "h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709/unknown/unknown, progressive), "
        "1920x1080 [SAR 1:1 DAR 16:9], 231 kb/s, 23.98 fps, 23.98 tbr, 24k tbn (default)"
    )
    assert (mixed["color_space"], mixed["color_primaries"], mixed["color_transfer"]) == (
        "bt709", None, None)
    assert (mixed["width"], mixed["height"]) == (1920, 1080)


def test_read_frames_every_and_size(tmp_path):
    path = tmp_path / "src.mp4"
    _lavfi(path, "testsrc2=s=160x90:r=30", "-frames:v", "10", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p")
    all_frames = list(read_frames(path))
    assert len(all_frames) == 10
    assert all_frames[0].shape == (90, 160, 3) and all_frames[0].dtype == np.uint8
    assert len(list(read_frames(path, every=3))) == 4  # frames 0, 3, 6, 9
    small = list(read_frames(path, size=(80, 44)))
    assert small[0].shape == (44, 80, 3)
    with pytest.raises(ValueError, match="every"):
        list(read_frames(path, every=0))


def test_read_audio_and_audio_only_probe(tmp_path):
    wav = tmp_path / "tone.wav"
    write_tone(wav, 1.5)
    info = probe(wav)
    assert info.has_audio and info.audio_codec == "pcm_s16le"
    assert info.duration == pytest.approx(1.5, abs=0.01)
    samples = read_audio(wav, rate=8000)
    assert samples.shape == (12000,)
    assert np.sqrt(np.mean(samples**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.02)


def test_probe_missing_file_names_it(tmp_path):
    with pytest.raises(ValueError, match="nothing.mp4"):
        probe(tmp_path / "nothing.mp4")

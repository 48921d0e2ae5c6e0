"""Chunked rendering: interrupted and resumed renders equal uninterrupted ones, decoded."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import wave
from pathlib import Path

import numpy as np
import pytest

from lossfilm.render.output.chunks import FrameSource, chunk_ranges, plan_chunks, render_chunked, render_film
from lossfilm.render.output.encode import encode_spec
from lossfilm.render.scene.output import OutputConfig
from lossfilm.render.output.probe import probe, read_frames

W, H = 160, 96
N, CHUNK = 25, 7  # four chunks: 7, 7, 7, 4 frames


def gradient_frames(start: int, stop: int):
    """Frames [start, stop) of a moving gradient; a module-level function, so it pickles."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    for i in range(start, stop):
        f = np.empty((H, W, 3), np.uint8)
        f[..., 0] = 40 + 180 * x / W
        f[..., 1] = (40 + 4 * i + 100 * y / H) % 256
        f[..., 2] = 128 + 60 * np.sin(0.07 * x + 0.4 * i)
        yield f


def gl_frames(start: int, stop: int):
    """Frames drawn by a real GL context built here, in whichever process runs the chunk.

    A worker cannot inherit a context, so each call builds its own (what the pipeline's
    ``render_range`` does); rows are flipped to top-first, as the renderer delivers them.
    """
    import moderngl

    ctx = moderngl.create_context(standalone=True, backend="egl")
    try:
        fbo = ctx.simple_framebuffer((W, H), components=3)
        fbo.use()
        for i in range(start, stop):
            ctx.scissor = None
            ctx.clear(0.1, 0.02 * i, 0.5)
            ctx.scissor = (4 * i, 10, 20, 30)  # a box moving right, x in GL's bottom-up rows
            ctx.clear(1.0, 1.0, 0.0)
            pixels = np.frombuffer(fbo.read(components=3), np.uint8).reshape(H, W, 3)
            assert ctx.error == "GL_NO_ERROR"
            yield np.ascontiguousarray(pixels[::-1])
    finally:
        ctx.release()


class FailingAt:
    """Yields frames but raises once it reaches ``fail_at`` (a crash mid-film)."""

    def __init__(self, fail_at: int) -> None:
        self.fail_at = fail_at

    def __call__(self, start, stop):
        for i, frame in zip(range(start, stop), gradient_frames(start, stop)):
            if i == self.fail_at:
                raise RuntimeError(f"renderer crashed at frame {i}")
            yield frame


class Recording:
    """Yields frames and records which ranges were asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, start, stop):
        self.calls.append((start, stop))
        return gradient_frames(start, stop)


def lossless(profile: str = "web", **kw):
    # x264 CRF 0 is lossless for 8-bit: equal inputs give bit-equal decoded frames.
    preset = None if profile == "edit" else "ultrafast"
    return OutputConfig(size=(W, H), profile=profile, crf=0 if profile != "edit" else None,
                        preset=preset, nvenc="off", **kw)


def decoded(path: Path) -> list[np.ndarray]:
    return list(read_frames(path))


def test_chunk_ranges():
    assert chunk_ranges(25, 7) == [(0, 7), (7, 14), (14, 21), (21, 25)]
    assert chunk_ranges(3, 10) == [(0, 3)]
    with pytest.raises(ValueError):
        chunk_ranges(0, 5)
    with pytest.raises(ValueError):
        chunk_ranges(5, 0)


def test_resume_after_crash_equals_uninterrupted(tmp_path):
    whole = encode_spec(lossless(), tmp_path / "whole.mp4")
    render_chunked(whole, N, gradient_frames, tmp_path / "work_whole", chunk_frames=CHUNK,
                   progress=False)

    spec = encode_spec(lossless(), tmp_path / "film.mp4")
    work = tmp_path / "work"
    with pytest.raises(RuntimeError, match="frame 16"):
        render_chunked(spec, N, FailingAt(16), work, chunk_frames=CHUNK, progress=False)
    # chunks 0 and 1 survived whole; chunk 2 left nothing; no film yet
    jobs = plan_chunks(spec, N, gradient_frames, work, CHUNK)
    assert [job.segment.exists() for job in jobs] == [True, True, False, False]
    assert not spec.path.exists()
    assert [p for p in tmp_path.rglob("*") if "partial" in p.name] == []

    again = Recording()
    render_chunked(spec, N, again, work, chunk_frames=CHUNK, progress=False)
    assert again.calls == [(14, 21), (21, 25)]  # only the missing chunks
    info, ref = probe(spec.path), probe(whole.path)
    assert info.frames == ref.frames == N
    assert (info.codec, info.fps, info.color_primaries) == ("h264", ref.fps, "bt709")
    a, b = decoded(spec.path), decoded(whole.path)
    assert len(a) == len(b) == N
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert list(work.iterdir()) == []  # segments cleaned after the join


def test_damaged_segment_is_rendered_again(tmp_path):
    spec = encode_spec(lossless(), tmp_path / "film.mp4")
    work = tmp_path / "work"
    render_chunked(spec, N, gradient_frames, work, chunk_frames=CHUNK, progress=False,
                   keep_segments=True)
    jobs = plan_chunks(spec, N, gradient_frames, work, CHUNK)
    jobs[1].segment.write_bytes(jobs[1].segment.read_bytes()[:300])  # truncated by a crash
    again = Recording()
    render_chunked(spec, N, again, work, chunk_frames=CHUNK, progress=False)
    assert again.calls == [(7, 14)]
    assert probe(spec.path).frames == N
    # other settings never reuse these segments
    other = encode_spec(lossless(fps="25"), tmp_path / "film25.mp4")
    fresh = Recording()
    render_chunked(other, N, fresh, work, chunk_frames=CHUNK, progress=False)
    assert len(fresh.calls) == 4


def test_wrong_frame_count_from_render_range_is_an_error(tmp_path):
    spec = encode_spec(lossless(), tmp_path / "film.mp4")
    short = FrameSource(lambda start, stop: gradient_frames(start, stop - 1))
    with pytest.raises(ValueError, match="yielded 6 frames, expected 7"):
        render_chunked(spec, N, short, tmp_path / "work", chunk_frames=CHUNK, progress=False)
    assert not spec.path.exists()


@pytest.mark.parametrize("profile", ["web", "master", "edit"])
def test_codecs_join_without_reencoding_frame_exact(tmp_path, profile):
    # preset medium: B-frames and reordering, the case where a careless join drops or
    # repeats frames at segment boundaries
    preset = None if profile == "edit" else "medium"
    cfg = OutputConfig(size=(W, H), profile=profile, fps="24000/1001", preset=preset, nvenc="off")
    spec = encode_spec(cfg, cfg.output_path("film", tmp_path))
    render_chunked(spec, N, gradient_frames, tmp_path / "work", chunk_frames=CHUNK, progress=False)
    info = probe(spec.path)
    assert info.frames == N
    assert info.fps.numerator == 24000 and info.fps.denominator == 1001
    assert info.duration == pytest.approx(N * 1001 / 24000, abs=0.01)
    assert info.codec == {"web": "h264", "master": "hevc", "edit": "prores"}[profile]
    assert info.codec_tag == {"web": "avc1", "master": "hvc1", "edit": "apch"}[profile]
    assert info.color_transfer == "bt709"
    errors = [np.abs(x.astype(int) - y).mean() for x, y in zip(decoded(spec.path), gradient_frames(0, N))]
    assert len(errors) == N and max(errors) < 3.0  # each decoded frame is its own source frame


def test_frames_profile_chunks_number_globally(tmp_path):
    spec = encode_spec(lossless("frames"), tmp_path / "pngs")
    with pytest.raises(RuntimeError):
        render_chunked(spec, N, FailingAt(10), tmp_path / "work", chunk_frames=CHUNK, progress=False)
    render_chunked(spec, N, gradient_frames, tmp_path / "work", chunk_frames=CHUNK, progress=False)
    assert sorted(p.name for p in spec.path.iterdir()) == [f"frame_{i:06d}.png" for i in range(N)]
    back = decoded(spec.path)
    assert all(np.array_equal(x, y) for x, y in zip(back, gradient_frames(0, N)))


def test_audio_is_muxed_at_the_join(tmp_path):
    wav = tmp_path / "tone.wav"
    t = np.arange(3 * 8000) / 8000
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes((0.4 * np.sin(2 * np.pi * 330 * t) * 32767).astype("<i2").tobytes())
    spec = encode_spec(lossless(fps="25", audio=str(wav)), tmp_path / "film.mp4")
    render_chunked(spec, N, gradient_frames, tmp_path / "work", chunk_frames=CHUNK, progress=False)
    info = probe(spec.path)
    assert info.has_audio and info.audio_codec == "aac"
    assert info.frames == N
    assert info.duration == pytest.approx(N / 25, abs=0.08)


def test_process_pool_with_gl_in_workers_renders_the_same_film(tmp_path):
    serial = encode_spec(lossless(), tmp_path / "serial.mp4")
    render_chunked(serial, N, gl_frames, tmp_path / "w1", chunk_frames=CHUNK, progress=False)
    pooled = encode_spec(lossless(), tmp_path / "pooled.mp4")
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        render_chunked(pooled, N, FrameSource(gl_frames), tmp_path / "w2",
                       chunk_frames=CHUNK, executor=pool, progress=False)
        with pytest.raises(ValueError, match="picklable"):
            render_chunked(pooled, N, lambda s, e: gradient_frames(s, e), tmp_path / "w3",
                           chunk_frames=CHUNK, executor=pool, progress=False)
    a, b = decoded(serial.path), decoded(pooled.path)
    assert len(a) == len(b) == N
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    # the yellow box is where frame 20 drew it: bottom-left GL rows 10..39 = top rows 56..85
    box = a[20][H - 40 + 2:H - 10 - 2, 80 + 2:100 - 2].astype(int)
    assert np.abs(box - [255, 255, 0]).max() < 12


KILLED_RENDER = """
import sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_chunks import gradient_frames, lossless, N, CHUNK
from lossfilm.render.output.chunks import render_chunked
from lossfilm.render.output.encode import encode_spec

def frames_then_hang(start, stop):
    for i, frame in zip(range(start, stop), gradient_frames(start, stop)):
        if i == 16:
            Path({marker!r}).write_text("at 16")
            time.sleep(60)  # the parent kills us here, mid-chunk
        yield frame

spec = encode_spec(lossless(), Path({film!r}))
render_chunked(spec, N, frames_then_hang, Path({work!r}), chunk_frames=CHUNK, progress=False)
"""


def wait_for_orphans(work: Path, timeout: float = 20.0) -> None:
    """Wait until no process (the killed render's ffmpeg, which sees EOF) still uses ``work``."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = False
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                busy = busy or str(work).encode() in cmdline.read_bytes()
            except OSError:
                continue
        if not busy:
            return
        time.sleep(0.05)


def test_render_killed_mid_chunk_resumes(tmp_path):
    import subprocess
    import sys
    import time

    marker, film, work = tmp_path / "marker", tmp_path / "film.mp4", tmp_path / "work"
    script = KILLED_RENDER.format(tests=str(Path(__file__).parent), marker=str(marker),
                                  film=str(film), work=str(work))
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=root)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the render never reached frame 16"
        proc.kill()  # SIGKILL: no cleanup handlers run
    finally:
        proc.kill()
        proc.wait()
    wait_for_orphans(work)
    assert not film.exists()
    assert any("partial" in p.name for p in work.iterdir())  # the killed chunk's leftovers
    again = Recording()
    spec = encode_spec(lossless(), film)
    render_chunked(spec, N, again, work, chunk_frames=CHUNK, progress=False)
    assert again.calls == [(14, 21), (21, 25)]
    assert probe(film).frames == N
    # 4:2:0 chroma makes even CRF 0 inexact; a misplaced frame would be off by tens of levels
    errors = [np.abs(x.astype(int) - y).mean() for x, y in zip(decoded(film), gradient_frames(0, N))]
    assert len(errors) == N and max(errors) < 2.0
    assert list(work.iterdir()) == []


def test_render_film_from_config_with_progress(tmp_path, capsys):
    cfg = OutputConfig(size=(W, H), fps="10", chunk_seconds=1.0, preset="ultrafast", nvenc="off",
                       keep_chunks=True)
    path = cfg.output_path("scene", tmp_path)
    out = render_film(cfg, path, 25, gradient_frames, tmp_path / "work")
    assert out == tmp_path / "scene.mp4"
    assert probe(out).frames == 25
    assert len(list((tmp_path / "work").glob("seg-*.mp4"))) == 3  # chunks of 10, 10, 5 kept
    err = capsys.readouterr().err
    assert "rendering scene.mp4: 25/25 frames (100%)" in err

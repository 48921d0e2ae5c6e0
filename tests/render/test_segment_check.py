"""Rendered segments carry checksums: a damaged one is named, set aside and rendered again alone."""

from __future__ import annotations

import os

import numpy as np

from lossfilm.render.output.chunks import plan_chunks, render_chunked
from lossfilm.render.output.encode import encode_spec
from lossfilm.render.scene.output import OutputConfig
from lossfilm.render.output.probe import count_frames, read_frames
from lossfilm.render.output.segment_check import digest_path

W, H = 96, 64
N, CHUNK = 18, 6  # three chunks


def frames(start: int, stop: int):
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    for i in range(start, stop):
        f = np.empty((H, W, 3), np.uint8)
        f[..., 0] = 30 + 200 * x / W
        f[..., 1] = (20 + 9 * i + 120 * y / H) % 256
        f[..., 2] = 128 + 90 * np.sin(0.11 * x + 0.5 * i)
        yield f


class Recording:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, start, stop):
        self.calls.append((start, stop))
        return frames(start, stop)


def lossless() -> OutputConfig:
    # x264 CRF 0 is lossless for 8-bit: the same frames decode to the same pixels
    return OutputConfig(size=(W, H), crf=0, preset="ultrafast", nvenc="off")


def test_flipped_bytes_in_a_segment_are_caught_and_only_it_is_rendered_again(tmp_path, capsys):
    spec = encode_spec(lossless(), tmp_path / "film.mp4")
    work = tmp_path / "work"
    render_chunked(spec, N, frames, work, chunk_frames=CHUNK, progress=False, keep_segments=True)
    reference = list(read_frames(spec.path))
    jobs = plan_chunks(spec, N, frames, work, CHUNK)
    assert all(digest_path(j.segment).is_file() for j in jobs)

    seg = jobs[1].segment
    data = bytearray(seg.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 40] = bytes(b ^ 0x5A for b in data[mid:mid + 40])
    seg.write_bytes(bytes(data))
    assert count_frames(seg) == CHUNK  # the frame count alone would not notice
    capsys.readouterr()

    again = Recording()
    render_chunked(spec, N, again, work, chunk_frames=CHUNK, progress=False)
    assert again.calls == [(6, 12)]  # that chunk alone
    err = capsys.readouterr().err
    assert f"segment {seg} is damaged" in err and f"set aside as {seg.name}.damaged" in err
    assert (work / f"{seg.name}.damaged").read_bytes() == bytes(data)  # kept for a look
    film = list(read_frames(spec.path))
    assert len(film) == len(reference) == N
    assert all(np.array_equal(a, b) for a, b in zip(film, reference))  # frame-identical
    assert sorted(p.name for p in work.iterdir()) == [f"{seg.name}.damaged"]  # no sidecars left


def test_a_join_killed_mid_way_leaves_nothing_the_rerun_does_not_clear(tmp_path):
    import subprocess
    import sys

    spec = encode_spec(lossless(), tmp_path / "film.mp4")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that was a process and is gone, as after kill -9
    stale = tmp_path / f".film.mp4.{dead.pid}.partial"
    stale.write_bytes(b"half a film")
    live = tmp_path / f".film.mp4.{os.getppid()}.partial"  # a live writer's: not ours to remove
    live.write_bytes(b"")
    render_chunked(spec, N, frames, tmp_path / "work", chunk_frames=CHUNK, progress=False)
    assert not stale.exists() and live.exists()
    assert len(list(read_frames(spec.path))) == N

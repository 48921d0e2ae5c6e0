"""A disk that fills up while ffmpeg writes: the file is named, earlier outputs are kept,
and the run after space is freed completes. A real 2 MiB tmpfs, the real bundled ffmpeg."""

from __future__ import annotations

import errno
import shutil

import numpy as np
import pytest

from lossfilm.compute.store.integrity import WriteFailed
from lossfilm.render.output.chunks import plan_chunks, render_chunked
from lossfilm.render.output.encode import encode_spec
from lossfilm.render.output.probe import read_frames
from lossfilm.render.output.segment_check import digest_path, forget_segment, segment_damage
from tests.disks import fill
from tests.render.test_segment_check import CHUNK, N, Recording, frames, lossless

NO_SPACE = "No space left on device"


def partials(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if ".partial" in p.name or p.name.endswith(".tmp"))


@pytest.mark.parametrize("stage", ["segment", "join"])
def test_ffmpeg_on_a_full_disk_names_the_file_keeps_the_rest_and_the_next_run_completes(small_disk, stage):
    spec = encode_spec(lossless(), small_disk / "film.mp4")
    work = small_disk / "work"
    render_chunked(spec, N, frames, work, chunk_frames=CHUNK, progress=False, keep_segments=True)
    reference = list(read_frames(spec.path))
    earlier_film = spec.path.read_bytes()  # the film of an earlier render, to be replaced
    jobs = plan_chunks(spec, N, frames, work, CHUNK)
    if stage == "segment":  # the last chunk is to be rendered again: its encoder finds no space
        jobs[2].segment.unlink()
        forget_segment(jobs[2].segment)
        named = jobs[2].segment
    else:  # every segment is there: the join's ffmpeg finds no space for the film
        named = spec.path
    kept = {job.segment: job.segment.read_bytes() for job in jobs if job.segment.exists()}
    # The join writes its list of segments (one page) before ffmpeg starts: leave room for it.
    filler = fill(small_disk, spare=8192 if stage == "join" else 0)

    with pytest.raises(WriteFailed) as info:
        render_chunked(spec, N, frames, work, chunk_frames=CHUNK, progress=False, keep_segments=True)
    assert info.value.errno == errno.ENOSPC
    assert str(info.value) == f"cannot write {named}: {NO_SPACE}"  # not ffmpeg's log
    assert spec.path.read_bytes() == earlier_film  # the film there before is untouched
    for segment, data in kept.items():  # and so is every finished segment, checksum and all
        assert segment.read_bytes() == data and segment_damage(segment) is None
        assert digest_path(segment).is_file()
    assert partials(small_disk) == []  # no temporary is left to fill the disk further

    filler.unlink()  # space is free again
    again = Recording()
    render_chunked(spec, N, again, work, chunk_frames=CHUNK, progress=False)
    assert again.calls == ([(12, 18)] if stage == "segment" else [])  # only what was missing
    film = list(read_frames(spec.path))
    assert len(film) == N and all(np.array_equal(a, b) for a, b in zip(film, reference))
    assert partials(small_disk) == [] and list(work.iterdir()) == []


def test_the_command_line_says_cannot_write_and_exits_1(small_disk, explored, capsys):
    """``lossfilm render`` into a full disk: one line naming the segment, exit 1; then it completes."""
    from lossfilm.render.cli import main

    scene_path, _, folder, out = explored  # tiny surfaces, computed once for the render tests
    disk_out = small_disk / "out"
    shutil.copytree(folder, disk_out / folder.relative_to(out))
    args = ["render", str(scene_path), "--tiny", "--out", str(disk_out)]
    filler = fill(small_disk)
    assert main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err)
    assert err[-1].startswith(f"lossfilm: cannot write {disk_out / '.chunks'}/"), err[-1]
    assert err[-1].endswith(f".mp4: {NO_SPACE}; finished work is kept, a rerun resumes"), err[-1]
    filler.unlink()
    assert main(args) == 0
    film = capsys.readouterr().out.strip().splitlines()[-1]
    assert len(list(read_frames(film))) == 15

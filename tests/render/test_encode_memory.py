"""4K films keep x264's lookahead short, so ffmpeg holds fewer frames in memory (issue 7).

What the suite measures: the spec a 4K web film gets carries the cap, ffmpeg accepts it at a
large size, and the same codec arguments lower ffmpeg's peak resident memory by at least
the frames the cap stops it from holding (measured at 640x360, where it takes seconds).
x264's lookahead memory grows with the frame area, so the saving scales with it: measured
by hand on 2026-12-02 (2-core machine, preset slow, 80 frames): 135 -> 97 MiB at 640x360,
347 -> 219 MiB at 1280x720. The 4K bound of issue 7 (lossfilm + ffmpeg under 2 GiB) is
not re-measured here: a 4K encode at preset slow takes minutes on a small machine.
"""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys

import numpy as np

from lossfilm.render.output.encode import LARGE_FRAME_LOOKAHEAD, VideoWriter, encode_spec
from lossfilm.render.scene.output import OutputConfig
from lossfilm.render.output.probe import probe


def _lookahead(spec) -> str | None:
    args = list(spec.codec_args)
    return args[args.index("-rc-lookahead") + 1] if "-rc-lookahead" in args else None


def test_4k_web_film_caps_the_lookahead(tmp_path):
    big = encode_spec(OutputConfig(size=(3840, 2160), nvenc="off"), tmp_path / "a.mp4")
    assert _lookahead(big) == str(LARGE_FRAME_LOOKAHEAD)
    small = encode_spec(OutputConfig(size=(1920, 1080), nvenc="off"), tmp_path / "b.mp4")
    assert _lookahead(small) is None
    preview = encode_spec(OutputConfig(size=(3840, 2160), nvenc="off"), tmp_path / "c.mp4",
                          preview=True)
    assert _lookahead(preview) is None  # 640x360 previews keep the preset's own


def test_ffmpeg_accepts_the_capped_lookahead(tmp_path):
    """A real (small, wide) encode with the option: ffmpeg takes it, frames come out."""
    cfg = OutputConfig(size=(2880, 1620), nvenc="off", preset="ultrafast")
    spec = encode_spec(cfg, tmp_path / "d.mp4")
    assert _lookahead(spec) is not None
    frame = np.zeros((1620, 2880, 3), np.uint8)
    with VideoWriter(spec) as writer:
        for k in range(3):
            frame[:] = 40 * k
            writer.write(frame)
    assert probe(spec.path).frames == 3


# A fresh interpreter encodes the frames, so RUSAGE_CHILDREN is ffmpeg's peak alone (the
# test process has other children); frames change every step so x264 cannot skip work.
_ENCODE_AND_MEASURE = """
import pickle, resource, sys
import numpy as np
from lossfilm.render.output.encode import VideoWriter
spec, n = pickle.loads(bytes.fromhex(sys.argv[1])), int(sys.argv[2])
W, H = spec.size
ramp = np.arange(W, dtype=np.int32)[None, :] * 255 // W
frame = np.empty((H, W, 3), np.uint8)
with VideoWriter(spec) as writer:
    for k in range(n):
        frame[:] = ((ramp + 3 * k) % 256)[:, :, None]
        frame[: H // 2, :, 1] = (7 * k) % 256
        writer.write(frame)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
"""


def _ffmpeg_peak_bytes(spec, n_frames: int) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _ENCODE_AND_MEASURE, pickle.dumps(spec).hex(), str(n_frames)],
        capture_output=True, text=True, timeout=120, check=True,
    )
    return int(done.stdout.split()[-1])


def test_the_4k_cap_lowers_ffmpegs_peak_memory(tmp_path):
    """The 4K film's codec arguments, run at 640x360: ffmpeg's peak RSS drops by >= 20 frames.

    Preset slow looks 50 frames ahead; the cap keeps 10. Each held frame costs at least its
    YUV 4:2:0 planes (x264 keeps more per frame: padding, half-res copies, analysis), so
    40 fewer frames must save well over 20 frames' planes (measured: ~110 frames' worth).
    """
    big = encode_spec(OutputConfig(size=(3840, 2160), nvenc="off"), tmp_path / "big.mp4")
    small = encode_spec(OutputConfig(size=(640, 360), nvenc="off", fps="30"), tmp_path / "s.mp4")
    assert _lookahead(small) is None and small.preset == big.preset == "slow"
    uncapped = _ffmpeg_peak_bytes(small, 80)  # 80 frames: past preset slow's 50 and the threads'
    capped = _ffmpeg_peak_bytes(dataclasses.replace(small, codec_args=big.codec_args), 80)
    yuv_frame = 640 * 360 * 3 // 2
    assert uncapped - capped >= 20 * yuv_frame, (uncapped / 2**20, capped / 2**20)

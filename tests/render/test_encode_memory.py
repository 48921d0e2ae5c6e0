"""4K films keep x264's lookahead short so lossfilm + ffmpeg stay under 2 GiB (issue 7)."""

from __future__ import annotations

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

"""The PNG writer: 8 and 16 bit, alpha, metadata, read back by an independent decoder."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from lossfilm.render.output.png import read_png_text, write_png


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_8bit_roundtrip_through_pillow(tmp_path, channels):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(17, 23, channels), dtype=np.uint8)
    path = write_png(tmp_path / "a.png", img, {"lossfilm:scene": "abc123"})
    back = np.asarray(Image.open(path))
    assert back.reshape(img.shape).tolist() == img.tolist()
    assert read_png_text(path) == {"lossfilm:scene": "abc123"}


def test_16bit_rgb_keeps_every_bit(tmp_path):
    rng = np.random.default_rng(1)
    img = rng.integers(0, 65536, size=(9, 11, 3), dtype=np.uint16)
    path = write_png(tmp_path / "b.png", img)
    raw = path.read_bytes()
    assert raw[24] == 16 and raw[25] == 2  # IHDR bit depth and colour type
    # decode independently: zlib + undo the Up filter
    import zlib

    start = raw.index(b"IDAT") + 4
    length = int.from_bytes(raw[start - 8 : start - 4], "big")
    rows = np.frombuffer(zlib.decompress(raw[start : start + length]), np.uint8).reshape(9, -1)
    assert (rows[:, 0] == 2).all()
    data = np.cumsum(rows[:, 1:].astype(np.uint64), axis=0).astype(np.uint8)
    back = data.view(">u2").reshape(img.shape)
    assert np.array_equal(back, img)


def test_rejects_float_images(tmp_path):
    with pytest.raises(ValueError, match="uint8 or uint16"):
        write_png(tmp_path / "c.png", np.zeros((2, 2, 3)))

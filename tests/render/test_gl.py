"""The EGL context factory: real contexts on Mesa (or a GPU), real failures."""

from __future__ import annotations

import numpy as np
import pytest

from lossfilm.render.gl.context import INSTALL_HINT, create_context, max_samples, max_size



def test_context_is_headless_core_gl_with_msaa():
    ctx = create_context()
    try:
        assert ctx.version_code >= 330
        assert ctx.info["GL_RENDERER"]
        assert max_samples(ctx) >= 1
        assert max_size(ctx) >= 4096
        fbo = ctx.simple_framebuffer((8, 8))
        fbo.use()
        fbo.clear(1.0, 0.5, 0.0, 1.0)
        pixels = np.frombuffer(fbo.read(components=3), np.uint8).reshape(8, 8, 3)
        assert pixels[0, 0].tolist() == [255, 128, 0]
        assert ctx.error == "GL_NO_ERROR"
    finally:
        ctx.release()


def test_missing_device_raises_runtime_error_saying_what_to_install():
    with pytest.raises(RuntimeError) as info:
        create_context(device_index=999)
    assert "apt-get install" in str(info.value)
    assert "libegl1" in INSTALL_HINT

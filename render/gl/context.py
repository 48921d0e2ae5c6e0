"""The one place that creates an OpenGL context: headless EGL.

On a machine without a GPU this is Mesa llvmpipe (software rasterizer, all cores); on a
machine with one it is the vendor's EGL driver. Nothing else in lossfilm talks to EGL.
"""

from __future__ import annotations

import logging

import moderngl

__all__ = ["create_context", "max_samples", "max_size", "INSTALL_HINT", "REQUIRED_GL"]

log = logging.getLogger("lossfilm.gl")

#: core profile version the shaders are written for (geometry shaders, fwidth, sampler2DShadow).
REQUIRED_GL = 330
INSTALL_HINT = (
    "lossfilm renders headless through EGL and needs the EGL and OpenGL libraries: on "
    "Debian/Ubuntu `apt-get install -y libegl1 libgl1 libegl-mesa0 libgl1-mesa-dri` "
    "(Mesa llvmpipe works without a GPU); on a GPU machine install the vendor driver's EGL."
)


def create_context(device_index: int | None = None) -> moderngl.Context:
    """A standalone, headless OpenGL context on EGL.

    Parameters
    ----------
    device_index : int, optional
        EGL device to use (GPU number on multi-GPU machines); None = the default device.

    Raises
    ------
    RuntimeError
        When EGL or libGL cannot be loaded, saying what to install.
    """
    kwargs = {"standalone": True, "backend": "egl", "require": REQUIRED_GL}
    if device_index is not None:
        kwargs["device_index"] = int(device_index)
    try:
        ctx = moderngl.create_context(**kwargs)
    except Exception as exc:  # glcontext raises plain Exception for missing libraries
        raise RuntimeError(f"cannot create an EGL OpenGL context ({exc}). {INSTALL_HINT}") from exc
    info = ctx.info
    log.info(
        "OpenGL %s on %s (%s), max samples %s, max texture %s",
        info.get("GL_VERSION"),
        info.get("GL_RENDERER"),
        info.get("GL_VENDOR"),
        info.get("GL_MAX_SAMPLES"),
        info.get("GL_MAX_TEXTURE_SIZE"),
    )
    return ctx


def max_samples(ctx: moderngl.Context) -> int:
    """Largest MSAA sample count the device supports."""
    return int(ctx.info.get("GL_MAX_SAMPLES", 0) or 0)


def max_size(ctx: moderngl.Context) -> int:
    """Largest framebuffer side the device can render in one pass (viewport/renderbuffer)."""
    info = ctx.info
    vp = info.get("GL_MAX_VIEWPORT_DIMS", (4096, 4096))
    return int(min(vp[0], vp[1], info.get("GL_MAX_RENDERBUFFER_SIZE", 4096),
                   info.get("GL_MAX_TEXTURE_SIZE", 4096)))

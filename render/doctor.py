"""``python -m lossfilm.render.doctor``: check that this machine can render and encode.

Run by ``make setup``. Creates a headless EGL context and asks the bundled ffmpeg for
its encoders; when something is missing it says exactly what to install.
"""

from __future__ import annotations

import sys

def check_gl() -> str:
    """The GL renderer's name, or raise RuntimeError saying what to install."""
    from lossfilm.render.gl.context import create_context

    ctx = create_context()
    name = f"{ctx.info['GL_RENDERER']} (OpenGL {ctx.info['GL_VERSION']})"
    ctx.release()
    return name


def check_ffmpeg() -> str:
    import subprocess

    import imageio_ffmpeg

    exe = imageio_ffmpeg.get_ffmpeg_exe()
    encoders = subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True, text=True).stdout
    missing = [e for e in ("libx264", "libx265", "prores_ks") if e not in encoders]
    if missing:
        raise RuntimeError(f"the bundled ffmpeg ({exe}) lacks {', '.join(missing)}; reinstall imageio-ffmpeg")
    return f"{exe} ({imageio_ffmpeg.get_ffmpeg_version()})"


def main() -> int:
    ok = True
    for name, check in (("OpenGL (EGL)", check_gl), ("ffmpeg", check_ffmpeg)):
        try:
            print(f"lossfilm doctor: {name}: {check()}")
        except RuntimeError as exc:
            print(f"lossfilm doctor: {name}: MISSING\n  {exc}", file=sys.stderr)
            ok = False
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())

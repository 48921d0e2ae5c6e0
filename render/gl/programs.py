"""Shader programs: GLSL sources with ``#include`` and feature ``#define`` s, uniforms.

Features are compiled in or out rather than switched by uniforms: llvmpipe executes both
sides of a branch on a uniform, so disabled work would still cost per pixel.
"""

from __future__ import annotations

from pathlib import Path

import moderngl
import numpy as np

__all__ = ["SHADER_DIR", "shader_source", "program", "set_uniform"]

SHADER_DIR = Path(__file__).resolve().parent / "shaders"


def shader_source(name: str, _seen: frozenset = frozenset()) -> str:
    """Shader source with ``#include "file"`` lines replaced (each file at most once)."""
    lines = []
    for line in (SHADER_DIR / name).read_text().splitlines():
        if line.startswith("#include"):
            inc = line.split('"')[1]
            if inc not in _seen:
                lines.append(shader_source(inc, _seen | {name, inc}))
        else:
            lines.append(line)
    return "\n".join(lines)


def program(ctx: moderngl.Context, vert: str, frag: str, geom: str | None = None,
             defines: tuple[str, ...] = ()):
    """Compile a program; ``defines`` are inserted after ``#version`` (feature switches)."""
    def src(name: str) -> str:
        text = shader_source(name)
        version, rest = text.split("\n", 1)
        return "\n".join([version, *(f"#define {d}" for d in defines), rest])

    return ctx.program(vertex_shader=src(vert), fragment_shader=src(frag),
                       geometry_shader=src(geom) if geom else None)


def set_uniform(prog: moderngl.Program, name: str, value) -> None:
    """Set a uniform if the compiler kept it (unused uniforms are optimized away)."""
    if name not in prog:
        return
    if isinstance(value, np.ndarray) and value.shape == (4, 4):
        prog[name].write(np.ascontiguousarray(value.T, dtype=np.float32).tobytes())
    elif isinstance(value, np.ndarray):
        prog[name].value = tuple(float(v) for v in value.ravel())
    else:
        prog[name].value = value

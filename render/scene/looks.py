"""Named looks: presets of the ``render:`` keys, picked with ``render.look: NAME``.

A look is a partial ``render:`` mapping. When a scene is loaded, the chosen look's keys
are merged *under* the scene's own (:func:`apply_look_node`, on the YAML nodes before
validation), so any key the scene spells out wins, and an error in a preset would still
point at the ``look:`` line. The default look, ``cinematic``, is the dataclass defaults
themselves (an empty preset), so ``RenderConfig()`` in code is the cinematic look.

This module imports nothing heavy (the scene schema imports it). It also holds the two
new blocks of the look, :class:`OcclusionConfig` and :class:`BaseConfig`, so the look's
growth stays out of ``render/look.py``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from lossfilm.compute.config.options import option
from lossfilm.render.scene.colors import parse_color

__all__ = ["LOOKS", "DEFAULT_LOOK", "Look", "look_names", "looks_help", "apply_look_node",
           "OcclusionConfig", "BaseConfig", "FloorConfig"]


@dataclasses.dataclass(frozen=True)
class Look:
    """One preset: a one-line description and the ``render:`` keys it sets."""

    description: str
    keys: dict


#: the registry, in the order ``--help`` and docs/looks.md list it.
LOOKS: dict[str, Look] = {
    "cinematic": Look(
        "film default: AgX tone curve, ambient occlusion in the creases, walls fading into the dark, fog",
        {}),
    "exhibit": Look(
        "museum piece: a tall pale stone plinth on a polished floor before a warm studio backdrop, soft key light",
        {"background": {"kind": "gradient", "top": "#2b2622", "bottom": "#6b625a"},
         "base": {"enabled": True, "depth": 0.14, "color": "#d8d2c8", "fade": 0.0},
         "floor": {"enabled": True, "color": "#5e564f", "reflect": 0.5},
         "light": {"azimuth": 210.0, "elevation": 50.0, "intensity": 2.6, "fill": 0.6, "rim": 0.25,
                   "ambient": 0.45, "sky_color": "#fff1df", "ground_color": "#5a4c40", "environment": "studio"},
         "material": {"roughness": 0.35},
         "occlusion": {"strength": 1.2}, "fog": 0.05}),
    "paper": Look(
        "for figures: white background, no fog, no plinth, thin dark contour lines",
        {"background": {"kind": "solid", "top": "#ffffff"}, "fog": 0.0, "tonemap": "agx",
         "base": {"enabled": False}, "contours": {"enabled": True, "color": "#000000", "opacity": 0.35},
         "light": {"rim": 0.0, "fill": 0.6, "ambient": 0.5, "sky_color": "#ffffff",
                   "ground_color": "#808080", "color": "#ffffff"},
         "overlays": {"color": "#111111", "outline": 0.0}, "trajectory": {"color": "#111111"}}),
    "clay": Look(
        "matte grey clay on a matte floor, lit by light and occlusion only: the shape without the colormap",
        {"colormap": "clay", "background": {"kind": "gradient", "top": "#3a3a3c", "bottom": "#8a8a8c"},
         "floor": {"enabled": True, "color": "#8a8a8c", "reflect": 0.0},
         "fog": 0.0, "material": {"gloss": 0.0, "roughness": 1.0},
         "light": {"color": "#ffffff", "sky_color": "#ffffff", "ground_color": "#606060",
                   "rim": 0.0, "fill": 0.35, "ambient": 0.55},
         "base": {"color": "#9a9a9c", "fade": 0.0}, "occlusion": {"strength": 1.0, "direct": 0.0}}),
    "neon": Look(
        "night: black sky, magma surface, glowing cyan contour lines, a cold rim light",
        {"colormap": "magma", "background": {"kind": "gradient", "top": "#000000", "bottom": "#0b0820"},
         "fog": 0.35, "contours": {"enabled": True, "color": "#29f0ff", "opacity": 0.85, "count": 24},
         "light": {"intensity": 1.2, "color": "#b8c4ff", "fill": 0.15, "rim": 1.2, "ambient": 0.12,
                   "sky_color": "#4060ff", "ground_color": "#200830"},
         "base": {"color": "#07070c"}, "ball": {"color": "#29f0ff", "glow": 1.5},
         "trajectory": {"color": "#ff3df2"}}),
}
DEFAULT_LOOK = "cinematic"


def look_names() -> tuple[str, ...]:
    return tuple(LOOKS)


def looks_help() -> str:
    """One line per look: ``name  description`` (for ``--help`` and docs)."""
    width = max(map(len, LOOKS))
    return "\n".join(f"  {name:<{width}}  {look.description}" for name, look in LOOKS.items())


@dataclasses.dataclass(frozen=True)
class OcclusionConfig:
    """Ambient occlusion from the height grid (horizon-based, see render/occlusion.py)."""

    enabled: bool = option(True, "darken creases, pits and the foot of walls by the sky they cannot see")
    radius: float = option(1.0, "how far a horizon may occlude, as a fraction of the plane size "
                           "(1: the whole landscape, as in a path tracer)",
                           exclusive_min=True, min=0, max=1)
    strength: float = option(1.0, "occlusion multiplier (1 = physical, higher = deeper creases)",
                             min=0, max=4)
    direct: float = option(0.2, "fraction of the occlusion also applied to the key light (contact shadow)",
                           min=0, max=1)
    bounce: float = option(1.0, "key light bounced once off the surroundings into creases and shadowed sides "
                           "(the sky a vertex cannot see is lit ground; 0 = off, 1 = physical)", min=0, max=4)


@dataclasses.dataclass(frozen=True)
class BaseConfig:
    """The surface as an object: a solid plinth with side walls under the cut edges."""

    enabled: bool = option(True, "draw side walls from the surface edge down to a flat bottom")
    depth: float = option(0.06, "plinth depth below the film's lowest point, as a fraction of the plane size",
                          min=0, max=2)
    color: str = option("#6b7284", "wall color below the colored band under the surface edge")
    fade: float = option(0.1, "walls fade out over this depth below the band, as a fraction of the plane "
                         "size (0 = a solid plinth down to its bottom)", min=0, max=2)

    def __post_init__(self) -> None:
        parse_color(self.color, "render.base.color")


@dataclasses.dataclass(frozen=True)
class FloorConfig:
    """A ground plane under the surface that catches its shadow and a soft reflection."""

    enabled: bool = option(False, "draw a floor under the plinth's bottom (or the surface's lowest point)")
    color: str = option("#8a8178", "floor color")
    reflect: float = option(0.35, "how much of what stands on it the floor mirrors, looking along it (Fresnel: "
                            "less from above); 0 = a matte floor", min=0, max=1)
    blur: float = option(0.012, "blur of the reflection, as a fraction of the frame height (0 = polished)",
                         min=0, max=0.05)
    shadow: bool = option(True, "catch the key light's shadow (with render.light.shadows)")
    gap: float = option(0.0, "height of the plinth's bottom (or the surface's lowest point) above the floor, "
                        "as a fraction of the plane size", min=0, max=2)
    extent: float = option(2.5, "the floor fades into the background at this distance from the middle, "
                           "in plane sizes", min=0.6, max=50)

    def __post_init__(self) -> None:
        parse_color(self.color, "render.floor.color")


# ---------------------------------------------------------------------------- merge
def _node_of(value: Any, mark_node):
    """A YAML node for a plain value, marked at ``mark_node`` (errors point at ``look:``)."""
    import yaml

    node = yaml.compose(yaml.safe_dump(value, default_flow_style=True))
    stack = [node]
    while stack:
        n = stack.pop()
        n.start_mark, n.end_mark = mark_node.start_mark, mark_node.end_mark
        if isinstance(n, yaml.MappingNode):
            stack.extend(x for kv in n.value for x in kv)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
    return node


def _merge_under(node, preset: dict, mark_node) -> None:
    """Add the preset's keys to mapping ``node`` where the node does not give them."""
    import yaml

    given = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    for key, value in preset.items():
        if key not in given:
            node.value.append((_node_of(key, mark_node), _node_of(value, mark_node)))
        elif isinstance(value, dict) and isinstance(given[key], yaml.MappingNode):
            _merge_under(given[key], value, mark_node)
        # any other explicit value (a scalar, null, a list) wins as written


def apply_look_node(root) -> None:
    """Merge the look named by ``render.look`` under the scene's ``render:`` keys, in place.

    Parameters
    ----------
    root : yaml.MappingNode
        The whole scene, after ``--set`` overrides.

    An unknown name is left as it is: the field's ``choices`` report it, with its
    position, when the scene is validated.
    """
    import yaml

    if not isinstance(root, yaml.MappingNode):
        return
    render = next((v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "render"), None)
    if not isinstance(render, yaml.MappingNode):
        return
    look_node = next((v for k, v in render.value if isinstance(k, yaml.ScalarNode) and k.value == "look"), None)
    if look_node is None or not isinstance(look_node, yaml.ScalarNode):
        return
    look = LOOKS.get(look_node.value)
    if look is not None:
        _merge_under(render, look.keys, look_node)


@dataclasses.dataclass(frozen=True)
class DepthOfFieldConfig:
    """A thin-lens camera: focus and aperture (costs one frame per lens sample)."""

    enabled: bool = option(False, "blur what is nearer or farther than the focus (thin lens)")
    focus: str = option("ball", "what is in focus: the ball, the minimum, the camera's target, the edge (the "
                        "far edge of the surface in view), or distance; a shot's focus keys override it",
                        choices=("ball", "minimum", "target", "edge", "distance"))
    distance: float = option(2.0, "with focus: distance, the focus distance in landscape units",
                             exclusive_min=True, min=0)
    fstop: float = option(2.8, "f-number: lower is a wider aperture and shallower focus "
                          "(the plane is treated as a 0.5 m table-top model); a shot's fstop keys override it",
                          min=0.5, max=64)
    samples: int = option(12, "lens samples per frame (each is a whole frame's cost)", min=1, max=64)


@dataclasses.dataclass(frozen=True)
class MotionBlurConfig:
    """Motion blur of the camera and of the surface's own morph (off in --preview)."""

    enabled: bool = option(False, "blur what moves while the shutter is open (costs one frame per sample)")
    shutter: float = option(180.0, "shutter angle in degrees: the fraction x 360 of a frame it is open",
                            exclusive_min=True, min=0, max=360)
    samples: int = option(5, "sub-frames per frame over the shutter's opening", min=1, max=64)

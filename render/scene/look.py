"""How a landscape looks: the ``render:`` section of a scene, as frozen dataclasses.

Colors are hex strings, ``"#rrggbb"`` or ``"#rrggbbaa"`` (sRGB, as in CSS and every
color picker); :func:`parse_color` turns them into linear-light floats for the shaders.
Lengths on screen (line widths, font size) are given in pixels of a 1080-line frame or as
fractions of the frame height, so a 4K film looks like its 1080p preview.
"""

from __future__ import annotations

import dataclasses


from lossfilm.compute.config.options import option
from lossfilm.render.scene.looks import DepthOfFieldConfig
from lossfilm.render.scene.looks import FloorConfig, MotionBlurConfig
from lossfilm.render.scene.looks import DEFAULT_LOOK, LOOKS, BaseConfig, OcclusionConfig
from lossfilm.render.scene.colors import parse_color

__all__ = [
    "LightConfig",
    "MaterialConfig",
    "BackgroundConfig",
    "ContourConfig",
    "GridConfig",
    "BallConfig",
    "TrajectoryConfig",
    "OverlayConfig",
    "RenderConfig",
    "parse_color",
    "REFERENCE_HEIGHT_PX",
]

#: line widths given "in px" are pixels of a frame this tall; they scale with the frame.
REFERENCE_HEIGHT_PX = 1080

POSITIONS = ("top-left", "top-center", "top-right", "bottom-left", "bottom-center", "bottom-right")


def _check_colors(obj, prefix: str) -> None:
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        if f.name.endswith("color") or f.name in ("top", "bottom"):
            parse_color(v, f"{prefix}.{f.name}")


@dataclasses.dataclass(frozen=True)
class LightConfig:
    """Key light (directional, casts shadows), fill, rim and hemisphere ambient."""

    azimuth: float = option(225.0, "key light azimuth in degrees (0 = from +x, 90 = from +y)")
    elevation: float = option(40.0, "key light elevation above the plane in degrees", min=1, max=90)
    intensity: float = option(3.0, "key light intensity (linear)", min=0)
    color: str = option("#fff4e6", "key light color")
    shadows: bool = option(True, "key light casts shadows: the surface on itself traced exactly through the "
                           "height field; the balls, and everything on a floor, through a shadow map")
    size: float = option(3.0, "angular diameter of the key light in degrees: a shadow's penumbra widens with "
                         "its distance from what casts it (0.5 = the sun, a few degrees = a softbox)", min=0, max=30)
    shadow_map_size: int = option(2048, "shadow map resolution in texels (balls, floor)", min=256, max=16384)
    fill: float = option(0.45, "fill light strength (opposite the key, no shadow)", min=0)
    rim: float = option(0.35, "rim light strength (grazing edges toward the camera)", min=0)
    ambient: float = option(0.30, "hemisphere ambient strength", min=0)
    sky_color: str = option("#b9d3ff", "ambient color from above")
    ground_color: str = option("#4a3c33", "ambient color from below")
    environment: str = option("sky", "what the surface reflects: sky (the dome from ground_color to sky_color "
                              "that the ambient integrates), studio (a dark dome with softboxes), none",
                              choices=("sky", "studio", "none"))

    def __post_init__(self) -> None:
        _check_colors(self, "render.light")


@dataclasses.dataclass(frozen=True)
class MaterialConfig:
    """Surface material: GGX microfacet specular with Fresnel, roughness and metalness."""

    roughness: float = option(0.5, "0 = mirror-like highlight, 1 = matte (GGX alpha = roughness^2)",
                              min=0.02, max=1)
    gloss: float = option(0.04, "specular reflectance at normal incidence (F0) of the non-metal part; "
                          "0.04 for plastics and paints", min=0, max=1)
    metalness: float = option(0.0, "0 = dielectric, 1 = metal (reflection tinted by the colormap, no diffuse)",
                              min=0, max=1)


@dataclasses.dataclass(frozen=True)
class BackgroundConfig:
    """What is behind the landscape."""

    kind: str = option("gradient", "solid, vertical gradient or transparent (alpha = 0)",
                       choices=("solid", "gradient", "transparent"))
    top: str = option("#0b1020", "color at the top of the frame (or the solid color)")
    bottom: str = option("#26314a", "color at the bottom of the frame")

    def __post_init__(self) -> None:
        _check_colors(self, "render.background")


@dataclasses.dataclass(frozen=True)
class ContourConfig:
    """Iso-loss lines drawn on the surface with an even on-screen width."""

    enabled: bool = option(False, "draw iso-loss contour lines")
    count: int = option(16, "number of levels over the film's height range (when spacing is 0)",
                        min=1, max=1000)
    spacing: float = option(0.0, "height between levels in world units (0 = use count)", min=0)
    width: float = option(1.4, "line width in px of a 1080-line frame", min=0.1, max=50)
    color: str = option("#ffffff", "line color")
    opacity: float = option(0.55, "line opacity", min=0, max=1)

    def __post_init__(self) -> None:
        _check_colors(self, "render.contours")


@dataclasses.dataclass(frozen=True)
class GridConfig:
    """Grid lines along a and b, with an even on-screen width."""

    enabled: bool = option(False, "draw grid lines of constant a and b")
    count: int = option(10, "lines across the plane in each direction", min=1, max=1000)
    width: float = option(1.0, "line width in px of a 1080-line frame", min=0.1, max=50)
    color: str = option("#000000", "line color")
    opacity: float = option(0.25, "line opacity", min=0, max=1)

    def __post_init__(self) -> None:
        _check_colors(self, "render.grid")


@dataclasses.dataclass(frozen=True)
class BallConfig:
    """The minimizer ball: a sphere resting on the surface at ``Frame.ball``.

    Its center is ``ball + radius * n``, with ``n`` the surface normal at the ball: the
    sphere touches the surface exactly at the minimizer's point and, on a slope, does not
    sink into the uphill side (as ``ball + radius * up`` would).
    """

    enabled: bool = option(True, "draw the minimizer ball when the frame has one")
    radius: float = option(0.02, "radius as a fraction of the plane size", exclusive_min=True,
                           min=0, max=0.5)
    color: str = option("#ff5a36", "ball color")
    glow: float = option(0.35, "self-illumination (0 = lit only)", min=0, max=4)

    def __post_init__(self) -> None:
        _check_colors(self, "render.ball")


@dataclasses.dataclass(frozen=True)
class TrajectoryConfig:
    """The minimizer's path so far, drawn as a screen-space ribbon."""

    enabled: bool = option(True, "draw the trajectory when the frame has one")
    width: float = option(3.0, "line width in px of a 1080-line frame", min=0.1, max=50)
    color: str = option("#ffffff", "line color")
    opacity: float = option(0.9, "line opacity", min=0, max=1)

    def __post_init__(self) -> None:
        _check_colors(self, "render.trajectory")


@dataclasses.dataclass(frozen=True)
class OverlayConfig:
    """Text over the picture: title, counter, loss and other values, caption, a value plot."""

    title: str = option("", "title text (empty = none)")
    counter: str = option("epoch", "which counter to show", choices=("epoch", "step", "label", "none"))
    loss: bool = option(True, "show the current loss value")
    caption: str = option("", "caption text (empty = none)")
    font_size: float = option(0.035, "font size as a fraction of the frame height",
                              exclusive_min=True, min=0, max=0.5)
    margin: float = option(0.035, "distance from the frame edge as a fraction of its height",
                           min=0, max=0.4)
    color: str = option("#ffffff", "text color")
    outline: float = option(0.08, "dark outline width as a fraction of the font size", min=0, max=0.5)
    title_position: str = option("top-left", "where the title sits", choices=POSITIONS)
    counter_position: str = option("top-right", "where counter and loss sit", choices=POSITIONS)
    caption_position: str = option("bottom-left", "where the caption sits", choices=POSITIONS)
    readouts: tuple[str, ...] = option(
        (), "per-state values shown as 'name value' lines under the counter (sharpness, trace, lr...)"
    )
    plot: str | None = option(
        None, "a per-state value drawn as a small curve over the whole film, marker at the frame"
    )
    plot_position: str = option("bottom-right", "where the plot sits", choices=POSITIONS)
    plot_size: tuple[float, float] = option(
        (0.42, 0.2), "plot width and height as fractions of the frame height"
    )
    plot_color: str = option("#ffd23f", "plot curve and marker color")

    def __post_init__(self) -> None:
        _check_colors(self, "render.overlays")
        w, h = self.plot_size
        if not (0.05 <= w <= 2.0 and 0.05 <= h <= 1.0):
            raise ValueError(
                f"render.overlays.plot_size must be [w, h] with w in [0.05, 2], h in [0.05, 1], got {list(self.plot_size)}"
            )
        if self.plot is not None and not self.plot:
            raise ValueError("render.overlays.plot must name a value (or be null)")


@dataclasses.dataclass(frozen=True)
class RenderConfig:
    """The look of the landscape: colormap, lights, material, lines, actors, text."""

    look: str = option(DEFAULT_LOOK, "named preset of the keys below; keys the scene gives override it: "
                       + "; ".join(f"{k} = {v.description}" for k, v in LOOKS.items()),
                       choices=tuple(LOOKS))
    colormap: str = option("viridis", "colormap name: viridis, magma, inferno, plasma, cividis, "
                           "turbo, a file in assets/colormaps, or any of them + '_r'")
    msaa: int = option(4, "multisample anti-aliasing samples (capped at the device maximum)",
                       min=0, max=16)
    exposure: float = option(1.0, "exposure multiplier before tone mapping", exclusive_min=True,
                             min=0, max=16)
    tonemap: str = option("agx", "tone curve from linear light to the display (agx: AgX-like, "
                          "desaturates highlights; filmic: ACES fit)", choices=("none", "filmic", "agx"))
    fog: float = option(0.15, "atmospheric depth: fog density per plane size (0 = off)", min=0, max=10)
    invalid_color: str = option("#ff2a2a", "tint of vertices whose loss was not finite")
    light: LightConfig = option(LightConfig(), "lights")
    material: MaterialConfig = option(MaterialConfig(), "surface material")
    background: BackgroundConfig = option(BackgroundConfig(), "background")
    contours: ContourConfig = option(ContourConfig(), "iso-loss contour lines")
    grid: GridConfig = option(GridConfig(), "grid lines")
    ball: BallConfig = option(BallConfig(), "minimizer ball")
    trajectory: TrajectoryConfig = option(TrajectoryConfig(), "minimizer trajectory")
    overlays: OverlayConfig = option(OverlayConfig(), "text overlays")
    occlusion: OcclusionConfig = option(OcclusionConfig(), "ambient occlusion from the height grid")
    base: BaseConfig = option(BaseConfig(), "solid plinth under the surface's cut edges")
    floor: FloorConfig = option(FloorConfig(), "a floor under it all that catches shadow and reflection")
    dof: DepthOfFieldConfig = option(DepthOfFieldConfig(), "depth of field (thin lens, accumulated)")
    motion_blur: MotionBlurConfig = option(MotionBlurConfig(), "motion blur (shutter, accumulated; off in --preview)")

    def __post_init__(self) -> None:
        parse_color(self.invalid_color, "render.invalid_color")
        if not isinstance(self.colormap, str) or not self.colormap:
            raise ValueError(f"render.colormap: expected a colormap name, got {self.colormap!r}")



"""Perceptual colormaps as 256-entry lookup tables.

The built-in tables are generated with numpy from published anchor values (see
``assets/colormaps/README.md`` for origin and licence of each) and stored as
``assets/colormaps/<name>.npy`` (256, 3) float32 sRGB in [0, 1]. A user adds a map by
dropping a ``<name>.npy`` or ``<name>.csv`` (rows of ``r,g,b`` in [0, 1], any number
of rows >= 2) into that folder; it is resampled to 256 entries.

Run ``python -m render.colormaps`` to regenerate the built-in tables.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from scipy.interpolate import PchipInterpolator

from lossfilm.render.assets import asset_path
from lossfilm.render.color.diverging import COOLWARM_ENDS, msh_diverging
from lossfilm.render.color.srgb import linear_to_srgb, srgb_to_linear  # noqa: F401 - public here too

__all__ = [
    "COLORMAP_DIR",
    "BUILTIN_COLORMAPS",
    "DIVERGING_COLORMAPS",
    "LUT_SIZE",
    "available_colormaps",
    "load_colormap",
    "colormap_colors",
    "srgb_to_linear",
    "linear_to_srgb",
    "generate_builtin",
]

COLORMAP_DIR = asset_path("colormaps")
LUT_SIZE = 256

# Degree-6 minimax polynomial fits (lowest power first) to the BIDS/matplotlib tables,
# published CC0 by "mattz" (shadertoy WlfXRN). Each row is one power, columns r, g, b.
_POLY6 = {
    "viridis": (
        (0.2777273272234177, 0.005407344544966578, 0.3340998053353061),
        (0.1050930431085774, 1.404613529898575, 1.384590162594685),
        (-0.3308618287255563, 0.214847559468213, 0.09509516302823659),
        (-4.634230498983486, -5.799100973351585, -19.33244095627987),
        (6.228269936347081, 14.17993336680509, 56.69055260068105),
        (4.776384997670288, -13.74514537774601, -65.35303263337234),
        (-5.435455855934631, 4.645852612178535, 26.3124352495832),
    ),
    "plasma": (
        (0.05873234392399702, 0.02333670892565664, 0.5433401826748754),
        (2.176514634195958, 0.2383834171260182, 0.7539604599784036),
        (-2.689460476458034, -7.455851135738909, 3.110799939717086),
        (6.130348345893603, 42.3461881477227, -28.51885465332158),
        (-11.10743619062271, -82.66631109428045, 60.13984767418263),
        (10.02306557647065, 71.41361770095349, -54.07218655560067),
        (-3.658713842777788, -22.93153465461149, 18.19190778539828),
    ),
    "magma": (
        (-0.002136485053939582, -0.000749655052795221, -0.005386127855323933),
        (0.2516605407371642, 0.6775232436837668, 2.494026599312351),
        (8.353717279216625, -3.577719514958484, 0.3144679030132573),
        (-27.66873308576866, 14.26473078096533, -13.64921318813922),
        (52.17613981234068, -27.94360607168351, 12.94416944238394),
        (-50.76852536473588, 29.04658282127291, 4.23415299384598),
        (18.65570506591883, -11.48977351997711, -5.601961508734096),
    ),
    "inferno": (
        (0.0002189403691192265, 0.001651004631001012, -0.01948089843709184),
        (0.1065134194856116, 0.5639564367884091, 3.932712388889277),
        (11.60249308247187, -3.972853965665698, -15.9423941062914),
        (-41.70399613139459, 17.43639888205313, 44.35414519872813),
        (77.162935699427, -33.40235894210092, -81.80730925738993),
        (-71.31942824499214, 32.62606426397723, 73.20951985803202),
        (25.13112622477341, -12.24266895238567, -23.07032500287172),
    ),
    # Turbo (Anton Mikhailov, Google, Apache-2.0): polynomial approximation by Ruofei Du.
    "turbo": (
        (0.13572138, 0.09140261, 0.10667330),
        (4.61539260, 2.19418839, 12.64194608),
        (-42.66032258, 4.84296658, -60.58204836),
        (132.13108234, -14.18503333, 110.36276771),
        (-152.94239396, 4.27729857, -89.90310912),
        (59.28637943, 2.82956604, 27.34824973),
    ),
}

# cividis (Nunez, Anderton & Renslow 2018): anchors taken from the 256-entry table
# (index -> sRGB), interpolated monotonically (PCHIP) so no new extrema are invented.
_CIVIDIS_ANCHORS = {
    0: (0.000000, 0.135112, 0.304751),
    16: (0.000000, 0.178802, 0.414764),
    20: (0.000000, 0.188769, 0.439563),
    23: (0.003602, 0.195911, 0.441564),
    32: (0.103401, 0.220406, 0.435790),
    48: (0.195057, 0.264372, 0.425924),
    64: (0.263738, 0.307831, 0.422789),
    80: (0.324250, 0.351289, 0.426250),
    96: (0.380830, 0.395164, 0.435653),
    112: (0.435168, 0.439763, 0.451134),
    128: (0.488697, 0.485318, 0.471008),
    144: (0.547840, 0.531895, 0.471704),
    160: (0.609105, 0.579816, 0.463638),
    176: (0.671991, 0.629316, 0.448018),
    192: (0.736488, 0.680629, 0.424028),
    208: (0.802667, 0.733978, 0.390153),
    224: (0.870717, 0.789572, 0.343333),
    240: (0.941147, 0.847530, 0.275815),
    250: (0.987293, 0.884718, 0.213336),
    252: (0.994847, 0.892954, 0.203445),
    255: (0.995737, 0.909344, 0.217772),
}

#: diverging maps (zero in the middle, white): for signed channels such as surface curvature.
DIVERGING_COLORMAPS = ("coolwarm",)
BUILTIN_COLORMAPS = ("viridis", "magma", "inferno", "plasma", "cividis", "turbo", "coolwarm")


def _from_polynomial(coeffs: tuple) -> np.ndarray:
    t = np.linspace(0.0, 1.0, LUT_SIZE)
    c = np.asarray(coeffs, dtype=np.float64)  # (degree+1, 3)
    powers = t[:, None] ** np.arange(c.shape[0])[None, :]
    return np.clip(powers @ c, 0.0, 1.0)


def _from_anchors(anchors: dict) -> np.ndarray:
    idx = np.array(sorted(anchors), dtype=np.float64)
    rgb = np.array([anchors[int(i)] for i in idx], dtype=np.float64)
    return np.clip(PchipInterpolator(idx, rgb, axis=0)(np.arange(LUT_SIZE)), 0.0, 1.0)


def generate_builtin(name: str) -> np.ndarray:
    """Compute a built-in table from its published anchors.

    Returns
    -------
    (256, 3) float32
        sRGB values in [0, 1].
    """
    if name == "cividis":
        return _from_anchors(_CIVIDIS_ANCHORS).astype(np.float32)
    if name == "coolwarm":
        return msh_diverging(*COOLWARM_ENDS, LUT_SIZE)
    if name in _POLY6:
        return _from_polynomial(_POLY6[name]).astype(np.float32)
    raise ValueError(f"no built-in colormap {name!r}; built-ins: {', '.join(BUILTIN_COLORMAPS)}")


def available_colormaps(directory: Path = COLORMAP_DIR) -> tuple[str, ...]:
    """Names of every colormap: the built-ins plus ``*.npy`` / ``*.csv`` files in ``directory``."""
    names = set(BUILTIN_COLORMAPS)
    if directory.is_dir():
        names.update(p.stem for p in directory.iterdir() if p.suffix in (".npy", ".csv"))
    return tuple(sorted(names))


def _resample(table: np.ndarray) -> np.ndarray:
    if table.shape[0] == LUT_SIZE:
        return table
    src = np.linspace(0.0, 1.0, table.shape[0])
    dst = np.linspace(0.0, 1.0, LUT_SIZE)
    return np.stack([np.interp(dst, src, table[:, k]) for k in range(3)], axis=1)


@functools.lru_cache(maxsize=32)
def load_colormap(name: str, directory: Path = COLORMAP_DIR) -> np.ndarray:
    """The lookup table of colormap ``name``.

    A file in ``directory`` wins over the built-in generator (the shipped ``.npy`` files
    are the generator's output). Names ending in ``_r`` give the reversed map.

    Returns
    -------
    (256, 3) float32
        sRGB values in [0, 1] (read-only).
    """
    if name.endswith("_r"):
        table = load_colormap(name[:-2], directory)[::-1].copy()
        table.setflags(write=False)
        return table
    npy, csv = directory / f"{name}.npy", directory / f"{name}.csv"
    if npy.is_file():
        table = np.load(npy, allow_pickle=False)
    elif csv.is_file():
        table = np.loadtxt(csv, delimiter=",", dtype=np.float64, ndmin=2)
    elif name in BUILTIN_COLORMAPS:
        table = generate_builtin(name)
    else:
        raise ValueError(
            f"render.colormap: unknown colormap {name!r}; "
            f"available: {', '.join(available_colormaps(directory))}"
        )
    table = np.asarray(table, dtype=np.float64)
    if table.ndim != 2 or table.shape[1] not in (3, 4) or table.shape[0] < 2:
        raise ValueError(f"render.colormap: {name!r} must be an (n>=2, 3) table of r,g,b rows")
    if not np.all(np.isfinite(table)) or table.min() < 0.0 or table.max() > 1.0:
        raise ValueError(f"render.colormap: {name!r} values must be finite and in [0, 1]")
    out = _resample(table[:, :3]).astype(np.float32)
    out.setflags(write=False)
    return out


def colormap_colors(name: str, scalar: np.ndarray) -> np.ndarray:
    """Map colormap coordinates to colors (for mesh export and previews).

    Parameters
    ----------
    scalar : (...,) float
        Coordinates in [0, 1] (clipped; non-finite values map to the low end).

    Returns
    -------
    (..., 3) uint8
        sRGB colors, linearly interpolated between the 256 table entries.
    """
    lut = load_colormap(name)
    t = np.nan_to_num(np.clip(np.asarray(scalar, dtype=np.float64), 0.0, 1.0), nan=0.0)
    pos = t * (LUT_SIZE - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, LUT_SIZE - 1)
    w = (pos - lo)[..., None]
    rgb = lut[lo] * (1.0 - w) + lut[hi] * w
    return np.rint(rgb * 255.0).astype(np.uint8)


if __name__ == "__main__":  # regenerate the shipped tables
    COLORMAP_DIR.mkdir(parents=True, exist_ok=True)
    for _name in BUILTIN_COLORMAPS:
        np.save(COLORMAP_DIR / f"{_name}.npy", generate_builtin(_name))
        print("wrote", COLORMAP_DIR / f"{_name}.npy")

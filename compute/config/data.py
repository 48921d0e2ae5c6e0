"""The ``lossfilm.compute.data.datasets`` section: what the network trains and is evaluated on (torch-free).
"""

from __future__ import annotations

import dataclasses

from lossfilm.compute.config.options import option


#: image classes of the ``shapes`` set, in class-index order.
SHAPE_CLASSES = (
    "horizontal stripes",
    "vertical stripes",
    "diagonal stripes",
    "anti-diagonal stripes",
    "disk",
    "ring",
    "cross",
    "checkerboard",
)


#: one-line description of each data kind (``lossfilm --help`` lists them).
DATA_KINDS: dict[str, str] = {
    "spirals": "interleaved 2-D spiral arms, one per class",
    "moons": "two interleaving 2-D half circles (2 classes)",
    "blobs": "Gaussian clusters in `features` dimensions, one per class",
    "shapes": "1×S×S images of stripes, disks, rings... (for cnn / resnet)",
    "digits": "scikit-learn's 8×8 handwritten digits (needs scikit-learn)",
    "npz": "arrays `x` and `y` from a NumPy .npz file (`path`)",
    "pt": "tensors `x` and `y` from a torch .pt file (`path`)",
    "user": "a `package.module:function` factory returning (x, y) (`factory`)",
}


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """The data set the network trains on; the landscape is evaluated on a fixed subset of it."""

    kind: str = option("spirals", "which data set", choices=tuple(DATA_KINDS))
    samples: int = option(
        2000,
        "number of samples (generated sets), or at most this many (digits, files; 0 = all)",
        min=0,
    )
    noise: float | None = option(
        None,
        "Gaussian noise std in data units (blobs: cluster std); none = the kind's default",
        min=0.0,
    )
    classes: int = option(2, "number of classes (spirals, blobs, shapes ≤ 8)", min=2)
    features: int = option(2, "input dimensions (blobs)", min=1)
    image_size: int = option(16, "image side in pixels (shapes)", min=4, max=256)
    seed: int = option(0, "seed of the generator and of the subset drawn from files", min=0)
    path: str | None = option(None, "file to read (npz: arrays x, y; pt: dict with x, y)")
    factory: str | None = option(
        None,
        "user data as 'package.module:function' returning (x, y); gets samples, seed if accepted",
    )
    holdout: float = option(
        0.0,
        "fraction held out of training; reported per state as test_loss / test_accuracy",
        min=0.0,
        max=1.0,
        exclusive_max=True,
    )

    def __post_init__(self) -> None:
        if self.kind in ("npz", "pt") and not self.path:
            raise ValueError(f"data.path: kind {self.kind!r} needs a file path")
        if self.kind == "user" and not self.factory:
            raise ValueError("data.factory: kind 'user' needs 'package.module:function'")
        if self.kind == "moons" and self.classes != 2:
            raise ValueError(f"data.classes: moons has exactly 2 classes, got {self.classes}")
        if self.kind == "shapes" and self.classes > len(SHAPE_CLASSES):
            raise ValueError(
                f"data.classes: shapes has at most {len(SHAPE_CLASSES)} classes, got {self.classes}"
            )
        if self.kind in ("spirals", "moons", "blobs", "shapes") and self.samples < self.classes:
            raise ValueError(
                f"data.samples: need at least one sample per class ({self.classes}),"
                f" got {self.samples}"
            )

"""The torch-free schema names the choices that the heavy modules implement: they agree.

The scene schema must not import torch or scipy, so it lists activation and easing names
itself; these tests hold each list to the table of implementations it stands for.
"""

from __future__ import annotations

from lossfilm.compute.config.model import ACTIVATION_NAMES
from lossfilm.compute.model.zoo import ACTIVATIONS
from lossfilm.render.camera.motion import EASINGS
from lossfilm.render.scene.camera import EASING_NAMES


def test_every_activation_the_schema_offers_is_built_and_no_other():
    assert set(ACTIVATION_NAMES) == set(ACTIVATIONS)


def test_every_easing_the_schema_offers_exists_and_no_other():
    assert set(EASING_NAMES) == set(EASINGS)

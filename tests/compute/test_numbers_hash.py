"""One definition of what changes the numbers: the store's hash and the surfaces folder."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from lossfilm.compute.config.cluster import ClusterConfig
from lossfilm.compute.config.compute import NOT_NUMBERS, ComputeConfig, numbers_hash
from lossfilm.compute.config.curvature import CurvatureConfig
from lossfilm.render.pipeline import surfaces_folder
from lossfilm.render.scene.scene import load_scene

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "scenes" / "quickstart.yaml"

WHERE_IT_RUNS = [
    "compute.device=cpu",
    "compute.executor=serial",
    "compute.executor=local:2",
    "compute.executor=dask://127.0.0.1:8786",
    "compute.cluster.processes=2",
    "compute.max_points=123",
    "compute.curvature.enabled=true",
]
WHAT_IT_COMPUTES = [
    "compute.landscape.grid.points=43",
    "compute.landscape.grid.range=[-2,2]",
    "compute.data.samples=1999",
    "compute.data.seed=7",
    "compute.landscape.directions.seed=9",
    "compute.train.epochs=19",
    "compute.model.hidden=[32,32]",
]


def _folder(*overrides: str) -> Path:
    return surfaces_folder(load_scene(QUICKSTART, overrides), Path("out"))


@pytest.mark.parametrize("override", WHERE_IT_RUNS)
def test_where_the_work_runs_shares_the_surfaces(override):
    assert _folder(override) == _folder()


@pytest.mark.parametrize("override", WHAT_IT_COMPUTES)
def test_what_is_computed_gets_its_own_surfaces(override):
    assert _folder(override) != _folder()


def test_the_folder_and_the_store_use_the_same_hash():
    scene = load_scene(QUICKSTART)
    assert _folder().name == numbers_hash(scene.compute)


def test_every_key_that_is_left_out_exists():
    # a renamed key would silently start hashing what does not change the numbers
    names = {f.name for f in dataclasses.fields(ComputeConfig)}
    assert set(NOT_NUMBERS) <= names
    base = ComputeConfig()
    moved = dataclasses.replace(base, executor="serial", device="cpu", max_points=5,
                                cluster=ClusterConfig(processes=2),
                                curvature=CurvatureConfig(enabled=True))
    assert numbers_hash(moved) == numbers_hash(base)

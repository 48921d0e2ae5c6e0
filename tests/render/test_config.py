"""The YAML -> dataclass loader: types, ranges, choices, marks, overrides."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from lossfilm.compute.config.options import option
from lossfilm.render.scene.loader import apply_override, compose_file, compose_text
from lossfilm.render.scene.errors import ConfigErrors
from lossfilm.render.scene.errors import ConfigError
from lossfilm.render.scene.build import build


@dataclasses.dataclass(frozen=True)
class Orbit:
    """An orbit."""

    duration: float = option(10.0, "Seconds.", min=0, exclusive_min=True)
    turns: float = option(0.5, "Turns around the target.")


@dataclasses.dataclass(frozen=True)
class Still:
    """A still."""

    duration: float = option(2.0, "Seconds.", min=0, exclusive_min=True)


@dataclasses.dataclass(frozen=True)
class Camera:
    """Camera."""

    shots: tuple = option((Orbit(),), "Shots.", registry={"orbit": Orbit, "still": Still})
    fov: float = option(35.0, "Field of view.", min=1, max=170, exclusive_min=True, exclusive_max=True)


@dataclasses.dataclass(frozen=True)
class Train:
    """Training."""

    lr: float = option(0.1, "Learning rate.", min=0)
    epochs: int = option(20, "Epochs.", min=1)
    optimizer: str = option("sgd", "Optimizer.", choices=("sgd", "adam"))
    hidden: tuple[int, ...] = option((64, 64), "Hidden widths.", min=1)
    size: tuple[int, int] = option((320, 180), "Frame size.")
    ceiling: float | None = option(None, "Ceiling.")
    shadows: bool = option(True, "Shadows.")


@dataclasses.dataclass(frozen=True)
class Root:
    """Root."""

    name: str = option("x", "Name.")
    train: Train = option(Train(), "Training.")
    camera: Camera = option(Camera(), "Camera.")


def load(text: str, *overrides: str) -> Root:
    node = compose_text(text, "scene.yaml")
    for o in overrides:
        apply_override(node, o)
    return build(Root, node, "scene.yaml")


def messages(text: str, *overrides: str) -> list[str]:
    with pytest.raises(ConfigErrors) as info:
        load(text, *overrides)
    return [e.format() for e in info.value.errors]


def test_defaults_and_values():
    root = load("name: demo\ntrain: {lr: 1e-3, hidden: [8, 4], ceiling: 3}\n")
    assert root.name == "demo"
    assert root.train.lr == pytest.approx(1e-3)
    assert root.train.hidden == (8, 4)
    assert root.train.ceiling == 3.0 and isinstance(root.train.ceiling, float)
    assert root.train.epochs == 20
    assert root.camera.shots == (Orbit(),)


def test_empty_file_gives_defaults():
    assert load("") == Root()


def test_wrong_type_names_line_column_and_key():
    text = "camera:\n  shots:\n    - still: {duration: 1}\n    - orbit:\n        turns: half\n"
    assert messages(text) == [
        "scene.yaml:5:16: camera.shots[1].orbit.turns: expected a number, got 'half'"
    ]


def test_unknown_key_suggests_the_close_one():
    (msg,) = messages("train:\n  epochz: 3\n")
    assert msg.startswith("scene.yaml:2:3: train.epochz: unknown key (did you mean 'epochs'?)")


def test_out_of_range_and_bad_choice_reported_together():
    msgs = messages("train:\n  lr: -1\n  optimizer: sdg\ncamera: {fov: 170}\n")
    assert msgs[0] == "scene.yaml:2:7: train.lr: must be >= 0, got -1"
    assert msgs[1].startswith("scene.yaml:3:14: train.optimizer: unknown value 'sdg' (did you mean 'sgd'?)")
    assert msgs[2] == "scene.yaml:4:15: camera.fov: must be < 170, got 170"


def test_tuple_items_checked_and_arity():
    msgs = messages("train: {hidden: [8, 0], size: [1, 2, 3]}\n")
    assert msgs == [
        "scene.yaml:1:21: train.hidden[1]: must be >= 1, got 0",
        "scene.yaml:1:31: train.size: expected 2 values, got 3",
    ]


def test_bool_and_int_are_strict():
    msgs = messages("train: {shadows: 1, epochs: 2.5}\n")
    assert "train.shadows: expected true or false, got 1" in msgs[0]
    assert "train.epochs: expected an integer, got 2.5" in msgs[1]


def test_unknown_shot_kind():
    (msg,) = messages("camera:\n  shots:\n    - orbitt: {}\n")
    assert msg.startswith("scene.yaml:3:7: camera.shots[0]: unknown kind 'orbitt' (did you mean 'orbit'?)")


def test_malformed_yaml_has_position(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  lr: [1, 2\n")
    with pytest.raises(ConfigError) as info:
        compose_file(bad)
    assert str(info.value).startswith(f"{bad}:3:1: malformed YAML")


def test_overrides_apply_and_validate():
    root = load("train: {lr: 0.5}\ncamera: {shots: [orbit: {}]}\n", "train.lr=0.25", "camera.shots[0].orbit.turns=2", "train.size=[64,32]")
    assert root.train.lr == 0.25
    assert root.camera.shots[0].turns == 2.0
    assert root.train.size == (64, 32)
    (msg,) = messages("", "train.epochs=many")
    assert msg == "--set train.epochs=many:1:1: train.epochs: expected an integer, got 'many'"


def test_override_creates_missing_sections():
    assert load("", "train.optimizer=adam").train.optimizer == "adam"


def test_yaml_objects_are_never_built():
    # refused while parsing, before any value is built: a scene holds plain data only
    with pytest.raises(ConfigError) as info:
        load("name: !!python/object/apply:os.system ['true']\n")
    assert str(info.value).startswith("scene.yaml:1:7: YAML tags are not allowed")

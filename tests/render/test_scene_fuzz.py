"""Fuzzing the scene loader and ``--set``: any input is a scene or a clean ConfigErrors.

Random bytes, random YAML documents built from the schema's own key names (so they reach
deep into every section), mutated shipped scenes and random ``--set`` assignments. The
property: ``load_scene`` returns a Scene or raises ConfigErrors, never anything else, and
each call finishes within :data:`HANG_SECONDS` (an alarm fails a hang instead of waiting).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import signal
import typing
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lossfilm.render.cli import main
from lossfilm.render.scene.errors import ConfigErrors
from lossfilm.render.scene.scene import Scene, load_scene

ROOT = Path(__file__).resolve().parents[2]
SCENES = sorted((ROOT / "scenes").glob("*.yaml"))
#: one load of a scene of at most a few kB takes milliseconds; this is a hang.
HANG_SECONDS = 10
FUZZ = settings(max_examples=50, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _key_names(cls: type, seen: set | None = None) -> set[str]:
    """Every field name of the scene's dataclasses (and their registries' kinds)."""
    from lossfilm.compute.config.options import rule_of

    seen = set() if seen is None else seen
    if cls in seen:
        return set()
    seen.add(cls)
    names: set[str] = set()
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        names.add(f.name)
        rule = rule_of(f)
        for kind, sub in (rule.registry or {}).items():
            names.add(kind)
            names |= _key_names(sub, seen)
        for tp in (hints[f.name], *typing.get_args(hints[f.name])):
            if dataclasses.is_dataclass(tp):
                names |= _key_names(tp, seen)
    return names


KEYS = sorted(_key_names(Scene))
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
    st.text(max_size=30), st.sampled_from(["auto", "orbit", "viridis", "1e-3", "[", "{", "- x", "*a"]),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=12))
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(keys, inner, max_size=6)),
    max_leaves=40,
)
scene_documents = st.dictionaries(st.sampled_from(KEYS + ["name", "compute", "mesh", "camera", "render", "output"]),
                                  documents, max_size=6)


@contextlib.contextmanager
def no_hang():
    def alarm(signum, frame):
        raise TimeoutError(f"scene loading took over {HANG_SECONDS} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(HANG_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def loads_or_refuses(path: Path, overrides: tuple[str, ...] = ()) -> None:
    """The property: a Scene, or ConfigErrors whose every line names where."""
    with no_hang():
        try:
            scene = load_scene(path, overrides)
        except ConfigErrors as exc:
            assert exc.errors
            for e in exc.errors:
                line = e.format()
                assert line.startswith((str(path), "--set")), line
                assert len(line) < 1200, len(line)
        else:
            assert isinstance(scene, Scene)


@pytest.fixture(scope="module")
def scene_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "scene.yaml"


@FUZZ
@given(data=st.binary(max_size=3000))
def test_random_bytes(scene_file, data):
    scene_file.write_bytes(data)
    loads_or_refuses(scene_file)


@FUZZ
@given(doc=scene_documents)
def test_random_yaml_documents(scene_file, doc):
    scene_file.write_text(yaml.safe_dump(doc, allow_unicode=True))
    loads_or_refuses(scene_file)


@FUZZ
@given(index=st.integers(0, len(SCENES) - 1), cut=st.integers(0, 10**6), length=st.integers(0, 40),
       insert=st.text(max_size=40))
def test_mutated_shipped_scenes(scene_file, index, cut, length, insert):
    text = SCENES[index].read_text()
    cut %= len(text) + 1
    scene_file.write_text(text[:cut] + insert + text[cut + length:])
    loads_or_refuses(scene_file)


key_paths = st.lists(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), min_size=1, max_size=4).map(
    lambda parts: ".".join(parts)
) | st.sampled_from(["camera.shots[0].orbit.turns", "output.size", "camera.shots[3]", "mesh"])


@FUZZ
@given(key=key_paths, value=st.one_of(st.text(max_size=60), documents.map(
    lambda d: yaml.safe_dump(d, default_flow_style=True).strip())))
def test_random_set_assignments(key, value):
    loads_or_refuses(SCENES[0], (f"{key}={value}",))


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=500), value=st.text(max_size=40))
def test_the_command_line_exits_0_or_2_without_a_traceback(scene_file, data, value):
    scene_file.write_bytes(data)
    err = io.StringIO()
    with no_hang(), contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["validate", str(scene_file), "--set", f"name={value}"])
    assert code in (0, 2), err.getvalue()
    assert "Traceback" not in err.getvalue() and "error:" not in err.getvalue()

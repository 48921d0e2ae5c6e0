"""The command line: validation errors, exit codes, key listings, schema, generated docs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENES = sorted((ROOT / "scenes").glob("*.yaml"))


def lossfilm(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lossfilm.render.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_every_shipped_scene_validates():
    assert SCENES, "no scenes shipped"
    result = lossfilm("validate", *map(str, SCENES))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(": ok") == len(SCENES)


def test_broken_scene_reports_file_line_col_and_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: broken\n"
        "compute:\n"
        "  train: {epochs: many}\n"
        "camera:\n"
        "  shots:\n"
        "    - orbit: {duration: 2}\n"
        "    - orbit:\n"
        "        turns: half\n"
        "mesh:\n"
        "  resolutoin: 64\n"
    )
    result = lossfilm("validate", str(bad))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert f"{bad}:3:19: compute.train.epochs: expected an integer, got 'many'" in lines
    assert f"{bad}:8:16: camera.shots[1].orbit.turns: expected a number, got 'half'" in lines
    assert any(
        line.startswith(f"{bad}:10:3: mesh.resolutoin: unknown key (did you mean 'resolution'?)")
        for line in lines
    )
    assert "Traceback" not in result.stderr


def test_malformed_yaml_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncompute: {model: [\n")
    result = lossfilm("validate", str(bad))
    assert result.returncode == 2
    assert result.stderr.startswith(f"{bad}:3:1: malformed YAML")
    assert "Traceback" not in result.stderr


def test_bad_set_value_exits_2():
    result = lossfilm("validate", str(ROOT / "scenes" / "quickstart.yaml"), "--set", "output.size=[641,360]")
    assert result.returncode == 2
    assert "output.size" in result.stderr and "Traceback" not in result.stderr


def test_missing_scene_file_exits_2(tmp_path):
    result = lossfilm("run", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "no such scene file" in result.stderr
    assert not (tmp_path / "o").exists()


def test_keys_lists_types_defaults_and_docs():
    result = lossfilm("keys", "camera")
    assert result.returncode == 0
    assert "camera.shots" in result.stdout and "orbit" in result.stdout
    assert lossfilm("keys", "nonsense").returncode == 2


def test_docs_scenes_md_is_current():
    result = lossfilm("keys", "--markdown")
    assert result.returncode == 0
    current = (ROOT / "docs" / "scenes.md").read_text()
    assert result.stdout == current, "docs/scenes.md is stale: run `make docs`"


def test_schema_checks_scene_files(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    result = lossfilm("schema")
    schema = json.loads(result.stdout)
    import yaml

    validator = jsonschema.Draft202012Validator(schema)
    for scene in SCENES:
        errors = list(validator.iter_errors(yaml.safe_load(scene.read_text())))
        assert not errors, f"{scene.name}: {errors[0].message}"
    bad = {"name": "x", "camera": {"shots": [{"orbit": {"turns": "half"}}]}}
    assert list(validator.iter_errors(bad))
    assert list(validator.iter_errors({"mesh": {"resolutoin": 3}}))

"""Bad scene input of every kind: FILE[:LINE:COL]: key: message, exit 2, bounded, no traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from lossfilm.render.cli import main
from lossfilm.render.scene.errors import ConfigErrors
from lossfilm.render.scene.scene import load_scene
from lossfilm.render.scene.input import MAX_DEPTH, MAX_SCENE_BYTES
from lossfilm.render.scene.errors import MAX_MESSAGE_CHARS

ROOT = Path(__file__).resolve().parents[2]
#: the longest a report line may be: file name + key path + a bounded message.
LINE_LIMIT = 2 * MAX_MESSAGE_CHARS + 50


def validate(capsys, *args: str) -> tuple[int, list[str]]:
    """Run ``lossfilm validate`` in this process; (exit code, stderr lines)."""
    code = main(["validate", *args])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert all(len(line) <= LINE_LIMIT for line in lines), max(map(len, lines))
    return code, lines


def write(path: Path, data: bytes | str) -> Path:
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", ": the scene is empty"),
        (b"  \n\t\n\n", ": the scene is empty"),
        (b"# a comment\n# and another\n", ": the scene has only comments"),
        (b"name: a\ndescription: caf\xe9\n", ":2:17: not UTF-8 (byte 0xe9)"),
        (b"name: a\ncompute: {\0}\n", ":2:11: NUL byte"),
        (b"name: !!python/object/apply:os.system ['true']\n", ":1:7: YAML tags are not allowed"),
        (b"name: !!str plain\n", ":1:7: YAML tags are not allowed"),
        (b"name: !custom x\n", ":1:7: YAML tags are not allowed"),
        (b"camera: !!map {}\n", ":1:9: YAML tags are not allowed"),
        (b"name: a\ndescription: " + b"[" * 200 + b"]" * 200 + b"\n", f":2:{13 + MAX_DEPTH}: nested deeper than"),
        (b"a: &a [*a]\n", ":1:8: alias *a refers to a value that contains it"),
    ],
    ids=["empty", "blank", "comments", "latin1", "nul", "python-tag", "str-tag", "local-tag",
         "map-tag", "deep", "self-alias"],
)
def test_bad_files_name_the_file_and_exit_2(tmp_path, capsys, data, message):
    scene = write(tmp_path / "s.yaml", data)
    code, lines = validate(capsys, str(scene))
    assert code == 2
    assert lines == [l for l in lines if l.startswith(str(scene))] and len(lines) == 1
    assert lines[0].startswith(f"{scene}{message}"), lines[0]


def test_alias_bomb_is_refused_quickly(tmp_path, capsys):
    rows = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for i in range(1, 9):  # 10**9 values once expanded
        rows.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    code, lines = validate(capsys, str(write(tmp_path / "s.yaml", "\n".join(rows) + "\n")))
    assert code == 2 and "more than 100,000 values" in lines[0]


def test_missing_file_folder_and_oversize(tmp_path, capsys):
    big = write(tmp_path / "big.yaml", b"name: " + b"x" * (MAX_SCENE_BYTES + 10))
    code, lines = validate(capsys, str(tmp_path / "nope.yaml"), str(tmp_path), str(big))
    assert code == 2
    assert lines == [
        f"{tmp_path / 'nope.yaml'}: no such scene file",
        f"{tmp_path}: is a directory, not a scene file",
        f"{big}: is {MAX_SCENE_BYTES + 16:,} bytes; a scene file is at most {MAX_SCENE_BYTES:,} bytes"
        " (is this the right file?)",
    ]


def test_huge_values_are_cut_in_messages(tmp_path, capsys):
    # under the size limit but far longer than any message should be
    scene = write(tmp_path / "s.yaml", "name: ok\ncamera: {fov: '" + "z" * 500_000 + "'}\n")
    code, lines = validate(capsys, str(scene))
    assert code == 2 and len(lines) == 1
    assert lines[0].startswith(f"{scene}:2:15: camera.fov: expected a number, got 'zzz")
    assert "(500,000 characters)" in lines[0]


def test_many_problems_are_counted_not_all_printed(tmp_path, capsys):
    scene = write(tmp_path / "s.yaml", "".join(f"key{i}: 1\n" for i in range(500)))
    code, lines = validate(capsys, str(scene))
    assert code == 2 and len(lines) == 51 and lines[-1] == "... and 450 more problems"


def test_set_with_a_tag_exits_2_without_running_anything(tmp_path, capsys):
    marker = tmp_path / "ran"
    code, lines = validate(capsys, str(ROOT / "scenes" / "quickstart.yaml"),
                           "--set", f"name=!!python/object/apply:os.system ['touch {marker}']")
    assert code == 2 and len(lines) == 1
    assert lines[0].startswith("--set name=!!python/object/apply:os.system")
    assert ":1:1: YAML tags are not allowed in a scene (found !!python/object/apply:os.system)" in lines[0]
    assert not marker.exists()


@pytest.mark.parametrize(
    "assignment, message",
    [
        ("name=!!binary aGk=", ":1:1: YAML tags are not allowed"),
        ("camera.fov=" + "[" * 100, ":1:65: nested deeper than"),
        ("camera.fov=" + "y" * 100_000, "camera.fov: expected a number, got 'yyy"),
        ("=1", "--set: not a key path: ''"),
        ("no-equals", "expected key.path=value"),
    ],
    ids=["binary-tag", "deep", "huge", "empty-key", "no-equals"],
)
def test_bad_set_values_exit_2_bounded(capsys, assignment, message):
    code, lines = validate(capsys, str(ROOT / "scenes" / "quickstart.yaml"), "--set", assignment)
    assert code == 2 and len(lines) == 1
    assert message in lines[0], lines[0]


def scene_with(tmp_path: Path, body: str) -> Path:
    return write(tmp_path / "s.yaml", "name: paths\n" + body)


def errors(path: Path) -> list[str]:
    with pytest.raises(ConfigErrors) as info:
        load_scene(path)
    return [e.format() for e in info.value.errors]


def test_path_keys_missing_or_of_the_wrong_kind(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    s = scene_with(tmp_path, (
        "compute:\n"
        "  checkpoints: afile\n"
        "  model: {kind: user, factory: 'no_such_pkg_xyz.models:make'}\n"
        "  data: {kind: npz, path: adir}\n"
        "  train: {loss: 'missing.py:loss'}\n"
        "output: {audio: nope.wav}\n"
    ))
    assert errors(s) == [
        f"{s}:3:16: compute.checkpoints: 'afile' is not a folder",
        f"{s}:5:27: compute.data.path: 'adir' is a folder, not a file",
        f"{s}:4:32: compute.model.factory: no module named 'no_such_pkg_xyz' (is it installed, or on PYTHONPATH?)",
        f"{s}:6:17: compute.train.loss: no such file 'missing.py'",
        f"{s}:7:17: output.audio: no such file 'nope.wav'",
    ]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads any file")
def test_unreadable_files_are_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    locked = tmp_path / "locked.npz"
    locked.write_bytes(b"x")
    locked.chmod(0)
    s = scene_with(tmp_path, "compute:\n  data: {kind: npz, path: locked.npz}\n")
    try:
        assert errors(s) == [f"{s}:2:27: compute.data.path: 'locked.npz' is not readable (permissions)"]
    finally:
        locked.chmod(0o600)


def test_checkpoint_folder_names_foreign_and_broken_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "ckpts"
    folder.mkdir()
    torch.save({"w": torch.zeros(2)}, folder / "epoch_1.pt")
    (folder / "epoch_2.pt").write_text("not a checkpoint\n")
    (folder / "epoch_3.pt").write_bytes(b"")
    (folder / "notes.txt").write_text("ignored: not a checkpoint ending")
    s = scene_with(tmp_path, "compute: {checkpoints: ckpts}\n")
    assert errors(s) == [
        f"{s}:2:24: compute.checkpoints: epoch_2.pt: not a torch checkpoint (starts with b'not ';"
        " expected a torch.save file)",
        f"{s}:2:24: compute.checkpoints: epoch_3.pt: empty file",
    ]
    (folder / "epoch_2.pt").unlink()
    (folder / "epoch_3.pt").unlink()
    assert load_scene(s).compute.checkpoints == "ckpts"


def test_the_film_name_cannot_leave_the_output_folder(tmp_path):
    for name in ("../escape.mp4", "/tmp/abs.mp4", "sub/film.mp4"):
        s = scene_with(tmp_path, f"output: {{filename: '{name}'}}\n")
        (msg,) = errors(s)
        assert msg.startswith(f"{s}:2:") and "output.filename" in msg, msg

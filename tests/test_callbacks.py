"""Training-loop integration: Lightning and Hugging Face callbacks write folders that film.

Real libraries on tiny models (a 2-16-2 net on 256 points); skipped only when the library
is not installed (they are optional extras: ``lightning``, ``hf``; ``make test`` installs both).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import lossfilm.render.api as lf
from lossfilm.compute.store import folder as store
from lossfilm.compute.training.capture import scan_checkpoints
from tests.callback_models import HFClassifier, XorData, make_data, make_lit

# whole films, wheels, clusters or browsers: the full suite (make test), not the fast lane
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "tests" / "callback_models.py"


def film_scene(name: str, folder: Path, model_factory: str) -> dict:
    return {
        "name": name,
        "compute": {
            "model": {"kind": "user", "factory": f"{MODELS}:{model_factory}"},
            "data": {"kind": "user", "factory": f"{MODELS}:make_data"},
            "checkpoints": str(folder),
            "landscape": {"grid": {"points": 9}, "eval": {"samples": 128}},
            "executor": "serial",
        },
        "camera": {"shots": [{"orbit": {"duration": 2, "elevation": 35, "turns": 0.2}}]},
        "output": {"size": [160, 90], "fps": 8},
    }


def assert_films(tmp_path: Path, scene: dict, n_states: int) -> None:
    """The folder is read as the states, evaluated, and a frame of it is drawn."""
    folder = lf.compute(scene, out=tmp_path / "film")
    s = store.open(folder)
    assert len(s.states) == n_states and s.complete
    losses = [float(s.loss(i)[4, 4]) for i in range(n_states)]  # the centre: the state itself
    assert losses[-1] < losses[0]  # it learned, and the film shows the states in order
    png = lf.still(scene, out=tmp_path / "film", size=(160, 90), show=False)
    from PIL import Image

    assert np.asarray(Image.open(png).convert("L")).std() > 5


def test_lightning_callback_writes_a_folder_that_films(tmp_path):
    L = pytest.importorskip("lightning", reason="PyTorch Lightning is not installed (extra 'lightning')")
    from lossfilm.compute.training.capture_lightning import LossfilmCallback

    torch.manual_seed(0)
    x, y = make_data()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32)
    callback = LossfilmCallback(tmp_path / "runs")
    trainer = L.Trainer(max_epochs=3, accelerator="cpu", devices=1, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, callbacks=[callback])
    trainer.fit(make_lit(), loader)
    infos = scan_checkpoints(tmp_path / "runs")
    assert [(i.position, i.unit) for i in infos] == [(0.0, "epoch"), (1.0, "epoch"), (2.0, "epoch"), (3.0, "epoch")]
    payload = torch.load(infos[-1].path, weights_only=True)
    assert set(payload["state_dict"]) == {"net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias"}
    assert payload["values"]["train_loss"] > 0  # "train/loss" as logged, fit for overlays
    assert_films(tmp_path, film_scene("lit", tmp_path / "runs", "make_lit"), 4)


def test_hugging_face_callback_writes_a_folder_that_films(tmp_path):
    transformers = pytest.importorskip("transformers", reason="transformers is not installed (extra 'hf')")
    pytest.importorskip("accelerate", reason="the HF Trainer needs accelerate (extra 'hf')")
    from lossfilm.compute.training.capture_hf import LossfilmTrainerCallback

    torch.manual_seed(0)
    callback = LossfilmTrainerCallback(tmp_path / "runs", every_n_steps=8, module="net")
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "hf"), num_train_epochs=2, per_device_train_batch_size=32,
        learning_rate=0.5, optim="sgd", lr_scheduler_type="constant", logging_steps=4,
        save_strategy="no", report_to=[], use_cpu=True, disable_tqdm=True, seed=0,
    )
    trainer = transformers.Trainer(model=HFClassifier(), args=args, train_dataset=XorData(),
                                   callbacks=[callback])
    trainer.train()
    infos = scan_checkpoints(tmp_path / "runs")  # 256 points / 32 = 8 steps an epoch
    assert [(i.position, i.unit) for i in infos] == [(0.0, "step"), (8.0, "step"), (16.0, "step")]
    payload = torch.load(infos[-1].path, weights_only=True)
    assert set(payload["state_dict"]) == {"0.weight", "0.bias", "2.weight", "2.bias"}  # module="net"
    assert payload["values"]["loss"] > 0 and payload["values"]["learning_rate"] == pytest.approx(0.5)
    assert_films(tmp_path, film_scene("hf", tmp_path / "runs", "make_net"), 3)


def test_callback_arguments_are_checked():
    from lossfilm.compute.training.capture_common import CaptureSchedule

    with pytest.raises(ValueError, match="not both"):
        CaptureSchedule("x", every_n_epochs=1, every_n_steps=5)
    with pytest.raises(ValueError, match=">= 1"):
        CaptureSchedule("x", every_n_steps=0)

"""Tiny models and data for the training-loop callback tests (also the scenes' factories)."""

from __future__ import annotations

import torch
from torch import nn


def make_data(samples: int = 256, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, 2, generator=g)
    return x, (x[:, 0] * x[:, 1] > 0).long()


def make_net(in_shape=(2,), n_classes=2) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_shape[0], 16), nn.Tanh(), nn.Linear(16, n_classes))


class HFClassifier(nn.Module):
    """The shape Hugging Face's Trainer wants: ``forward(x, labels)`` returns a loss."""

    def __init__(self) -> None:
        super().__init__()
        self.net = make_net()

    def forward(self, x, labels=None):
        logits = self.net(x)
        if labels is None:
            return {"logits": logits}
        return {"loss": nn.functional.cross_entropy(logits, labels), "logits": logits}


class XorData(torch.utils.data.Dataset):
    def __init__(self) -> None:
        self.x, self.y = make_data()

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i):
        return {"x": self.x[i], "labels": self.y[i]}


def make_lit(in_shape=(2,), n_classes=2):
    """The LightningModule itself: lossfilm films it through ``forward(x) -> logits``."""
    import lightning as L

    class LitXor(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = make_net(in_shape, n_classes)

        def forward(self, x):
            return self.net(x)

        def training_step(self, batch, batch_idx):
            x, y = batch
            loss = nn.functional.cross_entropy(self(x), y)
            self.log("train/loss", loss, on_step=False, on_epoch=True)
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.5)

    return LitXor()

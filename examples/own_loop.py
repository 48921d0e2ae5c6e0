"""Film your own training loop: save states with a Recorder, then point a scene at the folder.

Run ``python examples/own_loop.py runs/own_loop``. A scene then reads the folder as its
states, with this file's factories for the architecture and the evaluation data:
``model: {kind: user, factory: examples/own_loop.py:make_model}`` and
``data: {kind: user, factory: examples/own_loop.py:make_data}``.
"""

import sys

import torch
from torch import nn

from lossfilm.compute.training.capture import Recorder


def make_data(samples: int = 512, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, 2, generator=g)
    return x, (x[:, 0] * x[:, 1] > 0).long()  # XOR of the quadrants


def make_model(in_shape=(2,), n_classes=2):
    return nn.Sequential(nn.Linear(in_shape[0], 32), nn.ReLU(), nn.Linear(32, n_classes))


def main(folder: str) -> None:
    torch.manual_seed(0)
    x, y = make_data()
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    rec = Recorder(folder, model)
    rec.capture(epoch=0)
    for epoch in range(1, 6):
        for i in range(0, len(x), 64):
            loss = nn.functional.cross_entropy(model(x[i : i + 64]), y[i : i + 64])
            opt.zero_grad()
            loss.backward()
            opt.step()
        rec.capture(epoch=epoch, train_loss=loss.item())
    print(f"saved {len(rec.saved)} states to {rec.folder}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/own_loop")

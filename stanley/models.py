"""Energy networks: ``f_theta(x)`` is the negative energy, one scalar per input."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from .errors import unknown


class ToyNet(nn.Module):
    """The ebm-anatomy toy network (2-32-64-64-64-1, LeakyReLU 0.05).

    ebm-anatomy writes it as 1x1 convolutions; Linear layers are the same function and
    several times faster.
    """

    def __init__(self, dim: int = 2, widths: Sequence[int] = (32, 64, 64, 64), slope: float = 0.05):
        super().__init__()
        layers, width_in = [], dim
        for width in widths:
            layers += [nn.Linear(width_in, width), nn.LeakyReLU(slope)]
            width_in = width
        layers.append(nn.Linear(width_in, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


MODELS = {"toynet": ToyNet}


def build(name: str, **options) -> nn.Module:
    if name not in MODELS:
        raise unknown("model", name, MODELS)
    return MODELS[name](**options)

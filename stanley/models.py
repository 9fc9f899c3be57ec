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


from .errors import ConfigError  # noqa: E402  (appended with ConvNet)


class ConvNet(nn.Module):
    """The ebm-anatomy / short-run image EBM, the network the paper's image numbers came from.

    conv3x3 s1 (n_f), then conv4x4 s2 stages doubling the width to 2n_f, 4n_f, 8n_f, then a
    conv4x4 s1 (no padding) from the 4x4 map to one scalar, LeakyReLU between. The stride-2
    stages halve the map from ``image_size`` down to 4, so 32 has the original three; each
    doubling of the size (64, 128, ...) adds one more stage, kept at 8n_f wide (the width cap
    is our choice: the paper says nothing about 64x64).
    """

    def __init__(self, n_f: int = 64, image_size: int = 32, slope: float = 0.2, channels: int = 3):
        super().__init__()
        stages = (image_size // 4).bit_length() - 1
        if image_size < 32 or 4 << stages != image_size:
            raise ConfigError(f"convnet: image_size must be 32, 64 or another power of two >= 32, got {image_size!r}")
        for key, value in (("n_f", n_f), ("channels", channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"convnet: {key} must be a positive integer, got {value!r}")
        layers, width = [nn.Conv2d(channels, n_f, 3, 1, 1), nn.LeakyReLU(slope)], n_f
        for stage in range(stages):
            out = n_f * min(2 ** (stage + 1), 8)
            layers += [nn.Conv2d(width, out, 4, 2, 1), nn.LeakyReLU(slope)]
            width = out
        layers.append(nn.Conv2d(width, 1, 4, 1, 0))
        self.net = nn.Sequential(*layers)
        self.image_size = image_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(x.shape[0])


MODELS["convnet"] = ConvNet

"""Energy networks: ``f_theta(x)`` is the negative energy, one scalar per input."""

from __future__ import annotations

from typing import Callable, Sequence, Tuple

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import ConfigError, unknown


class ToyNet(nn.Module):
    """The ebm-anatomy toy network (2-32-64-64-64-1, LeakyReLU 0.05).

    ebm-anatomy writes it as 1x1 convolutions; Linear layers are the same function and
    several times faster.

    :meth:`value_and_grad` gives ``f(x)`` and ``grad_x f(x)`` by hand, without autograd:
    the samplers' fast path (:func:`stanley.sampling.state.evaluate` uses it when a log
    density has one), several times faster than ``torch.autograd.grad`` for a net this small.
    """

    def __init__(self, dim: int = 2, widths: Sequence[int] = (32, 64, 64, 64), slope: float = 0.05):
        super().__init__()
        layers, width_in = [], dim
        for width in widths:
            layers += [nn.Linear(width_in, width), nn.LeakyReLU(slope)]
            width_in = width
        layers.append(nn.Linear(width_in, 1))
        self.net = nn.Sequential(*layers)
        self.slope = float(slope)
        # a plain tuple (not registered twice): the Linear layers, in order
        self._linears = tuple(layer for layer in layers if isinstance(layer, nn.Linear))
        self._weight_cache = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)

    def value_and_grad(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(f(x), grad_x f(x))`` for a batch ``x`` of shape (..., dim), both detached.

        The forward pass keeps each hidden layer's activation; the input gradient then runs
        back through the layers by hand, ``g <- (g * leaky'(h)) @ W``, from the last layer's
        weight row: nine small matrix products and eight pointwise ops, no graph and no
        autograd engine. Matches ``torch.autograd.grad(f(x).sum(), x)`` to float rounding
        (tests/test_speed_equivalence.py).
        """
        shape = x.shape
        a = x.detach()
        if a.dim() != 2:
            a = a.reshape(-1, shape[-1])
        hidden, (last_w, last_wt, last_b), backward = self._weights()
        slope = self.slope
        saved = []
        if slope > 0:  # leaky(h) > 0 exactly where h > 0: work in place, keep the activations
            for weight_t, bias in hidden:
                a = _leaky_relu_(torch.addmm(bias, a, weight_t), slope)
                saved.append(a)
        else:
            for weight_t, bias in hidden:
                h = torch.addmm(bias, a, weight_t)
                saved.append(h)
                a = torch.nn.functional.leaky_relu(h, slope)
        f = torch.addmm(last_b, last_w, a.t()).squeeze(0)  # w a^T: the product ToyNetStack's rounds alike
        g = last_w  # (1, width): broadcast over the batch by the first backward op
        in_place = slope > 0
        for weight, kept in zip(backward, reversed(saved)):
            g = _leaky_relu_backward(g, kept, slope, in_place).mm(weight)
        if len(shape) != 2:
            f, g = f.reshape(shape[:-1]), g.reshape(shape)
        return f, g

    def _weights(self):
        """Detached views of the parameters, cached: ``((W^T, b) per hidden layer), (W, W^T, b)
        of the last, (W per hidden layer, last first))``.

        Views see in-place updates (optimiser steps, ``load_state_dict``); the cache is rebuilt
        whenever a parameter's storage changes (``.to()``, ``.double()``, a new Parameter).
        """
        params = [(layer._parameters["weight"], layer._parameters["bias"]) for layer in self._linears]
        key = tuple([t.data_ptr() for pair in params for t in pair])
        cache = self._weight_cache
        if cache is None or cache[0] != key:
            views = [(w.detach(), b.detach()) for w, b in params]
            hidden = tuple((w.t(), b) for w, b in views[:-1])
            last = (views[-1][0], views[-1][0].t(), views[-1][1])
            backward = tuple(w for w, _ in reversed(views[:-1]))
            self._weight_cache = cache = (key, (hidden, last, backward))
        return cache[1]

    def __getstate__(self):
        state = super().__getstate__()
        state["_weight_cache"] = None  # views of the parameters: never pickled
        return state


_leaky_relu_ = torch.nn.functional.leaky_relu_
_leaky_relu_backward = torch.ops.aten.leaky_relu_backward


class ToyNetStack:
    """Several ToyNets of one architecture as one log density over their chains side by side.

    Chains ``z`` of shape (R * n, dim) are R blocks of n, block r scored by network r: each
    layer is one batched product over the R networks (``baddbmm``/``bmm``), so R runs cost
    one sequence of ops instead of R (:mod:`stanley.learning.batched`). The input gradient is
    :meth:`ToyNet.value_and_grad`'s, layer for layer. The weights are copied into stacks by
    :meth:`refresh`: call it after the networks change (once per training iteration).
    """

    def __init__(self, nets: Sequence[ToyNet]):
        first = nets[0]
        shapes = [tuple(p.shape) for p in first.parameters()]
        for net in nets:
            if not isinstance(net, ToyNet) or [tuple(p.shape) for p in net.parameters()] != shapes \
                    or net.slope != first.slope:
                raise ConfigError("a batch stacks only ToyNets of one architecture (dim, widths, slope)")
        self.nets, self.slope = tuple(nets), first.slope
        self.stacks = None

    def refresh(self) -> None:
        layers = [net._linears for net in self.nets]
        with torch.no_grad():
            self.stacks = [(torch.stack([l[i].weight for l in layers]),
                            torch.stack([l[i].bias for l in layers]).unsqueeze(1)) for i in range(len(layers[0]))]

    def value_and_grad(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        runs = len(self.nets)
        a = z.detach().reshape(runs, -1, z.shape[-1])
        *hidden, (last_w, last_b) = self.stacks
        slope, saved = self.slope, []
        for weight, bias in hidden:
            h = torch.baddbmm(bias, a, weight.transpose(1, 2))
            a = _leaky_relu_(h, slope) if slope > 0 else torch.nn.functional.leaky_relu(h, slope)
            saved.append(a if slope > 0 else h)
        f = torch.baddbmm(last_b, last_w, a.transpose(1, 2))  # as ToyNet: w a^T
        g = last_w  # (R, 1, width): broadcast over each run's chains by the first backward op
        for (weight, _), kept in zip(reversed(hidden), reversed(saved)):
            g = torch.bmm(_leaky_relu_backward(g, kept, slope, slope > 0), weight)
        return f.reshape(z.shape[:-1]), g.reshape(z.shape)

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        return self.value_and_grad(z)[0]


MODELS = {"toynet": ToyNet}


def build(name: str, **options) -> nn.Module:
    if name not in MODELS:
        raise unknown("model", name, MODELS)
    return MODELS[name](**options)


class ConvNet(nn.Module):
    """The ebm-anatomy / short-run image EBM, the network the paper's image numbers came from.

    conv3x3 s1 (n_f), then conv4x4 s2 stages doubling the width to 2n_f, 4n_f, 8n_f, then a
    conv4x4 s1 (no padding) from the 4x4 map to one scalar, LeakyReLU between. The stride-2
    stages halve the map from ``image_size`` down to 4, so 32 has the original three; each
    doubling of the size (64, 128, ...) adds one more stage, kept at 8n_f wide (the width cap
    is our choice: the paper says nothing about 64x64). Sizes 16 and 8 (the coarse scales of
    :class:`MultiScale`) have two and one stage.
    """

    def __init__(self, n_f: int = 64, image_size: int = 32, slope: float = 0.2, channels: int = 3):
        super().__init__()
        stages = (image_size // 4).bit_length() - 1
        if image_size < 8 or 4 << stages != image_size:
            raise ConfigError(f"convnet: image_size must be a power of two >= 8 (32 and 64 in the paper), "
                              f"got {image_size!r}")
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
        if x.is_cuda:  # GPU only: NHWC is cuDNN's fast layout for these convolutions (tensor cores)
            self.use_channels_last()
            x = x.contiguous(memory_format=torch.channels_last)
        return self.net(x).view(x.shape[0])

    def use_channels_last(self) -> None:
        """Hold the convolution weights channels-last (NHWC): the same function, another layout.

        Done once, on the first CUDA forward (again if a ``.to()`` brings NCHW weights back);
        never while a CUDA graph is being captured. The Parameters stay the same objects, so
        an optimiser built before keeps working.
        """
        if self.net[0].weight.is_contiguous(memory_format=torch.channels_last):
            return
        if torch.cuda.is_available() and torch.cuda.is_current_stream_capturing():
            return
        self.to(memory_format=torch.channels_last)


MODELS["convnet"] = ConvNet


class MultiScale(nn.Module):
    """Du et al.'s compositional multi-scale energy (Improved CD, Section 2.4):
    ``f(x) = sum_k f_k(avgpool_k(x))`` over the full, half and quarter resolutions, one
    network per scale, so the energy sees coarse structure as well as texture. Pooling is
    differentiable, so every sampler runs on it unchanged.
    """

    def __init__(self, build: Callable[[int], nn.Module], image_size: int, factors: Sequence[int] = (1, 2, 4)):
        super().__init__()
        if any(image_size % k for k in factors):
            raise ConfigError(f"multi-scale energy: image_size {image_size} is not divisible by the factors {list(factors)}")
        self.factors = tuple(factors)
        self.nets = nn.ModuleList(build(image_size // k) for k in self.factors)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        total = self.nets[0](x if self.factors[0] == 1 else F.avg_pool2d(x, self.factors[0]))
        for k, net in zip(self.factors[1:], self.nets[1:]):
            total = total + net(F.avg_pool2d(x, k))
        return total

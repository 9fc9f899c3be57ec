"""Step-size rules: how far a Langevin-type proposal moves, isotropically or STANLEY's way.

Every Langevin-family proposal is ``y = z + drift * grad + noise * xi``. A rule turns the
current state into the pair (drift, noise); kernels never see how it was made. This is where
the paper's ambiguities live (docs/readings.md, The step size), each one a switch of :class:`Anisotropic`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Dict, Tuple, Union

import torch

from ..experiment.options import DRIFTS, NOISE_POWERS, NOISE_SDS, NORMS, REFRESHES  # noqa: F401 (the switches' values)
from .state import State

Coefficient = Union[float, torch.Tensor]



@dataclass(frozen=True)
class Isotropic:
    """Plain Langevin: ``z + (s/2) g + sqrt(s) eps xi``; ``eps = 0`` is gradient ascent."""

    step_size: float
    noise_scale: float

    def prepare(self, state: State) -> State:
        return state

    def coefficients(self, state: State) -> Tuple[Coefficient, Coefficient, Dict[str, torch.Tensor]]:
        """(drift, noise, per-chain info)."""
        return self.step_size / 2, math.sqrt(self.step_size) * self.noise_scale, {}


@dataclass(frozen=True)
class Anisotropic:
    """STANLEY (eqs. 4-5): each coordinate's step shrinks by ``gamma = th / max(th, |g|)``.

    ``norm`` says what |g| is: each coordinate (the paper's text), the whole sample's L2 norm,
    or each pixel's norm over channels (axis 1). ``noise_power`` is p in ``gamma**p`` on the
    noise (0.5 is eq. 5; 1 is the authors' code); ``drift="unscaled"`` leaves gamma off the
    drift. ``noise_sd="unit"`` drops ``sqrt(s) * eps`` from the noise, leaving ``gamma**p``
    (the authors' toy script: sd sqrt(gamma), up to 1/eps times the Langevin noise). With
    ``refresh="iteration"`` gamma is computed once, at the chain start of a call (Algorithm 1
    line 3 read literally), and held for all its steps; only the unadjusted kernel takes it,
    since no Metropolis correction makes a start-dependent gamma leave pi invariant.
    """

    step_size: float
    noise_scale: float
    threshold: float
    norm: str = "coordinate"
    noise_power: float = 0.5
    drift: str = "scaled"
    refresh: str = "step"
    noise_sd: str = "langevin"

    def gamma(self, grad: torch.Tensor) -> torch.Tensor:
        if self.norm == "coordinate":
            size = grad.abs()
        elif self.norm == "sample":
            size = grad.flatten(1).norm(dim=1).view(-1, *([1] * (grad.dim() - 1)))
        else:  # pixel: the norm over channels; for (n, d) points this is the sample norm
            size = grad.norm(dim=1, keepdim=True)
        # th / max(th, |g|), written as Tensor.__rdiv__ computes it (the same bits) minus its Python layer
        return torch.reciprocal(size.clamp_min(self.threshold)).mul(self.threshold)

    def prepare(self, state: State) -> State:
        if self.refresh == "iteration":
            return replace(state, gamma=self.gamma(state.grad))
        return state

    def coefficients(self, state: State) -> Tuple[Coefficient, Coefficient, Dict[str, torch.Tensor]]:
        gamma = state.gamma if state.gamma is not None else self.gamma(state.grad)
        half_step = self.step_size / 2
        drift = half_step * gamma if self.drift == "scaled" else half_step
        # gamma ** 0.5 as sqrt: the same bits (torch's pow takes that branch), one dispatch cheaper
        power = gamma.sqrt() if self.noise_power == 0.5 else gamma.pow(self.noise_power)
        base = math.sqrt(self.step_size) * self.noise_scale if self.noise_sd == "langevin" else 1.0
        noise = base * power
        per_chain = gamma.flatten(1)
        return drift, noise, {"gamma_mean": per_chain.mean(dim=1), "gamma_min": per_chain.amin(dim=1)}

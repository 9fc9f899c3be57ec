"""The state every kernel carries between steps, so no gradient is computed twice."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Optional

import torch

LogDensityFn = Callable[[torch.Tensor], torch.Tensor]
"""Maps a batch of chains (n, ...) to their unnormalised log densities (n,)."""


@dataclass(frozen=True)
class State:
    """A batch of chains at one point: position, log density and its gradient.

    ``gamma`` is only set by STANLEY kernels whose step size is frozen for a whole
    call (``refresh="iteration"``); everywhere else it stays ``None``.
    """

    z: torch.Tensor
    logp: torch.Tensor
    grad: torch.Tensor
    gamma: Optional[torch.Tensor] = None

    def where(self, mask: torch.Tensor, other: "State") -> "State":
        """Per chain: ``other`` where ``mask`` is true, ``self`` elsewhere (an MH accept)."""
        shaped = mask.view(-1, *([1] * (self.z.dim() - 1)))
        return replace(
            self,
            z=torch.where(shaped, other.z, self.z),
            logp=torch.where(mask, other.logp, self.logp),
            grad=torch.where(shaped, other.grad, self.grad),
        )


def evaluate(logdensity_fn: LogDensityFn, z: torch.Tensor) -> State:
    """One gradient evaluation: the only place a kernel touches autograd."""
    with torch.enable_grad():
        z = z.detach().requires_grad_(True)
        logp = logdensity_fn(z)
        if logp.shape != z.shape[:1]:
            raise ValueError(
                f"the log density must return one value per chain, shape {tuple(z.shape[:1])}, "
                f"got {tuple(logp.shape)}"
            )
        (grad,) = torch.autograd.grad(logp.sum(), z)
    return State(z=z.detach(), logp=logp.detach(), grad=grad.detach())


def per_chain_sum(x: torch.Tensor) -> torch.Tensor:
    """Sum over every axis but the chain axis."""
    return x.flatten(1).sum(dim=1)


def grad_norm(state: State) -> torch.Tensor:
    """Mean over chains of the L2 norm of the gradient: the per-step info every kernel records."""
    return state.grad.flatten(1).norm(dim=1).mean()

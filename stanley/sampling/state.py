"""The state every kernel carries between steps, so no gradient is computed twice."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Dict, Optional

import torch

LogDensityFn = Callable[[torch.Tensor], torch.Tensor]
"""Maps a batch of chains (n, ...) to their unnormalised log densities (n,)."""


@dataclass(frozen=True)
class State:
    """A batch of chains at one point: position, log density and its gradient.

    ``gamma`` is only set by the unadjusted STANLEY kernel when its step size is frozen for a
    whole call (``refresh="iteration"``); everywhere else it stays ``None``.
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
    """One gradient evaluation: the only place a kernel touches autograd.

    A log density may opt out of autograd by having a ``value_and_grad(z) -> (logp, grad)``
    method (as :class:`stanley.learning.models.ToyNet` does): it is then used instead, the fast path.
    Autograd stays the general route and the oracle the fast path is tested against; hide
    the method (wrap the callable in a plain function) to force autograd.

    A callable with ``differentiable = True`` (:class:`stanley.learning.improved_cd.WithGraph`) is the
    one exception to "chains are detached": its value and gradient keep their graph.
    """
    if getattr(logdensity_fn, "differentiable", False):
        # a step that the learning gradient flows through (Improved CD's KL term): the
        # callable keeps the graph to its parameters, and z is used as given
        logp, grad = logdensity_fn.value_and_grad(z)
        return State(z=z, logp=logp, grad=grad)
    value_and_grad = getattr(logdensity_fn, "value_and_grad", None)
    if value_and_grad is not None:
        z = z.detach()
        logp, grad = value_and_grad(z)
        if logp.shape != z.shape[:1] or grad.shape != z.shape:
            raise ValueError(
                f"value_and_grad must return one value per chain, shape {tuple(z.shape[:1])}, and a "
                f"gradient of the chains' shape {tuple(z.shape)}; got {tuple(logp.shape)} and {tuple(grad.shape)}"
            )
        return State(z=z, logp=logp.detach() if logp.requires_grad else logp,
                     grad=grad.detach() if grad.requires_grad else grad)
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


def chain_grad_norm(state: State) -> torch.Tensor:
    """Each chain's L2 norm of the gradient: the per-step info every kernel records."""
    # torch.linalg.vector_norm is what Tensor.norm(dim=1) calls, minus its Python dispatch
    return torch.linalg.vector_norm(state.grad.flatten(1), dim=1)


def grad_norm(state: State) -> torch.Tensor:
    """Mean over chains of :func:`chain_grad_norm`."""
    return chain_grad_norm(state).mean()


def normal(like: torch.Tensor, generator) -> torch.Tensor:
    """Standard normal draws shaped like ``like`` (the chains' xi, HMC's momenta).

    ``generator`` is a ``torch.Generator``, or an object with ``normal(like)`` that draws each
    block of chains from its own stream (:class:`stanley.learning.batched.RunStreams`: several runs'
    chains in one tensor, each run's draws those of its solo run).
    """
    if isinstance(generator, torch.Generator):
        return torch.randn(like.shape, generator=generator, device=like.device, dtype=like.dtype)
    return generator.normal(like)


def uniform(like: torch.Tensor, generator) -> torch.Tensor:
    """U(0, 1) draws shaped like ``like`` (accept/reject), from a generator as in :func:`normal`."""
    if isinstance(generator, torch.Generator):
        return torch.rand(like.shape, generator=generator, device=like.device, dtype=like.dtype)
    return generator.uniform(like)


REDUCTIONS = {"gamma_min": torch.amin}
"""How per-chain info becomes one number per step: the mean over chains, unless named here."""


def reduce_info(info: Dict[str, torch.Tensor], groups: int = 0) -> Dict[str, torch.Tensor]:
    """Per-chain info (..., n) reduced over the chains: to (...), or with ``groups`` > 0 to
    (..., groups), one value per equal block of chains (one per run in a batch)."""
    out = {}
    for key, value in info.items():
        reduce = REDUCTIONS.get(key, torch.mean)
        if groups:
            value = value.unflatten(-1, (groups, -1))
        out[key] = reduce(value.float() if value.dtype == torch.bool else value, dim=-1)
    return out

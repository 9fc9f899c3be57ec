"""Adam and SGD with momentum, computed as torch.optim computes them, without importing it.

The first call into ``torch.optim`` imports torch's compiler stack (``torch._dynamo``, about 1 s of
CPU), the largest fixed cost of a short training process; the smoke DAG starts about 75 of them.
The suite needs two plain rules on a handful of tensors, so they live here: the same operations
in the same order as torch's single-tensor path, and the same ``state_dict`` layout, so that a
checkpoint written with either loads in the other (tests/test_optim.py checks both against
``torch.optim`` step by step).
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List

import torch


class _Optimizer:
    """One parameter group; per-parameter state keyed by the parameter's position, as in torch."""

    # the keys torch.optim writes in a parameter group beside the hyperparameters, at the values
    # of the options the suite never turns on: torch.optim loads our state, and we check its
    fixed: Dict[str, Any] = {}

    def __init__(self, params: Iterable[torch.Tensor], **hyper: Any):
        self.params: List[torch.Tensor] = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        self.hyper = hyper
        self.state: Dict[int, Dict[str, torch.Tensor]] = {}

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        for i, p in enumerate(self.params):
            if p.grad is not None:
                self._update(p, p.grad, self.state.setdefault(i, {}))

    def _update(self, p: torch.Tensor, grad: torch.Tensor, state: Dict[str, torch.Tensor]) -> None:
        raise NotImplementedError

    def state_dict(self) -> Dict[str, Any]:
        group = {**self.hyper, **self.fixed, "params": list(range(len(self.params)))}
        return {"state": {i: dict(s) for i, s in self.state.items()}, "param_groups": [group]}

    def load_state_dict(self, saved: Dict[str, Any]) -> None:
        """Our layout or torch.optim's (one group over the same parameters, no option we lack)."""
        groups = saved["param_groups"]
        if len(groups) != 1 or len(groups[0]["params"]) != len(self.params):
            raise ValueError("the saved optimizer state is for other parameters")
        off = {key: groups[0][key] for key, value in self.fixed.items() if groups[0].get(key, value) != value}
        if off:
            raise ValueError(f"the saved optimizer state uses options this optimizer lacks: {off}")
        self.hyper = {key: groups[0][key] for key in self.hyper}
        if "betas" in self.hyper:
            self.hyper["betas"] = tuple(self.hyper["betas"])
        position = {index: i for i, index in enumerate(groups[0]["params"])}
        self.state = {position[index]: {key: value.clone() if key == "step" else
                                        value.to(self.params[position[index]], copy=True)
                                        for key, value in state.items()}
                      for index, state in saved["state"].items()}


class Adam(_Optimizer):
    fixed = {"weight_decay": 0.0, "amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
             "differentiable": False, "fused": None, "decoupled_weight_decay": False}

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, lr=lr, betas=tuple(betas), eps=eps)

    def _update(self, p, grad, state):
        lr, (beta1, beta2), eps = self.hyper["lr"], self.hyper["betas"], self.hyper["eps"]
        if not state:
            state.update(step=torch.tensor(0.0), exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
        state["step"] += 1
        step = state["step"].item()
        state["exp_avg"].lerp_(grad, 1 - beta1)
        state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = (state["exp_avg_sq"].sqrt() / (1 - beta2 ** step) ** 0.5).add_(eps)
        p.addcdiv_(state["exp_avg"], denom, value=-lr / (1 - beta1 ** step))


class SGD(_Optimizer):
    fixed = {"dampening": 0.0, "weight_decay": 0.0, "nesterov": False, "maximize": False, "foreach": None,
             "differentiable": False, "fused": None}

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 1e-3, momentum: float = 0.0):
        super().__init__(params, lr=lr, momentum=momentum)

    def _update(self, p, grad, state):
        momentum = self.hyper["momentum"]
        if momentum != 0:
            if "momentum_buffer" in state:
                state["momentum_buffer"].mul_(momentum).add_(grad)
            else:
                state["momentum_buffer"] = grad.detach().clone()
            grad = state["momentum_buffer"]
        p.add_(grad, alpha=-self.hyper["lr"])

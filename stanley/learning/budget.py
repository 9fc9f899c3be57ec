"""How much memory a run needs, estimated before any work starts.

A size typo (``n_chains: 1000000000``) should be refused at once with the estimate, not fail
or swap for hours after the work has begun. The estimate counts the big tensors of one
training iteration and one evaluation (chains, network activations kept for the gradients,
per-step sampler records, evaluation grids and projections); it leaves out the data set held
in memory and torch's own overhead, so it is a lower bound on what the run takes. The network
is built on torch's ``meta`` device, which allocates nothing; its activations per sample follow
from its layers' shapes.
"""

from __future__ import annotations

import math
import os
from typing import Any, Dict, List, Optional

import torch

from ..errors import ConfigError

FLOAT = 4  # bytes of a float32
KEPT = 3  # copies of each activation a forward-backward keeps (output, pre-activation, gradient)
INFO_KEYS = 4  # per-chain records a sampler step keeps (grad norm, acceptance, gamma statistics)
GRID_CHUNK = 65536  # points per forward pass of stanley.learning.evaluation.model_log_density


ELEMENTWISE = (torch.nn.LeakyReLU, torch.nn.ReLU, torch.nn.SiLU, torch.nn.Tanh, torch.nn.Identity)


def _chain_shapes(net: torch.nn.Module, shape: tuple) -> Optional[List[tuple]]:
    """Each layer's output shape for one input, by formula, when the network is a chain of
    linear, convolution and elementwise layers (every model of the suite); None otherwise."""
    shapes = []
    for layer in (m for m in net.modules() if not list(m.children())):
        if isinstance(layer, torch.nn.Linear) and shape[-1] == layer.in_features:
            shape = (*shape[:-1], layer.out_features)
        elif isinstance(layer, torch.nn.Conv2d) and len(shape) == 3 and shape[0] == layer.in_channels \
                and isinstance(layer.padding, tuple):
            shape = (layer.out_channels, *(
                (size + 2 * pad - dil * (k - 1) - 1) // stride + 1 for size, pad, dil, k, stride in
                zip(shape[1:], layer.padding, layer.dilation, layer.kernel_size, layer.stride)))
        elif not isinstance(layer, ELEMENTWISE):
            return None
        shapes.append(shape)
    return shapes


def activations_per_sample(net: torch.nn.Module, shape: tuple) -> int:
    """Floats of every layer's output for one input: by formula for a chain of known layers,
    else counted by running the network on torch's meta device (which allocates nothing, but
    its first use imports about a second of torch's tracing machinery)."""
    chain = _chain_shapes(net, tuple(shape))
    return sum(math.prod(out) for out in chain) if chain is not None else _meta_count(net, shape)


def _meta_count(net: torch.nn.Module, shape: tuple) -> int:
    """Floats of every leaf layer's output for one input, counted on torch's meta device."""
    counted = [0]
    hooks = [m.register_forward_hook(lambda m, i, o: counted.__setitem__(0, counted[0] + o.numel()))
             for m in net.modules() if not list(m.children())]
    try:
        net(torch.empty((1, *shape), device="meta"))
    finally:
        for hook in hooks:
            hook.remove()
    return counted[0]


def gib(n: float) -> str:
    return f"{n / 2**30:.3g} GiB"


def available_bytes(device: torch.device) -> int:
    """Free memory where the run's tensors live: the GPU's, or the host's MemAvailable."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def run_bytes(run: Dict[str, Any], net: torch.nn.Module, shape: tuple, images: bool) -> Dict[str, int]:
    """The estimate's parts, in bytes, for a validated run config and its (meta-device) network."""
    t, ev, per = run["training"], run["evaluation"], activations_per_sample(net, shape)
    size = int(torch.Size(shape).numel())
    parts = {
        "training step": FLOAT * (KEPT * per * (t["batch_size"] + t["n_chains"]) + 8 * size * t["n_chains"]
                                  + INFO_KEYS * t["n_chains"] * t["mcmc_steps"]),
    }
    if t["init"] == "persistent":
        parts["persistent bank"] = FLOAT * size * t["persistent_size"]
    if not images:
        parts["evaluation"] = FLOAT * max(
            KEPT * per * ev["n_samples"] + INFO_KEYS * ev["n_samples"] * t["mcmc_steps"],
            per * min(GRID_CHUNK, ev["grid_size"] ** 2) + 8 * ev["grid_size"] ** 2,
            2 * ev["projections"] * ev["n_samples"])
    if run["fid"]["every"]:
        parts["FID sampling"] = FLOAT * KEPT * per * run["fid"]["batch_size"]
    return parts


def check_fits(parts: Dict[str, int], available: int, what: str) -> None:
    """Refuse ``what`` when the estimate exceeds the memory available, saying how much it needs."""
    need = sum(parts.values())
    if need > available:
        detail = ", ".join(f"{name} {gib(b)}" for name, b in parts.items())
        raise ConfigError(f"{what} needs about {gib(need)} of memory ({detail}) but {gib(available)} is available; "
                          "lower the sizes (chains, batch, samples, grid, steps)")


def sampling_bytes(chains: int, steps: int, dim: int) -> Dict[str, int]:
    """``stanley sample``: chain states (state, gradient, noise, proposal) and per-step records."""
    return {"chains": FLOAT * 8 * chains * dim, "per-step records": FLOAT * 2 * INFO_KEYS * chains * steps}


def check_run(run: Dict[str, Any], device: torch.device, build_model) -> None:
    """Refuse a run whose estimate exceeds the memory of ``device``; ``build_model(run, shape)``
    is the trainer's network factory (run on the meta device here)."""
    from ..sampling import targets
    from ..experiment.config import data_kind, run_label

    images = data_kind(run["data"]["name"]) == "images"
    size = run["data"]["image_size"]
    shape = (3, size, size) if images else (targets.get(run["data"]["name"], **run["data"]["options"]).dim,)
    with torch.device("meta"):
        net = build_model(run, shape)
    check_fits(run_bytes(run, net, shape, images), available_bytes(device), f"run {run_label(run)}")

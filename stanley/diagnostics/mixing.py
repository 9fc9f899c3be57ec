"""Mixing of one sampler on one target: bulk/tail ESS and R-hat per gradient evaluation.

Chains start over-dispersed (exact target draws times ``init_scale``, as Vehtari et al.
advise for R-hat), spend ``warmup`` gradient evaluations, then ``draws`` more whose states are
kept. Every sampler gets the same budget in gradient evaluations (HMC as transitions x leapfrog
steps), so ``ESS per 1,000 gradient evaluations`` compares them fairly; it counts the kept
part only. The statistics are taken for each coordinate and for the radius |z| (which sees
moves between rings or between modes on a circle).
"""

from __future__ import annotations

from typing import Any, Dict

import numpy as np
import pandas as pd
import torch

from ..sampling import samplers
from ..errors import ConfigError
from ..sampling.targets import Target
from . import ess as E
from .drift import option_columns


def _count(value: Any, key: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"mixing: {key} must be an integer >= {minimum}, got {value!r}")
    return value


@torch.no_grad()
def run_chains(kernel, z0: torch.Tensor, warmup: int, draws: int, generator: torch.Generator):
    """Kept states (chains, transitions, dim) and the mean of each info key over the kept part."""
    state = kernel.init(z0)
    for _ in range(samplers.steps_for_budget(kernel, warmup) if warmup else 0):
        state, _ = kernel.step(state, generator)
    kept, infos = [], []
    for _ in range(samplers.steps_for_budget(kernel, draws)):
        state, info = kernel.step(state, generator)
        kept.append(state.z.clone())
        infos.append(info)
    means = {key: float(torch.stack([i[key] for i in infos]).float().mean()) for key in infos[0]}
    return torch.stack(kept, dim=1).numpy(), means


def mixing_table(target: Target, target_name: str, sampler: str, options: Dict[str, Any], chains: int,
                 warmup: int, draws: int, init_scale: float, generator: torch.Generator) -> pd.DataFrame:
    """One row per summarised quantity (z0, z1, ..., radius)."""
    _count(chains, "chains", 2), _count(warmup, "warmup", 0), _count(draws, "draws", 8)
    if isinstance(init_scale, bool) or not isinstance(init_scale, (int, float)) or init_scale <= 0:
        raise ConfigError(f"mixing: init_scale must be a number > 0, got {init_scale!r}")
    kernel = samplers.get(sampler, target.log_prob, **options)
    z0 = init_scale * target.sample(chains, generator).double()
    kept, info = run_chains(kernel, z0, warmup, draws, generator)
    quantities = {f"z{j}": kept[..., j] for j in range(target.dim)}
    quantities["radius"] = np.linalg.norm(kept, axis=2)
    grads = chains * kept.shape[1] * kernel.grad_evals_per_step
    finite = np.isfinite(kept).all(axis=(1, 2))
    rows = []
    for name, x in quantities.items():
        bulk, tail = E.ess_bulk(x), E.ess_tail(x)
        rows.append({
            "target": target_name, "sampler": sampler, "quantity": name, "chains": chains,
            "transitions": kept.shape[1], "grad_evals": grads, "ess_bulk": bulk, "ess_tail": tail,
            "rhat": E.rhat(x), "ess_bulk_per_chain": bulk / chains,
            "ess_bulk_per_1k_grad": 1000 * bulk / grads, "ess_tail_per_1k_grad": 1000 * tail / grads,
            "diverged_chains": int((~finite).sum()), "acceptance": info.get("acceptance", 1.0),
        })
    table = pd.DataFrame(rows)
    for key, value in option_columns(sampler, options).items():
        table[key] = value
    return table

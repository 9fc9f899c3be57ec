"""Uniformity in theta: the drift inequality along a training run, with one theta-free V.

A run directory written by ``stanley train`` holds ``config.yaml`` and ``energies.pt``
(``{iteration: state_dict}`` of the energy network). Each saved network is a member of the
family ``pi_theta = exp(f_theta / T) / Z_theta`` (T = ``evaluation.temperature``), with
``Z_theta`` summed on a 2-D grid. Following the proof's STEP (3):

- ``V_theta = c pi_theta^(-beta)`` with one constant ``c = max_theta max_grid pi_theta^beta``
  (so every ``V_theta >= 1`` on the grid and the family shares c);
- ``V1 = min_theta V_theta``, ``V2 = max_theta V_theta`` over the saved family;
- ``V = V1^a V2^(2a)`` with ``0 < a < 1 / (2 beta)`` (the proof also needs ``a < a0 / 3`` from
  H3, which no finite computation can check). The default ``a = 1 / (6 beta)`` makes V of a
  one-network family ``c' pi^(-1/2)``, the V of the per-target drift checks at beta = 1/2; larger
  exponents make the Monte Carlo weights heavy-tailed.

Then for every member, its kernel ``Pi_theta`` (the run's sampler on ``f_theta``, as in
training) gets the drift estimate of :mod:`.drift` with this V. The family is finite (the
saved snapshots), so "uniform" means uniform over what training visited at those iterations.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pandas as pd
import torch

from ..learning import models
from ..sampling import samplers
from ..errors import ConfigError, unknown
from ..plumbing.checkpoints import load_tensors
from ..learning.evaluation import Grid, normalise_on_grid
from ..plumbing.rundir import RunDir
from ..sampling.state import State
from .drift import (
    check_beta,
    estimate_log_ratio,
    estimator_name,
    kernel_temperature,
    option_columns,
)
from .probes import probes


def load_family(run_dir: str | Path) -> Tuple[Dict[str, Any], Dict[int, torch.nn.Module]]:
    """The run config and its saved networks, float64, by iteration."""
    files = RunDir(run_dir)
    run, energies_file = files.load_config(), files.energies
    if not energies_file.is_file():
        raise ConfigError(f"{files.path} is not a finished toy training run: {energies_file.name} is missing "
                          "(run `stanley train` into it first)")
    name, options = run["model"]["name"], run["model"]["options"]
    energies = load_tensors(energies_file)
    if not energies:
        raise ConfigError(f"{energies_file} holds no saved networks")
    family = {}
    for iteration in sorted(energies):
        net = models.build(name, **options)
        net.load_state_dict(energies[iteration])
        family[int(iteration)] = net.double().eval()
    return run, family


class ThetaFreeV:
    """log V(z) = a log V1(z) + 2a log V2(z) over a family of networks (see the module doc)."""

    def __init__(self, family: Dict[int, torch.nn.Module], temperature: float, beta: float, a: float,
                 grid: Grid):
        self.nets, self.temperature, self.beta, self.a = list(family.values()), temperature, beta, a
        points = grid.points.double()
        with torch.no_grad():
            values = [net(points) / temperature for net in self.nets]
        self.log_z = [float((v - normalise_on_grid(v, grid))[0]) for v in values]
        self.log_c = beta * max(float((v - lz).max()) for v, lz in zip(values, self.log_z))

    def members(self, z: torch.Tensor) -> torch.Tensor:
        """log V_theta(z) for every member, (members, n)."""
        with torch.no_grad():
            log_pi = torch.stack([net(z) / self.temperature - lz for net, lz in zip(self.nets, self.log_z)])
        return self.log_c - self.beta * log_pi

    def __call__(self, state: State) -> torch.Tensor:
        each = self.members(state.z)
        log_v = self.a * each.min(dim=0).values + 2 * self.a * each.max(dim=0).values
        return torch.nan_to_num(log_v, nan=math.inf)


def uniformity_table(run_dir: str | Path, beta: float, radii: Sequence[float], directions: int, samples: int,
                     generator: torch.Generator, a: Optional[float] = None, sampler: Optional[str] = None,
                     options: Optional[Dict[str, Any]] = None, grid_size: int = 200,
                     extent: Optional[float] = None, label: Optional[str] = None) -> pd.DataFrame:
    """One row per (saved iteration, radius, direction): the drift of Pi_theta on the theta-free V.

    ``sampler`` defaults to the run's own sampler, and ``options`` override its options (each
    sampler takes the ones it knows); ``extent`` (half-width of the normalising grid) defaults
    to the largest radius tested.
    """
    beta = check_beta(beta)
    if a is None:
        a = 1 / (6 * beta)
    if not 0 < a < 1 / (2 * beta):
        raise ConfigError(f"uniformity: a must be in (0, 1/(2 beta)) = (0, {1 / (2 * beta):g}), got {a!r}")
    run, family = load_family(run_dir)
    block = run["sampler"]
    sampler = sampler or block["name"]
    if sampler not in samplers.NAMES:
        raise unknown("sampler", sampler, samplers.NAMES)
    own = dict(block["options"]) if sampler == block["name"] else {}
    options = samplers.options_for(sampler, {**own, **(options or {})})
    temperature = float(run["evaluation"]["temperature"])  # the checked run config always has it
    grid = Grid(float(extent or max(radii)), grid_size)
    log_v = ThetaFreeV(family, temperature, beta, a, grid)
    grid_points = probes(2, radii, directions)
    frames: List[pd.DataFrame] = []
    for iteration, net in family.items():
        kernel = samplers.get(sampler, net, **options)
        measured = estimate_log_ratio(kernel, log_v, grid_points.points, samples, generator)
        frames.append(pd.DataFrame({
            "run": label or str(run_dir), "iteration": iteration, "sampler": sampler, "beta": beta, "a": a,
            "temperature": temperature, "kernel_temperature": kernel_temperature(kernel),
            "estimator": estimator_name(kernel, True), "samples": samples,
            "radius": grid_points.radius.numpy(), "direction": grid_points.direction.numpy(),
            "z0": grid_points.points[:, 0].numpy(), "z1": grid_points.points[:, 1].numpy(),
            **{key: value.numpy() for key, value in measured.items()},
        }))
    table = pd.concat(frames, ignore_index=True)
    for key, value in option_columns(sampler, options).items():
        table[key] = value
    return table

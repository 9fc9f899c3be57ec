"""The vocabulary of the pluggable parts: the toy targets' and image data sets' names, each
sampler's options and defaults, the values of STANLEY's switches, the augmentation names and
Improved CD's defaults.

It imports no torch, so a config is checked (and a workflow planned, and a run directory
read) without loading it. The modules that implement these parts re-export the names:
:mod:`stanley.sampling.samplers` (``OPTIONS``, ``NAMES``, ``options_for``), :mod:`stanley.sampling.stepsize`
(the switches), :mod:`stanley.learning.augment` (``OPS``, ``check``), :mod:`stanley.learning.improved_cd`
(``DEFAULTS``) and :mod:`stanley.images.data` (``NAMES``); :mod:`stanley.sampling.targets` checks at import
that its registry holds exactly :data:`TARGETS`.
"""

from __future__ import annotations

import math
from typing import Any, Dict, Iterable, Tuple

from . import readings
from ..errors import ConfigError, unknown

# -- data (stanley.sampling.targets, stanley.images.data) -------------------------------------------------
TARGETS = ("rings", "gmm", "gaussian", "light", "laplace", "student", "banana")
"""The toy targets with exact densities (:data:`stanley.sampling.targets.REGISTRY` builds them)."""
DATASETS = ("cifar10", "flowers102", "celeba", "imagefolder", "shapes")
"""The image data sets (:mod:`stanley.images.data` loads them)."""

# -- samplers (the kernels: stanley.sampling.samplers) ---------------------------------------------
NORMS = ("coordinate", "sample", "pixel")
DRIFTS = ("scaled", "unscaled")
REFRESHES = ("step", "iteration")
NOISE_POWERS = (0.5, 1.0)
NOISE_SDS = ("langevin", "unit")

_LANGEVIN = {"step_size": 0.1, "noise_scale": 1.0}
_STANLEY = {
    **_LANGEVIN,
    "threshold": 0.01,
    "norm": "coordinate",
    "noise_power": 0.5,
    "drift": "scaled",
    "refresh": "step",
    "noise_sd": "langevin",
}

OPTIONS: Dict[str, Dict[str, Any]] = {
    "langevin": dict(_LANGEVIN),
    "stanley": dict(_STANLEY),
    "mala": dict(_LANGEVIN),
    "stanley_mh": dict(_STANLEY),
    "hmc": {**_LANGEVIN, "leapfrog": 5},
    "gd": {"step_size": 0.1},
}
OPTIONS.update({name: {key: value for key, value in _STANLEY.items() if key not in pinned}
                for name, pinned in readings.PINNED.items() if name != readings.KERNEL})
"""Each sampler's options and their defaults (the paper's text for the STANLEY switches).
The other readings of STANLEY (:mod:`stanley.experiment.readings`) take every STANLEY option but the ones
they pin."""

NAMES = tuple(OPTIONS)
ALL_OPTIONS = sorted({key for options in OPTIONS.values() for key in options})

SWITCHES = {"norm": NORMS, "noise_power": NOISE_POWERS, "drift": DRIFTS, "refresh": REFRESHES}
"""STANLEY's ambiguous steps as switches (docs/readings.md), each with the values it can take."""
PAPER = "paper"
"""The variant name of a run that keeps every switch at the paper's default."""


def switch_label(switch: str, value: Any) -> str:
    return f"{switch}={value:g}" if isinstance(value, float) else f"{switch}={value}"


def variant_of(run: Dict[str, Any]) -> str:
    """Which reading a run is: the switches where it departs from the samplers' defaults
    (``PAPER`` where it departs nowhere, and for every sampler without the switches)."""
    if run["sampler"]["name"] not in ("stanley", "stanley_mh"):
        return PAPER
    defaults = OPTIONS[run["sampler"]["name"]]
    changed = [switch_label(s, run["sampler"]["options"][s]) for s in SWITCHES
               if run["sampler"]["options"].get(s, defaults[s]) != defaults[s]]
    return ", ".join(changed) or PAPER


def check_sampler(name: str, options: Dict[str, Any]) -> Dict[str, Any]:
    if name not in OPTIONS:
        raise unknown("sampler", name, NAMES)
    pinned = readings.PINNED.get(name, {})
    for key in options:
        if key in pinned:
            raise ConfigError(f"sampler {name!r} is a reading of STANLEY with {key} pinned to {pinned[key]!r}; "
                              f"to set {key}, use sampler {readings.KERNEL!r}")
        if key not in OPTIONS[name]:
            raise unknown(f"option for sampler {name!r}:", key, OPTIONS[name])
    merged = {**OPTIONS[name], **pinned, **options}

    def positive(key: str, allow_zero: bool = False) -> None:
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not (
            value >= 0 if allow_zero else value > 0
        ):
            bound = ">= 0" if allow_zero else "> 0"
            raise ConfigError(f"sampler {name!r}: {key} must be a finite number {bound}, got {value!r}")

    def one_of(key: str, allowed) -> None:
        if merged[key] not in allowed:
            raise ConfigError(
                f"sampler {name!r}: {key} must be one of {', '.join(map(str, allowed))}, got {merged[key]!r}"
            )

    positive("step_size")
    if "noise_scale" in merged:
        # accept/reject kernels target pi^(1/eps^2): eps = 0 has no target
        positive("noise_scale", allow_zero=name == "langevin" or name in readings.PINNED)
    if "threshold" in merged:
        positive("threshold")
        one_of("norm", NORMS)
        one_of("noise_power", NOISE_POWERS)
        one_of("drift", DRIFTS)
        one_of("refresh", REFRESHES)
        one_of("noise_sd", NOISE_SDS)
        if merged["noise_sd"] != "langevin" and name == "stanley_mh":
            raise ConfigError(f"sampler {name!r}: noise_sd must be langevin: an accept/reject kernel "
                              "targets pi^(1/eps^2), so its noise must carry eps")
        if name == "stanley_mh" and merged["refresh"] == "iteration":
            # gamma frozen at the chain start makes each transition an MH kernel for a fixed
            # preconditioner, but the preconditioner depends on where the chain started, so the
            # chains drift off pi (tests/test_samplers.py measures it); Theorem 1's kernel takes
            # gamma at the current point and at the proposal, which is refresh "step"
            raise ConfigError(
                "sampler 'stanley_mh': refresh 'iteration' freezes gamma at the chain start, which makes "
                "the Metropolis-adjusted kernel leave pi; use refresh: step (gamma at the current point "
                "and at the proposal, the kernel of Theorem 1's proof)"
            )
    if "leapfrog" in merged:
        value = merged["leapfrog"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"sampler {name!r}: leapfrog must be an integer >= 1, got {value!r}")
    return merged


def options_for(name: str, pool: Dict[str, Any]) -> Dict[str, Any]:
    """The subset of a shared option pool that sampler ``name`` takes."""
    if name not in OPTIONS:
        raise unknown("sampler", name, NAMES)
    return {key: value for key, value in pool.items() if key in OPTIONS[name]}


# -- augmentation transitions (stanley.learning.augment) -------------------------------------------
OPS = ("flip", "crop", "color", "blur")


def check_augment(ops: Iterable[str]) -> Tuple[str, ...]:
    """Fail at config time, not mid-training; canonical order so configs compare equal."""
    ops = list(ops)
    for op in ops:
        if op not in OPS:
            raise unknown("augmentation", op, OPS)
    return tuple(op for op in OPS if op in ops)


# -- Improved CD (stanley.learning.improved_cd) ----------------------------------------------------
IMPROVED_CD: Dict[str, Any] = {
    "buffer_size": 10000,  # 0: no replay buffer, chains start from p0 as in short-run training
    "restart": 0.001,
    "augment": list(OPS),  # []: no augmentation transitions
    "kl": True,
    "kl_weight": 1.0,
    "entropy": True,
    "entropy_weight": 0.3,
    "entropy_samples": 100,
    "multiscale": True,
    "ema": 0.9999,  # 0: evaluate the trained weights themselves
}
"""The paper's method with every component on; Improved CD Section 3.1 and the authors' code."""

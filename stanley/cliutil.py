"""Command-line pieces shared by subcommands: ``KEY=VALUE`` options and the sampler flags.

Kept apart from :mod:`stanley.cli` so that every subcommand (``sample``, ``diagnose``) reads
the same flags the same way, and the flags stay in step with :data:`samplers.OPTIONS`.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable, Dict, Iterable, List, Tuple

from .experiment import safeyaml
from .errors import ConfigError, require_number, shown

COUNTS = ("chains", "steps", "samples", "directions", "projections", "draws", "grid", "n", "image_size", "limit",
          "mask", "leapfrog")
"""Integer options of any subcommand that count something: at least 1 where given."""
MAX_THREADS = 1024


class Names:
    """Allowed names read from the module that owns them, on first use: only --help and the
    commands that take such a name pay for importing it (samplers and targets import torch)."""

    def __init__(self, load: Callable[[], Iterable[str]]):
        self._load, self._names = load, None

    def _get(self) -> Tuple[str, ...]:
        if self._names is None:
            self._names = tuple(self._load())
        return self._names

    def __iter__(self):
        return iter(self._get())

    def __contains__(self, name) -> bool:
        return name in self._get()

    def __len__(self) -> int:
        return len(self._get())


def owned(module: str, attribute: str) -> Names:
    """The names ``module.attribute`` holds (keys of a registry, items of a tuple), read on first use."""
    import importlib

    return Names(lambda: getattr(importlib.import_module(module), attribute))


SWITCHES = {key: owned("stanley.sampling.stepsize", name) for key, name in
            (("norm", "NORMS"), ("noise_power", "NOISE_POWERS"), ("drift", "DRIFTS"), ("refresh", "REFRESHES"))}
"""The allowed values of STANLEY's switches, from the module that owns them."""

SAMPLER_FLAGS = {
    # option name: (type, help); every key is an option of some sampler in samplers.OPTIONS
    "step_size": (float, "base step s"),
    "noise_scale": (float, "noise scale eps (accept/reject kernels target pi^(1/eps^2))"),
    "threshold": (float, "STANLEY threshold th"),
    "leapfrog": (int, "HMC leapfrog steps per transition"),
    "norm": (str, "STANLEY: size of g in gamma (coordinate | sample | pixel)"),
    "noise_power": (float, "STANLEY: p in gamma**p on the noise (0.5 | 1)"),
    "drift": (str, "STANLEY: scaled | unscaled drift"),
    "noise_sd": (str, "STANLEY: noise sd sqrt(s) eps gamma**p (langevin) or gamma**p alone (unit)"),
    "refresh": (str, "STANLEY: recompute gamma every step or once per call (step | iteration)"),
}


def parse_key_values(items: Iterable[str] | None) -> Dict[str, Any]:
    """``["a=1", "b=[1, 2]"]`` -> ``{"a": 1, "b": [1, 2]}``; each value is read as YAML."""
    out: Dict[str, Any] = {}
    for item in items or ():
        key, sep, value = str(item).partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"expected KEY=VALUE (value read as YAML), got {shown(item)}")
        out[key.strip()] = safeyaml.loads(value, f"the value of {shown(key.strip())}")
    return out


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1 (thread counts, chains, steps)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def parse_floats(text: str, flag: str) -> List[float]:
    """``"0,0.5,1"`` -> ``[0.0, 0.5, 1.0]``."""
    try:
        values = [float(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        values = []
    if not values:
        raise ConfigError(f"{flag} takes comma-separated numbers, e.g. 0,1,2.5; got {text!r}")
    return values


def parse_names(text: str) -> List[str]:
    """``"langevin,stanley"`` -> ``["langevin", "stanley"]``."""
    return [name.strip() for name in str(text).split(",") if name.strip()]


def add_sampler_options(parser: argparse.ArgumentParser) -> None:
    """``--step-size``, ``--noise-scale``, ... : each sampler takes the ones it knows."""
    group = parser.add_argument_group("sampler options (unset ones keep the sampler's default)")
    for key, (kind, text) in SAMPLER_FLAGS.items():
        group.add_argument("--" + key.replace("_", "-"), dest=key, type=kind, default=None, help=text,
                           choices=SWITCHES.get(key))


def sampler_options_from_args(args: argparse.Namespace) -> Dict[str, Any]:
    """The sampler options given on the command line (unset flags left out)."""
    return {key: getattr(args, key) for key in SAMPLER_FLAGS if getattr(args, key, None) is not None}


def check_common_options(args: argparse.Namespace) -> None:
    """The options many subcommands share, checked before any work: threads, seeds, counts."""
    from .experiment.config import MAX_SEED

    if getattr(args, "threads", None) not in (None, 0):  # 0 or unset: the default
        require_number("--threads", args.threads, 1, MAX_THREADS, integer=True)
    if getattr(args, "seed", None) is not None:
        require_number("--seed", args.seed, 0, MAX_SEED, integer=True, why="seeds are combined into 64-bit generator seeds")
    for name in COUNTS:
        if getattr(args, name, None) is not None:
            require_number("--" + name.replace("_", "-"), getattr(args, name), 1, integer=True)

"""The ambiguity ablation: each reading of the paper's ambiguous steps, one switch at a time.

The suite key ``ablation`` names a data set, a STANLEY-type sampler, seeds, and for each switch
of docs/readings.md (The step size) the values to try. Every variant changes one switch of the suite's own
run config; the unchanged run is the matrix's own (``paper``), so it is never trained twice.
"""

from __future__ import annotations

from typing import Any, Dict

from . import options
from .config import deep_merge, resolve_run, samplers_of, validate_run
from ..errors import ConfigError, unknown
from .options import PAPER, SWITCHES, variant_of  # noqa: F401 (the ablation's names, owned by options)
from .options import switch_label as label

KEYS = {"dataset", "sampler", "seeds", "switches"}


def check(suite: Dict[str, Any]) -> Dict[str, Any]:
    spec = suite.get("ablation")
    if not spec:
        return {}
    for key in spec:
        if key not in KEYS:
            raise unknown("key in suite key ablation:", key, KEYS)
    dataset, sampler = spec.get("dataset"), spec.get("sampler", "stanley")
    if dataset not in suite["datasets"]:
        raise ConfigError(f"ablation.dataset {dataset!r} is not in the suite's datasets {suite['datasets']}")
    if sampler not in ("stanley", "stanley_mh") or sampler not in samplers_of(suite, dataset):
        raise ConfigError(f"ablation.sampler must be stanley or stanley_mh and run on {dataset}; got {sampler!r}")
    seeds = spec.get("seeds", suite["seeds"])
    if not isinstance(seeds, list) or not set(seeds) <= set(suite["seeds"]) or not seeds:
        raise ConfigError(f"ablation.seeds must be a non-empty subset of the suite's seeds {suite['seeds']}")
    switches = spec.get("switches") or {}
    for switch, values in switches.items():
        if switch not in SWITCHES:
            raise unknown("switch in ablation.switches:", switch, SWITCHES)
        if not isinstance(values, list) or any(v not in SWITCHES[switch] for v in values):
            raise ConfigError(f"ablation.switches.{switch} must be a list of {', '.join(map(str, SWITCHES[switch]))}")
    return {"dataset": dataset, "sampler": sampler, "seeds": seeds, "switches": switches}


def variants(suite: Dict[str, Any]) -> Dict[str, Dict[int, Dict[str, Any]]]:
    """``{variant: {seed: run config}}`` for the variants that differ from the paper's run."""
    spec = check(suite)
    out: Dict[str, Dict[int, Dict[str, Any]]] = {}
    for switch, values in spec.get("switches", {}).items():
        for value in values:
            for seed in spec["seeds"]:
                run = resolve_run(suite, spec["dataset"], spec["sampler"], seed)
                if run["sampler"]["options"].get(switch, options.OPTIONS[spec["sampler"]][switch]) == value:
                    continue  # that is the paper's run itself
                run = validate_run(deep_merge(run, {"sampler": {"options": {switch: value}}}))
                out.setdefault(label(switch, value), {})[seed] = run
    return out

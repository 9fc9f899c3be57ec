"""The ambiguity ablation: each reading of the paper's ambiguous steps, one switch at a time.

The suite key ``ablation`` gives, for each data set it ablates, a STANLEY-type sampler, seeds,
and for each switch of docs/readings.md (The step size) the values to try. Every variant changes
one switch of the suite's own run config of that data set; the unchanged run is the matrix's own
(``paper``), so it is never trained twice. Two spellings: one block naming its data set (``dataset:
rings``), or a mapping from data sets to blocks (``rings: {...}``, ``cifar10: {...}``), so that the
same ablation can run on the toy and on images, where the switches decide whether chains move.
"""

from __future__ import annotations

from typing import Any, Dict

from . import options, readings
from .config import deep_merge, resolve_run, samplers_of, validate_run
from ..errors import ConfigError, unknown
from .options import PAPER, SWITCHES, variant_of  # noqa: F401 (the ablation's names, owned by options)
from .options import switch_label as label

KEYS = {"sampler", "seeds", "switches"}
"""The keys of one data set's block; the single-block spelling adds ``dataset``."""


def blocks(spec: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """``{dataset: (where, block)}`` from either spelling; ``where`` names the block in messages."""
    if not isinstance(spec, dict):
        raise ConfigError("ablation must be a mapping: one block with dataset:, or one block per data set "
                          "(ablation: {rings: {switches: ...}})")
    if "dataset" in spec:
        if not isinstance(spec["dataset"], str):
            raise ConfigError(f"ablation.dataset must be one data set's name, got {spec['dataset']!r:.60}; for "
                              "several, give one block per data set (ablation: {rings: {...}, cifar10: {...}})")
        for key in spec:
            if key not in KEYS | {"dataset"}:
                raise unknown("key in suite key ablation:", key, KEYS | {"dataset"})
        return {spec["dataset"]: ("ablation", {k: v for k, v in spec.items() if k != "dataset"})}
    missing = sorted(KEYS & set(spec))
    if missing:
        raise ConfigError(f"ablation has {', '.join(missing)} but no dataset: name the data set (dataset: rings), "
                          "or give one block per data set (ablation: {rings: {switches: ...}})")
    return {dataset: (f"ablation.{dataset}", block) for dataset, block in spec.items()}


def check_block(suite: Dict[str, Any], dataset: Any, where: str, block: Any) -> Dict[str, Any]:
    if not isinstance(block, dict):
        raise ConfigError(f"{where} must be a mapping with {', '.join(sorted(KEYS))}, got {block!r:.60}")
    for key in block:
        if key not in KEYS:
            raise unknown(f"key in {where}:", key, KEYS)
    sampler = block.get("sampler", "stanley")
    if sampler not in ("stanley", "stanley_mh") or sampler not in samplers_of(suite, dataset):
        raise ConfigError(f"{where}.sampler must be stanley or stanley_mh and run on {dataset}; got {sampler!r}")
    seeds = block.get("seeds", suite["seeds"])
    if not isinstance(seeds, list) or not set(seeds) <= set(suite["seeds"]) or not seeds:
        raise ConfigError(f"{where}.seeds must be a non-empty subset of the suite's seeds {suite['seeds']}")
    switches = block.get("switches") or {}
    if not isinstance(switches, dict):
        raise ConfigError(f"{where}.switches must map switches ({', '.join(SWITCHES)}) to lists of values")
    for switch, values in switches.items():
        if switch not in SWITCHES:
            raise unknown(f"switch in {where}.switches:", switch, SWITCHES)
        if not isinstance(values, list) or any(v not in SWITCHES[switch] for v in values):
            raise ConfigError(f"{where}.switches.{switch} must be a list of {', '.join(map(str, SWITCHES[switch]))}")
    # the other readings the matrix runs on this data set: their switches together, shown beside
    # the variants (trained once, by the matrix)
    beside = [name for name in readings.NAMES if name != readings.KERNEL and name in samplers_of(suite, dataset)]
    return {"sampler": sampler, "seeds": seeds, "switches": switches, "readings": beside}


def check(suite: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """``{dataset: {sampler, seeds, switches, readings}}``, in the config's order; ``{}`` without an
    ablation. ``readings``: the other readings of STANLEY the matrix runs on that data set."""
    spec = suite.get("ablation")
    if not spec:
        return {}
    checked = {}
    for dataset, (where, block) in blocks(spec).items():
        if dataset not in suite["datasets"]:
            if where == "ablation":
                raise ConfigError(f"ablation.dataset {dataset!r} is not in the suite's datasets {suite['datasets']}")
            raise unknown("data set in ablation (each key is a data set of the suite):", dataset, suite["datasets"])
        checked[dataset] = check_block(suite, dataset, where, block)
    return checked


def variants(suite: Dict[str, Any]) -> Dict[str, Dict[str, Dict[int, Dict[str, Any]]]]:
    """``{dataset: {variant: {seed: run config}}}`` for the variants that differ from the paper's run."""
    out: Dict[str, Dict[str, Dict[int, Dict[str, Any]]]] = {}
    for dataset, spec in check(suite).items():
        own = out.setdefault(dataset, {})
        for switch, values in spec["switches"].items():
            for value in values:
                for seed in spec["seeds"]:
                    run = resolve_run(suite, dataset, spec["sampler"], seed)
                    if run["sampler"]["options"].get(switch, options.OPTIONS[spec["sampler"]][switch]) == value:
                        continue  # that is the paper's run itself
                    run = validate_run(deep_merge(run, {"sampler": {"options": {switch: value}}}))
                    own.setdefault(label(switch, value), {})[seed] = run
    return out

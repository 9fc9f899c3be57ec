"""Studies beyond the STANLEY paper: named sets of run variants on one data set.

The suite key ``studies`` maps a study name to a spec::

    short_run_k:
      title: "..."                 # shown in the report
      dataset: cifar10             # one of the suite's data sets: its run config is the base
      samplers: [langevin, stanley]
      seeds: [0, 1, 2]
      defaults: {model: {options: {n_f: 32}}}         # on every variant (optional)
      variants:                                        # name -> run-config fragment
        K5:  {training: {mcmc_steps: 5}, data: {noise: 0.15}}
        K10: {training: {mcmc_steps: 10}, data: {noise: 0.10}}
      x: training.mcmc_steps       # draw against this run-config key (optional: rows otherwise)
      paper: nijkamp2019_table2    # the printed values set beside ours (stanley/presentation/reference/beyond_paper.csv)

Each (variant, sampler, seed) is the suite's own run of (dataset, sampler, seed) with
``defaults`` and then the variant's fragment merged on top, checked like any run config.
The short-run paper's K and noise sweeps and Improved CD's component ablation are studies.
This module checks specs and makes runs; a study's results are summarised by
:func:`stanley.presentation.summaries.study`.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Tuple

from . import options
from .config import (
    RUN_DEFAULTS,
    check_keys,
    deep_merge,
    resolve_run,
    validate_run,
    value_at,
)
from ..errors import ConfigError, unknown

KEYS = {"title", "dataset", "samplers", "seeds", "defaults", "variants", "x", "paper"}
NAME = re.compile(r"[a-z0-9_]+")
VARIANT = re.compile(r"[A-Za-z0-9_.+-]+")

Key = Tuple[str, str, str, int]  # (study, variant, sampler, seed)


def check(suite: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """Every study spec, checked (not yet its runs), with defaults filled in."""
    studies = suite.get("studies") or {}
    if not isinstance(studies, dict):
        raise ConfigError("suite key studies must map study names to specs")
    checked = {}
    for name, spec in studies.items():
        where = f"studies.{name}"
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise ConfigError(f"study name {name!r} must be lower-case letters, digits and _")
        if not isinstance(spec, dict):
            raise ConfigError(f"{where} must be a mapping")
        for key in spec:
            if key not in KEYS:
                raise unknown(f"key in {where}:", key, KEYS)
        if spec.get("dataset") not in suite["datasets"]:
            raise ConfigError(f"{where}.dataset {spec.get('dataset')!r} is not in the suite's datasets {suite['datasets']}")
        names = spec.get("samplers") or []
        if not isinstance(names, list) or not names:
            raise ConfigError(f"{where}.samplers must be a non-empty list of samplers")
        for sampler in names:
            if sampler not in options.NAMES:
                raise unknown(f"sampler in {where}.samplers:", sampler, options.NAMES)
        seeds = spec.get("seeds", suite["seeds"])
        if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and s >= 0 for s in seeds):
            raise ConfigError(f"{where}.seeds must be a non-empty list of seeds (integers >= 0)")
        variants = spec.get("variants")
        if not isinstance(variants, dict) or not variants:
            raise ConfigError(f"{where}.variants must map variant names to run-config fragments")
        for variant, fragment in variants.items():
            if not isinstance(variant, str) or not VARIANT.fullmatch(variant):
                raise ConfigError(f"{where}: variant name {variant!r} may hold letters, digits and _ . + - only")
            check_keys(fragment or {}, f"{where}.variants.{variant}")
        check_keys(spec.get("defaults") or {}, f"{where}.defaults")
        if spec.get("x") is not None:
            try:
                value_at(RUN_DEFAULTS, str(spec["x"]))
            except (KeyError, TypeError):
                raise ConfigError(f"{where}.x must be a run-config key such as training.mcmc_steps, got {spec['x']!r}") from None
        checked[name] = {"title": spec.get("title", name), "dataset": spec["dataset"], "samplers": names,
                         "seeds": seeds, "defaults": spec.get("defaults") or {}, "variants": variants,
                         "x": spec.get("x"), "paper": spec.get("paper")}
    return checked


def runs(suite: Dict[str, Any]) -> Dict[Key, Dict[str, Any]]:
    """``{(study, variant, sampler, seed): run config}`` for every study of the suite."""
    out: Dict[Key, Dict[str, Any]] = {}
    for name, spec in check(suite).items():
        for variant, fragment in spec["variants"].items():
            for sampler in spec["samplers"]:
                for seed in spec["seeds"]:
                    run = resolve_run(suite, spec["dataset"], sampler, seed)
                    run = deep_merge(deep_merge(run, spec["defaults"]), fragment or {})
                    try:
                        out[(name, variant, sampler, seed)] = validate_run(run)
                    except ConfigError as error:
                        raise ConfigError(f"studies.{name}.variants.{variant} ({sampler}, seed {seed}): {error}") from None
    return out

"""Gather per-run tables into one long table per kind, keyed by dataset, sampler and seed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

import pandas as pd

from ..experiment.config import config_hash, flatten
from ..experiment.options import variant_of
from ..errors import ConfigError
from ..plumbing.io import write_csv
from ..plumbing.rundir import RUN_TABLES, RunDir, Tables

KINDS = RUN_TABLES  # per-run CSV tables; a kind no run has is skipped


def run_keys(run_dir: Path) -> dict:
    run = RunDir(run_dir).load_config()
    return {"dataset": run["data"]["name"], "sampler": run["sampler"]["name"], "seed": run["seed"],
            "variant": variant_of(run), "_run": run}


def gather(run_dirs: Iterable[str | Path], out_dir: str | Path, variants: Optional[Sequence[str]] = None) -> List[Path]:
    """``variants`` names each run's variant (a study's own names); by default it is read from
    the run config (:func:`stanley.experiment.options.variant_of`)."""
    out, run_dirs = Tables(out_dir), [RunDir(d) for d in run_dirs]
    if variants is not None and len(variants) != len(run_dirs):
        raise ConfigError(f"{len(variants)} variant names for {len(run_dirs)} run directories: give one per run")
    frames = {kind: [] for kind in KINDS}
    provenance = []
    for index, run_dir in enumerate(run_dirs):
        keys = run_keys(run_dir.path)
        run = keys.pop("_run")
        if variants is not None:
            keys["variant"] = variants[index]
        for kind in KINDS:
            path = run_dir.table(kind)
            if path.is_file():
                frames[kind].append(pd.read_csv(path).assign(**keys))
        record = json.loads(run_dir.provenance.read_text())
        packages = record.pop("packages", {})
        provenance.append({
            **keys, **record, "config_hash": config_hash(run),
            **{f"version.{name}": version for name, version in packages.items()},
            **{f"config.{key}": value for key, value in flatten(run).items()},
        })
    written = []
    for kind, parts in frames.items():
        if parts:
            table = pd.concat(parts, ignore_index=True)
            keys = ["dataset", "sampler", "variant", "seed"]
            columns = keys + [c for c in table.columns if c not in keys]
            written.append(write_csv(out.table(kind), table[columns]))
    written.append(write_csv(out.table("provenance"), pd.DataFrame(provenance)))
    return written


def read(out_dir: str | Path) -> Dict[str, Optional[pd.DataFrame]]:
    """The gathered tables of ``out_dir`` back, one frame per kind (provenance included); None
    for a kind no run had."""
    out = Tables(out_dir)
    return {kind: pd.read_csv(out.table(kind)) if out.table(kind).is_file() else None
            for kind in (*KINDS, "provenance")}

"""The statistics the report and the figures show, as plain functions: frames in, frames out.

No file is read and nothing is formatted here, so every number can be checked by hand on a
small frame (tests/test_summaries.py). A "run" is one (dataset, sampler, seed), or (variant,
sampler, seed) in a study or the ablation; "over seeds" is the mean, the sample standard
deviation (ddof 1: NaN from one seed) and the count of the runs' non-missing values.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..experiment.names import PAPER_NAMES, image_order, sampler_order

RUN = ["dataset", "sampler", "seed"]
TOY_METRICS = ["kl", "tv", "sliced_w2"]
CHAIN_COLUMNS = ["movement", "gamma_mean", "gamma_min", "acceptance"]


def last_rows(table: pd.DataFrame, run: Sequence[str] = RUN) -> pd.DataFrame:
    """Each run's rows at its own last iteration (a run that stopped early keeps its last)."""
    return table[table["iteration"] == table.groupby(list(run))["iteration"].transform("max")]


def over_seeds(per_run: pd.DataFrame, by: Sequence[str], columns: Sequence[str]) -> pd.DataFrame:
    """One row per group of ``by``, in order of first appearance, with ``COLUMN_mean``,
    ``COLUMN_sd`` and ``COLUMN_n`` for each column, over its non-missing values."""
    stats = per_run.groupby(list(by), sort=False)[list(columns)].agg(["mean", "std", "count"])
    stats.columns = [f"{column}_{ {'std': 'sd', 'count': 'n'}.get(stat, stat)}" for column, stat in stats.columns]
    return stats.reset_index()


def in_sampler_order(frame: pd.DataFrame, order=sampler_order) -> pd.DataFrame:
    """Rows sorted by sampler as the paper lists them, stable inside a sampler."""
    rank = {name: i for i, name in enumerate(order(list(frame["sampler"].unique())))}
    return frame.sort_values("sampler", key=lambda c: c.map(rank), kind="stable", ignore_index=True)


def per_sampler(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """:func:`over_seeds` per sampler, in the paper's order."""
    return in_sampler_order(over_seeds(frame, ["sampler"], columns))


def toy(eval_table: pd.DataFrame) -> Dict[str, Tuple[int, pd.DataFrame]]:
    """The toy metrics per sampler at the second logged iteration ("early") and the last
    ("final"): ``{name: (iteration, per-sampler frame)}``."""
    iterations = sorted(eval_table["iteration"].unique())
    picks = {"early": iterations[1] if len(iterations) > 1 else iterations[0], "final": iterations[-1]}
    return {name: (int(it), per_sampler(eval_table[eval_table["iteration"] == it], TOY_METRICS))
            for name, it in picks.items()}


def diverged(provenance: Optional[pd.DataFrame], by: Sequence[str] = ("dataset", "sampler")) -> Dict[tuple, int]:
    """How many runs of each group diverged (their status says so)."""
    if provenance is None or "status" not in provenance:
        return {}
    bad = provenance[provenance["status"].astype(str).str.startswith("diverged")]
    return bad.groupby(list(by)).size().to_dict()


def fid(fid_table: pd.DataFrame, paper: Optional[pd.DataFrame] = None,
        provenance: Optional[pd.DataFrame] = None) -> pd.DataFrame:
    """Final FID per data set and sampler: each run's last FID over seeds, its protocols, the
    last iteration and the diverged runs, beside the authors' last logged value (their "mh" read
    as our mala). A pair only one side has gets NaN on the other (``fid_n`` 0: not run here)."""
    last = last_rows(fid_table)
    paper = paper if paper is not None else pd.DataFrame(columns=["dataset", "sampler", "iteration", "fid"])
    paper = paper.assign(sampler=paper["sampler"].replace(PAPER_NAMES))
    paper_last = paper.sort_values("iteration").groupby(["dataset", "sampler"]).last()
    bad = diverged(provenance)
    rows = []
    for dataset in dict.fromkeys([*last["dataset"], *paper["dataset"]]):
        mine = last[last["dataset"] == dataset]
        for sampler in image_order(list(set(mine["sampler"]) | set(paper.loc[paper["dataset"] == dataset, "sampler"]))):
            runs = mine[mine["sampler"] == sampler]
            theirs = paper_last.loc[(dataset, sampler)] if (dataset, sampler) in paper_last.index else None
            values = runs["fid"].dropna()
            rows.append({
                "dataset": dataset, "sampler": sampler,
                "fid_mean": values.mean(), "fid_sd": values.std(ddof=1), "fid_n": len(values),
                "protocol": "/".join(sorted(set(runs["protocol"].dropna()))) if len(runs) else np.nan,
                "iteration": runs["iteration"].max() if len(runs) else np.nan,
                "diverged": bad.get((dataset, sampler), 0) if len(runs) else np.nan,
                "paper_fid": theirs["fid"] if theirs is not None else np.nan,
                "paper_iteration": theirs["iteration"] if theirs is not None else np.nan,
            })
    return pd.DataFrame(rows)


def inpainting(frame: pd.DataFrame) -> pd.DataFrame:
    """Masked-region MSE per data set and sampler: each run's mean over its test images, over
    seeds, with the protocol's settings (the first run's)."""
    per_run = frame.groupby(RUN, as_index=False, sort=False).agg(
        mse=("mse", "mean"), images=("image", "count"), mask_side=("mask_side", "first"), steps=("steps", "first"))
    stats = over_seeds(per_run, ["dataset", "sampler"], ["mse"])
    settings = per_run.groupby(["dataset", "sampler"], sort=False)[["images", "mask_side", "steps"]].first()
    out = stats.merge(settings.reset_index(), on=["dataset", "sampler"])
    parts = [in_sampler_order(part, image_order) for _, part in out.groupby("dataset", sort=False)]
    return pd.concat(parts, ignore_index=True)


def chains(metrics: pd.DataFrame) -> List[Tuple[str, int, pd.DataFrame]]:
    """Do the chains move? Each run's last logged movement, gamma and acceptance, per sampler
    over seeds: ``[(dataset, last iteration, frame)]``."""
    last = last_rows(metrics)
    columns = [c for c in CHAIN_COLUMNS if c in last.columns]
    return [(dataset, int(part["iteration"].max()), per_sampler(part, columns))
            for dataset, part in last.groupby("dataset", sort=False)]


def floors(evals: pd.DataFrame) -> pd.DataFrame:
    """The sliced-W2 floor (two exact samples apart) per data set: its mean over the evaluations."""
    if "sliced_w2_floor" not in evals.columns:
        return pd.DataFrame(columns=["dataset", "floor"])
    rows = evals.dropna(subset=["sliced_w2_floor"])
    return rows.groupby("dataset", as_index=False)["sliced_w2_floor"].mean().rename(columns={"sliced_w2_floor": "floor"})


def unfinished(provenance: pd.DataFrame, keys: Sequence[str] = RUN) -> pd.DataFrame:
    """The runs whose status is not "completed" (diverged, stopped...), never dropped silently."""
    return provenance.loc[provenance["status"] != "completed", [*keys, "status"]].reset_index(drop=True)


def paper_log_checks(curves: pd.DataFrame) -> List[Dict[str, Any]]:
    """Per data set of the authors' FID logs: where another sampler is below STANLEY. One entry
    per (dataset, sampler that beats STANLEY somewhere), or one with ``sampler`` None where
    STANLEY is lowest at every logged checkpoint; data sets without STANLEY are skipped."""
    curves = curves.assign(sampler=curves["sampler"].replace(PAPER_NAMES))
    out = []
    for dataset, part in curves.groupby("dataset", sort=False):
        wide = part.pivot_table(index="iteration", columns="sampler", values="fid")
        if "stanley" not in wide:
            continue
        beaten = wide.drop(columns="stanley").lt(wide["stanley"], axis=0)
        if not beaten.any().any():
            out.append({"dataset": dataset, "sampler": None})
            continue
        last = wide.index[-1]
        for sampler in beaten.columns[beaten.any()]:
            out.append({"dataset": dataset, "sampler": sampler, "iterations": [int(i) for i in wide.index[beaten[sampler]]],
                        "checkpoints": len(wide), "last": int(last), "fid": float(wide.loc[last, sampler]),
                        "stanley_fid": float(wide.loc[last, "stanley"])})
    return out


def study(metrics: pd.DataFrame, provenance: pd.DataFrame, spec: Dict[str, Any], fid: Optional[pd.DataFrame] = None,
          evals: Optional[pd.DataFrame] = None, tail: float = 0.1) -> pd.DataFrame:
    """One row per (variant, sampler) of a study, in the spec's variant order: final FID and the
    mean chain-gradient norm over seeds, the swept value ``x``, how many seeds diverged, the
    FID's protocol, and on a toy study the final sliced W2 and gamma's mean.

    A run's gradient norm (and gamma) is its mean over the logged iterations of the last
    ``tail`` of training (the short-run paper's "average magnitude over K-step Langevin" at
    the end).
    """
    keys = ["variant", "sampler", "seed"]
    end = metrics.groupby(keys)["iteration"].transform("max")
    tail_rows = metrics[metrics["iteration"] >= (1 - tail) * end]
    per_run = tail_rows.groupby(keys)["grad_norm"].mean().rename("grad_norm").reset_index()
    x = f"config.{spec['x']}" if spec.get("x") else None
    per_run = per_run.merge(provenance[keys + ["status"] + ([x] if x else [])], on=keys, how="outer")
    per_run["x"] = per_run.pop(x) if x else np.nan
    if fid is not None:
        per_run = per_run.merge(last_rows(fid, keys)[keys + ["fid", "protocol"]], on=keys, how="left")
    else:
        per_run = per_run.assign(fid=np.nan, protocol="")
    if evals is not None and "sliced_w2" in evals.columns:
        per_run = per_run.merge(last_rows(evals, keys)[keys + ["sliced_w2"]], on=keys, how="left")
    if "gamma_mean" in metrics.columns:
        per_run = per_run.merge(tail_rows.groupby(keys)["gamma_mean"].mean().reset_index(), on=keys, how="left")
    for column in ("sliced_w2", "gamma_mean"):
        if column not in per_run.columns:
            per_run[column] = np.nan
    per_run["diverged"] = per_run["status"].astype(str).str.startswith("diverged")
    grouped = per_run.groupby(["variant", "sampler"], sort=False)
    summary = grouped.agg(x=("x", "first"), seeds=("seed", "nunique"), fid_mean=("fid", "mean"),
                          fid_sd=("fid", "std"), grad_norm_mean=("grad_norm", "mean"),
                          grad_norm_sd=("grad_norm", "std"), sliced_w2_mean=("sliced_w2", "mean"),
                          sliced_w2_sd=("sliced_w2", "std"), gamma_mean_mean=("gamma_mean", "mean"),
                          gamma_mean_sd=("gamma_mean", "std"), diverged=("diverged", "sum"),
                          protocol=("protocol", "first")).reset_index()
    order = {name: i for i, name in enumerate(spec["variants"])}
    return summary.sort_values(["variant", "sampler"], key=lambda c: c.map(order) if c.name == "variant" else c,
                               ignore_index=True)


def paper_values(reference: pd.DataFrame, table: Optional[str]) -> pd.DataFrame:
    """The printed values of one paper table (:data:`stanley.presentation.packaged.BEYOND_PAPER`);
    none without a table, and a clear error for a table the reference file does not hold."""
    if not table:
        return reference.iloc[0:0]
    rows = reference[reference["table"] == table]
    if rows.empty:
        raise ConfigError(f"no printed values for paper table {table!r}; the reference file has "
                          f"{sorted(reference['table'].unique())}")
    return rows

"""The ambiguity ablation as the report shows it: for each run of one data set's ablation, how far
its chains moved and where training ended (the toy metrics, or FID on images), and per reading the
mean ± sd over seeds beside the paper-text runs. The figure and the report's table read the same
rows, so they cannot disagree."""

from __future__ import annotations

from typing import Any, Callable, Dict, List

import pandas as pd

from ..experiment import readings
from ..experiment.ablation import PAPER
from ..plumbing.rundir import Tables
from .formatting import Blank, change, plus_minus
from .summaries import last_rows, over_seeds

TOY = ("kl", "tv", "sliced_w2")
MOVEMENT = "movement per coordinate"
"""mean |z_K - z_0| over the chains' coordinates (pixels and channels on images), as each run logs it."""


RUN = ["variant", "seed"]  # one run of an ablation's gathered tables


def last(table: pd.DataFrame) -> pd.DataFrame:
    """Each run's last row (its highest iteration)."""
    return last_rows(table, RUN)


OTHERS = [name for name in readings.NAMES if name != readings.KERNEL]
"""The other readings of STANLEY: a matrix run of one, gathered beside the variants, is its own row."""


def named(table: pd.DataFrame) -> pd.DataFrame:
    """Each run's row name: its variant, or the reading it is."""
    return table.assign(variant=table["variant"].where(~table["sampler"].isin(OTHERS), table["sampler"]))


def finals(tables: Tables) -> pd.DataFrame:
    """One row per run (variant, seed): its last logged movement, and its final toy metrics or FID
    (with the FID's protocol: ``proxy`` or ``inception``)."""
    metrics = last(named(pd.read_csv(tables.table("metrics"))))
    rows = metrics[RUN + ["dataset", "iteration"] + (["movement"] if "movement" in metrics else [])]
    if tables.table("eval").is_file():
        evals = pd.read_csv(tables.table("eval"))
        shown = [c for c in TOY if c in evals and evals[c].notna().any()]
        if shown:
            evals = last(named(evals.dropna(subset=shown, how="all")))
            rows = rows.merge(evals[RUN + shown], on=RUN, how="left")
    if tables.table("fid").is_file():
        fid = last(named(pd.read_csv(tables.table("fid"))))
        rows = rows.merge(fid[RUN + ["fid", "protocol"]], on=RUN, how="left")
    if tables.table("provenance").is_file():
        status = named(pd.read_csv(tables.table("provenance")))
        rows = rows.merge(status[RUN + ["status"]], on=RUN, how="left")
    return rows.reset_index(drop=True)


def order(variants) -> List[str]:
    """The paper-text runs first (the reference row), the other readings, then each variant by name."""
    present = set(variants)
    first = [name for name in (PAPER, *OTHERS) if name in present]
    return first + sorted(present - set(first))


def columns(rows: pd.DataFrame, display: Callable[[str], str]) -> Dict[str, str]:
    """The result columns present, each with its heading (FID says its protocol); ``display``:
    the one spelling of names (:func:`stanley.presentation.figures.display`, which imports this module)."""
    named = {"movement": MOVEMENT} if "movement" in rows else {}
    named.update({c: display(c) for c in TOY if c in rows})
    if "fid" in rows:
        protocols = "/".join(sorted(set(rows["protocol"].dropna())))
        named["fid"] = f"FID ({protocols})" if protocols else "FID"
    return named


def span(values: pd.Series) -> str:
    """The runs' last iterations: one number, or the range where some stopped early."""
    low, high = int(values.min()), int(values.max())
    return f"{high:,}" if low == high else f"{low:,}\u2013{high:,}"


def summary(rows: pd.DataFrame, display: Callable[[str], str]) -> Dict[str, Any]:
    """One row per reading: mean ± sd over seeds of each result, and in brackets the change of
    the mean from the paper-text runs."""
    named = columns(rows, display)
    stats = over_seeds(rows, ["variant"], list(named)).set_index("variant")
    table = []
    for variant in order(rows["variant"]):
        part = rows[rows["variant"] == variant]
        row = {"reading": f"{PAPER} (the matrix's runs)" if variant == PAPER else
               f"{display(variant)}, every option it pins at once (the matrix's runs)" if variant in OTHERS else variant,
               "seeds": int(part["seed"].nunique()), "last iteration": span(part["iteration"])}
        if "status" in part:  # a diverged run's values are its last before it stopped
            row["runs diverged"] = int(part["status"].astype(str).str.startswith("diverged").sum())
        for column, heading in named.items():
            quantity = "movement" if column == "movement" else column
            if not stats.loc[variant, f"{column}_n"]:
                row[heading] = Blank("not logged by this reading's runs")
                continue
            mean, sd = stats.loc[variant, f"{column}_mean"], stats.loc[variant, f"{column}_sd"]
            paper = stats.loc[PAPER, f"{column}_mean"] if PAPER in stats.index else None
            # the change to the place of the larger of the two means, so a huge change is not shown to a small one's decimals
            shift = ("" if variant == PAPER or paper is None or pd.isna(paper)
                     else f" ({change(mean - paper, max(abs(mean), abs(paper)), quantity)})")
            row[heading] = f"{plus_minus(mean, sd, quantity)}{shift}"
        table.append(row)
    return {"rows": pd.DataFrame(table), "iteration": int(rows["iteration"].max()),
            "proxy": bool("fid" in rows and (rows["protocol"] == "proxy").any())}

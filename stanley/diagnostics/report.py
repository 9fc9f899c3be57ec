"""The ``diagnostics`` context of the report: small tables, the figures, and the numbers behind
the text on what Theorem 1 claims, what was measured and where the two differ.

Reads only ``RESULTS/diagnostics/*verdicts.csv`` and ``RESULTS/figures/diagnostics_*.png``;
whatever is missing shows as "not run". The prose lives in the template
(``diagnostics.html.j2``); this module hands it names and numbers only, read from the tables,
so the text stays true when the config changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import pandas as pd

from ..presentation.embed import figure, table_link
from ..presentation.figures import display, sampler_order
from ..presentation.formatting import html_table, number
from ..plumbing.rundir import Layout
from .verdicts import (
    ALPHA,
    ESS_FLOOR,
    FAILS,
    HOLDS,
    INFINITE,
    NEAR_ONE,
    SUBSETS,
    UNRELIABLE,
)

SHOWN = {"target": "target", "sampler": "sampler", "drift": "drift inequality", "reliable": "reliable",
         "reason": "why", "R": "R", "mu": "μ(R)",
         "mu_upper": "μ upper", "log_delta": "log δ(R)", "mu_far": "μ at max radius",
         "weight_ess": "weight ESS at sup", "log_eps": "log ε(R)",
         "rho": "ρ per grad", "rho_low": "ρ low", "rho_high": "ρ high", "rate": "rate", "rate_reason": "why (rate)",
         "bias": "bias", "ess_bulk_per_1k": "bulk ESS /1k grad",
         "ess_tail_per_1k": "tail ESS /1k grad", "rhat": "R-hat"}
QUANTITY = {"R": "setting", "mu": "mu", "mu_upper": "mu", "mu_far": "mu", "log_delta": "log", "log_eps": "log",
            "weight_ess": "ess", "rho": "rho", "bias": "bias", "ess_bulk_per_1k": "ess", "ess_tail_per_1k": "ess",
            "rhat": "rhat", "members": "ess", "members_holding_alone": "ess"}
"""Each column's number format (:data:`stanley.presentation.formatting.DIGITS`)."""
SETTINGS = ["step_size", "noise_scale", "threshold", "leapfrog", "beta", "samples", "directions", "radii"]
UNADJUSTED = ("langevin", "stanley", "gd")  # no accept step: outside the theorem, used in training
GRIDS = [  # (column, title, how a cell is shown): the small target x sampler tables
    ("drift", "Drift inequality (in brackets: the 95% upper bound on μ at the chosen R)", None),
    ("rho", "Speed: ρ per gradient evaluation (lower is faster; 1 is no progress)", "rho"),
    ("rhat", "Mixing: R-hat, worst coordinate (above 1.1: chains have not mixed)", "rhat"),
    ("log_eps", "Small set: log ε(R) (a dash: no transition density)", "log"),
    ("bias", "Bias: distance of the long-run limit to the target (a dash: the kernel targets π exactly)", "bias"),
]


def _html(frame: pd.DataFrame, columns: Dict[str, str]) -> str:
    shown = frame[[c for c in columns if c in frame]].copy()
    if "sampler" in shown:
        shown["sampler"] = shown["sampler"].map(display)
    formats = {columns[c]: QUANTITY.get(c, "setting") for c in shown.columns if c in QUANTITY or c in SETTINGS}
    return html_table(shown.rename(columns=columns), formats=formats)


def _ordered(table: pd.DataFrame) -> pd.DataFrame:
    order = {s: i for i, s in enumerate(sampler_order(list(table["sampler"].unique())))}
    targets = {t: i for i, t in enumerate(dict.fromkeys(table["target"]))}
    return table.assign(_t=table["target"].map(targets), _s=table["sampler"].map(order)) \
        .sort_values(["_t", "_s"]).drop(columns=["_t", "_s"])


def _names(frame: pd.DataFrame, every: Optional[Dict[str, int]] = None) -> List[str]:
    """'STANLEY, Langevin on student' per target ('every sampler on student' when none is missing)."""
    out = []
    for target, part in frame.groupby("target", sort=False):
        names = [display(s) for s in sampler_order(list(part["sampler"]))]
        whole = every is not None and len(names) == every.get(target, -1) and len(names) > 1
        out.append(f"{'every sampler' if whole else ', '.join(names)} on {target}")
    return out


def grids(table: pd.DataFrame) -> List[Dict[str, str]]:
    """Small tables, one quantity each: rows targets, columns samplers."""
    samplers = sampler_order(list(table["sampler"].unique()))
    out = []
    for column, title, quantity in GRIDS:
        if column not in table:
            continue
        if quantity is None:
            cells = [f"{v} ({number(m, 'mu')})" if isinstance(v, str) else number(v)
                     for v, m in zip(table[column], table.get("mu_upper", pd.Series(float("nan"), index=table.index)))]
        else:
            why = "no bias: an accept step makes π the limit" if column == "bias" else "not defined for this kernel"
            cells = [number(v, quantity, why=why) for v in table[column]]
        wide = table.assign(_cell=cells).pivot(index="target", columns="sampler", values="_cell")
        wide = wide.reindex(index=list(dict.fromkeys(table["target"])), columns=samplers)
        wide = wide.rename(columns=display).reset_index()
        out.append({"id": column, "title": title, "html": html_table(wide)})
    return out


def findings(table: pd.DataFrame, uniformity: Optional[pd.DataFrame]) -> Dict[str, Any]:
    """What the template's sentences on the theorem and the measurements need, from the numbers."""
    theorem = table[table["sampler"] == "stanley_mh"]
    unadjusted = table[table["sampler"].isin(UNADJUSTED)]
    kept = table[table["sampler"] != "gd"]  # GD does not mix: left out of the statements on mixing
    floors = table["floor"].dropna() if "floor" in table else pd.Series(dtype=float)
    every = table.groupby("target")["sampler"].nunique().to_dict()
    every_kept = kept.groupby("target")["sampler"].nunique().to_dict()
    out: Dict[str, Any] = {
        "targets": list(dict.fromkeys(table["target"])),
        "samplers": [display(s) for s in sampler_order(list(table["sampler"].unique()))],
        "theorem": {"n": len(theorem), "held": list(theorem[theorem["drift"] == HOLDS]["target"]),
                    "failed": list(theorem[theorem["drift"] == FAILS]["target"]),
                    "unsure": list(theorem[theorem["drift"] == UNRELIABLE]["target"])} if len(theorem) else None,
        "growing": _names(table[table["mu_far"] > 1 + NEAR_ONE], every),
        "creeping": _names(table[(table["mu_far"] - 1).abs() <= NEAR_ONE], every),
        "geometric": _names(kept[kept["rate"] == "geometric"], every_kept) if "rate" in kept else None,
        "infinite": _names(table[table["drift"] == INFINITE], every),
        "unreliable": _names(table[table["drift"] == UNRELIABLE], every),
        "unadjusted_failing": _names(unadjusted[unadjusted["drift"].isin([FAILS, INFINITE])]),
        "unadjusted_holding": _names(unadjusted[unadjusted["drift"] == HOLDS]),
        "biases": bool(unadjusted.get("bias", pd.Series(dtype=float)).notna().any()),
        "floor": (number(floors.min(), "bias"), number(floors.max(), "bias")) if len(floors) else None,
        "gd": "gd" in set(table["sampler"]),
        "tiny": _names(kept[kept["log_eps"] < -20], every_kept) if "log_eps" in kept else [],
        "stuck": _names(kept[kept["rhat"] > 1.1], every_kept) if "rhat" in kept else [],
        "slow": _names(kept[kept["rho"] > 0.995], every_kept) if "rho" in kept else [],
        "ess_floor": ESS_FLOOR, "subsets": SUBSETS, "alpha": ALPHA, "near_one": f"{NEAR_ONE:.0%}",
        "uniformity": None,
    }
    if uniformity is not None and len(uniformity):
        held = uniformity[uniformity["drift"] == HOLDS]
        out["uniformity"] = {
            "n": len(uniformity), "held": [display(s) for s in held["sampler"]],
            "alone": [f"{display(s)}: {k} of {n}" for s, k, n in
                      zip(uniformity["sampler"], uniformity["members_holding_alone"], uniformity["members"])],
        }
    return out


def report_context(results_dir: str | Path) -> Dict[str, Any]:
    layout = Layout(results_dir)
    verdicts_file, uniformity_file = layout.diagnostics_verdicts, layout.uniformity_verdicts
    table = pd.read_csv(verdicts_file) if verdicts_file.is_file() else None
    uniformity = pd.read_csv(uniformity_file) if uniformity_file.is_file() else None
    context: Dict[str, Any] = {
        "run": table is not None, "uniformity_run": uniformity is not None,
        "method": {"ess_floor": ESS_FLOOR, "subsets": SUBSETS, "alpha": ALPHA},
        "findings": None, "grids": [], "verdicts": None, "settings": None, "uniformity": None,
        "figures": {name: figure(layout.diagnostics_figure(name)) for name in ("drift", "rate", "uniformity")},
        "downloads": {"verdicts": table_link(verdicts_file), "uniformity": table_link(uniformity_file)},
    }
    if table is not None:
        table = _ordered(table)
        context["verdicts"] = _html(table, SHOWN)
        settings = table.groupby("target", sort=False).first().reset_index()  # first non-missing per column
        context["settings"] = _html(settings, {"target": "target", **{c: c for c in SETTINGS}})
        context["grids"] = grids(table)
        context["findings"] = findings(table, uniformity)
    if uniformity is not None:
        context["uniformity"] = _html(uniformity, {"run": "run", "sampler": "sampler", "members": "saved networks",
                                                   "drift": "drift inequality", "R": "R", "mu": "μ(R)",
                                                   "mu_upper": "μ upper", "log_delta": "log δ(R)",
                                                   "mu_far": "μ at max radius",
                                                   "members_holding_alone": "networks holding alone"})
    return context

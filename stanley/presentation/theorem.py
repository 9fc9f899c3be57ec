"""The data of the report's Theorem 1 section: small tables and the names and numbers behind
the text on what the theorem claims, what was measured and where the two differ.

Frames in (the diagnostics' verdict tables), data out: tables as frames (their number formats
in ``frame.attrs``), lists of names; no file access and no HTML. The prose lives in the template
(``diagnostics.html.j2``), so the text stays true when the config changes; the report module
(:mod:`.report`) reads the files and renders. It reads the diagnostics' vocabulary
(:mod:`stanley.diagnostics.verdicts`); the diagnostics never import the presentation.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pandas as pd

from ..diagnostics.verdicts import (
    ALPHA,
    ESS_FLOOR,
    FAILS,
    HOLDS,
    INFINITE,
    NEAR_ONE,
    SUBSETS,
    UNRELIABLE,
)
from ..experiment.names import display, sampler_order
from .formatting import number

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
GRIDS = [  # (column, how a cell is shown): the small target x sampler tables; their titles are in the template
    ("drift", None), ("rho", "rho"), ("rhat", "rhat"), ("log_eps", "log"), ("bias", "bias"),
]
UNIFORMITY = {"run": "run", "sampler": "sampler", "members": "saved networks", "drift": "drift inequality", "R": "R",
              "mu": "μ(R)", "mu_upper": "μ upper", "log_delta": "log δ(R)", "mu_far": "μ at max radius",
              "members_holding_alone": "networks holding alone"}


def shown(frame: pd.DataFrame, columns: Dict[str, str]) -> pd.DataFrame:
    """The ``columns`` of ``frame`` under their display names, samplers named for readers; each
    column's number format in ``attrs["formats"]`` (the report's table filter reads it)."""
    out = frame[[c for c in columns if c in frame]].copy()
    if "sampler" in out:
        out["sampler"] = out["sampler"].map(display)
    formats = {columns[c]: QUANTITY.get(c, "setting") for c in out.columns if c in QUANTITY or c in SETTINGS}
    out = out.rename(columns=columns)
    out.attrs["formats"] = formats
    return out


def ordered(table: pd.DataFrame) -> pd.DataFrame:
    """Targets in order of first appearance, samplers in the paper's order inside each."""
    order = {s: i for i, s in enumerate(sampler_order(list(table["sampler"].unique())))}
    targets = {t: i for i, t in enumerate(dict.fromkeys(table["target"]))}
    return table.assign(_t=table["target"].map(targets), _s=table["sampler"].map(order)) \
        .sort_values(["_t", "_s"]).drop(columns=["_t", "_s"])


def groups(frame: pd.DataFrame, every: Optional[Dict[str, int]] = None) -> List[Dict[str, Any]]:
    """Per target, the samplers of ``frame`` (display names, paper's order) and whether they are
    all the target's samplers (``every``: target -> how many it has); the template words it."""
    out = []
    for target, part in frame.groupby("target", sort=False):
        names = [display(s) for s in sampler_order(list(part["sampler"]))]
        whole = every is not None and len(names) == every.get(target, -1) and len(names) > 1
        out.append({"target": target, "samplers": names, "every": whole})
    return out


def grids(table: pd.DataFrame) -> List[Dict[str, Any]]:
    """Small tables, one quantity each: rows targets, columns samplers; the drift cell carries
    the 95% upper bound on μ in brackets, a missing number says why on hover."""
    samplers = sampler_order(list(table["sampler"].unique()))
    out = []
    for column, quantity in GRIDS:
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
        wide.columns.name = None
        out.append({"id": column, "table": wide})
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
        "growing": groups(table[table["mu_far"] > 1 + NEAR_ONE], every),
        "creeping": groups(table[(table["mu_far"] - 1).abs() <= NEAR_ONE], every),
        "geometric": groups(kept[kept["rate"] == "geometric"], every_kept) if "rate" in kept else None,
        "infinite": groups(table[table["drift"] == INFINITE], every),
        "unreliable": groups(table[table["drift"] == UNRELIABLE], every),
        "unadjusted_failing": groups(unadjusted[unadjusted["drift"].isin([FAILS, INFINITE])]),
        "unadjusted_holding": groups(unadjusted[unadjusted["drift"] == HOLDS]),
        "biases": bool(unadjusted.get("bias", pd.Series(dtype=float)).notna().any()),
        "floor": (number(floors.min(), "bias"), number(floors.max(), "bias")) if len(floors) else None,
        "gd": "gd" in set(table["sampler"]),
        "tiny": groups(kept[kept["log_eps"] < -20], every_kept) if "log_eps" in kept else [],
        "stuck": groups(kept[kept["rhat"] > 1.1], every_kept) if "rhat" in kept else [],
        "slow": groups(kept[kept["rho"] > 0.995], every_kept) if "rho" in kept else [],
        "near_one": NEAR_ONE,
        "uniformity": None,
    }
    if uniformity is not None and len(uniformity):
        held = uniformity[uniformity["drift"] == HOLDS]
        out["uniformity"] = {
            "n": len(uniformity), "held": [display(s) for s in held["sampler"]],
            "alone": [{"sampler": display(s), "holding": int(k), "members": int(n)} for s, k, n in
                      zip(uniformity["sampler"], uniformity["members_holding_alone"], uniformity["members"])],
        }
    return out


def section(table: Optional[pd.DataFrame], uniformity: Optional[pd.DataFrame]) -> Dict[str, Any]:
    """The section's data from the verdict tables (None where not run)."""
    out: Dict[str, Any] = {
        "run": table is not None, "uniformity_run": uniformity is not None,
        "method": {"ess_floor": ESS_FLOOR, "subsets": SUBSETS, "alpha": ALPHA},
        "findings": None, "grids": [], "verdicts": None, "settings": None, "uniformity": None,
    }
    if table is not None:
        table = ordered(table)
        out["verdicts"] = shown(table, SHOWN)
        settings = table.groupby("target", sort=False).first().reset_index()  # first non-missing per column
        out["settings"] = shown(settings, {"target": "target", **{c: c for c in SETTINGS}})
        out["grids"] = grids(table)
        out["findings"] = findings(table, uniformity)
    if uniformity is not None:
        out["uniformity"] = shown(uniformity, UNIFORMITY)
    return out

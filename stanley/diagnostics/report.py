"""The ``diagnostics`` context of the report: the verdict table, the figures, and the text on
what Theorem 1 claims, what was measured and where the two differ.

Reads only ``RESULTS/diagnostics/*verdicts.csv`` and ``RESULTS/figures/diagnostics_*.png``;
whatever is missing shows as "not run". The text on differences is written from the numbers,
so it stays true when the config changes.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import pandas as pd

from ..figures import LABELS, sampler_order
from ..embed import figure, table_link
from ..rundir import Layout
from .verdicts import ALPHA, ESS_FLOOR, FAILS, HOLDS, INFINITE, NEAR_ONE, SUBSETS, UNRELIABLE

CLAIMS = [
    "Theorem 1 (proof in the AniLA draft) is about the Metropolis-adjusted STANLEY kernel "
    "Π_θ (here stanley_mh). Under H1 (the log density's radial derivative tends to −∞ and its gradient "
    "points inwards, which of the toy targets only the Gaussian, light, rings and gmm meet: on the "
    "Student-t it tends to 0, on laplace to −1, and along the banana's ridge to −1/(b·scale²) = −1/3 "
    "with the gradient turning orthogonal to z), H2 (continuity in θ) and H3 (an integrability "
    "condition), it claims (i) a small set: for a compact O there is ε > 0 with "
    "Π_θ(z, ·) ≥ ε ν(·) for every z in O; and (ii) a drift inequality "
    "Π_θV(z) ≤ μ V(z) + δ 1_O(z) with μ < 1, first for V_θ = c π_θ^(−β), β in (0, 1), then "
    "for one V = V1^a V2^(2a) that does not depend on θ (V1, V2 the inf and sup of V_θ over θ).",
    "Corollary 1 then claims V-uniform geometric ergodicity: the distance of the chain to π_θ "
    "after k steps falls like ρ^k with ρ < 1, uniformly in θ.",
]

MEASURED = [
    "Drift: at points z on a grid of radii x directions, log(ΠV(z)/V(z)) is estimated from M "
    "one-step transitions, in log space, with a delta-method standard error; for mala and "
    "stanley_mh the accept step is integrated out (Rao-Blackwellised), for hmc the estimator is "
    "plain. V is built from the density the kernel targets, π^(1/T) with T = ε² (ε = 1 here, so π "
    "itself). For each tested radius R, μ(R) is the largest ratio outside the ball O of radius R "
    "and μ_upper its one-sided 95% bound (Bonferroni over the points), δ(R) the largest ΠV inside. "
    "The verdict 'holds' means some tested R gives μ_upper(R) < 1 with δ finite; R is the smallest "
    "such radius. It says nothing beyond the largest radius tested; μ_far is the largest ratio there.",
    f"Reliability: 'holds' or 'fails' is only given when every point's estimate is reliable: a weight "
    f"ESS of at least {ESS_FLOOR} (fewer, and one or two transitions carry the mean, whose variance is then "
    f"probably infinite) and stable in the sample size (the estimates from 1/{SUBSETS[0]} and 1/{SUBSETS[1]} "
    f"of the M transitions agree with the one from all M within their standard errors, Bonferroni over the "
    f"points at level {ALPHA}, the rate at which a sound estimate is called unstable). Otherwise the verdict "
    "is 'unreliable' with the reason. Where the target's tails decide it, nothing is estimated: an unadjusted "
    "kernel moves by a Gaussian step, so ΠV(z) = ∫ N(y; m(z), D(z)) V(y) dy is infinite at every z when "
    "−log π grows faster than |z|² (light tails, the banana's arms), and for quadratic tails −log π ≈ z'Pz/2 "
    "when (β/T) λ_max(D^½ P D^½) > 1; the verdict is then 'Pi V infinite': the drift inequality cannot hold.",
    "Small set: log ε of the ball of radius R, ε = ∫ min over z in O of p(z, y) dy on grids, for "
    "the kernels with a Gaussian transition density (the accept/reject ones through α(z, y)T(z, y), "
    "a lower bound).",
    "Rate: many chains from one far point; after each transition the sliced 2-Wasserstein "
    "distance (or the total variation between histograms) to exact target draws, and, for the "
    "kernels whose limit is not the target, to a long run of the kernel itself. ρ (per gradient "
    "evaluation) is fitted on the last decade of the curve above three times the sample-size floor. The "
    "chains are split into 8 independent groups, each against its own share of the reference (squared floor "
    "subtracted); the groups' slopes give a 95% t-interval for ρ. The rate is called 'geometric' only when "
    "that interval lies below 1 and the rate is constant along the window (the slopes of its two halves agree, "
    "paired t-test at 5%, or differ by less than 20%); a sub-geometric curve flattens and fails that. The test "
    "is checked on chains of known ρ (AR(1), ULA on a Gaussian: the interval holds ρ) and on an independence "
    "sampler whose proposal is lighter-tailed than its target, which is not geometrically ergodic (it is "
    "refused). It judges the curve where it was measured, not ergodicity over all starts: from a far start "
    "on a heavy tail the window above the floor can hold only the inward transit, which looks geometric. "
    "'Fitted ρ < 1' alone holds for any chain that converges at all.",
    "Mixing: over-dispersed chains; bulk and tail ESS and rank-normalised split R-hat (Vehtari et "
    "al. 2021) for each coordinate and the radius, worst case shown, per 1,000 gradient "
    "evaluations of the kept draws (HMC spends leapfrog steps).",
    "Sampler settings, one pool per target for every sampler (the same grid for every method): "
    "ε = 1; base step s about half the squared smallest local scale of the target; STANLEY's "
    "threshold at the 90% quantile of |∂ log π/∂z_i| under the target, so STANLEY equals Langevin "
    "in the bulk and truncates the drift in the tails; HMC with 5 leapfrog steps of h = √s ε.",
]

SHOWN = {"target": "target", "sampler": "sampler", "drift": "drift inequality", "reliable": "reliable",
         "reason": "why", "R": "R", "mu": "μ(R)",
         "mu_upper": "μ upper", "log_delta": "log δ(R)", "mu_far": "μ at max radius",
         "weight_ess": "weight ESS at sup", "log_eps": "log ε(R)",
         "rho": "ρ per grad", "rho_low": "ρ low", "rho_high": "ρ high", "rate": "rate", "rate_reason": "why (rate)",
         "bias": "bias", "ess_bulk_per_1k": "bulk ESS /1k grad",
         "ess_tail_per_1k": "tail ESS /1k grad", "rhat": "R-hat"}
SETTINGS = ["step_size", "noise_scale", "threshold", "leapfrog", "beta", "samples", "directions", "radii"]


def _fmt(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if isinstance(value, (int, float)):
        return f"{value:.4g}"
    return str(value)


def _html(frame: pd.DataFrame, columns: Dict[str, str]) -> str:
    shown = frame[[c for c in columns if c in frame]].copy()
    if "sampler" in shown:
        shown["sampler"] = shown["sampler"].map(lambda s: LABELS.get(s, s))
    shown = shown.apply(lambda col: col.map(_fmt)).rename(columns=columns)
    return shown.to_html(index=False, border=0, escape=True)


def _ordered(table: pd.DataFrame) -> pd.DataFrame:
    order = {s: i for i, s in enumerate(sampler_order(list(table["sampler"].unique())))}
    targets = {t: i for i, t in enumerate(dict.fromkeys(table["target"]))}
    return table.assign(_t=table["target"].map(targets), _s=table["sampler"].map(order)) \
        .sort_values(["_t", "_s"]).drop(columns=["_t", "_s"])


def _names(frame: pd.DataFrame) -> str:
    return ", ".join(f"{LABELS.get(s, s)} on {t}" for t, s in zip(frame["target"], frame["sampler"])) or "none"


def differences(table: pd.DataFrame, uniformity: Optional[pd.DataFrame]) -> List[str]:
    """Sentences on where the measurements and the theorem part ways, from the numbers."""
    out: List[str] = []
    theorem = table[table["sampler"] == "stanley_mh"]
    if len(theorem):
        held = theorem[theorem["drift"] == HOLDS]
        unsure = theorem[theorem["drift"] == UNRELIABLE]
        out.append(f"The theorem's own kernel (STANLEY + MH) satisfies the drift inequality on the tested range "
                   f"on {len(held)} of {len(theorem)} targets ({', '.join(held['target']) or 'none'}); "
                   f"it fails on {', '.join(theorem[theorem['drift'] == FAILS]['target']) or 'none'}; the estimate "
                   f"cannot decide on {', '.join(unsure['target']) or 'none'}.")
    growing = table[table["mu_far"] > 1 + NEAR_ONE]
    if len(growing):
        out.append(f"The ratio exceeds 1 at the largest radius tested for {_names(growing)}: far out these kernels "
                   "push V up, not down (for unadjusted Langevin on light tails this is its known transience, "
                   "Roberts and Tweedie 1996); no small set can repair that.")
    creeping = table[(table["mu_far"] - 1).abs() <= NEAR_ONE]
    if len(creeping):
        out.append("At the largest radius tested the ratio is within 2% of 1 for "
                   f"{_names(creeping)}: there V = c π^(−β) gives no geometric drift, which is what H1 predicts "
                   "for polynomial (Student-t) tails and what is known for MALA and HMC on tails lighter than "
                   "Gaussian (rejections pin the chain); a 'holds' verdict in such a row rests on the finite "
                   "range tested only.")
    infinite = table[table["drift"] == INFINITE]
    if len(infinite):
        out.append(f"ΠV is infinite, by the target's tails and without estimating, for {_names(infinite)}: "
                   "V = c π^(−β) grows faster than the unadjusted kernel's Gaussian step decays, so the drift "
                   "inequality fails at every point, whatever μ, δ and small set; only an accept step (as in the "
                   "proof, through π^(1−β)) makes ΠV finite.")
    unreliable = table[table["drift"] == UNRELIABLE]
    if len(unreliable):
        out.append(f"No verdict for {_names(unreliable)}: the Monte Carlo estimate is unreliable at some tested "
                   "point (too few effective weights, or an estimate that moves as the number of transitions grows; "
                   "the table says where). More transitions per point, or a smaller β, would be needed to decide.")
    unadjusted = table[table["sampler"].isin(["langevin", "stanley", "gd"])]
    failing = unadjusted[unadjusted["drift"].isin([FAILS, INFINITE])]
    biases = ", ".join(f"{LABELS.get(s, s)} on {t}: {_fmt(b)}" for t, s, b in
                       zip(unadjusted["target"], unadjusted["sampler"], unadjusted["bias"]) if not pd.isna(b))
    floors = table["floor"].dropna() if "floor" in table else pd.Series(dtype=float)
    floor = f" (the floor, two exact samples apart, is {_fmt(floors.min())} to {_fmt(floors.max())})" if len(floors) else ""
    out.append("The theorem says nothing about the unadjusted kernels, which are the ones used in training "
               "(Langevin, STANLEY without MH, GD). Their drift fails on the tested range for "
               f"{_names(failing)}; where it holds they still converge to a biased limit. Distance of the long-run "
               f"limit to the target{floor}: {biases or 'not measured'}.")
    if "gd" in set(table["sampler"]):
        out.append("GD without noise has no transition density, so no small set (ε = 0), and being deterministic "
                   "it does not mix (its R-hat is huge): its drift verdicts, where they hold, do not give ergodicity. "
                   "It is left out of the statements on mixing below.")
    table = table[table["sampler"] != "gd"]
    tiny = table[table["log_eps"] < -20]
    if len(tiny):
        out.append(f"The small-set constant exists but is astronomically small (log ε < −20) at the chosen R for "
                   f"{_names(tiny)}, so the geometric rate it implies is vacuous there.")
    stuck = table[table["rhat"] > 1.1]
    if len(stuck):
        out.append(f"R-hat above 1.1 (chains that have not mixed within the budget) for {_names(stuck)}: "
                   "geometric ergodicity is asymptotic and says nothing about how long crossing between modes "
                   "takes, which is what dominates on the multimodal targets.")
    if "rate" in table:
        shown = table[table["rate"] == "geometric"]
        out.append(f"A geometric rate is shown (interval for ρ below 1, one rate along the window) for "
                   f"{_names(shown)}; for the others the curve does not show one (see 'why (rate)').")
    slow = table[table["rho"] > 0.995]
    if len(slow):
        out.append(f"ρ above 0.995 per gradient evaluation (more than 200 gradient evaluations per e-fold) for "
                   f"{_names(slow)}.")
    if uniformity is not None and len(uniformity):
        held = uniformity[uniformity["drift"] == HOLDS]
        alone = ", ".join(f"{LABELS.get(s, s)}: {k} of {n}" for s, k, n in
                          zip(uniformity["sampler"], uniformity["members_holding_alone"], uniformity["members"]))
        out.append(f"Uniformity in θ, on the energies saved along the training runs with V = V1^a V2^(2a): holds on "
                   f"the tested range for {len(held)} of {len(uniformity)} runs "
                   f"({', '.join(LABELS.get(s, s) for s in held['sampler']) or 'none'}); saved networks for which "
                   f"the inequality holds on their own: {alone}. The family is the finite "
                   "set of saved networks, so this is uniformity over what training visited, not over Θ; "
                   "H3's exponent a0 cannot be checked numerically.")
    elif uniformity is None:
        out.append("Uniformity in θ was not run (it needs the rings training runs).")
    return out


def report_context(results_dir: str | Path) -> Dict[str, Any]:
    layout = Layout(results_dir)
    verdicts_file, uniformity_file = layout.diagnostics_verdicts, layout.uniformity_verdicts
    table = pd.read_csv(verdicts_file) if verdicts_file.is_file() else None
    uniformity = pd.read_csv(uniformity_file) if uniformity_file.is_file() else None
    context: Dict[str, Any] = {
        "run": table is not None,
        "claims": CLAIMS, "measured": MEASURED, "differences": [],
        "verdicts": None, "settings": None, "uniformity": None,
        "figures": {name: figure(layout.diagnostics_figure(name)) for name in ("drift", "rate", "uniformity")},
        "downloads": {"verdicts": table_link(verdicts_file), "uniformity": table_link(uniformity_file)},
    }
    if table is not None:
        table = _ordered(table)
        context["verdicts"] = _html(table, SHOWN)
        settings = table.groupby("target", sort=False).first().reset_index()  # first non-missing per column
        context["settings"] = _html(settings, {"target": "target", **{c: c for c in SETTINGS}})
        context["differences"] = differences(table, uniformity)
    if uniformity is not None:
        context["uniformity"] = _html(uniformity, {"run": "run", "sampler": "sampler", "members": "saved networks",
                                                   "drift": "drift inequality", "R": "R", "mu": "μ(R)",
                                                   "mu_upper": "μ upper", "log_delta": "log δ(R)",
                                                   "mu_far": "μ at max radius",
                                                   "members_holding_alone": "networks holding alone"})
    return context

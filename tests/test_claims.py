"""The claims ledger turns seeds into verdicts with intervals, and never guesses."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from stanley import claims


def fid_table(dataset, values_by_sampler, iterations=(5000, 10000, 15000, 20000)):
    rows = []
    for sampler, per_seed in values_by_sampler.items():
        for seed, curve in enumerate(per_seed):
            for iteration, value in zip(iterations, curve):
                rows.append({"dataset": dataset, "sampler": sampler, "seed": seed, "iteration": iteration,
                             "fid": value, "protocol": "clean-fid/inception"})
    return pd.DataFrame(rows)


def ledger(tmp_path, fid=None, eval_=None, diagnostics=None):
    (tmp_path / "tables").mkdir(exist_ok=True)
    (tmp_path / "diagnostics").mkdir(exist_ok=True)
    if fid is not None:
        fid.to_csv(tmp_path / "tables/fid.csv", index=False)
    if eval_ is not None:
        eval_.to_csv(tmp_path / "tables/eval.csv", index=False)
    if diagnostics is not None:
        diagnostics.to_csv(tmp_path / "diagnostics/verdicts.csv", index=False)
    return claims.evaluate(tmp_path).set_index("id")


def test_interval_matches_a_hand_computed_t_interval():
    mean, low, high, n = claims.interval([1.0, 2.0, 3.0])
    half = 4.302652729911275 * 1.0 / math.sqrt(3)  # t_{0.975, 2} * sd / sqrt(n)
    assert (mean, n) == (2.0, 3)
    assert low == pytest.approx(2.0 - half) and high == pytest.approx(2.0 + half)
    assert claims.interval([5.0])[1:3] == (-math.inf, math.inf)  # one seed: no interval


def test_every_checkpoint_supported_contradicted_and_inconclusive(tmp_path):
    base = {s: [[60 + i, 50, 45, 40] for i in range(3)] for s in ("langevin", "mala", "hmc", "gd")}
    better = fid_table("flowers102", {**base, "stanley": [[50 + i, 40, 35, 30] for i in range(3)]})
    assert ledger(tmp_path, fid=better).loc["flowers-every-checkpoint", "verdict"] == claims.SUPPORTED
    worse = fid_table("flowers102", {**base, "stanley": [[70 + i, 60, 55, 50] for i in range(3)]})
    assert ledger(tmp_path, fid=worse).loc["flowers-every-checkpoint", "verdict"] == claims.CONTRADICTED
    noisy = fid_table("flowers102", {**base, "stanley": [[55, 45, 40, 35], [70, 60, 50, 45], [58, 50, 45, 38]]})
    assert ledger(tmp_path, fid=noisy).loc["flowers-every-checkpoint", "verdict"] == claims.INCONCLUSIVE


def test_missing_runs_say_not_run(tmp_path):
    table = ledger(tmp_path, fid=fid_table("cifar10", {"stanley": [[1, 1, 1, 1]]}))
    assert set(table["verdict"]) == {claims.NOT_RUN}
    assert "langevin" in table.loc["cifar10-crossover", "statistic"]


def test_crossover_needs_both_halves(tmp_path):
    langevin = [[100, 80, 60, 50]] * 3
    crossing = [[110 + s, 90 + s, 55 - s, 45 - s] for s in range(3)]
    table = ledger(tmp_path, fid=fid_table("cifar10", {"langevin": langevin, "stanley": crossing}))
    assert table.loc["cifar10-crossover", "verdict"] == claims.SUPPORTED
    always_ahead = [[90 + s, 70 + s, 55 - s, 45 - s] for s in range(3)]
    table = ledger(tmp_path, fid=fid_table("cifar10", {"langevin": langevin, "stanley": always_ahead}))
    assert table.loc["cifar10-crossover", "verdict"] == claims.CONTRADICTED


def test_proxy_fid_is_labelled(tmp_path):
    fid = fid_table("celeba", {s: [[50, 40, 30, 20]] * 2 for s in ("stanley", "langevin", "mala", "gd", "hmc")})
    fid["protocol"] = "proxy"
    assert "proxy FID" in ledger(tmp_path, fid=fid).loc["celeba-baselines", "statistic"]


def test_theorem_claims_read_the_diagnostics(tmp_path):
    targets = ["gaussian", "light", "laplace", "rings", "gmm", "banana"]
    verdicts = pd.DataFrame({"target": targets + ["student"], "sampler": "stanley_mh",
                             "drift": ["holds"] * 6 + ["fails"], "rho": np.r_[np.full(6, 0.9), 1.0]})
    table = ledger(tmp_path, diagnostics=verdicts)
    assert table.loc["theorem1-drift", "verdict"] == claims.SUPPORTED  # the Student-t is outside H1
    assert table.loc["corollary1-rate", "verdict"] == claims.SUPPORTED
    verdicts.loc[1, "drift"] = "fails"
    assert ledger(tmp_path, diagnostics=verdicts).loc["theorem1-drift", "verdict"] == claims.CONTRADICTED


def test_rings_claim_uses_the_early_evaluations(tmp_path):
    rows = []
    for seed in range(3):
        for it in (0, 2000, 4000, 6000, 8000, 10000):
            rows.append({"dataset": "rings", "sampler": "langevin", "seed": seed, "iteration": it,
                         "sliced_w2": 1.0 if it <= 4000 else 0.1})
            rows.append({"dataset": "rings", "sampler": "stanley", "seed": seed, "iteration": it,
                         "sliced_w2": 0.5 + 0.01 * seed if it <= 4000 else 0.2})
    row = ledger(tmp_path, eval_=pd.DataFrame(rows)).loc["rings-early"]
    assert row["verdict"] == claims.SUPPORTED and "2,000-4,000" in row["statistic"]


def test_report_notes_where_the_authors_logs_contradict_the_text():
    from stanley.report import paper_log_notes

    curves = pd.DataFrame({"dataset": ["d"] * 4, "sampler": ["stanley", "hmc", "stanley", "hmc"],
                           "iteration": [5000, 5000, 10000, 10000], "fid": [50.0, 40.0, 30.0, 35.0]})
    (note,) = paper_log_notes(curves)
    assert "hmc has a lower FID than STANLEY at 1 of 2 checkpoints (5k)" in note
    assert "lowest FID at every" in paper_log_notes(curves[curves["iteration"] == 10000])[0]

"""The report's statistics (stanley.presentation.summaries) against numbers worked by hand on
frames small enough to check on paper: means, sample standard deviations (ddof 1), counts,
missing seeds, NaN, and the order rows come in."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from stanley.presentation import summaries

SQRT2 = math.sqrt(2.0)


def long_table(values: dict, column: str = "kl", dataset: str = "rings") -> pd.DataFrame:
    """{(sampler, seed): {iteration: value}} as a long table."""
    return pd.DataFrame([{"dataset": dataset, "sampler": s, "seed": seed, "iteration": it, column: v}
                         for (s, seed), curve in values.items() for it, v in curve.items()])


def test_over_seeds_is_mean_sample_sd_and_count_of_the_values_present():
    frame = pd.DataFrame({"sampler": ["a", "a", "b", "b", "c"], "x": [1.0, 3.0, 5.0, np.nan, 2.0]})
    stats = summaries.over_seeds(frame, ["sampler"], ["x"]).set_index("sampler")
    # a: mean 2, sd sqrt(((1-2)^2 + (3-2)^2) / (2-1)) = sqrt(2); b: the NaN seed is left out, one value left
    assert stats.loc["a", "x_mean"] == 2.0 and stats.loc["a", "x_sd"] == pytest.approx(SQRT2)
    assert stats.loc["a", "x_n"] == 2
    assert stats.loc["b", "x_mean"] == 5.0 and math.isnan(stats.loc["b", "x_sd"]) and stats.loc["b", "x_n"] == 1
    assert list(stats.index) == ["a", "b", "c"]  # order of first appearance


def test_per_sampler_puts_stanley_and_langevin_first_and_unknown_names_last():
    frame = pd.DataFrame({"sampler": ["zeta", "hmc", "langevin", "stanley", "alpha"], "x": [1.0, 2, 3, 4, 5]})
    assert list(summaries.per_sampler(frame, ["x"])["sampler"]) == ["stanley", "langevin", "hmc", "alpha", "zeta"]


def test_last_rows_keep_each_runs_own_last_iteration():
    table = long_table({("stanley", 0): {0: 9.0, 10: 5.0, 20: 1.0}, ("stanley", 1): {0: 8.0, 10: 4.0}})  # seed 1 stopped
    last = summaries.last_rows(table)
    assert sorted(zip(last["seed"], last["iteration"], last["kl"])) == [(0, 20, 1.0), (1, 10, 4.0)]


def test_toy_takes_the_second_and_the_last_iteration():
    table = long_table({("langevin", 0): {0: 9.0, 50: 6.0, 100: 2.0}, ("langevin", 1): {0: 9.0, 50: 4.0, 100: 4.0},
                        ("stanley", 0): {0: 9.0, 50: 3.0, 100: 1.0}})
    for column in ("tv", "sliced_w2"):
        table[column] = 0.5
    picks = summaries.toy(table)
    early_it, early = picks["early"]
    final_it, final = picks["final"]
    assert (early_it, final_it) == (50, 100)
    assert list(final["sampler"]) == ["stanley", "langevin"]
    langevin = final.set_index("sampler").loc["langevin"]
    assert langevin["kl_mean"] == 3.0 and langevin["kl_sd"] == pytest.approx(SQRT2)  # (2, 4)
    assert early.set_index("sampler").loc["langevin", "kl_mean"] == 5.0  # (6, 4)
    assert math.isnan(final.set_index("sampler").loc["stanley", "kl_sd"])  # one seed: no sd


def test_fid_summary_by_hand():
    fids = long_table({("stanley", 0): {100: 50.0, 200: 40.0}, ("stanley", 1): {100: 52.0, 200: 44.0},
                       ("langevin", 0): {100: 60.0, 200: 55.0}}, column="fid", dataset="cifar10")
    fids["protocol"] = "proxy"
    paper = pd.DataFrame({"dataset": "cifar10", "sampler": ["mh", "mh", "stanley"], "iteration": [5000, 10000, 10000],
                          "fid": [70.0, 65.0, 42.5]})
    provenance = pd.DataFrame({"dataset": "cifar10", "sampler": ["stanley", "stanley", "langevin"], "seed": [0, 1, 0],
                               "status": ["completed", "diverged at iteration 200", "completed"]})
    table = summaries.fid(fids, paper, provenance)
    assert list(table["sampler"]) == ["langevin", "stanley", "mala"]  # the paper's Figure 3 order; mh is our mala
    rows = table.set_index("sampler")
    assert rows.loc["stanley", "fid_mean"] == 42.0  # each run's last FID: (40 + 44) / 2
    assert rows.loc["stanley", "fid_sd"] == pytest.approx(math.sqrt(8.0))  # ((40-42)^2 + (44-42)^2) / 1
    assert rows.loc["stanley", "fid_n"] == 2 and rows.loc["stanley", "diverged"] == 1
    assert rows.loc["stanley", "iteration"] == 200 and rows.loc["stanley", "protocol"] == "proxy"
    assert rows.loc["stanley", "paper_fid"] == 42.5 and rows.loc["stanley", "paper_iteration"] == 10000
    assert rows.loc["langevin", "diverged"] == 0 and math.isnan(rows.loc["langevin", "paper_fid"])
    mala = rows.loc["mala"]  # logged by the authors (their last value), not run here
    assert mala["fid_n"] == 0 and math.isnan(mala["fid_mean"]) and mala["paper_fid"] == 65.0


def test_inpainting_averages_images_within_a_run_then_runs_over_seeds():
    frame = pd.DataFrame({"dataset": "celeba", "sampler": ["stanley", "stanley", "stanley", "langevin"],
                          "seed": [0, 0, 1, 0], "image": [0, 1, 0, 0], "mse": [1.0, 3.0, 4.0, 0.5],
                          "mask_side": 16, "steps": 50})
    rows = summaries.inpainting(frame).set_index("sampler")
    # stanley: seed 0's mean over its two images is 2, seed 1's is 4: mean 3, sd sqrt(2), not the pooled (1, 3, 4)
    assert rows.loc["stanley", "mse_mean"] == 3.0 and rows.loc["stanley", "mse_sd"] == pytest.approx(SQRT2)
    assert rows.loc["stanley", "images"] == 2 and rows.loc["stanley", "mask_side"] == 16
    assert list(rows.index) == ["langevin", "stanley"]  # Figure 3's order


def test_chains_floors_and_unfinished():
    metrics = pd.DataFrame([{"dataset": d, "sampler": s, "seed": seed, "iteration": it, "movement": m}
                            for d, s, seed, it, m in [("rings", "stanley", 0, 10, 9.0), ("rings", "stanley", 0, 20, 0.2),
                                                      ("rings", "stanley", 1, 20, 0.4), ("shapes", "gd", 0, 5, 0.01)]])
    (rings, it, stats), (shapes, it2, _) = summaries.chains(metrics)
    assert (rings, it, shapes, it2) == ("rings", 20, "shapes", 5)
    assert stats.loc[0, "movement_mean"] == pytest.approx(0.3) and stats.loc[0, "movement_n"] == 2
    evals = pd.DataFrame({"dataset": ["rings", "rings", "shapes"], "sliced_w2_floor": [0.02, 0.04, np.nan]})
    assert summaries.floors(evals).to_dict("records") == [{"dataset": "rings", "floor": pytest.approx(0.03)}]
    assert summaries.floors(pd.DataFrame({"dataset": ["rings"]})).empty
    jobs = pd.DataFrame({"dataset": "rings", "sampler": ["stanley", "hmc"], "seed": [0, 1],
                         "status": ["completed", "diverged at iteration 7"]})
    assert summaries.unfinished(jobs).to_dict("records") == [
        {"dataset": "rings", "sampler": "hmc", "seed": 1, "status": "diverged at iteration 7"}]


def test_study_summary_by_hand():
    spec = {"variants": {"K5": {}, "K10": {}}, "x": "training.mcmc_steps"}
    rows = []
    for variant, k in (("K5", 5), ("K10", 10)):
        for seed in (0, 1):
            for it in range(10, 101, 10):  # the tail: the last 10% of 100 iterations is 90 and 100
                rows.append({"variant": variant, "sampler": "langevin", "seed": seed, "iteration": it,
                             "grad_norm": 100.0 if it < 90 else k + seed + (it == 100)})
    metrics = pd.DataFrame(rows)
    provenance = pd.DataFrame([{"variant": v, "sampler": "langevin", "seed": s, "status": "completed",
                                "config.training.mcmc_steps": k} for v, k in (("K10", 10), ("K5", 5)) for s in (0, 1)])
    fid = pd.DataFrame([{"variant": v, "sampler": "langevin", "seed": s, "iteration": 100, "fid": f, "protocol": "proxy"}
                        for v, s, f in (("K5", 0, 30.0), ("K5", 1, 34.0), ("K10", 0, 20.0), ("K10", 1, 20.0))])
    summary = summaries.study(metrics, provenance, spec, fid)
    assert list(summary["variant"]) == ["K5", "K10"]  # the spec's order, not the provenance's
    k5 = summary.iloc[0]
    # seed 0: mean(5, 6) = 5.5, seed 1: mean(6, 7) = 6.5; over seeds 6 and sd sqrt(0.5)
    assert k5["grad_norm_mean"] == pytest.approx(6.0) and k5["grad_norm_sd"] == pytest.approx(math.sqrt(0.5))
    assert k5["fid_mean"] == 32.0 and k5["fid_sd"] == pytest.approx(SQRT2 * 2) and k5["x"] == 5
    assert summary.iloc[1]["fid_sd"] == 0.0 and k5["diverged"] == 0 and math.isnan(k5["sliced_w2_mean"])


def test_paper_values_name_the_tables_there_are():
    from stanley.errors import ConfigError

    reference = pd.DataFrame({"table": ["t1"], "variant": ["K5"], "metric": ["fid"], "value": [1.0], "source": ["s"]})
    assert summaries.paper_values(reference, None).empty
    assert len(summaries.paper_values(reference, "t1")) == 1
    with pytest.raises(ConfigError, match="t1"):
        summaries.paper_values(reference, "t2")

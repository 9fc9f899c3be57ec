"""Studies beyond the STANLEY paper: specs, their runs, their summary, figure and report section."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from stanley.experiment import config, studies
from stanley.plumbing.rundir import Tables
from stanley.presentation import figures, packaged, report, summaries, tables
from stanley.experiment.config import ConfigError

from conftest import POOL

SUITE = {
    "datasets": ["rings"], "samplers": ["langevin", "stanley"], "seeds": [0, 1],
    "defaults": {"device": "cpu", "sampler": {"options": POOL},
                 "training": {"iterations": 40, "mcmc_steps": 20, "log_every": 10}},
    "studies": {
        "steps": {"title": "K sweep", "dataset": "rings", "samplers": ["langevin", "stanley"], "seeds": [0, 1],
                  "defaults": {"training": {"lr": 5.0e-4}},
                  "variants": {"K10": {"training": {"mcmc_steps": 10}, "data": {"noise": 0.1}},
                               "K30": {"training": {"mcmc_steps": 30}}},
                  "x": "training.mcmc_steps", "paper": "nijkamp2019_table2"},
    },
}


def test_runs_are_the_suites_runs_with_the_variant_on_top():
    runs = studies.runs(SUITE)
    assert sorted(runs) == sorted((("steps", v, s, seed) for v in ("K10", "K30") for s in ("langevin", "stanley")
                                   for seed in (0, 1)))
    run = runs[("steps", "K10", "stanley", 1)]
    base = config.resolve_run(SUITE, "rings", "stanley", 1)
    assert run["training"]["mcmc_steps"] == 10 and run["data"]["noise"] == 0.1 and run["training"]["lr"] == 5.0e-4
    expected = copy.deepcopy(base)
    expected["training"].update(mcmc_steps=10, lr=5.0e-4)
    expected["data"]["noise"] = 0.1
    assert run == expected  # nothing else differs from the suite's own run
    assert config.value_at(runs[("steps", "K30", "langevin", 0)], "training.mcmc_steps") == 30


@pytest.mark.parametrize("change, message", [
    (lambda s: s.update(dataset="cifar10"), "not in the suite's datasets"),
    (lambda s: s.update(colour="red"), "colour"),
    (lambda s: s.update(samplers=["metropolis"]), "metropolis"),
    (lambda s: s["variants"].update({"K 5": {}}), "variant name"),
    (lambda s: s["variants"].update({"K5": {"training": {"mcmc_stepz": 5}}}), "mcmc_stepz"),
    (lambda s: s.update(x="training.steps"), "run-config key"),
    (lambda s: s["variants"].update({"K7": {"training": {"mcmc_steps": -7}}}), "studies.steps.variants.K7"),
])
def test_bad_study_specs_name_the_key(change, message):
    suite = copy.deepcopy(SUITE)
    change(suite["studies"]["steps"])
    with pytest.raises(ConfigError, match=message):
        studies.runs(suite)


def fake_tables(tmp_path, x=True, proxy=True):
    """A study's gathered tables, written by hand: two variants x two samplers x three seeds."""
    rng = np.random.default_rng(0)
    rows, fids, provenance = [], [], []
    for variant, k in (("K5", 5), ("K10", 10)):
        for sampler in ("langevin", "stanley"):
            for seed in range(3):
                for iteration in range(10, 101, 10):
                    rows.append({"dataset": "shapes", "sampler": sampler, "variant": variant, "seed": seed,
                                 "iteration": iteration, "grad_norm": rng.uniform(1, 2)})
                for iteration in (50, 100):
                    fids.append({"dataset": "shapes", "sampler": sampler, "variant": variant, "seed": seed,
                                 "iteration": iteration, "fid": rng.uniform(10, 20),
                                 "protocol": "proxy" if proxy else "inception"})
                provenance.append({"dataset": "shapes", "sampler": sampler, "variant": variant, "seed": seed,
                                   "status": "diverged at iteration 90" if (variant, sampler, seed) == ("K5", "stanley", 2)
                                   else "completed", "config.training.mcmc_steps": k,
                                   "config.training.iterations": 100})
    for name, table in (("metrics", rows), ("fid", fids), ("provenance", provenance)):
        pd.DataFrame(table).to_csv(tmp_path / f"{name}.csv", index=False)
    spec = {"name": "steps", "order": 0, "title": "K sweep", "dataset": "shapes", "variants": {"K5": {}, "K10": {}},
            "x": "training.mcmc_steps" if x else None, "paper": "nijkamp2019_table2"}
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))  # as the workflow writes it
    return pd.DataFrame(rows), pd.DataFrame(fids)


def test_summary_against_pandas_by_hand(tmp_path):
    metrics, fids = fake_tables(tmp_path)
    frames = tables.read(tmp_path)
    summary = summaries.study(frames["metrics"], frames["provenance"], Tables(tmp_path).load_study_spec(), frames["fid"])
    assert list(summary["variant"]) == ["K5", "K5", "K10", "K10"]  # the spec's order
    row = summary[(summary["variant"] == "K10") & (summary["sampler"] == "stanley")].iloc[0]
    final = fids[(fids["variant"] == "K10") & (fids["sampler"] == "stanley") & (fids["iteration"] == 100)]["fid"]
    assert row["fid_mean"] == pytest.approx(final.mean()) and row["fid_sd"] == pytest.approx(final.std(ddof=1))
    tail = metrics[(metrics["variant"] == "K10") & (metrics["sampler"] == "stanley") & (metrics["iteration"] >= 90)]
    per_seed = tail.groupby("seed")["grad_norm"].mean()  # the last 10% of training: iterations 90 and 100
    assert row["grad_norm_mean"] == pytest.approx(per_seed.mean())
    assert row["x"] == 10 and row["seeds"] == 3 and row["protocol"] == "proxy"
    assert list(summary["diverged"]) == [0, 1, 0, 0]


def test_figure_and_report_section_label_proxy_fids_and_set_the_paper_beside(tmp_path):
    results = tmp_path / "results"
    tables = results / "tables" / "studies" / "steps"
    tables.mkdir(parents=True)
    fake_tables(tables)
    reference = packaged.BEYOND_PAPER
    figures.make("study", [str(tables), str(reference)], results / "figures" / "study_steps.png")
    assert (results / "figures" / "study_steps.png").stat().st_size > 10_000
    entries = report.studies_context(report.inputs(results))
    assert len(entries) == 1 and entries[0]["proxy"] and entries[0]["figure"].startswith("data:image/png")
    table = report.table(entries[0]["table"])
    assert "final FID (proxy)" in table and "paper FID (Inception)" in table
    assert "213.08" in table and "182.5" in table  # Nijkamp et al.'s printed K5 and K10 FIDs
    assert "1 of 3" in table  # the diverged seed is counted, not dropped
    assert any(r["status"].startswith("diverged") for r in entries[0]["unfinished"])


def test_rows_study_without_x_draws(tmp_path):
    fake_tables(tmp_path, x=False, proxy=False)
    out = figures.make("study", [str(tmp_path), str(packaged.BEYOND_PAPER)], tmp_path / "rows.png")
    assert out.stat().st_size > 10_000


TITLES = {"short_run": "Learning Non-Convergent Non-Persistent Short-Run MCMC",
          "improved": "Improved Contrastive Divergence Training of Energy-Based Models"}


def test_printed_values_match_the_papers_text():
    """Spot checks of the transcription against text copies of the papers, found by title in
    the folder $STANLEY_PAPERS (the papers are not part of the repository)."""
    printed = pd.read_csv(packaged.BEYOND_PAPER)
    folder = os.environ.get("STANLEY_PAPERS")
    texts = [path.read_text(errors="replace") for path in Path(folder).glob("*.txt")] if folder else []
    found = {key: next((text for text in texts if title in text[:2000]), None) for key, title in TITLES.items()}
    if None in found.values():
        pytest.skip("set STANLEY_PAPERS to a folder holding text copies of the short-run and Improved CD papers")
    short_run, improved = found["short_run"], found["improved"]
    for table, text in (("nijkamp2019_table2", short_run), ("nijkamp2019_table3a", short_run),
                        ("du2021_table2", improved)):
        for value in printed[(printed["table"] == table) & (printed["metric"].isin(["fid", "is"]))]["value"]:
            assert f"{value:.2f}".rstrip("0").rstrip(".") in text or f"{value:.2f}" in text, (table, value)

"""The presentation's own units on tiny inputs made here: gathering run tables, drawing each
figure, and rendering the report with numbers worked by hand. No training: run directories are
written file by file, as a finished run leaves them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from stanley.errors import ConfigError
from stanley.experiment import config
from stanley.presentation import figures, report, tables

PNG = b"\x89PNG\r\n\x1a\n"


def fake_run(root: Path, dataset: str, sampler: str, seed: int, status: str = "completed", options=None,
             **tables_: pd.DataFrame) -> Path:
    """A finished run directory: its config, provenance and the given tables."""
    out = root / "runs" / dataset / sampler / f"seed{seed}"
    out.mkdir(parents=True)
    run = config.complete_run({"data": {"name": dataset}, "seed": seed,
                               "sampler": {"name": sampler, "options": options or {}}})
    (out / "config.yaml").write_text(yaml.safe_dump(run))
    (out / "provenance.json").write_text(json.dumps({
        "status": status, "wall_time_s": 3.0, "gpu_hours": 0.0, "git_commit": "abc123", "device": "cpu",
        "finished": "2026-01-01T00:00:00", "packages": {"numpy": "2.0"}}))
    for kind, frame in tables_.items():
        frame.to_csv(out / f"{kind}.csv", index=False)
    return out


def curve(values, column="loss"):
    return pd.DataFrame({"iteration": [10 * i for i in range(len(values))], column: values})


# ------------------------------------------------------------------------------------- tables

def test_gathering_two_runs_gives_one_long_table_per_kind(tmp_path):
    a = fake_run(tmp_path, "rings", "stanley", 0, metrics=curve([3.0, 2.0]), eval=curve([0.5], "kl"))
    b = fake_run(tmp_path, "rings", "stanley", 1, status="diverged at iteration 10",
                 options={"norm": "pixel"}, metrics=curve([4.0]))
    written = tables.gather([a, b], tmp_path / "tables")
    assert sorted(p.name for p in written) == ["eval.csv", "metrics.csv", "provenance.csv"]  # no run had fid.csv
    metrics = pd.read_csv(tmp_path / "tables/metrics.csv")
    assert list(metrics.columns) == ["dataset", "sampler", "variant", "seed", "iteration", "loss"]
    assert metrics.values.tolist() == [["rings", "stanley", "paper", 0, 0, 3.0], ["rings", "stanley", "paper", 0, 10, 2.0],
                                       ["rings", "stanley", "norm=pixel", 1, 0, 4.0]]
    read = tables.read(tmp_path / "tables")
    assert read["fid"] is None and len(read["eval"]) == 1
    jobs = read["provenance"].set_index("seed")
    assert list(jobs["status"]) == ["completed", "diverged at iteration 10"]
    assert jobs.loc[1, "config.sampler.options.norm"] == "pixel" and jobs.loc[0, "version.numpy"] == 2.0
    assert jobs.loc[0, "config_hash"] != jobs.loc[1, "config_hash"]  # the switch changes the config


def test_gathering_with_study_variant_names_and_a_wrong_count(tmp_path):
    a = fake_run(tmp_path, "rings", "langevin", 0, metrics=curve([1.0]))
    tables.gather([a], tmp_path / "t", variants=["K5"])
    assert pd.read_csv(tmp_path / "t/metrics.csv")["variant"].tolist() == ["K5"]
    with pytest.raises(ConfigError, match="one per run"):
        tables.gather([a], tmp_path / "t", variants=["K5", "K10"])


# ------------------------------------------------------------------------------------ figures

def toy_samples(run: Path, iterations, extent=3.0, points=50, grid=8) -> str:
    rng = np.random.default_rng(0)
    n = len(iterations)
    np.savez(run / "samples.npz", snapshot_iterations=np.array(iterations), grid_extent=np.array(extent),
             snapshot_samples=rng.normal(size=(n, points, 2)), snapshot_log_density=rng.normal(size=(n, grid, grid)),
             samples=rng.normal(size=(points, 2)))
    return str(run / "samples.npz")


@pytest.fixture
def drawn(monkeypatch):
    """The figures a call draws, kept instead of saved."""
    kept = []
    monkeypatch.setattr(figures, "write_figure", lambda out, fig: kept.append(fig) or Path(out))
    return kept


def texts(fig) -> list:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_snapshot_grid_shows_a_placeholder_for_a_run_that_stopped(tmp_path, drawn):
    full = toy_samples(fake_run(tmp_path, "rings", "stanley", 0), [0, 10, 20])
    stopped = toy_samples(fake_run(tmp_path, "rings", "langevin", 0), [0])  # diverged after its first snapshot
    for name in ("fig1", "fig1_density"):
        figures.make(name, [stopped, full], tmp_path / f"{name}.png")
    for fig in drawn:
        assert texts(fig).count("run stopped\n(see provenance)") == 2  # Langevin's two missing columns
        assert [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()] == ["STANLEY (paper text)", "Langevin"]


def test_every_figure_writes_a_png(tmp_path):
    rings = [fake_run(tmp_path, "rings", s, 0) for s in ("stanley", "langevin")]
    samples = [toy_samples(r, [0, 10]) for r in rings]
    evals = pd.DataFrame([{"dataset": "rings", "sampler": s, "seed": seed, "iteration": it, "kl": 1.0 + it + seed,
                           "tv": 0.5, "sliced_w2": 0.1 * (it + 1)} for s in ("stanley", "langevin")
                          for seed in (0, 1) for it in (0, 10)])
    evals.to_csv(tmp_path / "eval.csv", index=False)
    metrics = evals.assign(energy_diff=1.0, grad_norm=2.0)
    metrics.to_csv(tmp_path / "metrics.csv", index=False)
    ablation = tmp_path / "tables" / "ablation" / "rings"  # an ablation's gathered tables, as `stanley tables` writes them
    ablation.mkdir(parents=True)
    evals.assign(variant=["paper", "norm=pixel"] * 4).to_csv(ablation / "eval.csv", index=False)
    metrics.assign(variant=["paper", "norm=pixel"] * 4, movement=0.1).to_csv(ablation / "metrics.csv", index=False)

    rng = np.random.default_rng(1)
    images, fids, inpainted = [], [], []
    for sampler in ("langevin", "stanley"):
        run = fake_run(tmp_path, "shapes", sampler, 0, fid=pd.DataFrame({"iteration": [10, 20], "fid": [90.0, 80.0],
                                                                        "protocol": "proxy"}))
        np.savez(run / "samples.npz", samples=rng.integers(0, 255, (4, 3, 8, 8), dtype=np.uint8),
                 snapshot_iterations=np.array([10, 20]))
        np.savez(run / "inpainting.npz", **{k: rng.integers(0, 255, (3, 3, 8, 8), dtype=np.uint8)
                                            for k in ("originals", "masked", "completions")}, mse=np.array([0.1, 0.2, 0.3]))
        pd.DataFrame({"dataset": "shapes", "sampler": sampler, "seed": 0, "image": [0, 1, 2], "mse": [0.1, 0.2, 0.3],
                      "mask_side": 4, "steps": 5}).to_csv(run / "inpainting.csv", index=False)
        images.append(str(run / "samples.npz")), fids.append(str(run / "fid.csv"))
        inpainted.append(str(run / "inpainting.npz"))
    paper = tmp_path / "paper.csv"
    pd.DataFrame({"dataset": "shapes", "sampler": ["mh", "stanley"], "iteration": [20, 20], "fid": [40.0, 30.0]}).to_csv(
        paper, index=False)

    cases = {"fig1": samples, "fig1_density": samples, "toy_metrics": [tmp_path / "eval.csv"],
             "training": [tmp_path / "metrics.csv"], "ablation": [ablation],
             "fig2": images, "fig3": images, "fig4": [*fids, paper], "fig5": fids, "fig6": inpainted}
    assert set(cases) | {"study"} == set(figures.FIGURES)  # the study figure: tests/test_studies.py
    for name, inputs in cases.items():
        out = figures.make(name, [str(p) for p in inputs], tmp_path / "figures" / f"{name}.png")
        assert out.read_bytes()[:8] == PNG, name


def test_a_missing_input_is_one_clear_error_before_drawing(tmp_path):
    with pytest.raises(ConfigError, match="does not exist.*run the jobs that make it"):
        figures.make("toy_metrics", [str(tmp_path / "nothing.csv")], tmp_path / "out.png")
    with pytest.raises(ConfigError, match="did you mean"):
        figures.make("fig11", [], tmp_path / "out.png")
    assert not (tmp_path / "out.png").exists()


# ------------------------------------------------------------------------------------- report

def test_report_renders_the_numbers_worked_by_hand(tmp_path):
    """Final KL of STANLEY's two seeds 1 and 3: mean 2, sd sqrt(2) = 1.41; Langevin's 4 and 6: 5 ± 1.41.
    Final FIDs 40 and 44: 42.0 ± 2.8 (to the mean's decimal)."""
    results = tmp_path / "results"
    (results / "tables").mkdir(parents=True)
    finals = {("stanley", 0): 1.0, ("stanley", 1): 3.0, ("langevin", 0): 4.0, ("langevin", 1): 6.0}
    pd.DataFrame([{"dataset": "rings", "sampler": s, "variant": "paper", "seed": seed, "iteration": it,
                   "kl": 50.0 if it == 0 else kl, "tv": 0.5, "sliced_w2": 0.25}
                  for (s, seed), kl in finals.items() for it in (0, 100)]).to_csv(results / "tables/eval.csv", index=False)
    pd.DataFrame([{"dataset": "cifar10", "sampler": "stanley", "variant": "paper", "seed": seed, "iteration": 500,
                   "fid": fid, "protocol": "proxy"} for seed, fid in ((0, 40.0), (1, 44.0))]).to_csv(
        results / "tables/fid.csv", index=False)
    pd.DataFrame([{"dataset": d, "sampler": s, "seed": seed, "status": status, "wall_time_s": 1800.0, "gpu_hours": 0.0}
                  for d, s, seed, status in [("rings", "stanley", 0, "completed"), ("rings", "stanley", 1, "completed"),
                                             ("rings", "langevin", 0, "completed"),
                                             ("rings", "langevin", 1, "diverged at iteration 70")]]).to_csv(
        results / "tables/provenance.csv", index=False)
    html = report.render(results, out=tmp_path / "index.html", scale="smoke").read_text()
    text = " ".join(html.split())
    final = text[text.index("final (iteration 100)"):]
    assert "<td>STANLEY (paper text)</td><td>2.00 \u00b1 1.41 (n=2)</td>" in final
    assert "<td>Langevin</td><td>5.00 \u00b1 1.41 (n=2)</td>" in final
    assert "42.0 \u00b1 2.8 (n=2)" in text and "<td>proxy</td>" in text
    assert "Langevin, seed 1: diverged at iteration 70" in text  # an unfinished run is named, not dropped
    assert "2.0 hours of wall time in all" in text  # 4 x 1,800 s, to 2 significant figures
    assert "Not run: no diagnostics results" in text and "smoke scale" in text

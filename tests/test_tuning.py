"""The tuning stage's library (stanley/experiment/tuning.py): the grid it expands and the choice it makes."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import yaml

from stanley.experiment import tuning
from stanley.experiment.config import load_yaml, resolve_run
from stanley.errors import ConfigError


def suite(**tuning_spec):
    spec = {"enabled": True, "seed": 100, "grid": {"step_size": [0.1, 1.0, 3.0]},
            "iterations": {"rings": 50}, "max_fraction": 0.1, **tuning_spec}
    return {
        "datasets": ["rings"], "samplers": ["stanley", "stanley_toy", "mala", "gd"], "seeds": [0, 1],
        "defaults": {"device": "cpu", "sampler": {"options": {"step_size": 2.0, "noise_scale": 0.1, "threshold": 0.01}},
                     "training": {"iterations": 1000, "log_every": 100, "checkpoint_every": 500}},
        "tuning": spec,
    }


def test_pilots_expand_one_grid_for_every_sampler_with_the_knob():
    config = suite(grid={"step_size": [0.1, 1.0, 3.0], "threshold": [0.5, 1.0]})
    pilots = tuning.pilots(config)
    by_sampler = {}
    for (dataset, sampler, point), run in pilots.items():
        by_sampler.setdefault(sampler, []).append(point)
        base = resolve_run(config, dataset, sampler, 100)
        multipliers = tuning.parse_point(point)
        for knob, factor in multipliers.items():
            assert run["sampler"]["options"][knob] == pytest.approx(base["sampler"]["options"][knob] * factor)
        assert run["seed"] == 100 and run["training"]["iterations"] == 50 == run["evaluation"]["every"]
    # stanley has both knobs (3 x 2 points); the toy reading pins threshold; mala and gd have no threshold
    assert len(by_sampler["stanley"]) == 6
    assert sorted(by_sampler["stanley_toy"]) == sorted(by_sampler["mala"]) == sorted(by_sampler["gd"]) == [
        "step_size=x0.1", "step_size=x1", "step_size=x3"]


def test_budget_is_the_pilots_share_of_the_matrix_and_is_warned_about():
    config = suite()
    fraction = tuning.budget(config, tuning.pilots(config))["rings"]
    assert fraction == pytest.approx(3 * 50 / (2 * 1000))  # per sampler: 3 pilots of 50 against 2 seeds of 1000
    with pytest.warns(UserWarning, match="max_fraction"):
        tuning.pilots(suite(iterations={"rings": 100}, max_fraction=0.1))


@pytest.mark.parametrize("spec, match", [
    ({"grid": {"step_size": [0.1, -1.0]}}, "positive multipliers"),
    ({"grid": {"step_sise": [1.0]}}, "step_size"),
    ({"iterations": {"cifar10": 10}}, "each data set"),
    ({"seed": 0}, "matrix's seeds"),
    ({"colour": 1}, "colour"),
])
def test_bad_tuning_specs_name_the_key(spec, match):
    with pytest.raises(ConfigError, match=match):
        tuning.pilots(suite(**spec))


def test_tuning_switched_off_runs_no_pilot():
    assert tuning.pilots(suite(enabled=False)) == {}


def table(rows):
    frame = pd.DataFrame(rows, columns=["dataset", "sampler", "point", "score", "status"])
    frame["distance"] = [tuning.distance(tuning.parse_point(p)) for p in frame["point"]]
    return frame


def test_select_takes_the_lowest_finished_score():
    picked = tuning.select(table([
        ("rings", "mala", "step_size=x0.1", 0.30, "completed"),
        ("rings", "mala", "step_size=x1", 0.10, "diverged at iteration 7"),  # lowest, but diverged
        ("rings", "mala", "step_size=x3", math.nan, "completed"),
        ("rings", "mala", "step_size=x0.3", 0.20, "completed"),
        ("rings", "gd", "step_size=x0.1", 0.5, "completed"),
        ("rings", "gd", "step_size=x1", 0.5, "completed"),  # a tie: the configured value wins
        ("rings", "gd", "step_size=x3", 0.5, "completed"),
    ]))
    chosen = picked[picked["chosen"]].set_index("sampler")["point"].to_dict()
    assert chosen == {"mala": "step_size=x0.3", "gd": "step_size=x1"}
    assert picked.groupby("sampler")["chosen"].sum().to_dict() == {"gd": 1, "mala": 1}


def test_select_keeps_the_configured_values_when_no_pilot_finished():
    picked = tuning.select(table([("rings", "hmc", "step_size=x0.1", math.nan, "completed"),
                                  ("rings", "hmc", "step_size=x1", 0.1, "diverged at iteration 3")]))
    assert picked[picked["chosen"]]["point"].tolist() == ["step_size=x1"]


def test_select_finds_the_optimum_of_a_simulated_response():
    """Scores from a known curve (minimum at multiplier 0.3) plus small noise: the rule picks 0.3."""
    import numpy as np

    rng = np.random.default_rng(0)
    grid = [0.03, 0.1, 0.3, 1.0, 3.0]
    rows = [("rings", "langevin", f"step_size=x{m:g}", (math.log(m) - math.log(0.3)) ** 2 + 0.01 * rng.random(),
             "completed") for m in grid]
    picked = tuning.select(table(rows))
    assert picked[picked["chosen"]]["point"].tolist() == ["step_size=x0.3"]


def test_select_keeps_the_configured_values_when_the_pilots_cannot_resolve_a_difference():
    """Scores within the tolerance (or, on toy targets, within the sliced-W2 floor) of the configured
    point do not move the choice: short pilots whose chains barely move score alike everywhere."""
    flat = table([("shapes", "mala", f"step_size=x{m:g}", 4.29 + 0.001 * m, "completed") for m in (0.03, 0.3, 1.0)])
    assert tuning.select(flat, tolerance=0.02).query("chosen")["point"].tolist() == ["step_size=x1"]
    assert tuning.select(flat, tolerance=0.0).query("chosen")["point"].tolist() == ["step_size=x0.03"]
    toy = table([("rings", "hmc", "step_size=x0.3", 0.10, "completed"), ("rings", "hmc", "step_size=x1", 0.12, "completed")])
    toy["floor"] = 0.03
    assert tuning.select(toy, tolerance=0.0).query("chosen")["point"].tolist() == ["step_size=x1"]
    toy["floor"] = 0.01
    assert tuning.select(toy, tolerance=0.0).query("chosen")["point"].tolist() == ["step_size=x0.3"]


def test_choice_round_trip_applies_the_multiplier(tmp_path):
    picked = tuning.select(table([("rings", "mala", "step_size=x0.1", 0.2, "completed"),
                                  ("rings", "mala", "step_size=x1", 0.3, "completed")]))
    path = tmp_path / "choice.yaml"
    path.write_text(yaml.safe_dump(tuning.choice(picked)))
    choices = tuning.load_choice(path)
    run = resolve_run(suite(), "rings", "mala", 0)
    assert tuning.tuned(run, choices)["sampler"]["options"]["step_size"] == pytest.approx(0.2)
    gd = resolve_run(suite(), "rings", "gd", 0)
    assert tuning.tuned(gd, choices) == gd  # no choice for gd: unchanged
    path.write_text("mala: {multipliers: {step_size: -1}}")
    with pytest.raises(ConfigError, match="positive"):
        tuning.load_choice(path)


def test_shipped_configs_keep_pilots_under_their_budget():
    for name in ("config", "smoke"):
        config = load_yaml(f"workflow/config/{name}.yaml")
        for dataset in set(config["datasets"]) & {"cifar10", "flowers102", "celeba", "shapes"}:
            own = config["per_dataset"][dataset]  # as the workflow does: each image set's FID statistics
            own["fid"] = {**own["fid"], "reference": f"results/reference/{dataset}.npz"}
        spec = tuning.check(config)
        assert spec, f"{name}.yaml runs a tuning stage"
        fractions = tuning.budget(config, tuning.pilots(config))
        assert set(fractions) == set(config["datasets"])
        assert all(0 < f <= spec["max_fraction"] for f in fractions.values()), fractions


def fake_pilot(directory, sampler, step_size, sliced_w2, acceptance=None, status="completed"):
    """A finished toy pilot's files, as `stanley train` writes them."""
    import json

    directory.mkdir(parents=True)
    run = {"data": {"name": "rings"}, "sampler": {"name": sampler, "options": {"step_size": step_size}},
           "training": {"iterations": 50}}
    (directory / "config.yaml").write_text(yaml.safe_dump(run))
    (directory / "provenance.json").write_text(json.dumps({"status": status}))
    metrics = {"iteration": [25, 50], "movement": [0.2, 0.1]}
    if acceptance is not None:
        metrics["acceptance"] = [0.9, acceptance]
    pd.DataFrame(metrics).to_csv(directory / "metrics.csv", index=False)
    pd.DataFrame({"iteration": [0, 50], "sliced_w2": [1.0, sliced_w2], "sliced_w2_floor": [0.02, 0.02]}).to_csv(
        directory / "eval.csv", index=False)


def test_tune_command_scores_pilots_and_the_report_shows_them(tmp_path):
    from stanley.presentation import report
    from stanley.cli import main

    grid = {"step_size=x0.3": (0.6, 0.10), "step_size=x1": (2.0, 0.20), "step_size=x3": (6.0, 0.05)}
    dirs, points = [], []
    for point, (step, score) in grid.items():
        status = "diverged at iteration 9" if point == "step_size=x3" else "completed"
        fake_pilot(tmp_path / "tuning/rings/mala" / point, "mala", step, score, acceptance=0.5, status=status)
        dirs.append(str(tmp_path / "tuning/rings/mala" / point)), points.append(point)
    out = tmp_path / "tuning/rings"
    assert main(["tune", "--pilots", *dirs, "--points", *points, "--fraction", "0.05", "--out", str(out)]) == 0
    table = pd.read_csv(out / "pilots.csv")
    assert table.query("chosen")["point"].tolist() == ["step_size=x0.3"]  # x3 scored lower but diverged
    assert table["acceptance"].eq(0.5).all() and table["floor"].eq(0.02).all()
    assert tuning.load_choice(out / "choice.yaml")["mala"]["multipliers"] == {"step_size": 0.3}
    context = report.tuning_context(report.inputs(tmp_path))
    assert context["datasets"][0]["fraction"] == 0.05 and "step_size=x0.3" in report.table(context["datasets"][0]["table"])

"""The ambiguity ablation: one switch at a time, the paper's run never duplicated, on the toy and
on images; the single-block spelling keeps its variants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stanley.experiment import ablation, config, options, readings
from stanley.sampling import samplers
from stanley.errors import ConfigError

IMAGE = {  # a shapes entry as the smoke config has it, its FID reference named (the workflow names it)
    "data": {"image_size": 32, "noise": 0.03, "limit": 100},
    "model": {"name": "convnet", "options": {"n_f": 8}},
    "sampler": {"options": {"threshold": 2.0e-4}},
    "training": {"iterations": 20, "batch_size": 16, "n_chains": 16, "mcmc_steps": 10, "init": "uniform"},
    "fid": {"every": 10, "n_samples": 50, "proxy": True, "reference": "ref.npz"},
}


def suite(**spec):
    return {
        "datasets": ["rings"], "samplers": ["stanley", "langevin"], "seeds": [0, 1, 2],
        "defaults": {"sampler": {"options": {"step_size": 2.0, "noise_scale": 0.01, "threshold": 0.01}}},
        "ablation": {"dataset": "rings", "sampler": "stanley", "seeds": [0, 1], **spec},
    }


def two_sets(**blocks):
    """The rings and a stand-in image set, STANLEY's two readings on the images; ``blocks``: the ablation."""
    base = suite()
    base.pop("ablation")
    return {**base, "datasets": ["rings", "shapes"], "samplers_per_dataset": {"shapes": ["stanley", "stanley_code", "langevin"]},
            "per_dataset": {"shapes": IMAGE}, "ablation": blocks}


def test_one_switch_at_a_time():
    switches = {"norm": ["coordinate", "sample"], "noise_power": [1.0], "drift": ["unscaled"], "refresh": ["iteration"]}
    variants = ablation.variants(suite(switches=switches))["rings"]
    assert sorted(variants) == ["drift=unscaled", "noise_power=1", "norm=sample", "refresh=iteration"]  # coordinate is the paper's
    paper = config.resolve_run(suite(), "rings", "stanley", 0)
    for name, runs in variants.items():
        assert sorted(runs) == [0, 1]
        options = {**samplers.OPTIONS["stanley"], **runs[0]["sampler"]["options"]}
        before = {**samplers.OPTIONS["stanley"], **paper["sampler"]["options"]}
        changed = {k for k in ablation.SWITCHES if options[k] != before[k]}
        assert len(changed) == 1 and name.startswith(changed.pop())
        assert ablation.variant_of(runs[0]) == name  # the label is derived back from the config
    assert ablation.variant_of(paper) == ablation.PAPER


def test_the_single_block_keeps_its_variants():
    """Written down from the single-block ablation before data sets could be listed: the same
    names, seeds and sampler blocks; and the per-data-set spelling gives the same runs."""
    switches = {"norm": ["coordinate", "sample"], "noise_power": [1.0], "drift": ["unscaled"], "refresh": ["iteration"]}
    shared = {"step_size": 2.0, "noise_scale": 0.01, "threshold": 0.01, "norm": "coordinate", "noise_power": 0.5,
              "drift": "scaled", "refresh": "step"}
    before = {"norm=sample": {"norm": "sample"}, "noise_power=1": {"noise_power": 1.0},
              "drift=unscaled": {"drift": "unscaled"}, "refresh=iteration": {"refresh": "iteration"}}
    single = ablation.variants(suite(switches=switches))
    assert list(single) == ["rings"] and list(single["rings"]) == list(before)
    for name, runs in single["rings"].items():
        assert list(runs) == [0, 1]
        for seed, run in runs.items():
            assert run["sampler"] == {"name": "stanley", "options": {**shared, **before[name]}} and run["seed"] == seed
    per_dataset = suite()
    per_dataset["ablation"] = {"rings": {"sampler": "stanley", "seeds": [0, 1], "switches": switches}}
    assert ablation.variants(per_dataset) == single
    assert ablation.check(per_dataset) == ablation.check(suite(switches=switches))


def flat_options(run):
    """Every key of a run config, the sampler's options as the kernel takes them (pins and defaults in)."""
    effective = options.check_sampler(run["sampler"]["name"], run["sampler"]["options"])
    return config.flatten({**run, "sampler": {"name": run["sampler"]["name"], "options": effective}})


def test_image_variants_are_one_switch_from_the_paper_text():
    code_switches = {k: v for k, v in readings.PINNED["stanley_code"].items() if k != "noise_sd"}
    switches = {**{k: [v] for k, v in code_switches.items()}, "norm": ["pixel", "sample"], "refresh": ["iteration"]}
    spec = two_sets(rings={"switches": {"drift": ["unscaled"]}}, shapes={"seeds": [1], "switches": switches})
    variants = ablation.variants(spec)
    assert list(variants) == ["rings", "shapes"] and list(variants["rings"]) == ["drift=unscaled"]
    assert set(variants["shapes"]) == {"norm=pixel", "norm=sample", "refresh=iteration", "drift=unscaled", "noise_power=1"}
    checked = ablation.check(spec)  # the other readings the matrix runs there, shown beside the variants
    assert checked["shapes"]["readings"] == ["stanley_code"] and checked["rings"]["readings"] == []
    paper = flat_options(config.resolve_run(spec, "shapes", "stanley", 1))
    for name, runs in variants["shapes"].items():
        assert list(runs) == [1]
        run = flat_options(runs[1])
        assert set(run) == set(paper)
        differ = {key for key in paper if run[key] != paper[key]}
        switch = name.split("=")[0]
        assert differ == {f"sampler.options.{switch}"}, (name, differ)
        assert ablation.label(switch, run[f"sampler.options.{switch}"]) == name
    # the authors' code reading is these single switches taken together (and nothing else)
    code = flat_options(config.resolve_run(spec, "shapes", "stanley_code", 1))
    together = {**paper, **{f"sampler.options.{k}": v for k, v in code_switches.items()}}
    assert {k: v for k, v in code.items() if k != "sampler.name"} == {k: v for k, v in together.items() if k != "sampler.name"}


@pytest.mark.parametrize("spec, words", [
    ({"switches": {"nrom": ["sample"]}}, ["nrom", "norm"]),
    ({"switches": {"norm": ["l2"]}}, ["ablation.switches.norm"]),
    ({"sampler": "langevin"}, ["ablation.sampler"]),
    ({"seeds": [7]}, ["ablation.seeds"]),
    ({"dataset": "cifar10"}, ["ablation.dataset"]),
    ({"dataset": ["rings", "cifar10"]}, ["ablation.dataset", "one block per data set"]),
])
def test_bad_ablation_spec_names_the_key(spec, words):
    with pytest.raises(ConfigError) as error:
        ablation.variants(suite(**spec))
    for word in words:
        assert word in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("blocks, words", [
    ({"cifar10": {"switches": {"drift": ["unscaled"]}}}, ["data set in ablation", "cifar10", "shapes"]),
    ({"shape": {"switches": {"drift": ["unscaled"]}}}, ["'shape'", "shapes"]),
    ({"shapes": {"switches": {"norm": ["channel"]}}}, ["ablation.shapes.switches.norm", "pixel"]),
    ({"shapes": {"switches": {"noise_power": [2.0]}}}, ["ablation.shapes.switches.noise_power", "0.5"]),
    ({"shapes": {"sampler": "stanley_mh", "switches": {}}}, ["ablation.shapes.sampler", "run on shapes"]),
    ({"shapes": {"sampler": "stanley_code"}}, ["ablation.shapes.sampler", "stanley or stanley_mh"]),
    ({"shapes": {"seeds": [5]}}, ["ablation.shapes.seeds"]),
    ({"shapes": {"switchs": {}}}, ["ablation.shapes", "switchs"]),
    ({"shapes": ["drift"]}, ["ablation.shapes must be a mapping"]),
    ({"sampler": "stanley", "switches": {}}, ["no dataset"]),
])
def test_bad_per_dataset_ablation_is_one_line(blocks, words):
    with pytest.raises(ConfigError) as error:
        ablation.variants(two_sets(**blocks))
    for word in words:
        assert word in str(error.value), str(error.value)
    assert "\n" not in str(error.value)


def gathered(tmp_path, image: bool):
    """An ablation's gathered tables as `stanley tables` writes them: two seeds per reading, the
    movement logged at two iterations (the last one counts) and the final metric; the matrix's run
    of another reading is labelled "paper" there (its switches are its sampler's own)."""
    from stanley.plumbing.rundir import Tables

    reading = "stanley_code" if image else "stanley_toy"
    moved = {("stanley", "paper"): (0.010, 0.014), ("stanley", "drift=unscaled"): (1.4, 1.6),
             (reading, "paper"): (2.0, 2.0)}  # each seed's last movement
    metrics, scores = [], []
    for (sampler, variant), last in moved.items():
        for seed, value in enumerate(last):
            keys = {"dataset": "shapes" if image else "rings", "sampler": sampler, "variant": variant, "seed": seed}
            metrics += [{**keys, "iteration": 10, "movement": 99.0}, {**keys, "iteration": 20, "movement": value}]
            score = 300.0 + 10 * seed - (100 if (sampler, variant) != ("stanley", "paper") else 0)
            scores += [{**keys, "iteration": 20, "fid": score, "protocol": "proxy"} if image else
                       {**keys, "iteration": 20, "kl": 1.0, "tv": 0.5, "sliced_w2": score / 1000}]
    tables = Tables(tmp_path)
    pd.DataFrame(metrics).to_csv(tables.table("metrics"), index=False)
    pd.DataFrame(scores).to_csv(tables.table("fid" if image else "eval"), index=False)
    return tables


@pytest.mark.parametrize("image", [True, False])
def test_the_ablation_table_shows_movement_and_the_final_metric_beside_the_paper(tmp_path, image):
    from stanley.presentation import ablation as shown, figures
    from stanley.presentation.formatting import plus_minus

    summary = shown.summary(shown.finals(gathered(tmp_path, image)), figures.display)
    rows = summary["rows"].set_index("reading")
    label = "STANLEY (authors' image code)" if image else "STANLEY (authors' toy script)"
    # the reference first, then the other reading (its switches together), then the variants
    assert list(rows.index) == ["paper (the matrix's runs)", f"{label}, every option it pins at once (the matrix's runs)",
                                "drift=unscaled"]
    assert list(rows["seeds"]) == [2, 2, 2]
    movement = rows[shown.MOVEMENT]
    assert movement.iloc[0] == plus_minus(0.012, np.std([0.010, 0.014], ddof=1), "movement")  # the last logged
    assert movement.iloc[1] == "2.0 \u00b1 0.0 (+2.0)"
    assert movement.iloc[2] == plus_minus(1.5, np.std([1.4, 1.6], ddof=1), "movement") + " (+1.5)"
    metric = "FID (proxy)" if image else "sliced W2"
    assert metric in rows and rows[metric].iloc[2].endswith("(\u2212100)" if image else "(\u22120.100)")
    assert summary["proxy"] is image and summary["iteration"] == 20


def test_the_ablation_figure_draws_every_reading(tmp_path, monkeypatch):
    from stanley.presentation import figures

    drawn = []
    monkeypatch.setattr(figures, "write_figure", lambda out, fig: drawn.append(fig))
    figures.ablation([str(gathered(tmp_path, image=True).path)], tmp_path / "ablation.png")
    movement, fid = drawn[0].axes
    assert movement.get_title() == "movement per coordinate" and fid.get_title() == "FID (proxy)"
    labels = [t.get_text() for t in movement.get_yticklabels()]  # shared by the panels
    assert labels == ["paper", "STANLEY (authors' image code)", "drift=unscaled"]
    assert movement.get_xscale() == "log"  # 0.01 to 1.6 spans two decades


def test_a_run_that_diverged_is_counted_and_its_last_values_shown(tmp_path):
    from stanley.presentation import ablation as shown, figures
    from stanley.presentation.formatting import plus_minus

    tables = gathered(tmp_path, image=True)
    metrics = pd.read_csv(tables.table("metrics"))
    stopped = (metrics["variant"] == "drift=unscaled") & (metrics["seed"] == 1)
    metrics[~(stopped & (metrics["iteration"] == 20))].to_csv(tables.table("metrics"), index=False)
    status = metrics[["dataset", "sampler", "variant", "seed"]].drop_duplicates().assign(status="completed")
    status.loc[(status["variant"] == "drift=unscaled") & (status["seed"] == 1), "status"] = "diverged at iteration 11"
    status.to_csv(tables.table("provenance"), index=False)
    rows = shown.summary(shown.finals(tables), figures.display)["rows"].set_index("reading")
    assert rows.loc["drift=unscaled", "runs diverged"] == 1 and rows["runs diverged"].sum() == 1
    assert rows.loc["drift=unscaled", "last iteration"] == "10\u201320"
    assert rows.loc["paper (the matrix's runs)", "last iteration"] == "20"
    assert rows.loc["drift=unscaled", shown.MOVEMENT].startswith(plus_minus(50.2, np.std([1.4, 99.0], ddof=1), "movement"))

"""Configs: every bad key or value stops with one clear line naming it, before any work."""

from __future__ import annotations

import copy

import pytest

from conftest import ROOT, small_run, stanley
from stanley.experiment import config
from stanley.errors import ConfigError


def suite(**changes) -> dict:
    base = {
        "datasets": ["rings"], "samplers": ["stanley", "langevin", "hmc", "gd"], "seeds": [0, 1],
        "defaults": {"sampler": {"options": {"step_size": 2.0, "noise_scale": 0.01, "threshold": 0.01,
                                             "leapfrog": 5}}},
    }
    return {**base, **changes}


@pytest.mark.parametrize("fragment, words", [
    ({"training": {"iteratons": 5}}, ["iteratons", "did you mean 'iterations'"]),
    ({"trainig": {}}, ["trainig", "training"]),
    ({"training": {"lr": "fast"}}, ["training.lr", "finite number > 0"]),
    ({"training": {"lr": -1.0}}, ["training.lr", "> 0"]),
    ({"training": {"iterations": 2.5}}, ["training.iterations", "integer"]),
    ({"training": {"init": "zeros"}}, ["training.init", "gaussian, uniform, persistent"]),
    ({"training": {"betas": [0.9]}}, ["training.betas"]),
    ({"device": "tpu"}, ["device", "auto, cpu, cuda"]),
    ({"sampler": {"name": "stanly"}}, ["sampler.name", "stanley"]),
    ({"sampler": {"options": {"thresold": 1}}}, ["thresold", "threshold"]),
    ({"sampler": {"options": {"norm": "l1"}}}, ["norm", "coordinate, sample, pixel"]),
    ({"sampler": {"options": {"step_size": 0.1}}, "evaluation": {"temperature": 0}},
     ["evaluation.temperature", "> 0"]),
])
def test_bad_run_config_names_the_key(fragment, words):
    with pytest.raises(ConfigError) as error:
        config.complete_run(config.deep_merge(small_run(), fragment))
    message = str(error.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_hmc_budget_must_be_whole_transitions():
    run = small_run(mcmc_steps=100)
    run["sampler"] = {"name": "hmc", "options": {"step_size": 0.1, "noise_scale": 1.0, "leapfrog": 3}}
    with pytest.raises(ConfigError, match="mcmc_steps.*leapfrog"):
        config.complete_run(run)


def test_noise_free_sampler_needs_an_explicit_temperature():
    run = small_run()
    run["sampler"] = {"name": "gd", "options": {"step_size": 2.0}}
    with pytest.raises(ConfigError, match="evaluation.temperature"):
        config.complete_run(run)
    run["evaluation"]["temperature"] = 1e-4
    assert config.complete_run(run)["evaluation"]["temperature"] == 1e-4


def test_complete_run_fills_defaults_and_temperature():
    run = config.complete_run(small_run())
    assert run["training"]["batch_size"] == config.RUN_DEFAULTS["training"]["batch_size"]
    assert run["evaluation"]["temperature"] == pytest.approx(0.0070710678**2)


def test_suite_pool_gives_each_sampler_its_own_options():
    s = suite(per_sampler={"hmc": {"training": {"mcmc_steps": 50}}})
    runs = {(d, n, seed): run for d, n, seed, run in config.suite_runs(s)}
    assert len(runs) == 8
    assert "threshold" in runs["rings", "stanley", 0]["sampler"]["options"]
    assert "threshold" not in runs["rings", "langevin", 0]["sampler"]["options"]
    assert runs["rings", "gd", 0]["sampler"]["options"] == {"step_size": 2.0}
    assert runs["rings", "hmc", 1]["training"]["mcmc_steps"] == 50
    # one evaluation temperature for every sampler of a cell, gd included
    assert runs["rings", "gd", 0]["evaluation"]["temperature"] == runs["rings", "stanley", 0]["evaluation"]["temperature"]


@pytest.mark.parametrize("changes, words", [
    ({"samplers": ["stanley", "mhc"]}, ["mhc", "hmc"]),
    ({"seeds": []}, ["seeds", "non-empty"]),
    ({"per_dataset": {"cifar": {}}}, ["per_dataset", "cifar"]),
    ({"sead": 1}, ["sead", "seeds"]),
    ({"defaults": {"training": {"batch": 3}}}, ["defaults.training", "batch_size"]),
])
def test_bad_suite_names_the_key(changes, words):
    with pytest.raises(ConfigError) as error:
        list(config.suite_runs(suite(**changes)))
    for word in words:
        assert word in str(error.value)


def test_shipped_configs_are_valid():
    default = config.load_yaml(ROOT / "workflow/config/config.yaml")
    smoke = config.load_yaml(ROOT / "workflow/config/smoke.yaml")
    for suite in (default, smoke):  # as the workflow does: each image set's FID statistics file
        for name in set(suite["datasets"]) & {"cifar10", "flowers102", "celeba", "shapes"}:
            own = suite["per_dataset"][name]
            own["fid"] = {**own["fid"], "reference": f"results/reference/{name}.npz"}
    # rings x 7 samplers (STANLEY's paper and toy-script readings) x 3 seeds + 3 image sets x 6 (its paper
    # and image-code readings) x 3; smoke: rings x 7 x 2 seeds + shapes x 6 x 2
    assert len(list(config.suite_runs(default))) == 75
    assert len(list(config.suite_runs(smoke))) == 26
    for suite in (default, smoke):
        for dataset in suite["datasets"]:
            names = config.samplers_of(suite, dataset)
            assert ("stanley_code" in names) == (dataset != "rings") and ("stanley_toy" in names) == (dataset == "rings")


def test_config_hash_changes_with_any_value():
    run = config.complete_run(small_run())
    other = copy.deepcopy(run)
    other["training"]["lr"] *= 2
    assert config.config_hash(run) != config.config_hash(other)
    assert config.config_hash(run) == config.config_hash(copy.deepcopy(run))


def test_cli_bad_config_is_one_line_and_exit_2(write_config, tmp_path):
    path = write_config(config.deep_merge(small_run(), {"training": {"optimiser": "adam"}}))
    result = stanley("train", "--config", str(path), "--out", str(tmp_path / "out"), check=False)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "optimiser" in result.stderr and "optimizer" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()  # nothing started


def test_cli_missing_and_invalid_yaml(tmp_path):
    result = stanley("train", "--config", str(tmp_path / "nope.yaml"), "--out", str(tmp_path), check=False)
    assert result.returncode == 2 and "does not exist" in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("training: [unclosed\n")
    result = stanley("train", "--config", str(bad), "--out", str(tmp_path), check=False)
    assert result.returncode == 2 and "not valid YAML" in result.stderr


def test_samplers_per_dataset_gives_a_data_set_its_own_samplers():
    s = suite(datasets=["rings", "gmm"], samplers_per_dataset={"gmm": ["stanley_mh", "langevin"]},
              per_sampler={"stanley_mh": {"training": {"mcmc_steps": 20}}})
    runs = {(d, n, seed): run for d, n, seed, run in config.suite_runs(s)}
    assert len(runs) == 4 * 2 + 2 * 2
    assert {n for d, n, _ in runs if d == "gmm"} == {"stanley_mh", "langevin"}
    assert {n for d, n, _ in runs if d == "rings"} == {"stanley", "langevin", "hmc", "gd"}
    assert runs["gmm", "stanley_mh", 0]["training"]["mcmc_steps"] == 20  # per_sampler may name it
    assert config.samplers_of(s, "rings") == s["samplers"]


@pytest.mark.parametrize("changes, words", [
    ({"samplers_per_dataset": {"cifar": ["stanley"]}}, ["samplers_per_dataset", "cifar", "rings"]),
    ({"samplers_per_dataset": {"rings": []}}, ["samplers_per_dataset.rings", "non-empty"]),
    ({"samplers_per_dataset": {"rings": ["stanly"]}}, ["samplers_per_dataset.rings", "stanly", "stanley"]),
    ({"samplers_per_dataset": ["rings"]}, ["samplers_per_dataset", "map"]),
    ({"per_sampler": {"mala": {}}}, ["per_sampler", "mala"]),
    ({"data_root": ""}, ["data_root"]),
])
def test_bad_suite_matrix_extension_names_the_key(changes, words):
    with pytest.raises(ConfigError) as error:
        list(config.suite_runs(suite(**changes)))
    for word in words:
        assert word in str(error.value)


def test_data_root_sets_every_run_data_root_but_a_data_set_own_wins():
    s = suite(datasets=["rings", "gmm"], data_root="/scratch/data", per_dataset={"gmm": {"data": {"root": "mine"}}})
    runs = {(d, n, seed): run for d, n, seed, run in config.suite_runs(s)}
    assert runs["rings", "stanley", 0]["data"]["root"] == "/scratch/data"
    assert runs["gmm", "stanley", 0]["data"]["root"] == "mine"


"""The evaluation schedule: decided once from the run config, one end rule, and each output's
period independent of the others (changing fid.every moves FID rows only, never the snapshots)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import small_run
from stanley.errors import ConfigError
from stanley.experiment import config
from stanley.learning import training
from stanley.learning.schedule import KINDS, Schedule


def run_with(**blocks) -> dict:
    fragment = {"training": {"iterations": 25, "log_every": 4, "checkpoint_every": 10},
                "evaluation": {"every": 10}, "fid": {"every": 8}}
    for block, values in blocks.items():
        fragment[block] = {**fragment.get(block, {}), **values}
    return fragment  # only the keys Schedule.of reads, and their defaults below


def schedule(**blocks) -> Schedule:
    fragment = run_with(**blocks)
    fragment["evaluation"].setdefault("snapshot_every", None)
    return Schedule.of(fragment)


def test_the_schedule_of_a_config_by_hand():
    s = schedule()
    assert s.iterations_of("metrics") == [4, 8, 12, 16, 20, 24, 25]  # the last iteration always, 0 never
    assert s.iterations_of("eval") == [0, 10, 20, 25]  # the untrained model too
    assert s.iterations_of("snapshot") == [0, 10, 20, 25]  # by default one with each evaluation
    assert s.iterations_of("fid") == [8, 16, 24, 25]
    assert s.iterations_of("checkpoint") == [10, 20, 25]
    assert schedule(evaluation={"snapshot_every": 6}).iterations_of("snapshot") == [0, 6, 12, 18, 24, 25]
    assert schedule(fid={"every": 0}).iterations_of("fid") == []  # FID off
    assert schedule(training={"iterations": 20}).iterations_of("eval") == [0, 10, 20]  # no double end
    for iteration in range(-1, 27):  # due() and iterations_of() are one rule
        assert s.due(iteration) == {kind for kind in KINDS if iteration in s.iterations_of(kind)}


def test_changing_fid_every_changes_only_the_fid_rows():
    base = schedule()
    for every in (1, 5, 8, 25, 0):
        other = schedule(fid={"every": every})
        for kind in ("metrics", "eval", "snapshot", "checkpoint"):
            assert other.iterations_of(kind) == base.iterations_of(kind)


@pytest.mark.parametrize("value, words", [(0, "snapshot_every must be"), ("often", "snapshot_every must be"),
                                          (2.5, "snapshot_every must be")])
def test_a_bad_snapshot_period_is_one_clear_error(value, words):
    with pytest.raises(ConfigError, match=words):
        config.complete_run({"evaluation": {"snapshot_every": value}})


def toy(**evaluation) -> dict:
    return config.complete_run(config.deep_merge(
        small_run("langevin", iterations=22, mcmc_steps=10, log_every=5, checkpoint_every=10),
        {"evaluation": {"every": 10, "grid_size": 16, "n_samples": 100, "projections": 8, **evaluation}}))


def test_a_toy_run_writes_what_its_schedule_says_and_snapshots_move_nothing_else(tmp_path):
    plain, often = toy(), toy(snapshot_every=4)
    training.train(plain, tmp_path / "plain", progress=False)
    training.train(often, tmp_path / "often", progress=False)
    s = Schedule.of(often)
    metrics = pd.read_csv(tmp_path / "often/metrics.csv")
    assert list(metrics["iteration"]) == s.iterations_of("metrics") == [5, 10, 15, 20, 22]
    assert list(pd.read_csv(tmp_path / "often/eval.csv")["iteration"]) == s.iterations_of("eval") == [0, 10, 20, 22]
    assert sorted(torch.load(tmp_path / "often/energies.pt")) == s.iterations_of("eval")
    a, b = np.load(tmp_path / "plain/samples.npz"), np.load(tmp_path / "often/samples.npz")
    assert list(b["snapshot_iterations"]) == s.iterations_of("snapshot") == [0, 4, 8, 12, 16, 20, 22]
    assert list(a["snapshot_iterations"]) == [0, 10, 20, 22]
    # evaluation draws its own randomness: the training and its tables are the same, and so are
    # the snapshots both runs took
    for name in ("metrics.csv", "eval.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "plain" / name).drop(columns="wall_time", errors="ignore"),
                                      pd.read_csv(tmp_path / "often" / name).drop(columns="wall_time", errors="ignore"))
    ia, ib = list(a["snapshot_iterations"]), list(b["snapshot_iterations"])
    shared = sorted(set(ia) & set(ib))
    assert shared == [0, 20, 22]
    for key in ("snapshot_samples", "snapshot_log_density"):
        np.testing.assert_array_equal(b[key][[ib.index(i) for i in shared]], a[key][[ia.index(i) for i in shared]])
    np.testing.assert_array_equal(a["samples"], b["samples"])


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    from stanley.images import fid

    path = tmp_path_factory.mktemp("reference") / "shapes.npz"
    return fid.reference_stats("shapes", fid.feature_extractor(proxy=True), path, image_size=32, limit=100, seed=7)


def image(reference, fid_every: int) -> dict:
    return config.complete_run({
        "device": "cpu", "data": {"name": "shapes", "image_size": 32, "limit": 100, "noise": 0.03},
        "model": {"name": "convnet", "options": {"n_f": 4}}, "sampler": {"name": "langevin"},
        "training": {"iterations": 12, "batch_size": 4, "n_chains": 4, "mcmc_steps": 3, "init": "uniform",
                     "init_scale": 1.0, "log_every": 3, "checkpoint_every": 6},
        "evaluation": {"every": 6},
        "fid": {"every": fid_every, "n_samples": 20, "batch_size": 10, "proxy": True, "reference": str(reference)}})


def test_changing_fid_every_leaves_the_snapshots_of_an_image_run_alone(tmp_path, reference):
    """Figures 2 and 3 show the snapshots: FID every 4 or every 5 iterations, the same snapshots."""
    outs = {every: tmp_path / f"fid{every}" for every in (4, 5)}
    for every, out in outs.items():
        training.train(image(reference, every), out, progress=False)
    a, b = (np.load(out / "samples.npz") for out in outs.values())
    assert list(a["snapshot_iterations"]) == list(b["snapshot_iterations"]) == [0, 6, 12]
    for key in a.files:
        np.testing.assert_array_equal(a[key], b[key])
    for name in ("metrics.csv", "eval.csv"):
        pd.testing.assert_frame_equal(*(pd.read_csv(out / name).drop(columns="wall_time", errors="ignore")
                                        for out in outs.values()))
    fids = {every: pd.read_csv(out / "fid.csv").set_index("iteration") for every, out in outs.items()}
    assert list(fids[4].index) == [4, 8, 12] and list(fids[5].index) == [5, 10, 12]
    assert fids[4].loc[12, "fid"] == fids[5].loc[12, "fid"]  # the same model, its own stream: the same FID

"""Algorithm 1 on the rings: it learns, and a killed run resumes to the same tables."""

from __future__ import annotations

import signal
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import BIN, assert_same_run, small_run, stanley, tables_without_wall_time
from stanley.experiment import config
from stanley.learning import record, training


@pytest.mark.parametrize("sampler", ["stanley", "langevin"])
def test_short_training_lowers_kl_and_sample_distance(tmp_path, sampler):
    run = config.complete_run(config.deep_merge(small_run(sampler, iterations=150, mcmc_steps=50),
                                                {"evaluation": {"every": 150}}))
    training.train(run, tmp_path, progress=False)
    evals = pd.read_csv(tmp_path / "eval.csv").set_index("iteration")
    assert list(evals.index) == [0, 150]
    assert evals.loc[150, "kl"] < 0.5 * evals.loc[0, "kl"]
    assert evals.loc[150, "sliced_w2"] < evals.loc[0, "sliced_w2"]


def test_outputs_and_tables(tmp_path):
    run = config.complete_run(small_run())
    training.train(run, tmp_path, progress=False)
    metrics = pd.read_csv(tmp_path / "metrics.csv")
    assert list(metrics["iteration"]) == [10, 20, 30, 40, 50, 60]
    assert {"energy_diff", "grad_norm", "gamma_mean", "gamma_min", "wall_time"} <= set(metrics.columns)
    assert metrics["gamma_min"].between(0, 1).all()
    assert list(pd.read_csv(tmp_path / "eval.csv")["iteration"]) == [0, 30, 60]
    samples = np.load(tmp_path / "samples.npz")
    assert samples["snapshot_log_density"].shape == (3, 64, 64)
    assert samples["samples"].shape == (300, 2)
    # the grid density is normalised
    cell = (2 * float(samples["grid_extent"]) / 64) ** 2
    masses = np.exp(samples["snapshot_log_density"].astype(np.float64)).sum(axis=(1, 2)) * cell
    np.testing.assert_allclose(masses, 1.0, rtol=1e-4)
    energies = torch.load(tmp_path / "energies.pt")
    assert sorted(energies) == [0, 30, 60]
    assert (tmp_path / "provenance.json").is_file() and (tmp_path / "config.yaml").is_file()


@pytest.mark.parametrize("options", [
    {"training": {"init": "persistent", "persistent_size": 500, "optimizer": "sgd", "lr": 1e-4, "momentum": 0.9}},
    {"training": {"init": "uniform"}, "data": {"noise": 0.03}},
])
@pytest.mark.parametrize("sampler", ["stanley", "hmc"])
def test_training_variants_run(tmp_path, options, sampler):
    fragment = config.deep_merge(small_run(sampler, iterations=20, mcmc_steps=40), options)
    training.train(config.complete_run(fragment), tmp_path, progress=False)
    assert len(pd.read_csv(tmp_path / "metrics.csv")) == 2


def test_rerun_of_finished_run_keeps_tables(tmp_path):
    run = config.complete_run(small_run(iterations=20))
    training.train(run, tmp_path, progress=False)
    first = tables_without_wall_time(tmp_path)
    training.train(run, tmp_path, progress=False)
    for name, table in tables_without_wall_time(tmp_path).items():
        pd.testing.assert_frame_equal(table, first[name])


@pytest.mark.slow
def test_killed_run_resumes_to_identical_tables(tmp_path, write_config):
    path = write_config(small_run(iterations=80))
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    stanley("train", "--config", str(path), "--out", str(whole), "--threads", "1", "--no-progress")

    process = subprocess.Popen([str(BIN / "stanley"), "train", "--config", str(path), "--out", str(killed),
                                "--threads", "1", "--no-progress"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not list((killed / "checkpoints").glob("ckpt_*.pt")) and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert list((killed / "checkpoints").glob("ckpt_*.pt")), "no checkpoint was written before the kill"
    assert not (killed / "metrics.csv").exists()  # killed mid-run: no table yet

    result = stanley("train", "--config", str(path), "--out", str(killed), "--threads", "1", "--no-progress")
    assert "resuming from iteration" in result.stderr
    assert_same_run(whole, killed)


def test_corrupt_checkpoint_is_set_aside(tmp_path):
    run = config.complete_run(small_run(iterations=40))
    training.train(run, tmp_path, progress=False)
    checkpoints = sorted((tmp_path / "checkpoints").glob("ckpt_*.pt"))
    newest = checkpoints[-1]
    newest.write_bytes(newest.read_bytes()[:100])  # truncated
    messages = []
    trainer = training.Trainer(run, tmp_path, progress=False, log=messages.append)
    payload = trainer.checkpoints.load_latest()
    assert payload["iteration"] == 20
    assert any("set aside" in m for m in messages)
    assert newest.with_suffix(".pt.bad").exists()


def test_divergence_stops_cleanly_and_is_recorded(tmp_path):
    run = config.complete_run(config.deep_merge(small_run(iterations=30), {"training": {"divergence_bound": 1e-12}}))
    training.train(run, tmp_path, progress=False)  # returns normally: a diverged run is a result
    provenance = pd.read_json(tmp_path / "provenance.json", typ="series")
    assert provenance["status"] == "diverged at iteration 1"
    assert len(pd.read_csv(tmp_path / "metrics.csv")) == 0  # no good iteration to record


def test_non_finite_loss_keeps_last_good_metrics(tmp_path, monkeypatch):
    original = training.Trainer.step

    def step(self):
        values = original(self)
        if self.iteration == 14:  # the 15th iteration blows up
            values["loss"] = values["loss"] * float("nan")
        return values

    monkeypatch.setattr(training.Trainer, "step", step)
    run = config.complete_run(small_run(iterations=40))
    training.train(run, tmp_path, progress=False)
    metrics = pd.read_csv(tmp_path / "metrics.csv")
    assert list(metrics["iteration"]) == [10, 14]  # the last good iteration is kept
    assert metrics.notna().all().all()
    assert pd.read_json(tmp_path / "provenance.json", typ="series")["status"] == "diverged at iteration 15"


def test_unwritable_run_directory_is_a_clear_error(tmp_path, write_config):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = stanley("train", "--config", str(write_config(small_run())), "--out", str(blocker / "run"), check=False)
    assert result.returncode == 2
    assert "cannot write to the run directory" in result.stderr and "Traceback" not in result.stderr


def test_full_disk_during_outputs_leaves_no_torn_file(tmp_path, monkeypatch):
    import errno

    run = config.complete_run(small_run(iterations=20))
    training.train(run, tmp_path, progress=False)
    before = (tmp_path / "eval.csv").read_bytes()

    def full(path, frame):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(record, "write_csv", full)
    with pytest.raises(OSError):
        training.train(run, tmp_path, progress=False)
    assert (tmp_path / "eval.csv").read_bytes() == before  # the old complete file, untouched
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary left behind


@pytest.mark.parametrize("sampler", ["stanley", "stanley_toy", "gd"])
def test_movement_is_the_mean_distance_of_the_sampling_call(tmp_path, sampler):
    """metrics.csv's movement is mean |z_K - z_0| of the iteration's chains, replayed here apart
    from the trainer: the same starts and noise, a copy of the network before its update."""
    import copy

    from stanley.sampling import samplers

    run = config.complete_run(config.deep_merge(small_run(sampler, iterations=1, mcmc_steps=20),
                                                {"evaluation": {"temperature": 1e-4}}))
    trainer = training.Trainer(run, tmp_path, progress=False)
    net, state = copy.deepcopy(trainer.learner.net), trainer.learner.chain_generator.get_state()
    values = trainer.step()
    replay = torch.Generator().set_state(state)
    z0 = trainer.learner.chains.draw(replay)
    kernel = samplers.get(sampler, net, **run["sampler"]["options"])
    final, _ = samplers.sample(kernel, z0, run["training"]["mcmc_steps"], replay)
    expected = (final.z - z0).abs().mean()
    assert float(expected) > 0
    torch.testing.assert_close(values["movement"], expected)
    assert record.metrics_row(values, 1, 0.0)["movement"] == pytest.approx(float(expected))


def test_eval_records_the_sliced_w2_noise_floor(tmp_path):
    """The floor is the distance between two exact sample sets of the evaluation's size: it
    shrinks as the size grows (about as 1/sqrt(n))."""
    floors = []
    for n in (300, 4800):
        run = config.complete_run(config.deep_merge(small_run(iterations=1, mcmc_steps=10),
                                                    {"evaluation": {"every": 1, "n_samples": n}}))
        training.train(run, tmp_path / str(n), progress=False)
        evals = pd.read_csv(tmp_path / str(n) / "eval.csv")
        assert evals["sliced_w2_floor"].nunique() == 1
        floors.append(evals["sliced_w2_floor"].iloc[0])
    assert 0 < floors[1] < 0.5 * floors[0]


@pytest.mark.parametrize("sampler", ["gd", "langevin"])
def test_toy_evaluation_in_cpu_blocks_keeps_the_stream_and_the_law(tmp_path, monkeypatch, sampler):
    """The CPU evaluation samples its chains in cache-sized blocks. One block is the plain
    sampler call on the evaluation's stream (so every run evaluated on fewer chains than a block
    keeps its numbers). Smaller blocks change only which noise each chain draws: with the
    noise-free kernel (gd) the end points are the plain call's to float rounding; with Langevin
    their law is (two-sample KS per coordinate against the plain call)."""
    from scipy import stats

    from stanley.learning import evaluators
    from stanley.sampling import samplers

    n, steps = 4000, 20
    run = config.complete_run(config.deep_merge(small_run(sampler, iterations=1, mcmc_steps=steps),
                                                {"evaluation": {"n_samples": n, "temperature": 1.0}}))
    trainer = training.Trainer(run, tmp_path, progress=False)
    for _ in range(30):  # a model that has moved off its initial weights
        trainer.learner()
    monkeypatch.setattr(evaluators, "SNAPSHOT_SAMPLES", n)

    def evaluated(block: int) -> np.ndarray:
        monkeypatch.setattr(evaluators, "CPU_CHAIN_BLOCK", block)
        return trainer.evaluation(trainer.learner, 7, row=False, snapshot=True)[1]["samples"]

    generator = evaluators.eval_generator(run, torch.device("cpu"), 7)
    z0 = trainer.learner.chains.noise(n, generator)
    plain = samplers.sample(trainer.learner.eval_kernel, z0, steps, generator)[0].z.numpy()
    np.testing.assert_array_equal(evaluated(n), plain)
    blocked = evaluated(500)
    assert np.abs(plain - z0.numpy()).mean() > 1e-3  # the chains moved
    if sampler == "gd":
        np.testing.assert_allclose(blocked, plain, rtol=1e-5, atol=1e-6)
    else:
        assert not np.array_equal(blocked, plain)
        for axis in range(2):
            assert stats.ks_2samp(blocked[:, axis], plain[:, axis]).pvalue > 1e-3

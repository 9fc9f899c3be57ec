"""Batched toy runs (stanley.learning.batched) give each run the tables its solo run gives.

The oracle is the solo path (``training.train``, one run per process), run here beside the
batch from the same configs: every sampler, a batch mixing samplers, options and lengths,
a batch interrupted and resumed, and the ``stanley train-batch`` command.
"""

from __future__ import annotations

import signal
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import BIN, small_run, stanley, tables_without_wall_time
from stanley.learning import batched, training
from stanley.experiment import config
from stanley.sampling import samplers
from stanley.errors import ConfigError
from stanley.learning.models import ToyNet, ToyNetStack

TOL = {"rtol": 1e-5, "atol": 1e-6}  # float rounding (on this machine the two paths agree to the last bit or two)


def tiny(sampler: str, seed: int = 0, **training_options) -> dict:
    evaluation = {"every": 10, "grid_size": 24, "n_samples": 150, "projections": 16}
    if sampler == "gd":  # no noise_scale to take the density temperature from
        evaluation["temperature"] = 1.0
    fragment = config.deep_merge(small_run(sampler, **{"iterations": 20, "mcmc_steps": 20, **training_options}),
                                 {"seed": seed, "evaluation": evaluation})
    return config.complete_run(fragment)


def assert_close_runs(solo, batch) -> None:
    """Same tables (wall time aside) and samples, to float tolerance."""
    expected = tables_without_wall_time(solo)
    for name, table in tables_without_wall_time(batch).items():
        pd.testing.assert_frame_equal(table, expected[name], check_exact=False, **TOL)
    a, b = np.load(solo / "samples.npz"), np.load(batch / "samples.npz")
    assert a.files == b.files
    for key in a.files:
        np.testing.assert_allclose(b[key], a[key], **TOL)
    assert pd.read_json(batch / "provenance.json", typ="series")["status"] == "completed"


def solo_dirs(runs, root):
    outs = []
    for i, run in enumerate(runs):
        outs.append(root / f"solo{i}")
        training.train(run, outs[-1], progress=False)
    return outs


def test_stack_is_each_net_side_by_side():
    nets = []
    for seed in range(3):
        torch.manual_seed(seed)
        nets.append(ToyNet())
    stack = ToyNetStack(nets)
    stack.refresh()
    z = 3 * torch.randn(3 * 50, 2, generator=torch.Generator().manual_seed(0))
    f, g = stack.value_and_grad(z)
    for r, net in enumerate(nets):
        block = z[50 * r:50 * (r + 1)].clone().requires_grad_(True)
        (oracle,) = torch.autograd.grad(net(block).sum(), block)  # autograd, not the hand-written gradient
        torch.testing.assert_close(f[50 * r:50 * (r + 1)], net(block).detach())
        torch.testing.assert_close(g[50 * r:50 * (r + 1)], oracle)
    with pytest.raises(Exception, match="one architecture"):
        ToyNetStack([ToyNet(), ToyNet(widths=(8,))])


def test_streams_draw_each_runs_own_numbers():
    streams = batched.RunStreams([torch.Generator().manual_seed(s) for s in (5, 6, 7)])
    like = torch.empty(3 * 40, 2)
    normal, uniform = streams.normal(like), streams.uniform(like[:, 0])
    for r, seed in enumerate((5, 6, 7)):
        generator = torch.Generator().manual_seed(seed)
        assert torch.equal(normal[40 * r:40 * (r + 1)], torch.randn(40, 2, generator=generator))
        assert torch.equal(uniform[40 * r:40 * (r + 1)], torch.rand(40, generator=generator))


@pytest.mark.parametrize("sampler", samplers.NAMES)
def test_batched_runs_equal_their_solo_runs(tmp_path, sampler):
    runs = [tiny(sampler, seed) for seed in (0, 1)]
    solo = solo_dirs(runs, tmp_path)
    outs = [tmp_path / f"batch{i}" for i in range(len(runs))]
    batch = batched.BatchTrainer(list(zip(runs, outs)))
    assert len(batch.groups) == 1  # one stacked computation
    batch.train()
    for a, b in zip(solo, outs):
        assert_close_runs(a, b)


def test_mixed_batch_groups_by_sampler_and_options_and_runs_of_other_lengths(tmp_path):
    runs = [tiny("stanley", 0), config.complete_run(config.deep_merge(tiny("langevin", 0), {"evaluation": {"snapshot_every": 4}})),
            tiny("stanley", 1, iterations=12),
            config.complete_run(config.deep_merge(tiny("stanley", 2), {"sampler": {"options": {"threshold": 0.1}}})),
            tiny("mala", 3, persistent_size=200, init="persistent")]
    solo = solo_dirs(runs, tmp_path)
    outs = [tmp_path / f"batch{i}" for i in range(len(runs))]
    batch = batched.BatchTrainer(list(zip(runs, outs)))
    assert sorted(len(g.trainers) for g in batch.groups) == [1, 1, 1, 2]
    batch.train()
    for a, b in zip(solo, outs):
        assert_close_runs(a, b)
    assert len(pd.read_csv(outs[2] / "metrics.csv")) == 2  # the shorter run stopped at its own end
    assert list(np.load(outs[1] / "samples.npz")["snapshot_iterations"]) == [0, 4, 8, 12, 16, 20]  # its own schedule


def test_interrupted_batch_resumes_every_run(tmp_path, monkeypatch):
    runs = [tiny("stanley", 0, iterations=30, checkpoint_every=10), tiny("stanley", 1, iterations=40, checkpoint_every=10),
            tiny("hmc", 2, iterations=30, checkpoint_every=10)]
    solo = solo_dirs(runs, tmp_path)
    outs = [tmp_path / f"batch{i}" for i in range(len(runs))]
    original, calls = batched.Group.step, []

    def stop_after(self):
        calls.append(1)
        if len(calls) > 2 * 25:  # two groups: 25 iterations each, past the checkpoints at 10 and 20
            raise KeyboardInterrupt
        original(self)

    monkeypatch.setattr(batched.Group, "step", stop_after)
    with pytest.raises(KeyboardInterrupt):
        batched.train_batch(list(zip(runs, outs)))
    assert not any((out / "metrics.csv").exists() for out in outs)
    monkeypatch.setattr(batched.Group, "step", original)
    messages = []
    batched.BatchTrainer(list(zip(runs, outs)), log=messages.append).train()
    assert sum("resuming from iteration 20" in m for m in messages) == 3
    for a, b in zip(solo, outs):
        assert_close_runs(a, b)
    before = [tables_without_wall_time(out) for out in outs]
    monkeypatch.setattr(batched.Group, "step", lambda self: pytest.fail("a finished batch trained again"))
    batched.train_batch(list(zip(runs, outs)))  # a rerun of the finished batch: same tables, no training
    for out, tables in zip(outs, before):
        for name, table in tables_without_wall_time(out).items():
            pd.testing.assert_frame_equal(table, tables[name])


@pytest.mark.slow
def test_killed_train_batch_command_resumes(tmp_path, write_config):
    runs = [small_run("langevin", iterations=60) | {"seed": seed} for seed in (0, 1)]
    paths = [write_config(run, f"run{i}.yaml") for i, run in enumerate(runs)]
    solo = solo_dirs([config.complete_run(run) for run in runs], tmp_path)
    outs = [tmp_path / f"batch{i}" for i in range(2)]
    args = [arg for path, out in zip(paths, outs) for arg in ("--config", str(path), "--out", str(out))]
    process = subprocess.Popen([str(BIN / "stanley"), "train-batch", *args, "--no-progress"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not all(list((out / "checkpoints").glob("ckpt_*.pt")) for out in outs) and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not any((out / "metrics.csv").exists() for out in outs), "the batch finished before the kill"
    result = stanley("train-batch", *args, "--no-progress")
    assert result.stderr.count("resuming from iteration") == 2
    for a, b in zip(solo, outs):
        assert_close_runs(a, b)


def test_train_batch_rejects_bad_input_before_work(tmp_path, write_config):
    toy = small_run()
    image = config.complete_run({"data": {"name": "shapes", "image_size": 16, "limit": 64}, "model": {"name": "convnet"},
                                 "sampler": {"name": "langevin"}, "evaluation": {"temperature": 1.0}})
    path = write_config(toy)
    result = stanley("train-batch", "--config", str(path), "--config", str(path), "--out", str(tmp_path / "a"),
                     check=False)
    assert result.returncode == 2
    assert "pairs each --config with an --out" in result.stderr and "Traceback" not in result.stderr
    for jobs, message in (([(config.complete_run(toy), tmp_path / "a"), (image, tmp_path / "b")], "only toy runs"),
                          ([(config.complete_run(toy), tmp_path / "a")] * 2, "give each run its own --out")):
        with pytest.raises(ConfigError, match=message):
            batched.BatchTrainer(jobs)
    assert not (tmp_path / "a").exists()  # nothing started

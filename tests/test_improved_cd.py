"""Improved CD (Du et al. 2021): the KL term's gradient, the entropy term, the buffer, EMA, the
multi-scale energy, and the trainer with every component off against the short-run trainer."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from stanley.experiment import config
from stanley.learning import improved_cd, models, training
from stanley.sampling import samplers
from stanley.learning.improved_cd import ImprovedCD, ReplayBuffer, nearest_neighbour_entropy_loss

from conftest import assert_same_run, small_run

ALL_OFF = {"buffer_size": 0, "augment": [], "kl": False, "entropy": False, "multiscale": False, "ema": 0.0}


def tiny_net() -> models.ToyNet:
    torch.manual_seed(3)
    return models.ToyNet(dim=2, widths=(6, 5)).double()


def flat_params(net):
    return torch.cat([p.detach().flatten() for p in net.parameters()])


def set_params(net, vector):
    offset = 0
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(vector[offset:offset + p.numel()].view_as(p))
            offset += p.numel()


@pytest.mark.parametrize("sampler", ["langevin", "stanley", "mala"])
def test_kl_gradient_reaches_the_parameters_only_through_the_last_step(sampler):
    """Autograd's gradient of L_opt equals a central finite difference in which theta moves the
    last step only (earlier steps and the energy held at theta_0), and differs from one in which
    theta moves every step."""
    net = tiny_net()
    options = {"step_size": 0.05, "noise_scale": 0.3}
    if sampler == "stanley":
        options["threshold"] = 5.0
    kernel = samplers.get(sampler, net, **options)
    z0 = torch.randn(64, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    budget, seed = 6, 11

    final, _ = improved_cd.sample_through_last_step(kernel, net, z0, budget, torch.Generator().manual_seed(seed))
    loss = -improved_cd.energy_with_frozen_parameters(net, final.z).mean()
    params = list(net.parameters())
    grads = torch.autograd.grad(loss, params, allow_unused=True)  # the last bias does not move z
    autograd_grad = torch.cat([(torch.zeros_like(p) if g is None else g).flatten() for g, p in zip(grads, params)])

    theta0 = flat_params(net)
    frozen = tiny_net()
    set_params(frozen, theta0)
    direction = torch.randn(theta0.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)

    def objective(theta, all_steps):
        """-f_{theta_0}(chain end) with theta used in the last step (or in every step)."""
        moved = tiny_net()
        set_params(moved, theta)
        generator = torch.Generator().manual_seed(seed)
        if all_steps:
            state, _ = samplers.sample(samplers.get(sampler, moved, **options), z0, budget, generator)
        else:
            head, _ = samplers.sample(kernel, z0, budget - 1, generator)  # theta_0 for all but the last step
            last = samplers.get(sampler, moved, **options)
            state, _ = last.step(samplers.evaluate(moved, head.z), generator)
        return float(-frozen(state.z).mean().detach())

    h = 1e-5
    last_step_fd = (objective(theta0 + h * direction, False) - objective(theta0 - h * direction, False)) / (2 * h)
    every_step_fd = (objective(theta0 + h * direction, True) - objective(theta0 - h * direction, True)) / (2 * h)
    directional = float(autograd_grad @ direction)
    assert directional == pytest.approx(last_step_fd, rel=1e-5, abs=1e-9)
    assert abs(every_step_fd - last_step_fd) > 1e-3 * abs(last_step_fd)  # the test could tell the two apart


def test_sample_through_last_step_moves_the_chain_as_sample_does():
    net = tiny_net()
    for name in ("langevin", "hmc", "stanley_mh"):
        kernel = samplers.get(name, net, step_size=0.05, noise_scale=0.3,
                              **({"leapfrog": 2} if name == "hmc" else {"threshold": 5.0} if name == "stanley_mh" else {}))
        z0 = torch.randn(32, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        budget = 4
        plain, plain_info = samplers.sample(kernel, z0, budget, torch.Generator().manual_seed(5))
        graph, graph_info = improved_cd.sample_through_last_step(kernel, net, z0, budget, torch.Generator().manual_seed(5))
        torch.testing.assert_close(graph.z.detach(), plain.z, rtol=1e-12, atol=1e-12)
        assert graph.z.requires_grad
        assert set(graph_info) == set(plain_info)
        assert all(len(graph_info[k]) == len(plain_info[k]) for k in plain_info)


def test_entropy_term_grows_as_samples_collapse():
    generator = torch.Generator().manual_seed(0)
    spread = torch.randn(200, 3, generator=generator)
    reference = torch.randn(100, 3, generator=generator)
    losses = [float(nearest_neighbour_entropy_loss(spread * c)) for c in (1.0, 0.1, 0.01)]
    assert losses[0] < losses[1] < losses[2]
    # collapsing onto each other, not only shrinking: half the points duplicated
    collapsed = torch.cat([spread[:100], spread[:100] + 1e-4])
    assert float(nearest_neighbour_entropy_loss(collapsed)) > losses[0] + 3
    # exact scale law of -mean log NN: scaling every point (and X) by c lowers it by log c
    for c in (0.5, 3.0):
        assert float(nearest_neighbour_entropy_loss(c * spread, c * reference)) == pytest.approx(
            float(nearest_neighbour_entropy_loss(spread, reference)) - math.log(c), abs=1e-5)


def test_entropy_term_against_hand_computed_distances():
    x = torch.tensor([[0.0, 0.0], [3.0, 4.0]], requires_grad=True)
    assert float(nearest_neighbour_entropy_loss(x).detach()) == pytest.approx(-math.log(5.0))  # self excluded
    reference = torch.tensor([[0.0, 1.0], [3.0, 2.0]])
    expected = -(math.log(1.0) + math.log(2.0)) / 2
    loss = nearest_neighbour_entropy_loss(x, reference)
    assert float(loss.detach()) == pytest.approx(expected)
    loss.backward()  # d/dy of -log|y - r| / 2: descent pushes each point away from its nearest reference
    torch.testing.assert_close(x.grad, torch.tensor([[0.0, 0.5], [0.0, -0.25]]))


def test_buffer_is_first_in_first_out_and_survives_a_checkpoint():
    buffer = ReplayBuffer(5)
    for start in (0, 3, 6):
        buffer.add(torch.arange(start, start + 3, dtype=torch.float32).view(3, 1))
    assert len(buffer) == 5
    assert sorted(buffer.store.flatten().tolist()) == [4, 5, 6, 7, 8]
    restored = ReplayBuffer(5)
    restored.load_state_dict(buffer.state_dict(), torch.device("cpu"))
    torch.testing.assert_close(restored.store, buffer.store)
    assert (restored.size, restored.next) == (buffer.size, buffer.next)


@pytest.mark.parametrize("rate", [0.01, 0.1])
def test_buffer_restarts_at_the_configured_rate(rate):
    spec = {**improved_cd.DEFAULTS, "buffer_size": 1000, "restart": rate, "augment": [], "ema": 0.0}
    scheme = ImprovedCD(spec, tiny_net(), images=False)
    scheme.buffer.add(torch.zeros(1000, 2))
    generator = torch.Generator().manual_seed(0)
    n, trials = 500, 40  # each draw takes a batch no larger than the buffer
    restarted = 0
    for _ in range(trials):
        starts = scheme.starts(torch.full((n, 2), 7.0), generator)
        assert set(starts[:, 0].unique().tolist()) <= {0.0, 7.0}
        restarted += int((starts[:, 0] == 7.0).sum())
    total = n * trials
    sd = math.sqrt(total * rate * (1 - rate))
    assert abs(restarted - total * rate) < 5 * sd


def test_starts_are_fresh_until_the_buffer_holds_a_batch():
    spec = {**improved_cd.DEFAULTS, "buffer_size": 100, "restart": 0.0, "augment": [], "ema": 0.0}
    scheme = ImprovedCD(spec, tiny_net(), images=False)
    fresh = torch.ones(8, 2)
    assert scheme.starts(fresh, torch.Generator()) is fresh
    scheme.after_step(torch.zeros(8, 2), tiny_net())
    assert torch.equal(scheme.starts(fresh, torch.Generator()), torch.zeros(8, 2))


def test_ema_matches_its_closed_form():
    net = tiny_net()
    start = flat_params(net)
    ema = improved_cd.EMA(net, decay=0.9)
    target = start + 1.0
    set_params(net, target)
    for _ in range(7):
        ema.update(net)
    torch.testing.assert_close(flat_params(ema.net), target + 0.9 ** 7 * (start - target))


def test_multiscale_energy_is_the_sum_over_pooled_images():
    torch.manual_seed(0)
    net = models.MultiScale(lambda size: models.ConvNet(n_f=4, image_size=size), 32)
    x = torch.randn(3, 3, 32, 32)
    pooled = [x, x.view(3, 3, 16, 2, 16, 2).mean((3, 5)), x.view(3, 3, 8, 4, 8, 4).mean((3, 5))]
    expected = sum(sub(p) for sub, p in zip(net.nets, pooled))
    torch.testing.assert_close(net(x), expected)
    assert [sub.image_size for sub in net.nets] == [32, 16, 8]


def test_every_component_off_is_the_short_run_trainer_exactly(tmp_path):
    plain = config.complete_run(small_run(iterations=40))
    off = config.complete_run({**small_run(iterations=40), "improved_cd": ALL_OFF})
    off["training"]["scheme"] = "improved_cd"
    off = config.validate_run(off)
    training.train(plain, tmp_path / "plain", progress=False)
    training.train(off, tmp_path / "off", progress=False)
    assert_same_run(tmp_path / "plain", tmp_path / "off")


def image_run(**improved) -> dict:
    return config.complete_run({
        "device": "cpu", "data": {"name": "shapes", "limit": 64, "noise": 0.03},
        "model": {"name": "convnet", "options": {"n_f": 4}},
        "sampler": {"name": "langevin", "options": {"step_size": 2.0, "noise_scale": 0.0070710678}},
        "training": {"iterations": 6, "mcmc_steps": 3, "batch_size": 8, "n_chains": 8, "init": "uniform",
                     "init_scale": 1.0, "log_every": 2, "checkpoint_every": 3, "scheme": "improved_cd"},
        "evaluation": {"every": 3},
        "improved_cd": {"buffer_size": 16, "entropy_samples": 4, "ema": 0.5, **improved},
    })


def test_image_run_with_every_component_on_and_off(tmp_path):
    on = training.Trainer(image_run(), tmp_path / "on", progress=False)
    assert isinstance(on.learner.net, models.MultiScale) and on.learner.eval_net is not on.learner.net
    on.train()
    import pandas as pd

    metrics = pd.read_csv(tmp_path / "on" / "metrics.csv")
    assert {"kl_loss", "entropy_loss"} <= set(metrics.columns)
    assert np.isfinite(metrics[["loss", "kl_loss", "entropy_loss"]].to_numpy()).all()
    weights = torch.load(tmp_path / "on" / "model.pt")
    for key, value in on.learner.eval_net.state_dict().items():  # model.pt holds the EMA weights
        torch.testing.assert_close(weights[key], value)

    plain = image_run(**ALL_OFF)
    plain["training"]["scheme"] = "short_run"
    training.train(config.validate_run(plain), tmp_path / "plain", progress=False)
    training.train(image_run(**ALL_OFF), tmp_path / "off", progress=False)
    assert_same_run(tmp_path / "plain", tmp_path / "off")


def test_resumed_improved_cd_run_matches_an_uninterrupted_one(tmp_path):
    run = image_run()
    training.train(run, tmp_path / "whole", progress=False)
    interrupted = training.Trainer(run, tmp_path / "cut", progress=False)
    interrupted.train()
    for name in ("metrics.csv", "eval.csv", "samples.npz", "model.pt"):
        (tmp_path / "cut" / name).unlink()
    newest = sorted((tmp_path / "cut" / "checkpoints").glob("ckpt_*.pt"))[-1]
    newest.unlink()  # the rerun resumes from iteration 3: buffer, EMA and generators restored
    messages = []
    training.Trainer(run, tmp_path / "cut", progress=False, log=messages.append).train()
    assert any("resuming from iteration 3" in m for m in messages)
    assert_same_run(tmp_path / "whole", tmp_path / "cut")


@pytest.mark.parametrize("fragment, message", [
    ({"improved_cd": {"augment": ["flip"], "multiscale": False}}, "image data sets"),
    ({"improved_cd": {"augment": [], "multiscale": False, "ema": 1.0}}, "below 1"),
    ({"improved_cd": {"augment": [], "multiscale": False}, "training": {"init": "persistent"}}, "replaces training.init"),
    ({"improved_cd": {"augment": ["rotate"], "multiscale": False}}, "rotate"),
    ({"improved_cd": {"augment": None, "multiscale": False}}, "improved_cd.augment must be a list"),  # was a TypeError
])
def test_bad_improved_cd_configs_say_what_to_change(fragment, message):
    run = small_run()
    run["training"] = {**run["training"], "scheme": "improved_cd", **fragment.get("training", {})}
    run["improved_cd"] = fragment["improved_cd"]
    with pytest.raises(config.ConfigError, match=message):
        config.complete_run(run)

"""The fast paths give what the plain paths give: same values, same chains, same networks.

``ToyNet.value_and_grad`` (the hand-written input gradient, no autograd) is checked against
``torch.autograd.grad``, the oracle; every sampler is run through ``samplers.sample`` twice
from the same generator state, once on the fast path (the net itself) and once on the
autograd path (the net hidden in a plain function), and the chains must agree to float
rounding; and the benchmark's baseline network (ebm-anatomy's five 1x1 convolutions) must be
the same function as ToyNet. Timings live in benchmarks/train_step.py, never here.
"""

from __future__ import annotations

import copy
import importlib.util
import math
import pickle
from pathlib import Path

import pytest
import torch

from stanley.sampling import samplers
from stanley.learning import optim
from stanley.learning.models import ToyNet
from stanley.sampling.state import evaluate, grad_norm

ROOT = Path(__file__).resolve().parents[1]
TOY = {"step_size": 2.0, "noise_scale": 0.01 / math.sqrt(2), "threshold": 0.01, "leapfrog": 5}



def autograd_path(net):
    """The same log density with ``value_and_grad`` hidden: evaluate falls back to autograd."""
    return lambda z: net(z)


def random_net(seed: int, dtype=torch.float32, **options) -> ToyNet:
    torch.manual_seed(seed)
    net = ToyNet(**options).to(dtype)
    with torch.no_grad():  # a trained-looking net: larger weights than the default init
        for p in net.parameters():
            p.mul_(1.5)
    return net


@pytest.mark.parametrize("dtype, rtol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
@pytest.mark.parametrize("options", [
    {},  # the paper's toy net
    {"dim": 3, "widths": (16, 8), "slope": 0.2},
    {"dim": 2, "widths": (5,), "slope": 0.0},  # ReLU: the activations no longer tell the sign
    {"dim": 4, "widths": (7, 9, 3), "slope": -0.3},  # negative slope: likewise
])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_value_and_grad_matches_autograd(options, seed, dtype, rtol):
    net = random_net(seed, dtype, **options)
    dim = options.get("dim", 2)
    x = 3 * torch.randn(257, dim, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    f, g = net.value_and_grad(x)
    oracle = evaluate(autograd_path(net), x)
    assert f.shape == (257,) and g.shape == x.shape
    assert not f.requires_grad and not g.requires_grad
    torch.testing.assert_close(f, oracle.logp, rtol=rtol, atol=rtol)
    torch.testing.assert_close(g, oracle.grad, rtol=rtol, atol=rtol)
    torch.testing.assert_close(f, net(x).detach(), rtol=rtol, atol=rtol)


def test_value_and_grad_other_shapes_and_inputs_needing_grad():
    net = random_net(3)
    x = torch.randn(4, 5, 2, requires_grad=True)
    f, g = net.value_and_grad(x)
    assert f.shape == (4, 5) and g.shape == (4, 5, 2)
    (oracle,) = torch.autograd.grad(net(x).sum(), x)
    torch.testing.assert_close(g, oracle)
    torch.testing.assert_close(f, net(x).detach())
    one = torch.randn(2, requires_grad=True)
    f1, g1 = net.value_and_grad(one)
    assert f1.shape == () and g1.shape == (2,)
    torch.testing.assert_close(g1, torch.autograd.grad(net(one), one)[0])


def test_evaluate_takes_the_fast_path_only_when_offered():
    net = random_net(4)
    calls = []
    original = net.value_and_grad

    def spy(z):
        calls.append(z.shape)
        return original(z)

    net.value_and_grad = spy
    z = torch.randn(10, 2)
    fast = evaluate(net, z)
    assert calls == [torch.Size([10, 2])]
    slow = evaluate(autograd_path(net), z)
    assert calls == [torch.Size([10, 2])]  # the plain function has no value_and_grad
    for a, b in ((fast.z, slow.z), (fast.logp, slow.logp), (fast.grad, slow.grad)):
        torch.testing.assert_close(a, b)


def test_evaluate_checks_what_value_and_grad_returns():
    class Bad:
        def value_and_grad(self, z):
            return z.sum(), z

    with pytest.raises(ValueError, match="one value per chain"):
        evaluate(Bad(), torch.randn(5, 2))


def test_weight_cache_follows_updates_and_moves():
    net = random_net(5)
    x = torch.randn(50, 2)
    net.value_and_grad(x)  # fill the cache
    optimizer = optim.Adam(net.parameters(), lr=0.1)
    (net(x).mean()).backward()
    optimizer.step()  # in place: the cached views see it
    torch.testing.assert_close(net.value_and_grad(x)[1], evaluate(autograd_path(net), x).grad)
    other = random_net(6)
    net.load_state_dict(other.state_dict())
    torch.testing.assert_close(net.value_and_grad(x)[1], other.value_and_grad(x)[1])
    net.double()  # new storage: the cache is rebuilt
    xd = x.double()
    torch.testing.assert_close(net.value_and_grad(xd)[1], evaluate(autograd_path(net), xd).grad)
    net.net[0].weight = torch.nn.Parameter(torch.zeros_like(net.net[0].weight))  # a new Parameter
    assert net.value_and_grad(xd)[1].abs().max() == 0
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert clone._weight_cache is None or clone._weight_cache[0] != net._weight_cache[0]
        torch.testing.assert_close(clone.value_and_grad(xd)[0], net.value_and_grad(xd)[0])


def test_grad_norm_is_the_per_chain_norm_mean():
    z = torch.randn(30, 3, 4)
    state = evaluate(lambda x: x.flatten(1).sum(1), z)
    state = type(state)(z=z, logp=state.logp, grad=z)
    assert grad_norm(state) == z.flatten(1).norm(dim=1).mean()


SAMPLER_CASES = [
    ("langevin", {}),
    ("stanley", {}),
    ("stanley", {"norm": "sample", "noise_power": 1.0}),
    ("stanley", {"norm": "pixel", "drift": "unscaled", "refresh": "iteration"}),
    ("mala", {}),
    ("stanley_mh", {}),
    ("hmc", {}),
    ("gd", {}),
]


@pytest.mark.parametrize("name, extra", SAMPLER_CASES)
def test_sample_fast_and_autograd_paths_give_the_same_chains(name, extra):
    net = random_net(7)
    options = {**samplers.options_for(name, TOY), **extra}
    if name in ("mala", "stanley_mh", "hmc"):
        options["noise_scale"] = 0.3  # accept/reject both ways, so the chains branch
        options["step_size"] = 0.05
    z0 = 2 * torch.randn(100, 2, generator=torch.Generator().manual_seed(11))
    fast_kernel = samplers.get(name, net, **options)
    slow_kernel = samplers.get(name, autograd_path(net), **options)
    fast, fast_info = samplers.sample(fast_kernel, z0, 100, torch.Generator().manual_seed(12))
    slow, slow_info = samplers.sample(slow_kernel, z0, 100, torch.Generator().manual_seed(12))
    torch.testing.assert_close(fast.z, slow.z, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(fast.logp, slow.logp, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(fast.grad, slow.grad, rtol=1e-5, atol=1e-5)
    assert fast_info.keys() == slow_info.keys()
    for key in fast_info:
        torch.testing.assert_close(fast_info[key], slow_info[key], rtol=1e-5, atol=1e-5)
    if "acceptance" in fast_info:  # the accept steps were exercised, both ways
        assert 0 < fast_info["acceptance"].mean() < 1


def load_benchmark():
    spec = importlib.util.spec_from_file_location("train_step_benchmark", ROOT / "benchmarks" / "train_step.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_baseline_network_is_toynet():
    bench = load_benchmark()
    net = random_net(8)
    conv = bench.ConvToyNet().load_from(net)
    x = 3 * torch.randn(500, 2)
    torch.testing.assert_close(conv(x.view(500, 2, 1, 1)), net(x), rtol=1e-5, atol=1e-5)
    xc = x.view(500, 2, 1, 1).clone().requires_grad_(True)
    (g,) = torch.autograd.grad(conv(xc).sum(), xc)
    torch.testing.assert_close(g.view(500, 2), net.value_and_grad(x)[1], rtol=1e-5, atol=1e-5)


def test_benchmark_baseline_samples_like_the_project():
    """The benchmark's baseline loop is the project's kernel, written the reference codes' way."""
    bench = load_benchmark()
    net = random_net(9)
    conv = bench.ConvToyNet().load_from(net)
    z0 = 2 * torch.randn(100, 2, generator=torch.Generator().manual_seed(13))
    for name in ("stanley", "langevin"):
        kernel = samplers.get(name, net, **samplers.options_for(name, TOY))
        ours, _ = samplers.sample(kernel, z0, 100, torch.Generator().manual_seed(14))
        baseline = bench.Baseline(conv, name, TOY, None, None, 100, 100, 0.0, (2, 1, 1),
                                  torch.Generator(), torch.Generator().manual_seed(14), 1e-4)
        torch.testing.assert_close(baseline.sample(z0).view(100, 2), ours.z, rtol=1e-4, atol=1e-4)


def test_convnet_channels_last_is_the_same_function():
    """The GPU-only layout switch (exercised here on the CPU) changes no value and no gradient."""
    from stanley.learning.models import ConvNet

    torch.manual_seed(0)
    net = ConvNet(n_f=8)
    x = torch.rand(3, 3, 32, 32) * 2 - 1
    params = list(net.parameters())
    before = evaluate(net, x)
    net.use_channels_last()
    assert net.net[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    after = evaluate(net, x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(after.logp, before.logp, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(after.grad, before.grad, rtol=1e-5, atol=1e-5)

"""The suite's Adam and SGD against torch.optim: the same parameters step by step, and either's
saved state resumed by the other."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from stanley.learning import optim

RULES = {
    "adam": (lambda p: optim.Adam(p, lr=0.01, betas=(0.5, 0.9)), lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.5, 0.9))),
    "adam_paper": (lambda p: optim.Adam(p, lr=1e-4), lambda p: torch.optim.Adam(p, lr=1e-4)),
    "sgd": (lambda p: optim.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "sgd_momentum": (lambda p: optim.SGD(p, lr=0.1, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
}


def net() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))


def train(model: torch.nn.Module, optimizer, steps: int, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = torch.randn(16, 3, generator=generator)
        optimizer.zero_grad()
        model(x).pow(2).mean().backward()
        optimizer.step()


def params(model: torch.nn.Module):
    return [p.detach().clone() for p in model.parameters()]


def saved(state: dict) -> dict:
    """Through a checkpoint's bytes, as a resumed run reads it (weights_only: plain data)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def assert_equal(a, b) -> None:
    assert all(torch.equal(x, y) for x, y in zip(a, b)), "parameters differ"


@pytest.mark.parametrize("rule", RULES)
def test_steps_equal_torch_optim_bit_for_bit(rule):
    ours, theirs = RULES[rule]
    a, b = net(), net()
    train(a, ours(a.parameters()), 25, seed=1)
    train(b, theirs(b.parameters()), 25, seed=1)
    assert not torch.equal(params(a)[0], params(net())[0])  # it moved
    assert_equal(params(a), params(b))


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("first", ["ours", "torch"])
def test_saved_state_resumes_in_the_other(rule, first):
    """A checkpoint from torch.optim (older runs) resumes in ours, and ours loads in torch.optim."""
    make = dict(zip(("ours", "torch"), RULES[rule]))
    second = "torch" if first == "ours" else "ours"
    a, b = net(), net()
    opt_a = make[first](a.parameters())
    train(a, opt_a, 4, seed=1)
    b.load_state_dict(a.state_dict())
    opt_b = make[second](b.parameters())
    opt_b.load_state_dict(saved(opt_a.state_dict()))
    train(a, opt_a, 6, seed=2)
    train(b, opt_b, 6, seed=2)
    assert_equal(params(a), params(b))


def test_state_with_an_option_it_lacks_is_refused():
    model = net()
    theirs = torch.optim.Adam(model.parameters(), amsgrad=True)
    with pytest.raises(ValueError, match="amsgrad"):
        optim.Adam(model.parameters()).load_state_dict(theirs.state_dict())


def test_a_training_run_never_imports_torchs_compiler(tmp_path):
    """The point of this module: a training process stays clear of torch._dynamo (about 1 s)."""
    code = ("import sys; from conftest import small_run; from stanley.experiment import config; "
            "from stanley.learning import training; "
            "training.train(config.complete_run(small_run('stanley', iterations=4, mcmc_steps=2)), sys.argv[1], "
            "progress=False); assert 'torch._dynamo' not in sys.modules, 'torch._dynamo imported'")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}  # under pytest torch imports it
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "run")], check=True, cwd=Path(__file__).parent, env=env)

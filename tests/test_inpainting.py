"""Inpainting: observed pixels stay the data, the error counts the mask only, a known model inpaints the truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from conftest import stanley
from stanley.images import data
from stanley.learning import inpainting
from stanley.plumbing.checkpoints import save_tensors
from stanley.errors import ConfigError

POOL = {"step_size": 2.0, "noise_scale": 0.0070710678, "threshold": 0.01, "leapfrog": 5}


def quadratic(truth: torch.Tensor, scale: float = 0.05):
    """f(x) = -|x - truth|^2 / 2: a model whose conditional mode on any mask is the truth."""
    def f(x):
        return -0.5 * ((x - truth) ** 2).flatten(1).sum(1) * scale
    return f


@pytest.mark.parametrize("sampler", ["langevin", "stanley", "mala", "stanley_mh", "hmc", "gd"])
def test_observed_pixels_are_exactly_the_data(sampler):
    from stanley.sampling.samplers import options_for

    g = torch.Generator().manual_seed(0)
    images = torch.rand(4, 3, 8, 8, generator=g) * 2 - 1
    mask = inpainting.centre_mask(8, 4)
    f = quadratic(torch.zeros_like(images))
    out = inpainting.inpaint(sampler, options_for(sampler, POOL), f, images, mask, 10, g)
    assert torch.equal(out[:, :, ~mask[0, 0]], images[:, :, ~mask[0, 0]])
    assert not torch.equal(out[:, :, mask[0, 0]], images[:, :, mask[0, 0]])  # the square was redrawn


def test_centre_mask_is_the_centre_square():
    mask = inpainting.centre_mask(8)[0, 0]
    assert mask.sum() == 16 and mask[2:6, 2:6].all()
    assert inpainting.centre_mask(32, 10)[0, 0].sum() == 100
    with pytest.raises(ConfigError, match="mask side"):
        inpainting.centre_mask(8, 9)


def test_mse_counts_the_masked_pixels_only():
    originals = torch.zeros(2, 3, 4, 4)
    completions = originals.clone()
    completions[0, :, 1:3, 1:3] = 1.0  # error 1 on every masked pixel of image 0
    completions[1, 0, 1, 1] = 2.0  # error 4 on one of image 1's 12 masked values
    completions[:, :, 0, 0] = 5.0  # a huge error outside the mask: must not count
    mask = inpainting.centre_mask(4, 2)
    mse = inpainting.masked_mse(completions, originals, mask)
    hand = [np.mean(np.ones(12)), np.mean([4.0] + [0.0] * 11)]
    assert mse.tolist() == pytest.approx(hand)


@pytest.mark.parametrize("sampler", ["langevin", "stanley", "mala", "hmc", "gd"])
def test_a_known_quadratic_model_inpaints_the_truth(sampler):
    from stanley.sampling.samplers import options_for

    g = torch.Generator().manual_seed(1)
    truth = torch.rand(3, 3, 8, 8, generator=g) * 2 - 1
    mask = inpainting.centre_mask(8, 4)
    # the observed pixels are the truth; start of the masked ones: U(-1, 1), mean error 2/3 at the start
    options = options_for(sampler, {**POOL, "step_size": 1.0, "threshold": 0.5})
    out = inpainting.inpaint(sampler, options, quadratic(truth, scale=1.0), truth, mask, 60, g)
    mse = inpainting.masked_mse(out, truth, mask)
    assert (mse < 1e-3).all(), mse


def test_inpaint_command_on_a_trained_shapes_run(tmp_path):
    """The CLI on a run directory as training leaves it (config.yaml, model.pt): files and columns."""
    from stanley.experiment import config
    from stanley.sampling.samplers import options_for
    from stanley.learning.training import build_model

    run = config.complete_run({
        "device": "cpu", "data": {"name": "shapes", "image_size": 32, "limit": 50},
        "model": {"name": "convnet", "options": {"n_f": 4}},
        "sampler": {"name": "stanley", "options": options_for("stanley", POOL)},
        "training": {"mcmc_steps": 5},
    })
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text(yaml.safe_dump(run))
    save_tensors(run_dir / "model.pt", build_model(run, (3, 32, 32)).state_dict())  # as training writes it
    stanley("inpaint", "--run", str(run_dir), "--n", "6", "--out-dir", str(tmp_path / "out"), "--threads", "1")
    arrays = np.load(tmp_path / "out/inpainting.npz")
    assert arrays["completions"].shape == arrays["originals"].shape == (6, 3, 32, 32)
    assert arrays["completions"].dtype == np.uint8 and arrays["mask"].sum() == 16 * 16
    keep = ~arrays["mask"]
    assert (arrays["completions"][:, :, keep] == arrays["originals"][:, :, keep]).all()
    expected = data.to_uint8(data.load("shapes", image_size=32, split="test", limit=6)).numpy()
    assert (arrays["originals"] == expected).all()  # the test split, the same for every run
    table = pd.read_csv(tmp_path / "out/inpainting.csv")
    assert list(table.columns) == ["dataset", "sampler", "seed", "image", "mse", "mask_side", "steps"]
    assert len(table) == 6 and (table["sampler"] == "stanley").all() and (table["steps"] == 5).all()


def test_inpaint_command_names_a_missing_model(tmp_path):
    result = stanley("inpaint", "--run", str(tmp_path), "--out-dir", str(tmp_path), check=False)
    assert result.returncode == 2 and "config.yaml is missing" in result.stderr

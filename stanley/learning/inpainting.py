"""Inpainting (the paper's Figure 6): fill a masked centre square with a trained EBM's own sampler.

The observed pixels are data, not chain state. The sampler runs on the conditional density
``z -> f(where(mask, z, x))`` (:func:`masked_logdensity`), whose gradient is zero on the
observed pixels, and :class:`Clamped` resets those pixels to the data after every step. So
they end exactly unchanged, the state's log density and gradient stay valid without another
gradient evaluation, and every sampler (Metropolis-adjusted ones included) keeps its own
update on the masked pixels: the same kernel, the same budget K as in training.

The error is the mean squared error over the masked pixels only (all channels), on the
[-1, 1] scale the model sees, one value per image.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np
import pandas as pd
import torch

from ..images import data
from ..sampling import samplers
from ..errors import ConfigError
from ..plumbing.io import write_atomic, write_csv
from ..plumbing.rundir import RunDir

SALT = 7_919  # the inpainting chains' generator: seed + SALT, apart from training's streams


def centre_mask(image_size: int, side: Optional[int] = None) -> torch.Tensor:
    """(1, 1, H, W) bool, True on the centre square to fill; ``side`` defaults to half the image."""
    side = image_size // 2 if side is None else side
    if isinstance(side, bool) or not isinstance(side, int) or not 1 <= side <= image_size:
        raise ConfigError(f"inpainting mask side must be an integer from 1 to the image size {image_size}, got {side!r}")
    start = (image_size - side) // 2
    mask = torch.zeros(1, 1, image_size, image_size, dtype=torch.bool)
    mask[..., start:start + side, start:start + side] = True
    return mask


def masked_logdensity(logdensity_fn: Callable[[torch.Tensor], torch.Tensor], observed: torch.Tensor,
                      mask: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """The conditional log density of the masked pixels given the observed ones."""
    def logdensity(z: torch.Tensor) -> torch.Tensor:
        return logdensity_fn(torch.where(mask, z, observed))
    return logdensity


@dataclass(frozen=True)
class Clamped:
    """A kernel whose chains keep the observed pixels at the data after every step."""

    kernel: Any
    observed: torch.Tensor
    mask: torch.Tensor

    @property
    def grad_evals_per_step(self) -> int:
        return self.kernel.grad_evals_per_step

    def clamp(self, z: torch.Tensor) -> torch.Tensor:
        return torch.where(self.mask, z, self.observed)

    def init(self, z: torch.Tensor):
        return self.kernel.init(self.clamp(z))

    def transition(self, state, generator: torch.Generator):
        state, info = self.kernel.transition(state, generator)
        return replace(state, z=self.clamp(state.z)), info

    def step(self, state, generator: torch.Generator):
        state, info = self.kernel.step(state, generator)
        return replace(state, z=self.clamp(state.z)), info


def inpaint(sampler: str, options: Dict[str, Any], logdensity_fn, images: torch.Tensor, mask: torch.Tensor,
            budget: int, generator: torch.Generator) -> torch.Tensor:
    """Completions of ``images`` (n, C, H, W) in [-1, 1]: masked pixels start from U(-1, 1)."""
    observed = images.detach()
    kernel = Clamped(samplers.get(sampler, masked_logdensity(logdensity_fn, observed, mask), **options),
                     observed, mask)
    noise = torch.rand(observed.shape, generator=generator, device=observed.device) * 2 - 1
    state, _ = samplers.sample(kernel, torch.where(mask, noise, observed), budget, generator)
    return kernel.clamp(state.z.clamp(-1, 1))


def masked_mse(completions: torch.Tensor, originals: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per image: the mean squared error over the masked pixels (every channel) only."""
    weight = mask.expand_as(originals).to(originals.dtype)
    squared = (completions - originals) ** 2 * weight
    return squared.flatten(1).sum(1) / weight.flatten(1).sum(1)


def load_model(run_dir: Path, run: Dict[str, Any], shape: Tuple[int, ...], device: torch.device) -> torch.nn.Module:
    from .step import build_model

    weights = RunDir(run_dir).model
    if not weights.is_file():
        raise ConfigError(f"{weights} is missing: {run_dir} is not a finished image run (rerun its training job)")
    net = build_model(run, shape)
    from ..plumbing.checkpoints import load_tensors

    net.load_state_dict(load_tensors(weights, device))
    return net.to(device).eval().requires_grad_(False)  # gradients for the chains only


def run_inpainting(run_dir: str | Path, n: int = 100, out_dir: str | Path | None = None, mask_side: Optional[int] = None,
                   steps: Optional[int] = None, batch_size: int = 100, device: str | None = None) -> Tuple[Path, Path]:
    """Inpaint ``n`` test images with a finished run's model and sampler; write
    ``inpainting.npz`` (uint8 originals, masked, completions; the mask; per-image MSE) and
    ``inpainting.csv`` (one row per image) into ``out_dir`` (default the run directory)."""
    from .training import resolve_device

    run_dir = Path(run_dir)
    run = RunDir(run_dir).load_config()
    for key, value in (("--n", n), ("--steps", steps), ("--batch-size", batch_size)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ConfigError(f"inpainting {key} must be a positive integer, got {value!r}")
    spec, budget = run["data"], steps or run["training"]["mcmc_steps"]
    device = resolve_device(device or run["device"])
    originals = data.load(spec["name"], spec["root"], spec["image_size"], split="test", limit=n, seed=0,
                          verify=spec.get("verify", True))  # runs trained before the key existed verified
    mask = centre_mask(spec["image_size"], mask_side)
    net = load_model(run_dir, run, tuple(originals.shape[1:]), device)
    generator = torch.Generator(device).manual_seed(run["seed"] + SALT)
    parts = []
    for start in range(0, len(originals), batch_size):
        batch = originals[start:start + batch_size].to(device)
        parts.append(inpaint(run["sampler"]["name"], run["sampler"]["options"], net, batch, mask.to(device),
                             budget, generator).cpu())
    completions = torch.cat(parts)
    mse = masked_mse(completions, originals, mask)

    out = RunDir(out_dir if out_dir is not None else run_dir)
    arrays = {
        "originals": data.to_uint8(originals).numpy(),
        "masked": data.to_uint8(torch.where(mask, torch.zeros_like(originals), originals)).numpy(),
        "completions": data.to_uint8(completions).numpy(),
        "mask": mask[0, 0].numpy(), "mse": mse.numpy(),
    }
    def save(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)

    npz = write_atomic(out.inpainting_arrays, save)
    table = pd.DataFrame({
        "dataset": spec["name"], "sampler": run["sampler"]["name"], "seed": run["seed"],
        "image": np.arange(len(mse)), "mse": mse.numpy(), "mask_side": int(mask.sum().item() ** 0.5),
        "steps": budget,
    })
    return npz, write_csv(out.inpainting_table, table)


__all__ = ["Clamped", "centre_mask", "inpaint", "masked_logdensity", "masked_mse", "run_inpainting"]

"""Data augmentation transitions for replay-buffer chains (Du et al. 2021, Section 2.3).

Langevin dynamics moves a chain only locally in a few steps; Du et al. apply a random
augmentation to chain states drawn from the replay buffer before the chains run, so that a
chain can jump between "similar" images (flipped, cropped, recoloured, blurred versions of
one another) that Langevin alone would take many steps to connect.

Parameters follow the SimCLR pipeline the authors' code used (Chen et al. 2020, appendix A),
except that the crop keeps at least half the area (SimCLR: 8%), which is too harsh for 32x32
chain states. Differences from the authors' per-image PIL/torchvision pipeline:

* everything is batched on the images' device and every random number comes from one
  ``torch.Generator``, drawn in a fixed order per op whatever the data, so runs reproduce;
* crop: continuous (sub-pixel) box positions, and width and height are clamped to the image
  instead of torchvision's retry loop, which makes large crops a little smaller than drawn;
  sampling is bilinear on the whole image, so pixels at the crop border may blend in their
  outside neighbours;
* colour: brightness, contrast and saturation are applied in that fixed order (torchvision
  shuffles them) and hue jitter is left out (no cheap batched HSV round trip);
* blur: kernel size per axis, 3 up to 32 px, else SimCLR's odd size near 10% of the side.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..experiment.options import OPS, check_augment as check  # noqa: F401 (the names, checked torch-free)

CROP_AREA = (0.5, 1.0)
CROP_RATIO = (3 / 4, 4 / 3)
JITTER = 0.4  # SimCLR colour strength s = 0.5: 0.8 * s for brightness, contrast, saturation
JITTER_P = 0.8
GRAY_P = 0.2
BLUR_P = 0.5
BLUR_SIGMA = (0.1, 2.0)
LUMA = (0.299, 0.587, 0.114)


def augment(images: torch.Tensor, ops, generator: torch.Generator) -> torch.Tensor:
    """Augment a batch (n, C, H, W) in [-1, 1]; applies crop, flip, color, blur as listed."""
    ops = check(ops)
    if not ops:
        return images
    if images.dim() != 4:
        raise ValueError(f"expected images of shape (n, C, H, W), got {tuple(images.shape)}")
    x = images
    if "crop" in ops:
        x = random_crop(x, generator)
    if "flip" in ops:
        x = random_flip(x, generator)
    if "color" in ops:
        x = random_color(x, generator)
    if "blur" in ops:
        x = random_blur(x, generator)
    return x.clamp(-1.0, 1.0)


def _rand(shape, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    # float32 whatever the image dtype, so the draws do not depend on it
    return torch.rand(shape, generator=generator, device=images.device, dtype=torch.float32)


def _per_image(mask: torch.Tensor) -> torch.Tensor:
    return mask.view(-1, 1, 1, 1)


# --- flip ---------------------------------------------------------------------------------

def random_flip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    flip = _rand(len(images), images, generator) < 0.5
    return torch.where(_per_image(flip), images.flip(-1), images)


# --- crop ---------------------------------------------------------------------------------

def random_crop(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    n, _, h, w = images.shape
    u = _rand((n, 4), images, generator)
    area = CROP_AREA[0] + (CROP_AREA[1] - CROP_AREA[0]) * u[:, 0]
    log_lo, log_hi = math.log(CROP_RATIO[0]), math.log(CROP_RATIO[1])
    ratio = torch.exp(log_lo + (log_hi - log_lo) * u[:, 1])  # box width / height in pixels
    # box sides as fractions of the image sides; their product is the area fraction
    fw = torch.sqrt(area * ratio * h / w).clamp(max=1.0)
    fh = torch.sqrt(area / ratio * w / h).clamp(max=1.0)
    # box centre in grid_sample's [-1, 1] coordinates, anywhere that keeps the box inside
    cx = (1 - fw) * (2 * u[:, 2] - 1)
    cy = (1 - fh) * (2 * u[:, 3] - 1)
    return resized_crop(images, fw, fh, cx, cy)


def resized_crop(images: torch.Tensor, fw: torch.Tensor, fh: torch.Tensor,
                 cx: torch.Tensor, cy: torch.Tensor) -> torch.Tensor:
    """Crop a box per image (sides as fractions, centre in [-1, 1]) and resize it to H x W."""
    n = len(images)
    theta = torch.zeros(n, 2, 3, device=images.device, dtype=images.dtype)
    theta[:, 0, 0] = fw
    theta[:, 0, 2] = cx
    theta[:, 1, 1] = fh
    theta[:, 1, 2] = cy
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border",
                         align_corners=False)


# --- colour -------------------------------------------------------------------------------

def random_color(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    n, c = images.shape[:2]
    if c not in (1, 3):
        raise ValueError(f"colour augmentation needs 1 or 3 channels, got {c}")
    u = _rand((n, 5), images, generator)
    jitter = u[:, 0] < JITTER_P
    factors = 1 - JITTER + 2 * JITTER * u[:, 1:4]
    gray = u[:, 4] < GRAY_P
    x01 = (images + 1) / 2
    jittered = color_jitter(x01, factors[:, 0], factors[:, 1], factors[:, 2])
    x01 = torch.where(_per_image(jitter), jittered, x01)
    x01 = torch.where(_per_image(gray), grayscale(x01).expand_as(x01), x01)
    return x01 * 2 - 1


def grayscale(x01: torch.Tensor) -> torch.Tensor:
    """(n, 1, H, W) luma; a one-channel image is its own grey level."""
    if x01.shape[1] == 1:
        return x01
    r, g, b = x01.unbind(1)
    return (LUMA[0] * r + LUMA[1] * g + LUMA[2] * b).unsqueeze(1)


def color_jitter(x01: torch.Tensor, brightness: torch.Tensor, contrast: torch.Tensor,
                 saturation: torch.Tensor) -> torch.Tensor:
    """torchvision's adjust_brightness, _contrast, _saturation on [0, 1] with per-image factors,
    each followed by torchvision's clamp to [0, 1]."""
    def blend(x, other, factor):
        f = _per_image(factor.to(x.dtype))
        return (f * x + (1 - f) * other).clamp(0.0, 1.0)

    x = blend(x01, torch.zeros_like(x01), brightness)
    x = blend(x, grayscale(x).mean(dim=(1, 2, 3), keepdim=True), contrast)
    if x.shape[1] == 3:
        x = blend(x, grayscale(x), saturation)
    return x


# --- blur ---------------------------------------------------------------------------------

def random_blur(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    n = len(images)
    u = _rand((n, 2), images, generator)
    blur = u[:, 0] < BLUR_P
    sigma = BLUR_SIGMA[0] + (BLUR_SIGMA[1] - BLUR_SIGMA[0]) * u[:, 1]
    return torch.where(_per_image(blur), gaussian_blur(images, sigma), images)


def kernel_size(side: int) -> int:
    """3 for chain states up to 32 px, else SimCLR's rule: int(10% of the side), made odd."""
    return 3 if side <= 32 else 2 * (int(0.1 * side) // 2) + 1


def gaussian_kernels(size: int, sigma: torch.Tensor) -> torch.Tensor:
    """(n, size) normalised 1-D Gaussians, one per sigma."""
    x = torch.arange(size, device=sigma.device, dtype=sigma.dtype) - (size - 1) / 2
    k = torch.exp(-0.5 * (x / sigma.unsqueeze(1)) ** 2)
    return k / k.sum(dim=1, keepdim=True)


def gaussian_blur(images: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Separable blur with reflect padding, one sigma per image, all images in one conv:
    the batch is folded into channels so each (image, channel) gets its own kernel."""
    n, c, h, w = images.shape
    sigma = sigma.to(images.dtype)
    kw = gaussian_kernels(kernel_size(w), sigma).repeat_interleave(c, dim=0)
    kh = gaussian_kernels(kernel_size(h), sigma).repeat_interleave(c, dim=0)
    pw, ph = kw.shape[1] // 2, kh.shape[1] // 2
    x = images.reshape(1, n * c, h, w)
    x = F.conv2d(F.pad(x, (pw, pw, 0, 0), mode="reflect"), kw.view(n * c, 1, 1, -1), groups=n * c)
    x = F.conv2d(F.pad(x, (0, 0, ph, ph), mode="reflect"), kh.view(n * c, 1, -1, 1), groups=n * c)
    return x.reshape(n, c, h, w)

"""Augmentation transitions: each op against an independent answer (torchvision's functional
transforms, a direct 2-D convolution, hand-computed crops, binomial bands on frequencies)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF

from stanley.learning import augment as aug
from stanley.errors import ConfigError


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def images(n: int = 8, c: int = 3, h: int = 32, w: int = 32, seed: int = 1) -> torch.Tensor:
    return torch.rand(n, c, h, w, generator=gen(seed)) * 2 - 1


def within_binomial(count: int, n: int, p: float, sigmas: float = 5.0) -> bool:
    return abs(count - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


# --- API ----------------------------------------------------------------------------------

def test_check_canonical_order_and_empty():
    assert aug.check(["blur", "flip", "color"]) == ("flip", "color", "blur")
    assert aug.check(("crop", "flip", "crop")) == ("flip", "crop")
    assert aug.check([]) == ()


def test_check_rejects_unknown_op_naming_it_and_listing_choices():
    with pytest.raises(ConfigError) as err:
        aug.check(["flip", "rotate"])
    message = str(err.value)
    assert "'rotate'" in message
    assert all(op in message for op in aug.OPS)


def test_augment_rejects_unknown_op():
    with pytest.raises(ConfigError, match="jitter"):
        aug.augment(images(), ["jitter"], gen())


def test_empty_ops_is_identity_and_draws_nothing():
    x, g = images(), gen(3)
    state = g.get_state().clone()
    assert aug.augment(x, [], g) is x
    assert torch.equal(g.get_state(), state)


@pytest.mark.parametrize("ops", [["flip"], ["crop"], ["color"], ["blur"], list(aug.OPS)])
def test_reproducible_from_generator_and_shape_dtype_range_kept(ops):
    x = images(16)
    a = aug.augment(x, ops, gen(7))
    b = aug.augment(x, ops, gen(7))
    c = aug.augment(x, ops, gen(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert a.shape == x.shape and a.dtype == x.dtype and a.device == x.device
    assert a.min() >= -1 and a.max() <= 1
    assert not torch.equal(a, x)


def test_draws_do_not_depend_on_data():
    g1, g2 = gen(5), gen(5)
    aug.augment(images(6, seed=1), aug.OPS, g1)
    aug.augment(torch.zeros(6, 3, 32, 32), aug.OPS, g2)
    assert torch.equal(g1.get_state(), g2.get_state())


def test_float64_and_one_channel_and_non_square():
    x = images(4, c=1, h=24, w=40).double()
    y = aug.augment(x, aug.OPS, gen())
    assert y.shape == x.shape and y.dtype == torch.float64


# --- flip ---------------------------------------------------------------------------------

def test_flip_gives_input_or_its_mirror_half_the_time():
    n = 20000
    x = images(n, h=4, w=5)
    y = aug.augment(x, ["flip"], gen())
    same = (y == x).flatten(1).all(1)
    mirrored = (y == torch.flip(x, dims=[-1])).flatten(1).all(1)
    assert (same ^ mirrored).all()  # random images are never symmetric
    assert within_binomial(int(mirrored.sum()), n, 0.5)


# --- crop ---------------------------------------------------------------------------------

def test_crop_of_constant_image_is_constant():
    x = torch.full((16, 3, 32, 32), 0.3)
    y = aug.augment(x, ["crop"], gen())
    assert torch.allclose(y, x, atol=1e-6)


def test_full_box_is_identity():
    x = images(3, h=12, w=20)
    one, zero = torch.ones(3), torch.zeros(3)
    assert torch.allclose(aug.resized_crop(x, one, one, zero, zero), x, atol=1e-6)


def test_centre_crop_of_ramp_by_hand():
    # ramp[.., i, j] = j; keep the central half of the columns, all rows: the box spans
    # pixel edges [W/4, 3W/4], output column j samples edge position W/4 + (j + 1/2) / 2,
    # which is index W/4 + j/2 - 1/4 and, on a ramp, also the value.
    h, w = 6, 8
    ramp = torch.arange(w, dtype=torch.float32).expand(1, 1, h, w)
    y = aug.resized_crop(ramp, torch.tensor([0.5]), torch.tensor([1.0]),
                         torch.zeros(1), torch.zeros(1))
    expected = (w / 4 + torch.arange(w) / 2 - 0.25).expand(1, 1, h, w)
    assert torch.allclose(y, expected, atol=1e-5)


def test_offset_crop_of_ramps_by_hand():
    # channel 0 ramps along x, channel 1 along y; keep the right half of the columns (box
    # centre x = +0.5) and all rows: edges [W/2, W], sampled at index W/2 + j/2 - 1/4; the
    # last sample lies beyond the last pixel centre and border padding clamps it
    h, w = 6, 8
    xs = torch.arange(w, dtype=torch.float32).expand(h, w)
    ys = torch.arange(h, dtype=torch.float32).view(h, 1).expand(h, w)
    img = torch.stack([xs, ys]).expand(2, 2, h, w)
    y = aug.resized_crop(img, torch.full((2,), 0.5), torch.ones(2),
                         torch.full((2,), 0.5), torch.zeros(2))
    expected_x = (w / 2 + torch.arange(w) / 2 - 0.25).clamp(max=w - 1).expand(h, w)
    assert torch.allclose(y[:, 0], expected_x.expand(2, h, w), atol=1e-5)
    assert torch.allclose(y[:, 1], ys.expand(2, h, w), atol=1e-5)


def test_random_crop_boxes_have_drawn_area_and_aspect():
    # on linear ramps the crop's slopes along x and y are the box side fractions fw, fh:
    # area fw * fh in [0.5, 1], aspect fw / fh in [3/4, 4/3] and spread over that range
    n, side = 500, 32
    ramp = torch.linspace(-1, 1, side)
    img = torch.stack([ramp.expand(side, side), ramp.view(side, 1).expand(side, side)])
    y = aug.augment(img.expand(n, 2, side, side), ["crop"], gen())
    step = 2 * (ramp[1] - ramp[0])
    fw = (y[:, 0, 16, 17] - y[:, 0, 16, 15]) / step
    fh = (y[:, 1, 17, 16] - y[:, 1, 15, 16]) / step
    area, aspect = fw * fh, fw / fh
    assert (area >= 0.5 - 1e-4).all() and (area <= 1 + 1e-4).all()
    assert (aspect >= 3 / 4 - 1e-4).all() and (aspect <= 4 / 3 + 1e-4).all()
    assert (aspect > 1.15).sum() > n / 10 and (aspect < 1 / 1.15).sum() > n / 10
    assert (area < 0.6).sum() > n / 20


def test_random_crops_zoom_in():
    # a ramp along x, cropped and resized: its slope shrinks to the box width fraction,
    # sqrt(area * ratio) clamped to one, so between sqrt(0.5 * 3/4) and 1
    n, w = 200, 32
    ramp = torch.linspace(-1, 1, w).expand(n, 1, 32, w)
    y = aug.augment(ramp, ["crop"], gen())
    slope = (y[..., 16, 17] - y[..., 16, 15]) / (2 * (ramp[..., 0, 1] - ramp[..., 0, 0]))
    assert (slope >= math.sqrt(0.5 * 3 / 4) - 1e-4).all() and (slope <= 1 + 1e-4).all()
    assert slope.std() > 0.05


# --- colour -------------------------------------------------------------------------------

def test_brightness_matches_formula():
    x01 = (images(4) + 1) / 2
    b = torch.tensor([0.6, 0.9, 1.2, 1.4])
    y = aug.color_jitter(x01, b, torch.ones(4), torch.ones(4))
    assert torch.allclose(y, (b.view(-1, 1, 1, 1) * x01).clamp(0, 1), atol=1e-6)


@pytest.mark.parametrize("c", [1, 3])
def test_jitter_matches_torchvision(c):
    x01 = (images(5, c=c) + 1) / 2
    f = torch.tensor([[0.6, 1.4, 0.7], [1.4, 0.6, 1.3], [1.0, 1.0, 1.0],
                      [0.8, 1.2, 0.6], [1.3, 0.9, 1.4]])
    y = aug.color_jitter(x01, f[:, 0], f[:, 1], f[:, 2])
    for i in range(5):
        ref = TF.adjust_brightness(x01[i], float(f[i, 0]))
        ref = TF.adjust_contrast(ref, float(f[i, 1]))
        ref = TF.adjust_saturation(ref, float(f[i, 2]))
        assert torch.allclose(y[i], ref, atol=5e-4)  # torchvision's red luma weight: 0.2989


def test_grayscale_luma_weights():
    x01 = (images(3) + 1) / 2
    r, g, b = x01[:, 0:1], x01[:, 1:2], x01[:, 2:3]
    assert torch.allclose(aug.grayscale(x01), 0.299 * r + 0.587 * g + 0.114 * b, atol=1e-6)
    # torchvision uses 0.2989 for red: agreement to 1e-4
    assert torch.allclose(aug.grayscale(x01), TF.rgb_to_grayscale(x01), atol=2e-4)


def test_color_on_grey_image_only_changes_brightness():
    # mid-grey survives contrast, saturation and greyscale; brightness b maps 0 to b - 1
    n = 20000
    x = torch.zeros(n, 3, 2, 2)
    y = aug.augment(x, ["color"], gen())
    flat = y.flatten(1)
    assert (flat == flat[:, :1]).all()
    assert flat.abs().max() <= 0.4 + 1e-6
    changed = int((flat[:, 0] != 0).sum())
    assert within_binomial(changed, n, 0.8)


def test_color_greyscale_branch_rate_and_equal_channels():
    n = 20000
    x = images(n, h=3, w=3)
    y = aug.augment(x, ["color"], gen())
    grey = (y[:, 0] == y[:, 1]).flatten(1).all(1) & (y[:, 1] == y[:, 2]).flatten(1).all(1)
    assert within_binomial(int(grey.sum()), n, 0.2)
    # saturation >= 0.6 never makes random colours grey, so the rest keep distinct channels
    assert ((y[~grey, 0] - y[~grey, 1]).abs().flatten(1).amax(1) > 1e-3).all()


def test_color_one_channel():
    x = images(50, c=1)
    y = aug.augment(x, ["color"], gen())
    assert y.shape == x.shape and not torch.equal(x, y)


# --- blur ---------------------------------------------------------------------------------

def test_kernel_sizes():
    assert [aug.kernel_size(s) for s in (8, 28, 32, 64, 128, 224)] == [3, 3, 3, 7, 13, 23]


def test_blur_keeps_constant_image():
    x = torch.full((8, 3, 32, 32), -0.7)
    y = aug.gaussian_blur(x, torch.linspace(0.1, 2.0, 8))
    assert torch.allclose(y, x, atol=1e-6)


def test_blur_reduces_variance_of_white_noise_more_for_larger_sigma():
    x = torch.randn(2, 1, 64, 64, generator=gen(2))
    y = aug.gaussian_blur(x, torch.tensor([0.5, 2.0]))
    var = y.flatten(1).var(1)
    assert var[0] < 0.8 * x[0].var() and var[1] < var[0]


def test_separable_blur_equals_direct_2d_convolution():
    x = images(3, c=2, h=40, w=70)  # kernels 3 x 7: catches swapped axes
    sigma = torch.tensor([0.3, 1.0, 1.9])
    y = aug.gaussian_blur(x, sigma)
    for i, s in enumerate(sigma.tolist()):
        kh, kw = aug.kernel_size(40), aug.kernel_size(70)
        yy, xx = torch.meshgrid(torch.arange(kh) - kh // 2, torch.arange(kw) - kw // 2,
                                indexing="ij")
        k2 = torch.exp(-(yy ** 2 + xx ** 2) / (2 * s ** 2))
        k2 = (k2 / k2.sum()).expand(2, 1, kh, kw)
        padded = F.pad(x[i:i + 1], (kw // 2, kw // 2, kh // 2, kh // 2), mode="reflect")
        ref = F.conv2d(padded, k2, groups=2)[0]
        assert torch.allclose(y[i], ref, atol=1e-5)


def test_blur_matches_torchvision():
    x = images(2, h=64, w=64)
    sigma = torch.tensor([0.7, 1.6])
    y = aug.gaussian_blur(x, sigma)
    for i in range(2):
        ref = TF.gaussian_blur(x[i], kernel_size=[7, 7], sigma=float(sigma[i]))
        assert torch.allclose(y[i], ref, atol=1e-5)


def test_random_blur_applies_half_the_time():
    n = 20000
    x = images(n, h=4, w=4)
    y = aug.augment(x, ["blur"], gen())
    blurred = ~(y == x).flatten(1).all(1)
    assert within_binomial(int(blurred.sum()), n, 0.5)

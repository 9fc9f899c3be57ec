"""FID the clean-fid way (mode "clean"), with the feature network and reference statistics ours.

clean-fid downloads its Inception weights to a hard-coded /tmp path and its reference
statistics into site-packages; neither works offline or reproducibly, so here the weights come
from a configured file and each data set's statistics are computed once, with clean-fid's own
resizing and feature code, into a cached .npz. Every number carries a ``protocol``:
``"clean-fid/inception"`` for the real network, ``"proxy"`` for the small stand-in used by
tests and CI, which is not comparable with any published FID.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError

INCEPTION = "clean-fid/inception"
PROXY = "proxy"
PROTOCOLS = (INCEPTION, PROXY)
FEATURE_DIMS = {INCEPTION: 2048, PROXY: 64}  # Inception's pool3 features; ProxyFeatures' default

INCEPTION_FILE = "inception-2015-12-05.pt"
INCEPTION_URL = "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/inception-2015-12-05.pt"
"""clean-fid 0.1.35's ``cleanfid.downloads_helper.inception_url``."""
INCEPTION_ENV = "STANLEY_INCEPTION"
CLEANFID_CACHE = Path("/tmp") / INCEPTION_FILE  # where clean-fid itself downloads it on Linux


def default_inception_path() -> Path:
    """``$XDG_CACHE_HOME/stanley/inception-2015-12-05.pt`` (``~/.cache/stanley/...``)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "stanley" / INCEPTION_FILE


def inception_path(weights_path: Union[str, os.PathLike, None] = None) -> Path:
    """The Inception file to use: the argument (config key), else $STANLEY_INCEPTION, else
    the default. A path ending in .pt is the file, anything else the folder it is in. With
    neither given and no file at the default, a copy clean-fid already downloaded to /tmp is used."""
    given = weights_path or os.environ.get(INCEPTION_ENV)
    if given:
        path = Path(given).expanduser()
        return path if path.suffix == ".pt" and not path.is_dir() else path / INCEPTION_FILE
    path = default_inception_path()
    return CLEANFID_CACHE if not path.is_file() and CLEANFID_CACHE.is_file() else path


def _missing_inception(path: Path) -> ConfigError:
    return ConfigError(
        f"the Inception weights file {path} is missing; with internet run `stanley download inception` "
        f"(fetches {INCEPTION_URL}); offline, copy {INCEPTION_FILE} to {path}, or point ${INCEPTION_ENV} "
        f"(config key fid.inception) at the copy you have"
    )


def download_inception(weights_path: Union[str, os.PathLike, None] = None) -> Path:
    """Fetch the weights with clean-fid's own downloader, into a temporary folder, then rename."""
    import tempfile

    from cleanfid.downloads_helper import check_download_inception

    path = inception_path(weights_path)
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        try:
            fetched = check_download_inception(fpath=tmp)
        except OSError as error:  # URLError is an OSError
            raise ConfigError(f"could not download {INCEPTION_URL} ({error}); offline, copy {INCEPTION_FILE} to {path}") from error
        os.replace(fetched, path)
    return path


# --------------------------------------------------------------------------- feature networks


class ProxyFeatures(nn.Module):
    """A fixed random conv net: 64 features (mean and sd over space of 32 filters).

    Deterministic (weights from a seeded generator, no download), fast on a CPU and sensitive
    to colour, contrast and local structure: enough to test the FID plumbing, never a score.
    """

    def __init__(self, dim: int = 64, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        filters = dim // 2
        self.register_buffer("weight", torch.randn(filters, 3, 4, 4, generator=g) / math.sqrt(48))
        self.register_buffer("bias", 0.1 * torch.randn(filters, generator=g))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (n, 3, 299, 299) in [0, 255]
        x = F.adaptive_avg_pool2d(x / 127.5 - 1, 32)
        h = torch.tanh(F.conv2d(x, self.weight, self.bias, stride=2)).flatten(2)
        return torch.cat([h.mean(2), h.std(2)], dim=1)


@dataclass
class Extractor:
    """A feature network as clean-fid calls it: ``model(batch)``, images (n, 3, 299, 299) in [0, 255]."""

    model: nn.Module
    protocol: str
    device: torch.device

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.model(batch.to(self.device, torch.float32))


def feature_extractor(
    weights_path: Union[str, os.PathLike, None] = None, proxy: bool = False, device: Union[str, torch.device] = "cpu"
) -> Extractor:
    """clean-fid's Inception (mode "clean": resized outside the network), or the proxy."""
    device = torch.device(device)
    if proxy:
        return Extractor(ProxyFeatures().to(device).eval(), PROXY, device)
    from cleanfid.inception_torchscript import InceptionV3W

    path = inception_path(weights_path)
    if not path.is_file():
        raise _missing_inception(path)
    if path.name != INCEPTION_FILE:
        raise ConfigError(f"the Inception weights file {path} must be named {INCEPTION_FILE} (clean-fid loads it by that name); rename it")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch 2.x deprecates torch.jit.load
            model = InceptionV3W(path=str(path.parent), download=False, resize_inside=False)
    except RuntimeError as error:  # torch.jit.load on a truncated or foreign file
        raise ConfigError(f"the Inception weights file {path} could not be loaded ({error}); delete it and fetch it again") from error
    return Extractor(model.to(device).eval(), INCEPTION, device)


# --------------------------------------------------------------------------- features and statistics


def to_255(images: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] (or uint8) as the float [0, 255] that clean-fid expects."""
    if images.dtype == torch.uint8:
        return images.float()
    return images.detach().clamp(-1, 1).add(1).mul(127.5)


def image_features(images: torch.Tensor, extractor: Extractor, batch_size: int = 100) -> np.ndarray:
    """Features of images (N, 3, H, W) in [-1, 1] or uint8, through clean-fid's "clean" resize."""
    from cleanfid.fid import get_batch_features
    from cleanfid.resize import build_resizer

    resize = build_resizer("clean")
    feats = []
    for start in range(0, len(images), batch_size):
        batch = to_255(images[start:start + batch_size]).cpu().numpy().transpose(0, 2, 3, 1)
        resized = np.stack([resize(image) for image in batch]).transpose(0, 3, 1, 2)
        feats.append(get_batch_features(torch.from_numpy(resized), extractor, extractor.device))
    return np.concatenate(feats).astype(np.float64)


def statistics(features: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (rows are samples), as clean-fid computes them."""
    return np.mean(features, axis=0), np.cov(features, rowvar=False)


def reference_stats(
    images_or_dataset: Union[torch.Tensor, str],
    extractor: Extractor,
    out_path: Union[str, os.PathLike],
    batch_size: int = 100,
    **load_options,
) -> Path:
    """mu and sigma of a data set's (training) images, cached as .npz with their protocol.

    ``images_or_dataset`` is an image tensor or a data set name for :func:`stanley.images.data.load`
    (``load_options`` go there: root, image_size, split, limit, ...). Written atomically.
    """
    from ..plumbing.io import write_atomic

    images = images_or_dataset
    if isinstance(images, str):
        from . import data

        images = data.load(images, **load_options)
    if len(images) < 2:
        raise ConfigError(f"reference statistics need at least 2 images, got {len(images)}")
    mu, sigma = statistics(image_features(images, extractor, batch_size))

    def save(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.savez(handle, mu=mu, sigma=sigma, protocol=extractor.protocol, n=len(images))

    return write_atomic(out_path, save)


def load_stats(path: Union[str, os.PathLike], protocol: Optional[str] = None) -> Tuple[np.ndarray, np.ndarray, str]:
    """(mu, sigma, protocol) from :func:`reference_stats`, or from clean-fid's own .npz files.

    The file is untrusted: it is read without pickle, and checked (float arrays of the feature
    dimension of its protocol, finite, sigma square) so that a bad file stops a run when it
    starts, not at its first FID evaluation. ``protocol`` is the one it must have, if given.
    """
    import zipfile

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"reference statistics {path} are missing; compute them first (stanley.images.fid.reference_stats)")

    def bad(problem: str) -> ConfigError:
        return ConfigError(f"reference statistics {path} are not usable: {problem}; recompute them (stanley fid-stats)")

    try:
        with np.load(path, allow_pickle=False) as stats:
            if "mu" not in stats or "sigma" not in stats:
                raise bad(f"they hold {', '.join(stats.files)[:80] or 'nothing'}, not mu and sigma")
            mu, sigma = stats["mu"], stats["sigma"]
            found = str(stats["protocol"]) if "protocol" in stats else INCEPTION
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:  # object arrays, not a .npz, truncated
        raise bad(f"{type(error).__name__}: {' '.join(str(error).split())[:100]}") from None
    if found not in PROTOCOLS:
        raise bad(f"unknown protocol {found[:40]!r}")
    d = FEATURE_DIMS[found]
    for name, array, shape in (("mu", mu, (d,)), ("sigma", sigma, (d, d))):
        if array.dtype.kind != "f" or array.shape != shape:
            raise bad(f"{name} is {array.dtype} of shape {array.shape}, expected floats of shape {shape}")
        if not np.isfinite(array).all():
            raise bad(f"{name} has non-finite values")
    if protocol is not None and found != protocol:
        raise ConfigError(f"reference statistics {path} were made with {found!r} features but the "
                          f"extractor is {protocol!r}; recompute them with the same extractor")
    return mu, sigma, found


# --------------------------------------------------------------------------- the distance


def _frechet_eigh(mu1, sigma1, mu2, sigma2) -> float:
    """Tr sqrt(S1 S2) as the trace of sqrt(S1^1/2 S2 S1^1/2): symmetric, so eigh is stable."""
    w, v = np.linalg.eigh((sigma1 + sigma1.T) / 2)
    root = (v * np.sqrt(w.clip(min=0))) @ v.T
    inner = root @ sigma2 @ root
    tr_covmean = np.sqrt(np.linalg.eigvalsh((inner + inner.T) / 2).clip(min=0)).sum()
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean)


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """clean-fid's distance; our eigh form if it fails (SciPy >= 1.18 dropped ``sqrtm(disp=)``,
    or an imaginary/non-finite square root)."""
    from cleanfid.fid import frechet_distance as clean

    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    sigma1, sigma2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"feature dimensions differ: {mu1.shape} vs {mu2.shape}")
    try:
        # it prints when it adds eps to the diagonal; SciPy 1.17 warns that ``disp`` is going
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            value = float(clean(mu1, sigma1, mu2, sigma2))
        if math.isfinite(value):
            return value
    except (TypeError, ValueError, np.linalg.LinAlgError):
        pass
    return _frechet_eigh(mu1, sigma1, mu2, sigma2)


def fid_from_features(features1: np.ndarray, features2: np.ndarray) -> float:
    return frechet_distance(*statistics(features1), *statistics(features2))


# --------------------------------------------------------------------------- generators


GenFn = Callable[[int], torch.Tensor]
"""``gen_fn(batch_size)`` -> images (batch_size, 3, H, W) in [-1, 1]."""


def with_grad(gen_fn: GenFn) -> GenFn:
    """clean-fid calls generators under ``torch.no_grad()``; MCMC needs autograd back on."""

    @functools.wraps(gen_fn)
    def wrapped(batch_size: int) -> torch.Tensor:
        with torch.enable_grad():
            return gen_fn(batch_size)

    return wrapped


def sampler_generator(
    kernel, budget: int, image_shape: Tuple[int, ...], generator: torch.Generator, device: Union[str, torch.device] = "cpu"
) -> GenFn:
    """Short-run samples: chains from U(-1, 1), ``budget`` gradient evaluations of ``kernel``.

    ``generator`` must live on ``device`` (it draws the starts and every sampler step).
    """
    from ..sampling import samplers

    def gen(batch_size: int) -> torch.Tensor:
        z = torch.rand((batch_size, *image_shape), generator=generator, device=device) * 2 - 1
        state, _ = samplers.sample(kernel, z, budget, generator)
        return state.z.detach()

    return with_grad(gen)


@dataclass(frozen=True)
class FIDResult:
    fid: float
    protocol: str
    n_samples: int
    reference: str

    def as_dict(self) -> dict:
        return {"fid": self.fid, "protocol": self.protocol, "n_samples": self.n_samples, "reference": self.reference}


def generator_features(
    gen_fn: GenFn, n_samples: int, batch_size: int, extractor: Extractor, quantize: bool = True
) -> np.ndarray:
    """Features of ``n_samples`` generated images through clean-fid's ``get_model_features``.

    ``quantize`` rounds to whole [0, 255] levels, as saving a PNG would, so generated images
    meet the reference images (stored as uint8) on the same footing.
    """
    from cleanfid.fid import get_model_features

    gen_fn = with_grad(gen_fn)

    def G(z: torch.Tensor) -> torch.Tensor:  # clean-fid's generator: latent in, [0, 255] out
        images = gen_fn(z.shape[0])
        if images.dim() != 4 or images.shape[0] != z.shape[0] or images.shape[1] != 3:
            raise ValueError(f"gen_fn({z.shape[0]}) must return ({z.shape[0]}, 3, H, W) images, got {tuple(images.shape)}")
        images = to_255(images)
        return images.round() if quantize else images

    return get_model_features(
        G, extractor, mode="clean", z_dim=1, num_gen=n_samples, batch_size=batch_size,
        device=extractor.device, verbose=False,
    ).astype(np.float64)


def fid_of_generator(
    gen_fn: GenFn,
    n_samples: int,
    batch_size: int,
    extractor: Extractor,
    ref_stats_path: Union[str, os.PathLike],
    device: Optional[Union[str, torch.device]] = None,
    quantize: bool = True,
) -> FIDResult:
    """FID of ``gen_fn``'s samples against cached reference statistics.

    ``device`` moves the extractor (default: where it is); ``gen_fn`` places its own work.
    """
    mu_ref, sigma_ref, _ = load_stats(ref_stats_path, extractor.protocol)
    if device is not None and torch.device(device) != extractor.device:
        extractor = Extractor(extractor.model.to(device), extractor.protocol, torch.device(device))
    features = generator_features(gen_fn, n_samples, batch_size, extractor, quantize)
    fid = frechet_distance(*statistics(features), mu_ref, sigma_ref)
    return FIDResult(fid, extractor.protocol, n_samples, str(ref_stats_path))


__all__ = [
    "CLEANFID_CACHE", "INCEPTION", "INCEPTION_ENV", "INCEPTION_FILE", "INCEPTION_URL", "PROXY", "PROTOCOLS",
    "Extractor", "FIDResult", "ProxyFeatures", "default_inception_path", "download_inception",
    "feature_extractor", "fid_from_features", "fid_of_generator", "frechet_distance", "generator_features",
    "image_features", "inception_path", "load_stats", "reference_stats", "sampler_generator", "statistics",
    "to_255", "with_grad",
]

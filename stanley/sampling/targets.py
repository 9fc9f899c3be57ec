"""Toy targets with exact densities, for training data and for checking samplers.

``get(name, **options)`` returns a target with ``dim``, ``normalised``, ``log_prob(x)``,
``score(x)`` and ``sample(n, generator)``; ``x`` is an (n, dim) tensor. Every target here
has an exact sampler, which is what makes it a test oracle.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, Optional, Sequence

import torch

from ..errors import ConfigError, require_number, unknown
from ..experiment.options import TARGETS

LOG_2PI = math.log(2 * math.pi)
MAX_DIM = 10_000  # dimensions, modes, rings: a cap against typos (1e8 modes allocate gigabytes)


def _option(target: str, key: str, value, low=None, high=None, **kind) -> None:
    """A target option must be a finite number in range (NaN or inf would give NaN samples silently)."""
    require_number(f"target {target}: option {key}", value, low, high, **kind)


def _normal(n: int, dim: int, generator: Optional[torch.Generator]) -> torch.Tensor:
    return torch.randn(n, dim, generator=generator)


def _uniform(n: int, generator: Optional[torch.Generator]) -> torch.Tensor:
    return torch.rand(n, generator=generator)


class Target:
    """Base class: a density on R^dim. Subclasses give ``log_prob`` and ``sample``."""

    dim: int = 2
    normalised: bool = True
    extent: float = 5.0  # half-width of a square that holds nearly all the mass (plots, grids)
    # How fast -log pi grows along its steepest ray, |z|^tail_power (None: not known). For
    # tail_power 2, tail_precision is P in -log pi(z) = z'Pz/2 + O(|z|). The drift diagnostics use
    # them to decide where an unadjusted kernel's Pi V is infinite without estimating it.
    tail_power: Optional[float] = None
    tail_precision: Optional[torch.Tensor] = None

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def sample(self, n: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        raise NotImplementedError

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """Gradient of ``log_prob``, by autograd (targets with a closed form may override)."""
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(self.log_prob(x).sum(), x)
        return grad

    def _check(self, x: torch.Tensor) -> None:
        if x.dim() != 2 or x.shape[1] != self.dim:
            raise ValueError(f"{type(self).__name__} expects an (n, {self.dim}) tensor, got {tuple(x.shape)}")


class Gaussian(Target):
    """N(mean, cov) in any dimension."""

    def __init__(self, mean: Sequence[float] = (0.0, 0.0), cov: Optional[Sequence[Sequence[float]]] = None):
        try:
            self.mean = torch.as_tensor(mean, dtype=torch.float32).reshape(-1)
            self.cov = torch.eye(len(self.mean)) if cov is None else torch.as_tensor(cov, dtype=torch.float32)
        except (TypeError, ValueError, RuntimeError):
            raise ConfigError("gaussian: mean must be a list of numbers and cov a square list of lists") from None
        _option("gaussian", "len(mean)", self.mean.numel(), 1, MAX_DIM, integer=True)
        if not (torch.isfinite(self.mean).all() and torch.isfinite(self.cov).all()):
            raise ConfigError("gaussian: mean and cov must be finite numbers")
        self.dim = self.mean.numel()
        if self.cov.shape != (self.dim, self.dim):
            raise ConfigError(f"gaussian: cov must be {self.dim} x {self.dim} to match mean, got {tuple(self.cov.shape)}")
        if not torch.allclose(self.cov, self.cov.T):
            raise ConfigError(f"gaussian: cov must be symmetric positive definite, got {self.cov.tolist()}")
        try:
            self.chol = torch.linalg.cholesky(self.cov.double()).float()
        except RuntimeError:
            raise ConfigError("gaussian: cov must be symmetric positive definite") from None
        self.precision = torch.cholesky_inverse(self.chol.double()).float()
        self.log_norm = -0.5 * self.dim * LOG_2PI - torch.log(torch.diagonal(self.chol)).sum().item()
        self.extent = 4.0 * math.sqrt(float(torch.diagonal(self.cov).max())) + float(self.mean.abs().max())
        self.tail_power, self.tail_precision = 2.0, self.precision

    def log_prob(self, x):
        self._check(x)
        d = x - self.mean.to(x)
        return self.log_norm - 0.5 * ((d @ self.precision.to(x)) * d).sum(dim=1)

    def score(self, x):
        return -(x - self.mean.to(x)) @ self.precision.to(x)

    def sample(self, n, generator=None):
        return self.mean + _normal(n, self.dim, generator) @ self.chol.T


class Rings(Target):
    """Concentric rings (the paper's toy data): ring k has radius ``k * radius``.

    Sampling draws a ring, ``rho = r_k + sd * n`` and a uniform angle; a negative ``rho``
    lands on the opposite side, so the exact density at distance ``rho`` is
    ``sum_k w_k [phi(rho - r_k) + phi(rho + r_k)] / (2 pi rho)`` (docs/maths.md, Toy targets).
    """

    def __init__(self, n_rings: int = 4, radius: float = 1.0, sd: float = 0.15,
                 weights: Optional[Sequence[float]] = None):
        _option("rings", "n_rings", n_rings, 1, MAX_DIM, integer=True)
        _option("rings", "radius", radius, 0, strict_low=True)
        _option("rings", "sd", sd, 0, strict_low=True)
        self.radii = radius * torch.arange(1, n_rings + 1, dtype=torch.float32)
        try:
            w = torch.ones(n_rings) if weights is None else torch.as_tensor(weights, dtype=torch.float32)
        except (TypeError, ValueError, RuntimeError):
            w = torch.full((0,), float("nan"))
        if w.shape != (n_rings,) or not torch.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise ConfigError(f"rings: weights must be {n_rings} non-negative numbers, not all zero")
        self.weights = w / w.sum()
        self.sd = sd
        self.extent = float(self.radii[-1]) + 4 * sd
        self.tail_power, self.tail_precision = 2.0, torch.eye(2) / sd**2

    def log_prob(self, x):
        self._check(x)
        rho = x.norm(dim=1).clamp_min(1e-12)[:, None]
        r, sd = self.radii.to(x), self.sd
        log_phi = lambda u: -0.5 * (u / sd) ** 2 - math.log(sd) - 0.5 * LOG_2PI  # noqa: E731
        mixture = torch.logaddexp(log_phi(rho - r), log_phi(rho + r)) + torch.log(self.weights.to(x))
        return torch.logsumexp(mixture, dim=1) - torch.log(2 * math.pi * rho[:, 0])

    def sample(self, n, generator=None):
        ring = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        rho = self.radii[ring] + self.sd * _normal(n, 1, generator)[:, 0]
        angle = 2 * math.pi * _uniform(n, generator)
        return torch.stack([rho * torch.cos(angle), rho * torch.sin(angle)], dim=1)


class GaussianMixture(Target):
    """``n_modes`` equal Gaussians with sd ``sd`` on a circle of radius ``radius`` (ebm-anatomy)."""

    def __init__(self, n_modes: int = 8, radius: float = 1.0, sd: float = 0.15):
        _option("gmm", "n_modes", n_modes, 1, MAX_DIM, integer=True)
        _option("gmm", "radius", radius, 0)
        _option("gmm", "sd", sd, 0, strict_low=True)
        angle = 2 * math.pi * torch.arange(n_modes, dtype=torch.float32) / n_modes
        self.centres = radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
        self.sd = sd
        self.extent = radius + 4 * sd
        self.tail_power, self.tail_precision = 2.0, torch.eye(2) / sd**2

    def log_prob(self, x):
        self._check(x)
        sq = ((x[:, None, :] - self.centres.to(x)) ** 2).sum(dim=2)
        log_each = -0.5 * sq / self.sd**2 - 2 * math.log(self.sd) - LOG_2PI
        return torch.logsumexp(log_each, dim=1) - math.log(len(self.centres))

    def sample(self, n, generator=None):
        mode = torch.randint(len(self.centres), (n,), generator=generator)
        return self.centres[mode] + self.sd * _normal(n, 2, generator)


class RadialPower(Target):
    """Density proportional to ``exp(-|z|^power)`` in ``dim`` dimensions.

    ``power=4`` is the light-tailed target where unadjusted Langevin is transient (Roberts and
    Tweedie 1996); ``power=1`` is the exponential (Laplace-type) tail, outside Theorem 1's H1 (the
    radial derivative of log pi is -1, not -> -inf); H1 needs ``power > 1``. Exact: ``|z|^power``
    is Gamma(dim / power) and the direction is uniform.
    """

    def __init__(self, power: float, dim: int = 2):
        _option("radial power", "power", power, 0, strict_low=True)
        _option("radial power", "dim", dim, 1, MAX_DIM, integer=True)
        self.power, self.dim = float(power), int(dim)
        # log of the normaliser: surface of the unit sphere times Gamma(dim/power) / power
        self.log_norm = -(
            math.log(2) + 0.5 * dim * math.log(math.pi) - math.lgamma(dim / 2)
            + math.lgamma(dim / power) - math.log(power)
        )
        self.extent = (math.gamma((dim + 8) / power) / math.gamma(dim / power)) ** (1 / 8) * 2.0
        self.tail_power = self.power
        self.tail_precision = 2.0 * torch.eye(self.dim) if self.power == 2 else None

    def log_prob(self, x):
        self._check(x)
        return self.log_norm - x.norm(dim=1) ** self.power

    def sample(self, n, generator=None):
        radius = _gamma_quantile(self.dim / self.power, _uniform(n, generator)) ** (1 / self.power)
        direction = _normal(n, self.dim, generator)
        return direction / direction.norm(dim=1, keepdim=True) * radius[:, None]


def _gamma_quantile(shape: float, u: torch.Tensor) -> torch.Tensor:
    """Gamma(shape, 1) quantiles of uniforms: torch's Gamma takes no generator, this way every
    draw follows the one given."""
    from scipy.special import gammaincinv

    return torch.from_numpy(gammaincinv(shape, u.double().clamp(1e-12, 1 - 1e-12).numpy())).float()


class Student(Target):
    """Multivariate Student-t with ``df`` degrees of freedom and identity scale: heavy tails (H1 fails)."""

    def __init__(self, df: float = 3.0, dim: int = 2):
        _option("student", "df", df, 0, strict_low=True)
        _option("student", "dim", dim, 1, MAX_DIM, integer=True)
        self.df, self.dim = float(df), int(dim)
        self.log_norm = (
            math.lgamma((df + dim) / 2) - math.lgamma(df / 2) - 0.5 * dim * math.log(df * math.pi)
        )
        self.extent = 6.0
        self.tail_power = 0.0  # logarithmic growth

    def log_prob(self, x):
        self._check(x)
        return self.log_norm - 0.5 * (self.df + self.dim) * torch.log1p((x * x).sum(dim=1) / self.df)

    def sample(self, n, generator=None):
        chi2 = 2 * _gamma_quantile(self.df / 2, _uniform(n, generator))
        return _normal(n, self.dim, generator) / torch.sqrt(chi2 / self.df)[:, None]


class Banana(Target):
    """Haario's banana: ``x0 ~ N(0, scale^2)``, ``x1 ~ N(b (x0^2 - scale^2), 1)``.

    Outside Theorem 1's H1 for b > 0: along the ridge ``x1 = b (x0^2 - scale^2)`` the gradient is
    ``(-x0 / scale^2, 0)`` while z turns towards the x1 axis, so the radial derivative of log pi
    tends to ``-1 / (b scale^2)`` (-1/3 at the defaults) and its cosine with z to 0."""

    def __init__(self, b: float = 0.03, scale: float = 10.0):
        _option("banana", "b", b)
        _option("banana", "scale", scale, 0, strict_low=True)
        self.b, self.scale = float(b), float(scale)
        self.extent = 3 * scale
        # along x0 the bend term gives -log pi ~ b^2 x0^4 / 2; with b = 0 it is a Gaussian
        self.tail_power = 4.0 if self.b else 2.0
        self.tail_precision = None if self.b else torch.diag(torch.tensor([1 / scale**2, 1.0]))

    def log_prob(self, x):
        self._check(x)
        x0, x1 = x[:, 0], x[:, 1]
        bend = x1 - self.b * (x0**2 - self.scale**2)
        return -0.5 * (x0 / self.scale) ** 2 - 0.5 * bend**2 - LOG_2PI - math.log(self.scale)

    def sample(self, n, generator=None):
        e = _normal(n, 2, generator)
        x0 = self.scale * e[:, 0]
        return torch.stack([x0, self.b * (x0**2 - self.scale**2) + e[:, 1]], dim=1)


REGISTRY: Dict[str, Callable[..., Target]] = {
    "rings": Rings,
    "gmm": GaussianMixture,
    "gaussian": Gaussian,
    "light": lambda dim=2: RadialPower(4.0, dim),
    "laplace": lambda dim=2: RadialPower(1.0, dim),
    "student": Student,
    "banana": Banana,
}
if tuple(REGISTRY) != TARGETS:  # the torch-free list that configs are checked against
    raise ImportError(f"stanley.experiment.options.TARGETS {TARGETS} and targets.REGISTRY {tuple(REGISTRY)} differ")


def get(name: str, **options: Any) -> Target:
    """A target by name; bad names or options raise :class:`ConfigError` naming the fix."""
    if name not in REGISTRY:
        raise unknown("target", name, REGISTRY)
    try:
        return REGISTRY[name](**options)
    except TypeError as error:  # an option the constructor does not take
        import inspect

        factory = REGISTRY[name]
        allowed = list(inspect.signature(factory.__init__ if isinstance(factory, type) else factory).parameters)
        allowed = [a for a in allowed if a != "self"]
        raise ConfigError(f"target {name!r}: {error}; its options are: {', '.join(allowed) or 'none'}") from None

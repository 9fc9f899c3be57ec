"""The MCMC kernels checked against facts that do not come from their own code.

Each test compares a kernel with an independent oracle: an exact invariant distribution
(Metropolis-adjusted kernels started at exact draws must stay there), the closed-form
stationary variance of the unadjusted Langevin algorithm on a Gaussian (its known bias),
identities between kernels (STANLEY with an infinite threshold is Langevin; one leapfrog step
is the MALA proposal), updates computed by hand, and the equal-budget rule of docs/maths.md
(The samplers). Statistical tolerances are k standard errors, the standard error from the sample
size and the known variance, k the Bonferroni-corrected normal quantile that keeps a test's
false-alarm rate at ALPHA. Every seed is fixed, so every test is deterministic.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from stanley.sampling import samplers, targets
from stanley.errors import ConfigError

ALPHA = 1e-4  # false-alarm probability of each statistical test, over seeds
SIGMA = [[1.0, 0.9], [0.9, 1.0]]
TARGET = targets.get("gaussian", cov=SIGMA)
CHOL = torch.linalg.cholesky(torch.tensor(SIGMA, dtype=torch.float64))



def k_sigma(n_checks: int) -> float:
    """Two-sided normal quantile for n_checks comparisons at family-wise level ALPHA."""
    return float(norm.isf(ALPHA / (2 * n_checks)))


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def linear(c: torch.Tensor):
    """The log density sum(c * z): its gradient is c everywhere."""
    return lambda z: (z * c).flatten(1).sum(1)


def gaussian_z_scores(z: torch.Tensor, temperature: float) -> torch.Tensor:
    """z-scores of the mean and covariance entries of iid draws claimed to be N(0, T Sigma).

    Raw coordinates: Var(x_i) = S_ii, Var(x_i x_j) = S_ii S_jj + S_ij^2 for S = T Sigma.
    Whitened w = L^-1 x / sqrt(T) ~ N(0, I): Var(w_i) = 1, Var(w_i^2) = 2, Var(w_0 w_1) = 1;
    these catch an error along the narrow axis (variance 0.1) that raw entries barely see.
    """
    x = z.double()
    n = len(x)
    s = temperature * torch.tensor(SIGMA, dtype=torch.float64)
    w = torch.linalg.solve_triangular(CHOL, x.T / math.sqrt(temperature), upper=False).T
    pairs = [(0, 0), (1, 1), (0, 1)]
    stats, variances = [], []
    for v, cov in ((x, s), (w, torch.eye(2, dtype=torch.float64))):
        for i in range(2):
            stats.append(v[:, i].mean())
            variances.append(cov[i, i])
        for i, j in pairs:
            stats.append((v[:, i] * v[:, j]).mean() - cov[i, j])
            variances.append(cov[i, i] * cov[j, j] + cov[i, j] ** 2)
    return torch.stack(stats) / torch.sqrt(torch.stack(variances) / n)


N_CHECKS = 10  # gaussian_z_scores returns 10 statistics
N_CHAINS, TRANSITIONS = 10_000, 20

INVARIANT = {
    # threshold 1 makes gamma vary (|g| is about 3 here); th = 0.01 would freeze the chains
    "mala": ("mala", {"step_size": 0.1}, 1.0),
    "stanley_mh": ("stanley_mh", {"step_size": 0.3, "threshold": 1.0}, 1.0),
    "stanley_mh-norm_sample": ("stanley_mh", {"step_size": 0.3, "threshold": 1.0, "norm": "sample"}, 1.0),
    "stanley_mh-noise_power_1": ("stanley_mh", {"step_size": 0.3, "threshold": 1.0, "noise_power": 1}, 1.0),
    "stanley_mh-drift_unscaled": ("stanley_mh", {"step_size": 0.3, "threshold": 1.0, "drift": "unscaled"}, 1.0),
    "hmc": ("hmc", {"step_size": 0.1, "leapfrog": 5}, 1.0),
    # the temperature convention: noise_scale eps targets pi^(1/eps^2), here N(0, eps^2 Sigma)
    "mala-tempered": ("mala", {"step_size": 0.1}, 0.8),
    "stanley_mh-tempered": ("stanley_mh", {"step_size": 0.3, "threshold": 1.0}, 0.8),
    "hmc-tempered": ("hmc", {"step_size": 0.1, "leapfrog": 5}, 0.8),
}


def run_from_exact_draws(name, options, eps, seed=0):
    kernel = samplers.get(name, TARGET.log_prob, noise_scale=eps, **options)
    start = eps * TARGET.sample(N_CHAINS, gen(seed))
    budget = TRANSITIONS * kernel.grad_evals_per_step
    state, info = samplers.sample(kernel, start, budget, gen(seed + 1))
    return start, state, info


@pytest.mark.parametrize("case", list(INVARIANT))
def test_adjusted_kernel_leaves_correlated_gaussian_invariant(case):
    name, options, eps = INVARIANT[case]
    start, state, info = run_from_exact_draws(name, options, eps)
    # the final states of independent chains are iid draws from the target if it is invariant
    z = gaussian_z_scores(state.z, eps**2)
    assert z.abs().max() < k_sigma(N_CHECKS), z
    # not vacuous: proposals are both accepted and rejected, and the chains moved
    acceptance = info["acceptance"].mean()
    assert 0 < acceptance < 1
    assert (state.z != start).any(dim=1).float().mean() > 0.5
    if name == "stanley_mh":
        assert info["gamma_min"].min() < 0.5  # the anisotropic step was active


@pytest.mark.parametrize("name, options", [
    ("langevin", {"step_size": 0.1}),
    ("stanley", {"step_size": 0.3, "threshold": 1.0}),
])
def test_invariance_check_rejects_unadjusted_kernels(name, options):
    """The same check, run on the unadjusted twins, fails: it has the power to see a bias."""
    _, state, _ = run_from_exact_draws(name, options, 1.0)
    assert gaussian_z_scores(state.z, 1.0).abs().max() > k_sigma(N_CHECKS)


# Invariance on non-Gaussian targets, where a state-dependent step has something to get wrong.
# Each target's settings make gamma vary over its bulk (th below the typical |d log pi / dz_i|)
# and move the chains well within 100 transitions; the mixture needs a small step for that,
# since a frozen gamma only matters while chains are still near their starts.
CURVED = {
    "banana": (targets.get("banana", b=0.1, scale=5.0), {"step_size": 1.0, "threshold": 0.1}),
    "mixture3": (targets.get("gmm", n_modes=3, radius=1.0, sd=0.5), {"step_size": 0.1, "threshold": 0.3}),
}
CURVED_IDS = [pytest.param("banana"), pytest.param("mixture3", marks=pytest.mark.slow)]  # mixture: ~25 s in all
CURVED_CHAINS, CURVED_REFERENCE, CURVED_TRANSITIONS = 20_000, 100_000, 100
ACCEPT_REJECT = {
    # every accept/reject kernel and every switch it accepts (refresh "iteration" is refused)
    "mala": ("mala", {}),
    "hmc-leapfrog_1": ("hmc", {"leapfrog": 1}),
    "hmc-leapfrog_5": ("hmc", {"leapfrog": 5}),
    "stanley_mh": ("stanley_mh", {}),
    "stanley_mh-norm_sample": ("stanley_mh", {"norm": "sample"}),
    "stanley_mh-norm_pixel": ("stanley_mh", {"norm": "pixel"}),
    "stanley_mh-noise_power_1": ("stanley_mh", {"noise_power": 1}),
    "stanley_mh-drift_unscaled": ("stanley_mh", {"drift": "unscaled"}),
    "stanley_mh-authors_code": ("stanley_mh", {"norm": "pixel", "drift": "unscaled", "noise_power": 1}),
}


def moment_z_scores(target, chains: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Two-sample z-scores of E f(chains) - E f(reference), Welch's standard error, for f in
    z_0, z_1, z_0^2, z_1^2, z_0 z_1, log pi and |grad log pi| (the last two see where a
    position-dependent step piles chains up). Independent iid samples: each z is N(0, 1) under
    the null, up to the CLT."""
    def features(x):
        x = x.float()
        w = x.double()
        return torch.stack([w[:, 0], w[:, 1], w[:, 0] ** 2, w[:, 1] ** 2, w[:, 0] * w[:, 1],
                            target.log_prob(x).double(), target.score(x).double().norm(dim=1)], dim=1)

    a, b = features(chains), features(reference)
    return (a.mean(0) - b.mean(0)) / torch.sqrt(a.var(0) / len(a) + b.var(0) / len(b))


N_MOMENTS = 7  # moment_z_scores returns 7 statistics


def curved_run(kernel, target, seed=0):
    start = target.sample(CURVED_CHAINS, gen(seed))
    state, info = samplers.sample(kernel, start, CURVED_TRANSITIONS * kernel.grad_evals_per_step, gen(seed + 1))
    reference = target.sample(CURVED_REFERENCE, gen(seed + 2))  # independent of the chains
    return start, state, info, moment_z_scores(target, state.z, reference)


@pytest.mark.parametrize("case", list(ACCEPT_REJECT))
@pytest.mark.parametrize("target_name", CURVED_IDS)
def test_accept_reject_kernels_leave_curved_targets_invariant(target_name, case):
    """Chains started at exact draws of a banana or a 3-mode mixture are still exact draws after
    100 transitions: the final states of independent chains against independent exact draws,
    every moment within k_sigma(7) of zero (false-alarm rate ALPHA per case)."""
    target, options = CURVED[target_name]
    name, switches = ACCEPT_REJECT[case]
    kernel = samplers.get(name, target.log_prob, **samplers.options_for(name, {**options, **switches}))
    start, state, info, z = curved_run(kernel, target)
    assert z.abs().max() < k_sigma(N_MOMENTS), z
    acceptance = info["acceptance"].mean()
    assert 0.2 < acceptance < 1  # not vacuous: both accepted and rejected, and the chains moved
    assert (state.z != start).any(dim=1).float().mean() > 0.5
    if name == "stanley_mh":
        assert info["gamma_mean"].mean() < 0.7  # the anisotropic step was active


def frozen_gamma_mh(target, options):
    """stanley_mh as it was before refresh "iteration" was refused: gamma computed once at the
    chain start and used in both proposal densities."""
    from stanley.sampling.stepsize import Anisotropic

    rule = Anisotropic(options["step_size"], 1.0, options["threshold"], refresh="iteration")
    return samplers.MetropolisAdjusted(target.log_prob, rule)


@pytest.mark.parametrize("target_name", CURVED_IDS)
def test_invariance_check_rejects_frozen_gamma_mh(target_name):
    """The check has the power to see the bug it was written for: with gamma frozen at the
    chain start, chains started in steep regions keep small steps and pile up there."""
    target, options = CURVED[target_name]
    *_, z = curved_run(frozen_gamma_mh(target, options), target)
    assert z.abs().max() > k_sigma(N_MOMENTS), z


@pytest.mark.parametrize("name, target_name", [("langevin", "mixture3"), ("stanley", "banana")])
def test_curved_invariance_check_rejects_unadjusted_kernels(name, target_name):
    """Langevin at step 1 diverges on the banana's arms (NaN, no z): its power is shown on the mixture."""
    target, options = CURVED[target_name]
    kernel = samplers.get(name, target.log_prob, **samplers.options_for(name, options))
    *_, z = curved_run(kernel, target)
    assert z.abs().max() > k_sigma(N_MOMENTS), z


def test_stanley_mh_refuses_a_frozen_gamma():
    with pytest.raises(ConfigError, match="stanley_mh.*refresh 'iteration'.*use refresh: step"):
        samplers.get("stanley_mh", TARGET.log_prob, refresh="iteration")
    samplers.get("stanley", TARGET.log_prob, refresh="iteration")  # the unadjusted kernel keeps it


@pytest.mark.parametrize("eps", [1.0, 0.5])
def test_langevin_matches_ulas_biased_stationary_variance(eps):
    """On N(0, sigma^2) ULA is z' = a z + sqrt(s) eps xi, a = 1 - s/(2 sigma^2), whose
    stationary variance s eps^2 / (1 - a^2) exceeds the target's eps^2 sigma^2."""
    s, var = 0.5, torch.tensor([0.5, 1.0], dtype=torch.float64)
    target = targets.get("gaussian", mean=(0.0, 0.0), cov=torch.diag(var).tolist())
    kernel = samplers.get("langevin", target.log_prob, step_size=s, noise_scale=eps)
    a = 1 - s / (2 * var)  # 0.5 and 0.75: after 80 steps a^160 < 1e-19 of the start remains
    stationary = s * eps**2 / (1 - a**2)
    n = 20_000
    state, _ = samplers.sample(kernel, torch.zeros(n, 2), 80, gen(0))
    # a linear Gaussian recursion from 0: z is exactly N(0, v), mean known, Var(z^2) = 2 v^2
    estimate = (state.z.double() ** 2).mean(dim=0)
    se = stationary * math.sqrt(2 / n)
    k = k_sigma(4)
    assert ((estimate - stationary).abs() < k * se).all(), (estimate, stationary)
    assert ((estimate - eps**2 * var).abs() > k * se).all(), (estimate, eps**2 * var)


SWITCHES = [{}, {"norm": "sample"}, {"norm": "pixel"}, {"noise_power": 1}, {"drift": "unscaled"}]


@pytest.mark.parametrize("switches", SWITCHES, ids=lambda s: "-".join(map(str, s.values())) or "default")
@pytest.mark.parametrize("anisotropic, isotropic", [("stanley", "langevin"), ("stanley_mh", "mala")])
def test_huge_threshold_stanley_equals_langevin_bit_for_bit(anisotropic, isotropic, switches):
    options = {"step_size": 0.3, "noise_scale": 0.7}
    a = samplers.get(anisotropic, TARGET.log_prob, threshold=1e30, **switches, **options)
    b = samplers.get(isotropic, TARGET.log_prob, **options)
    z = TARGET.sample(256, gen(0))
    sa, sb, ga, gb = a.init(z), b.init(z), gen(1), gen(1)
    for _ in range(8):
        sa, _ = a.step(sa, ga)
        sb, _ = b.step(sb, gb)
        assert torch.equal(sa.z, sb.z) and torch.equal(sa.logp, sb.logp)
    assert not torch.equal(sa.z, z)


def test_infinite_threshold_is_rejected():
    """th -> infinity is Langevin; th = inf itself would make gamma inf / inf = nan."""
    with pytest.raises(ConfigError, match="threshold"):
        samplers.get("stanley", TARGET.log_prob, threshold=math.inf)
    a = samplers.get("stanley", TARGET.log_prob, threshold=1e30)
    b = samplers.get("langevin", TARGET.log_prob)
    z = TARGET.sample(16, gen(0))
    sa, _ = a.step(a.init(z), gen(1))
    sb, _ = b.step(b.init(z), gen(1))
    assert torch.equal(sa.z, sb.z)


@pytest.mark.parametrize("eps", [1.0, 0.6])
def test_one_leapfrog_hmc_is_mala(eps):
    """One leapfrog step of size h = sqrt(s) eps at temperature eps^2 is the MALA proposal
    z + (s/2) g + sqrt(s) eps p, and the energy error is MALA's log acceptance ratio."""
    options = {"step_size": 0.2, "noise_scale": eps}
    hmc = samplers.get("hmc", TARGET.log_prob, leapfrog=1, **options)
    mala = samplers.get("mala", TARGET.log_prob, **options)
    z = TARGET.sample(500, gen(0)).double()
    sh, sm, gh, gm = hmc.init(z), mala.init(z), gen(1), gen(1)
    accepted = []
    for _ in range(10):
        sh, ih = hmc.step(sh, gh)
        sm, im = mala.step(sm, gm)
        torch.testing.assert_close(sh.z, sm.z, rtol=0, atol=1e-12)
        assert ih["acceptance"] == im["acceptance"]
        accepted.append(im["acceptance"])
    assert 0 < torch.stack(accepted).mean() < 1


def test_gd_is_noiseless_gradient_ascent():
    s = 0.3
    kernel = samplers.get("gd", TARGET.log_prob, step_size=s)
    z = TARGET.sample(64, gen(0)).double()
    generator = gen(5)
    before = generator.get_state()
    state, expected = kernel.init(z), z.clone()
    for _ in range(5):
        state, info = kernel.step(state, generator)
        expected = expected + (s / 2) * TARGET.score(expected)  # the closed-form score
    torch.testing.assert_close(state.z, expected, rtol=0, atol=1e-12)
    assert torch.equal(generator.get_state(), before)  # no random number was drawn
    again, _ = samplers.sample(kernel, z, 5, gen(99))
    assert torch.equal(again.z, state.z)
    # Langevin with no noise is the same map
    quiet, _ = samplers.sample(samplers.get("langevin", TARGET.log_prob, step_size=s, noise_scale=0.0), z, 5, gen(7))
    assert torch.equal(quiet.z, state.z)


GRAD = torch.tensor([[0.001, -0.5, 0.02, -3.0, 0.05]], dtype=torch.float64)
TH = 0.05
GAMMA = torch.tensor([[1.0, 0.1, 1.0, 0.05 / 3.0, 1.0]], dtype=torch.float64)  # th / max(th, |g|)


def test_stanley_coordinate_gamma_is_threshold_over_abs_gradient():
    s = 0.4
    kernel = samplers.get("stanley", linear(GRAD), step_size=s, noise_scale=0.0, threshold=TH)
    state, info = kernel.step(kernel.init(torch.zeros(3, 5, dtype=torch.float64)), gen(0))
    torch.testing.assert_close(state.z, ((s / 2) * GAMMA * GRAD).expand(3, 5))
    torch.testing.assert_close(info["gamma_min"], GAMMA.min())
    torch.testing.assert_close(info["gamma_mean"], GAMMA.mean())


@pytest.mark.parametrize("drift", ["scaled", "unscaled"])
@pytest.mark.parametrize("noise_power", [0.5, 1])
def test_stanley_switches_scale_drift_and_noise(noise_power, drift):
    s, eps = 0.4, 0.3
    kernel = samplers.get("stanley", linear(GRAD), step_size=s, noise_scale=eps, threshold=TH,
                          noise_power=noise_power, drift=drift)
    z = torch.zeros(6, 5, dtype=torch.float64)
    state, _ = kernel.step(kernel.init(z), gen(3))
    xi = torch.randn(z.shape, generator=gen(3), dtype=torch.float64)  # the step's one draw
    drift_coefficient = (s / 2) * (GAMMA if drift == "scaled" else 1.0)
    expected = drift_coefficient * GRAD + math.sqrt(s) * eps * GAMMA**noise_power * xi
    torch.testing.assert_close(state.z, expected)


@settings(max_examples=60, deadline=None)
@given(grad=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=6), th=st.floats(1e-4, 1e4))
def test_stanley_drift_is_the_gradient_clipped_at_threshold(grad, th):
    """gamma g = g where |g| <= th and th sign(g) beyond: eq. 4's drift is coordinate clipping."""
    g = torch.tensor([grad], dtype=torch.float64)
    kernel = samplers.get("stanley", linear(g), step_size=2.0, noise_scale=0.0, threshold=th)
    state, _ = kernel.step(kernel.init(torch.zeros_like(g)), gen(0))
    torch.testing.assert_close(state.z, torch.sign(g) * g.abs().clamp(max=th), rtol=1e-12, atol=0)


@pytest.mark.parametrize("norm_name, gamma_shape", [("sample", (5, 1, 1, 1)), ("pixel", (5, 1, 4, 4))])
def test_stanley_sample_and_pixel_gamma_on_images(norm_name, gamma_shape):
    a = torch.linspace(0.1, 3.0, 48, dtype=torch.float64).view(1, 3, 4, 4)
    z = torch.randn(5, 3, 4, 4, generator=gen(0), dtype=torch.float64)
    z[0] *= 1e-3  # one chain with a small gradient, so gamma = 1 occurs too
    g = -a * z  # gradient of the log density below
    th, s = 1.0, 0.2
    kernel = samplers.get("stanley", lambda x: -0.5 * (a * x * x).flatten(1).sum(1), step_size=s,
                          noise_scale=0.0, threshold=th, norm=norm_name, refresh="iteration")
    state = kernel.init(z)
    if norm_name == "sample":  # the L2 norm of the whole image
        size = (g**2).sum(dim=(1, 2, 3)).sqrt().view(5, 1, 1, 1)
    else:  # the L2 norm over the 3 channels of each pixel
        size = (g**2).sum(dim=1, keepdim=True).sqrt()
    gamma = th / size.clamp(min=th)
    assert state.gamma.shape == gamma_shape
    torch.testing.assert_close(state.gamma, gamma)
    assert (gamma == 1).any() and (gamma < 0.5).any()
    new, _ = kernel.step(state, gen(1))
    torch.testing.assert_close(new.z, z + (s / 2) * gamma * g)


def test_refresh_iteration_freezes_gamma_and_step_recomputes_it():
    options = {"step_size": 0.3, "noise_scale": 1.0, "threshold": 1.0}
    z = TARGET.sample(32, gen(0))
    frozen = samplers.get("stanley", TARGET.log_prob, refresh="iteration", **options)
    start = frozen.init(z)
    state, info = samplers.sample(frozen, z, 4, gen(1))
    assert torch.equal(state.gamma, start.gamma)
    torch.testing.assert_close(start.gamma, 1.0 / start.grad.abs().clamp(min=1.0))
    assert not torch.equal(state.gamma, 1.0 / state.grad.abs().clamp(min=1.0))  # a refresh would change it
    assert len(set(info["gamma_mean"].tolist())) == 1  # the same gamma at every step
    torch.testing.assert_close(info["gamma_mean"][0], start.gamma.mean())  # mean of per-chain means
    fresh = samplers.get("stanley", TARGET.log_prob, refresh="step", **options)
    state, info = samplers.sample(fresh, z, 4, gen(1))
    assert state.gamma is None
    assert len(set(info["gamma_mean"].tolist())) == 4


@pytest.mark.parametrize("name, options, transitions", [
    ("langevin", {}, 100), ("stanley", {}, 100), ("mala", {}, 100), ("stanley_mh", {}, 100),
    ("gd", {}, 100), ("hmc", {"leapfrog": 5}, 20), ("hmc", {"leapfrog": 4}, 25), ("hmc", {"leapfrog": 1}, 100),
])
def test_sample_spends_exactly_the_budget(name, options, transitions):
    calls = []

    def counted(z):
        calls.append(1)
        return TARGET.log_prob(z)

    kernel = samplers.get(name, counted, **options)
    _, info = samplers.sample(kernel, TARGET.sample(8, gen(0)), 100, gen(1))
    assert len(calls) == 100 + 1  # the budget plus the start's evaluation
    assert info and all(value.shape[0] == transitions for value in info.values())


@pytest.mark.parametrize("budget", [102, 3])
def test_budget_not_a_multiple_of_leapfrog_is_rejected(budget):
    kernel = samplers.get("hmc", TARGET.log_prob, leapfrog=5)
    with pytest.raises(ConfigError, match="leapfrog"):
        samplers.sample(kernel, TARGET.sample(4, gen(0)), budget, gen(1))


def test_unknown_sampler_names_the_nearest():
    with pytest.raises(ConfigError, match=r"unknown sampler 'stanly' \(did you mean 'stanley'\?\)"):
        samplers.get("stanly", TARGET.log_prob)


@pytest.mark.parametrize("name, options, key", [
    ("mala", {"threshold": 0.1}, "threshold"),
    ("gd", {"noise_scale": 1.0}, "noise_scale"),
    ("langevin", {"step_size": -0.1}, "step_size"),
    ("langevin", {"step_size": 0}, "step_size"),
    ("langevin", {"step_size": True}, "step_size"),
    ("mala", {"noise_scale": 0.0}, "noise_scale"),
    ("stanley_mh", {"noise_scale": 0.0}, "noise_scale"),
    ("hmc", {"noise_scale": 0.0}, "noise_scale"),
    ("stanley", {"threshold": 0.0}, "threshold"),
    ("stanley", {"norm": "l2"}, "norm"),
    ("stanley", {"noise_power": 2}, "noise_power"),
    ("stanley", {"drift": "half"}, "drift"),
    ("stanley_mh", {"refresh": "never"}, "refresh"),
    ("hmc", {"leapfrog": 0}, "leapfrog"),
    ("hmc", {"leapfrog": 2.5}, "leapfrog"),
])
def test_bad_option_raises_config_error_naming_the_key(name, options, key):
    with pytest.raises(ConfigError, match=key):
        samplers.get(name, TARGET.log_prob, **options)


IMAGE_CASES = [(name, {}) for name in samplers.NAMES] + [
    ("stanley", {"norm": "pixel"}), ("stanley_mh", {"norm": "pixel"}), ("stanley", {"norm": "sample"}),
]


@pytest.mark.parametrize("name, options", IMAGE_CASES,
                         ids=["-".join([name, *options.values()]) for name, options in IMAGE_CASES])
def test_samplers_run_on_image_shaped_chains(name, options):
    kernel = samplers.get(name, lambda x: -0.5 * (x * x).flatten(1).sum(1), **options)
    z = 2 * torch.rand(16, 3, 8, 8, generator=gen(0)) - 1
    state, info = samplers.sample(kernel, z, 10, gen(1))
    assert state.z.shape == state.grad.shape == z.shape and state.logp.shape == (16,)
    assert torch.isfinite(state.z).all() and torch.isfinite(state.logp).all()
    assert all(torch.isfinite(value).all() for value in info.values())
    if "acceptance" in info:  # stanley_mh at its defaults rejects nearly all moves in 192 dimensions
        assert ((0 <= info["acceptance"]) & (info["acceptance"] <= 1)).all()
    else:
        assert not torch.equal(state.z, z)


@pytest.mark.parametrize("std", [0.3, "per-coordinate", "per-chain"])
def test_gaussian_log_density_matches_torch_normal(std):
    from stanley.sampling.metropolis import gaussian_log_density

    g = gen(3)
    x, mean = torch.randn(50, 3, generator=g, dtype=torch.float64), torch.randn(50, 3, generator=g, dtype=torch.float64)
    scale = {"per-coordinate": torch.rand(50, 3, generator=g, dtype=torch.float64) + 0.1,
             "per-chain": torch.rand(50, 1, generator=g, dtype=torch.float64) + 0.1}.get(std, std)
    oracle = torch.distributions.Normal(mean, scale).log_prob(x).sum(dim=1) + 3 * 0.5 * math.log(2 * math.pi)
    torch.testing.assert_close(gaussian_log_density(x, mean, scale), oracle)

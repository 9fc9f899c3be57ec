"""FID through clean-fid's own code path, with the proxy extractor standing in for Inception."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stanley.images import data, fid
from stanley.learning import models
from stanley.sampling import samplers
from stanley.errors import ConfigError

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(scope="module")
def proxy():
    return fid.feature_extractor(proxy=True)


@pytest.fixture(scope="module")
def images():
    return data.load("shapes", image_size=32, limit=160, seed=0)


@pytest.fixture(scope="module")
def ref_stats(tmp_path_factory, proxy):
    path = tmp_path_factory.mktemp("stats") / "shapes_train_32.npz"
    return fid.reference_stats("shapes", proxy, path, image_size=32, limit=100, seed=7)


def test_proxy_is_deterministic_and_labelled(proxy):
    batch = torch.rand(3, 3, 299, 299, generator=torch.Generator().manual_seed(0)) * 255
    again = fid.feature_extractor(proxy=True)
    assert proxy.protocol == "proxy" and again.protocol == fid.PROXY
    assert proxy(batch).shape == (3, 64)
    assert torch.equal(proxy(batch), again(batch))


def test_identical_sets_give_zero_and_shifts_give_more(proxy, images):
    a, b = images[:80], images[80:]
    fa = fid.image_features(a, proxy)
    assert abs(fid.fid_from_features(fa, fa)) < 1e-6
    same_kind = fid.fid_from_features(fa, fid.image_features(b, proxy))
    darker = fid.fid_from_features(fa, fid.image_features((b - 0.4).clamp(-1, 1), proxy))
    noisy = fid.fid_from_features(fa, fid.image_features((b + 0.3 * torch.randn_like(b)).clamp(-1, 1), proxy))
    assert 0 < same_kind < darker and same_kind < noisy


def test_gaussian_closed_form_for_diagonal_covariances():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    s1, s2 = rng.uniform(0.1, 3, size=5), rng.uniform(0.1, 3, size=5)
    closed = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(s1) - np.sqrt(s2)) ** 2)
    assert fid.frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(closed, rel=1e-9)
    # and from samples: the estimate converges to the same number
    x = mu1 + np.sqrt(s1) * rng.normal(size=(200_000, 5))
    y = mu2 + np.sqrt(s2) * rng.normal(size=(200_000, 5))
    assert fid.fid_from_features(x, y) == pytest.approx(closed, rel=0.02)


def test_fallback_matches_clean_fid_and_covers_scipy_118(monkeypatch):
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(8, 8)), rng.normal(size=(8, 8))
    s1, s2 = a @ a.T + 0.1 * np.eye(8), b @ b.T + 0.1 * np.eye(8)
    mu1, mu2 = rng.normal(size=8), rng.normal(size=8)
    reference = fid.frechet_distance(mu1, s1, mu2, s2)
    assert fid._frechet_eigh(mu1, s1, mu2, s2) == pytest.approx(reference, rel=1e-8)

    import cleanfid.fid

    def sqrtm_without_disp(matrix, **kwargs):  # SciPy 1.18 removed ``disp``
        if "disp" in kwargs:
            raise TypeError("sqrtm() got an unexpected keyword argument 'disp'")
        raise AssertionError("not reached")

    monkeypatch.setattr(cleanfid.fid.linalg, "sqrtm", sqrtm_without_disp)
    assert fid.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(reference, rel=1e-8)


def test_reference_stats_cached_atomically(ref_stats):
    mu, sigma, protocol = fid.load_stats(ref_stats)
    assert mu.shape == (64,) and sigma.shape == (64, 64) and protocol == "proxy"
    assert sorted(p.name for p in ref_stats.parent.iterdir()) == [ref_stats.name]  # no temp files left
    with np.load(ref_stats) as stats:
        assert int(stats["n"]) == 100


def test_fid_of_generator_against_reference(proxy, ref_stats):
    pool = data.load("shapes", image_size=32, limit=100, seed=7)  # the reference images themselves
    other = data.load("shapes", image_size=32, limit=100, seed=8)

    def serve(images):
        position = [0]

        def gen(batch_size):
            out = images[position[0]:position[0] + batch_size]
            position[0] += batch_size
            return out

        return gen

    own = fid.fid_of_generator(serve(pool), 100, 50, proxy, ref_stats)
    fresh = fid.fid_of_generator(serve(other), 100, 50, proxy, ref_stats)
    noise = fid.fid_of_generator(lambda n: torch.rand(n, 3, 32, 32) * 2 - 1, 50, 25, proxy, ref_stats)
    assert own.protocol == "proxy" and own.n_samples == 100
    assert own.fid < 1e-3 < fresh.fid < noise.fid  # quantising exact uint8 images changes nothing
    assert own.as_dict()["reference"] == str(ref_stats)


def test_clean_fid_calls_generators_without_grad_and_the_wrapper_restores_it(proxy):
    from cleanfid.fid import get_model_features

    net = models.build("convnet", n_f=4, image_size=32)
    seen = []

    def langevin(batch_size):  # autograd by hand, as any MCMC sampler needs
        seen.append(torch.is_grad_enabled())
        z = torch.rand(batch_size, 3, 32, 32) * 2 - 1
        for _ in range(2):
            z = z.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(net(z).sum(), z)
            z = z + 0.01 * grad + 0.01 * torch.randn_like(z)
        return (z.detach().clamp(-1, 1) + 1) * 127.5

    with pytest.raises(RuntimeError, match="does not require grad"):
        get_model_features(lambda z: langevin(z.shape[0]), proxy, mode="clean", z_dim=1, num_gen=4,
                           batch_size=4, device=proxy.device, verbose=False)
    assert seen == [False]
    wrapped = fid.with_grad(langevin)
    feats = get_model_features(lambda z: wrapped(z.shape[0]), proxy, mode="clean", z_dim=1, num_gen=6,
                               batch_size=4, device=proxy.device, verbose=False)
    assert feats.shape == (6, 64) and seen[1:] == [True, True]
    with torch.no_grad():
        wrapped(1)
        assert not torch.is_grad_enabled()  # the wrapper leaves no trace outside


def test_sampler_generator_through_fid(proxy, ref_stats):
    net = models.build("convnet", n_f=4, image_size=32)
    kernel = samplers.get("stanley", net, step_size=2.0, noise_scale=0.005, threshold=0.01)
    gen = fid.sampler_generator(kernel, 3, (3, 32, 32), torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert gen(2).shape == (2, 3, 32, 32)
    result = fid.fid_of_generator(gen, 40, 20, proxy, ref_stats)
    assert np.isfinite(result.fid) and result.fid > 0 and result.protocol == "proxy"


def test_protocols_never_mix(tmp_path, proxy, ref_stats):
    stats = dict(np.load(ref_stats))
    stats["protocol"] = np.array(fid.INCEPTION)
    np.savez(tmp_path / "inception.npz", **stats)
    with pytest.raises(ConfigError, match="recompute"):
        fid.fid_of_generator(lambda n: torch.zeros(n, 3, 32, 32), 10, 10, proxy, tmp_path / "inception.npz")
    with pytest.raises(ConfigError, match="missing"):
        fid.fid_of_generator(lambda n: torch.zeros(n, 3, 32, 32), 10, 10, proxy, tmp_path / "none.npz")


def test_missing_inception_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv(fid.INCEPTION_ENV, str(tmp_path / "weights" / fid.INCEPTION_FILE))
    with pytest.raises(ConfigError) as error:
        fid.feature_extractor()
    message = str(error.value)
    assert str(tmp_path / "weights" / "inception-2015-12-05.pt") in message
    assert "stanley download inception" in message and fid.INCEPTION_URL in message and "offline" in message
    # an explicit path (the config key) wins over the environment; a folder means the file in it
    assert fid.inception_path(tmp_path) == tmp_path / fid.INCEPTION_FILE
    monkeypatch.delenv(fid.INCEPTION_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(fid, "CLEANFID_CACHE", tmp_path / "no-cleanfid-copy.pt")
    assert fid.inception_path() == tmp_path / "cache" / "stanley" / fid.INCEPTION_FILE


def test_corrupt_inception_file_is_a_config_error(tmp_path):
    (tmp_path / fid.INCEPTION_FILE).write_bytes(b"not a torchscript archive")
    with pytest.raises(ConfigError, match="could not be loaded"):
        fid.feature_extractor(tmp_path / fid.INCEPTION_FILE)


def test_inception_url_is_clean_fids(tmp_path, monkeypatch):
    import cleanfid.downloads_helper as helper

    assert fid.INCEPTION_URL == helper.inception_url

    def fake_download(fpath="./"):
        target = f"{fpath}/{fid.INCEPTION_FILE}"
        open(target, "wb").write(b"weights")
        return target

    monkeypatch.setattr(helper, "check_download_inception", fake_download)
    path = fid.download_inception(tmp_path / "w")
    assert path == tmp_path / "w" / fid.INCEPTION_FILE and path.read_bytes() == b"weights"
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == [fid.INCEPTION_FILE]


@pytest.mark.gpu
@cuda
def test_proxy_fid_on_gpu(ref_stats):
    extractor = fid.feature_extractor(proxy=True, device="cuda")
    result = fid.fid_of_generator(lambda n: torch.rand(n, 3, 32, 32, device="cuda") * 2 - 1, 50, 25, extractor, ref_stats)
    assert np.isfinite(result.fid)


@pytest.mark.gpu
@cuda
def test_real_inception_when_present():
    if not fid.inception_path().is_file():
        pytest.skip(f"no Inception weights at {fid.inception_path()}")
    extractor = fid.feature_extractor(device="cuda")
    feats = fid.image_features(data.load("shapes", limit=4), extractor)
    assert feats.shape == (4, 2048) and extractor.protocol == "clean-fid/inception"

"""Data sets through torchvision's real loaders, on tiny copies in each set's on-disk layout.

The fixtures cannot match torchvision's md5 sums, so loads pass ``verify=False`` (presence
only); one test shows that ``verify=True`` catches exactly those checksums.
"""

from __future__ import annotations

import os
import pickle
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from stanley.images import data
from stanley.learning import models
from stanley.sampling import samplers
from stanley.errors import ConfigError

# --------------------------------------------------------------------------- fixtures


def _cifar_image(batch: int, i: int) -> np.ndarray:
    """A (3, 32, 32) uint8 image whose pixels encode where it came from."""
    rng = np.random.default_rng(1000 * batch + i)
    return rng.integers(0, 256, size=(3, 32, 32), dtype=np.uint8)


def make_cifar10(root: Path, per_batch: int = 4) -> Path:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    names = [f"data_batch_{b}" for b in range(1, 6)] + ["test_batch"]
    for b, name in enumerate(names, 1):
        images = np.stack([_cifar_image(b, i) for i in range(per_batch)])
        entry = {"batch_label": name, "labels": [i % 10 for i in range(per_batch)],
                 "data": images.reshape(per_batch, 3072), "filenames": [f"{i}.png" for i in range(per_batch)]}
        (folder / name).write_bytes(pickle.dumps(entry, protocol=2))
    meta = {"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
            "num_cases_per_batch": per_batch, "num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return root


def _solid(size, colour) -> Image.Image:
    return Image.new("RGB", size, tuple(int(c) for c in colour))


def make_flowers102(root: Path, n: int = 9) -> Path:
    from scipy.io import savemat

    folder = root / "flowers-102"
    (folder / "jpg").mkdir(parents=True)
    for i in range(1, n + 1):
        _solid((50 + i, 40), (20 * i, 100, 250 - 20 * i)).save(folder / "jpg" / f"image_{i:05d}.jpg", quality=95)
    savemat(folder / "imagelabels.mat", {"labels": np.array([[1 + i % 102 for i in range(n)]])})
    ids = np.arange(1, n + 1)
    savemat(folder / "setid.mat", {"trnid": ids[None, :3], "valid": ids[None, 3:5], "tstid": ids[None, 5:]})
    return root


def make_celeba(root: Path, partition=(0, 0, 0, 0, 1, 2, 2)) -> Path:
    folder = root / "celeba"
    (folder / "img_align_celeba").mkdir(parents=True)
    names = [f"{i:06d}.jpg" for i in range(1, len(partition) + 1)]
    for i, name in enumerate(names):
        _solid((178, 218), (30 * i, 60, 200)).save(folder / "img_align_celeba" / name, quality=95)
    attrs = ["5_o_Clock_Shadow", "Smiling"]  # the real file has 40; torchvision reads any number
    files = {
        "list_eval_partition.txt": [f"{n} {p}" for n, p in zip(names, partition)],
        "identity_CelebA.txt": [f"{n} {i + 1}" for i, n in enumerate(names)],
        "list_bbox_celeba.txt": [str(len(names)), "image_id x_1 y_1 width height"]
        + [f"{n} 95 71 226 313" for n in names],
        "list_landmarks_align_celeba.txt": [str(len(names)), "lefteye_x lefteye_y righteye_x righteye_y nose_x "
                                            "nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y"]
        + [f"{n}  69  109  106  113   77  142   73  152  108  154" for n in names],
        "list_attr_celeba.txt": [str(len(names)), " ".join(attrs)] + [f"{n} -1  1" for n in names],
    }
    for name, lines in files.items():
        (folder / name).write_text("\n".join(lines) + "\n")
    return root


# --------------------------------------------------------------------------- real formats


def test_cifar10_loads_pixels_in_order_and_scale(tmp_path):
    make_cifar10(tmp_path)
    x = data.load("cifar10", tmp_path, image_size=32, verify=False)
    assert x.shape == (20, 3, 32, 32) and x.dtype == torch.float32
    expected = torch.from_numpy(_cifar_image(2, 1))  # data_batch_2, second image
    assert torch.equal(x[5], expected.float() / 127.5 - 1)
    raw = data.load("cifar10", tmp_path, split="test", verify=False, dtype=torch.uint8)
    assert torch.equal(raw[0], torch.from_numpy(_cifar_image(6, 0)))
    assert torch.equal(data.to_uint8(data.to_unit(raw)), raw)


def test_cifar10_resized_to_64_and_limited(tmp_path):
    make_cifar10(tmp_path)
    x = data.load("cifar10", tmp_path, image_size=64, limit=3, verify=False)
    assert x.shape == (3, 3, 64, 64) and x.min() >= -1 and x.max() <= 1


def test_cifar10_checksums_are_checked_by_default(tmp_path):
    make_cifar10(tmp_path)
    with pytest.raises(ConfigError, match="checksum mismatch for cifar-10-batches-py/data_batch_1.*verify"):
        data.load("cifar10", tmp_path)


def test_flowers102_splits(tmp_path):
    make_flowers102(tmp_path)
    train = data.load("flowers102", tmp_path, image_size=32, verify=False)
    assert train.shape == (3, 3, 32, 32)
    everything = data.load("flowers102", tmp_path, image_size=32, split="all", verify=False)
    assert everything.shape == (9, 3, 32, 32)
    red = everything[:, 0].mean(dim=(1, 2))
    expected = torch.tensor([20.0 * i for i in range(1, 10)]) / 127.5 - 1  # solid colours survive JPEG
    assert torch.allclose(red, expected, atol=0.05)
    assert data.load("flowers102", tmp_path, split="all", limit=4, verify=False).shape[0] == 4


def test_celeba_train_and_test_split_for_inpainting(tmp_path):
    make_celeba(tmp_path)
    train = data.load("celeba", tmp_path, image_size=64, verify=False)
    test = data.load("celeba", tmp_path, image_size=64, split="test", verify=False)
    assert train.shape == (4, 3, 64, 64) and test.shape == (2, 3, 64, 64)
    assert torch.allclose(test[:, 0].mean(dim=(1, 2)), torch.tensor([150.0, 180.0]) / 127.5 - 1, atol=0.05)


def test_imagefolder_reads_any_images_recursively(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    _solid((40, 30), (255, 0, 0)).save(tmp_path / "a" / "one.png")
    _solid((20, 20), (0, 0, 255)).save(tmp_path / "a" / "b" / "two.jpg")
    Image.new("L", (10, 10), 255).save(tmp_path / "grey.bmp")
    (tmp_path / "notes.txt").write_text("not an image")
    x = data.load("imagefolder", tmp_path, image_size=16)
    assert x.shape == (3, 3, 16, 16)
    # sorted by path: a/b/two.jpg (blue), a/one.png (red), grey.bmp (white, grey made RGB)
    colours = torch.tensor([[-1.0, -1.0, 1.0], [1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])
    assert torch.allclose(x[:, :, 8, 8], colours, atol=0.05)
    with pytest.raises(ConfigError, match="no folder"):
        data.load("imagefolder", tmp_path, split="test")


# --------------------------------------------------------------------------- missing data


@pytest.mark.parametrize("name, make, drop, named", [
    ("cifar10", make_cifar10, "cifar-10-batches-py/data_batch_3", "cifar-10-batches-py/data_batch_3"),
    ("flowers102", make_flowers102, "flowers-102/setid.mat", "flowers-102/setid.mat"),
    ("celeba", make_celeba, "celeba/list_eval_partition.txt", "celeba/list_eval_partition.txt"),
])
def test_incomplete_dataset_names_path_and_files(tmp_path, name, make, drop, named):
    make(tmp_path)
    (tmp_path / drop).unlink()
    with pytest.raises(ConfigError) as error:
        data.load(name, tmp_path, verify=False)
    message = str(error.value)
    assert str(tmp_path) in message and named in message
    assert f"stanley download {name} --root {tmp_path}" in message and "offline" in message
    assert "\n" not in message


@pytest.mark.parametrize("name", ["cifar10", "flowers102", "celeba", "imagefolder"])
def test_missing_dataset_is_caught_before_training(tmp_path, name):
    with pytest.raises(ConfigError) as error:
        data.check(name, tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(error.value)
    for rel in data.EXPECTED_FILES[name] if name != "imagefolder" else ():
        assert rel.rstrip("/") in str(error.value)


def test_image_folder_without_images_is_an_error(tmp_path):
    make_flowers102(tmp_path)
    for jpg in (tmp_path / "flowers-102" / "jpg").iterdir():
        jpg.unlink()
    with pytest.raises(ConfigError, match=r"flowers-102/jpg/\*\.jpg"):
        data.check("flowers102", tmp_path)


def test_bad_names_and_options():
    with pytest.raises(ConfigError, match="did you mean 'cifar10'"):
        data.load("cifar-10", "x")
    with pytest.raises(ConfigError, match="no split 'valid'"):
        data.load("cifar10", "x", split="valid")
    with pytest.raises(ConfigError, match="image_size"):
        data.load("shapes", image_size=0)
    with pytest.raises(ConfigError, match="limit"):
        data.load("shapes", limit=0)


def test_download_goes_through_torchvision(tmp_path, monkeypatch):
    from torchvision.datasets import cifar

    def fake_download(url, download_root, filename=None, md5=None, **kwargs):
        assert url == cifar.CIFAR10.url and md5 == cifar.CIFAR10.tgz_md5
        make_cifar10(Path(download_root))

    monkeypatch.setattr(cifar, "download_and_extract_archive", fake_download)
    monkeypatch.setattr(cifar, "check_integrity", lambda fpath, md5=None: Path(fpath).is_file())
    x = data.load("cifar10", tmp_path, download=True, verify=False)  # the fixture cannot match the md5 sums
    assert x.shape == (20, 3, 32, 32)


def test_failed_download_says_what_to_do_offline(tmp_path, monkeypatch):
    from torchvision.datasets import cifar

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no internet")

    monkeypatch.setattr(cifar, "download_and_extract_archive", offline)
    with pytest.raises(ConfigError, match="cifar-10-python.tar.gz"):
        data.download("cifar10", tmp_path)


def test_cache_skips_decoding(tmp_path):
    make_flowers102(tmp_path / "root")
    first = data.load("flowers102", tmp_path / "root", split="all", verify=False, cache=tmp_path / "cache")
    cached = list((tmp_path / "cache").iterdir())
    assert [p.suffix for p in cached] == [".npy"]
    for jpg in (tmp_path / "root" / "flowers-102" / "jpg").iterdir():
        jpg.unlink()
    again = data.load("flowers102", tmp_path / "root", split="all", verify=False, cache=tmp_path / "cache")
    assert torch.equal(first, again)


# --------------------------------------------------------------------------- shapes


def test_shapes_deterministic_per_seed_and_scaled():
    a = data.load("shapes", image_size=32, limit=300, seed=3)
    assert a.shape == (300, 3, 32, 32) and a.dtype == torch.float32
    assert a.min() >= -1 and a.max() <= 1 and a.min() < -0.5 and a.max() > 0.5
    assert torch.equal(a, data.load("shapes", image_size=32, limit=300, seed=3))
    assert torch.equal(a[:100], data.load("shapes", image_size=32, limit=100, seed=3))  # limit only truncates
    assert not torch.equal(a, data.load("shapes", image_size=32, limit=300, seed=4))
    assert not torch.equal(a[:10], data.load("shapes", image_size=32, limit=10, seed=3, split="test"))
    assert (a.flatten(1).std(dim=1) > 0).all()  # every image has a visible shape
    assert data.load("shapes", image_size=64, limit=5).shape == (5, 3, 64, 64)
    assert data.shapes(7, 16).dtype == torch.uint8


# --------------------------------------------------------------------------- the energy network


@pytest.mark.parametrize("size", [32, 64])
def test_convnet_one_scalar_per_image(size):
    net = models.build("convnet", n_f=8, image_size=size, slope=0.05)
    for n in (1, 5):
        assert net(torch.randn(n, 3, size, size)).shape == (n,)
    stride2 = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d) and m.stride == (2, 2)]
    assert len(stride2) == {32: 3, 64: 4}[size]


def test_convnet_matches_the_short_run_layout():
    net = models.ConvNet(n_f=64)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [
        (3, 64, 3, 1), (64, 128, 4, 2), (128, 256, 4, 2), (256, 512, 4, 2), (512, 1, 4, 1)]
    assert all(m.negative_slope == 0.2 for m in net.modules() if isinstance(m, torch.nn.LeakyReLU))
    with pytest.raises(ConfigError, match="image_size"):
        models.ConvNet(image_size=48)


@pytest.mark.parametrize("name", samplers.NAMES)
def test_every_sampler_runs_on_convnet_images(name):
    torch.manual_seed(0)
    net = models.build("convnet", n_f=4, image_size=32)
    z = data.load("shapes", limit=3)
    pool = {"step_size": 1e-3, "noise_scale": 0.01, "leapfrog": 2, "norm": "pixel"}
    kernel = samplers.get(name, net, **samplers.options_for(name, pool))
    state, info = samplers.sample(kernel, z, 4, torch.Generator().manual_seed(1))
    assert state.z.shape == z.shape and torch.isfinite(state.z).all()
    assert info["grad_norm"].shape[0] == 4 // kernel.grad_evals_per_step


def test_checksum_error_names_a_key_users_can_set(tmp_path):
    """The md5 error points at data.verify, and a run config with data.verify: false loads the copy."""
    from stanley.experiment import config

    make_cifar10(tmp_path)
    with pytest.raises(ConfigError, match=r"set data\.verify: false in the run config"):
        data.load("cifar10", tmp_path)
    run = config.complete_run({"data": {"name": "cifar10", "root": str(tmp_path), "verify": False},
                               "model": {"name": "convnet"}})
    assert run["data"]["verify"] is False
    with pytest.raises(ConfigError, match="data.verify must be true or false"):
        config.complete_run({"data": {"verify": "no"}})


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_a_tampered_cifar_batch_cannot_run_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_cifar10(tmp_path)
    batch = tmp_path / "cifar-10-batches-py/data_batch_1"
    batch.write_bytes(pickle.dumps({"data": _Exploit(), "labels": []}, protocol=2))
    with pytest.raises(ConfigError, match="data_batch_1 is not a CIFAR-10 batch.*refusing"):
        data.load("cifar10", tmp_path, verify=False)
    assert not (tmp_path / "PWNED").exists()


def test_real_sets_read_in_their_published_order(tmp_path):
    """Flowers 102 by setid.mat's ids, CIFAR-10 batch by batch: the order torchvision's classes use."""
    make_flowers102(tmp_path)
    ours = data.load("flowers102", tmp_path, split="test", verify=False, dtype=torch.uint8, center_crop=0,
                     image_size=40)
    files = data._flowers102_files(tmp_path, "test")
    assert [f.name for f in files] == ["image_00006.jpg", "image_00007.jpg", "image_00008.jpg", "image_00009.jpg"]
    assert ours.shape == (4, 3, 40, 40)
    make_cifar10(tmp_path / "c")
    cifar = data.load("cifar10", tmp_path / "c", verify=False, dtype=torch.uint8)
    expected = np.stack([_cifar_image(b, i) for b in range(1, 6) for i in range(4)])
    assert np.array_equal(cifar.numpy(), expected)

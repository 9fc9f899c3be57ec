"""Image data sets as one in-memory tensor (N, 3, H, W) scaled to [-1, 1].

The paper's sets are small at 32x32 / 64x64, so training draws batches from a tensor rather
than a DataLoader. Real sets (``cifar10``, ``flowers102``, ``celeba``) go through torchvision's
own classes, so their on-disk layout is exactly torchvision's; :func:`check` runs before any
training and says which files are missing and how to get them. ``imagefolder`` reads any
folder of images; ``shapes`` is generated in memory (offline demos and CI).

Only torchvision's public API is used: its dataset classes download, its ``check_integrity``
compares md5 sums, and the files are read here in torchvision's own layout (CIFAR-10's pickled
batches through an unpickler that rebuilds numpy arrays and nothing else). The run-config key
``data.verify: false`` skips only the md5 comparison (every file must still exist): for test
fixtures in the real layout and for re-packed copies of a data set. Real runs keep it on.
"""

from __future__ import annotations

import math
import os
import pickle
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from ..errors import ConfigError, unknown
from ..experiment.options import DATASETS as NAMES  # torch-free, so configs are checked without torch

SPLITS: Dict[str, Tuple[str, ...]] = {
    "cifar10": ("train", "test"),
    "flowers102": ("train", "val", "test", "all"),  # torchvision's train split is 1,020 images
    "celeba": ("train", "valid", "test", "all"),
    "imagefolder": ("train", "test", "all"),
    "shapes": ("train", "test"),
}

EXPECTED_FILES: Dict[str, Tuple[str, ...]] = {
    "cifar10": (
        "cifar-10-batches-py/data_batch_1",
        "cifar-10-batches-py/data_batch_2",
        "cifar-10-batches-py/data_batch_3",
        "cifar-10-batches-py/data_batch_4",
        "cifar-10-batches-py/data_batch_5",
        "cifar-10-batches-py/test_batch",
        "cifar-10-batches-py/batches.meta",
    ),
    "flowers102": (
        "flowers-102/jpg/",  # image_00001.jpg ... image_08189.jpg
        "flowers-102/imagelabels.mat",
        "flowers-102/setid.mat",
    ),
    "celeba": (
        "celeba/img_align_celeba/",  # 000001.jpg ... 202599.jpg
        "celeba/list_eval_partition.txt",
        "celeba/list_attr_celeba.txt",
        "celeba/identity_CelebA.txt",
        "celeba/list_bbox_celeba.txt",
        "celeba/list_landmarks_align_celeba.txt",
    ),
    "imagefolder": ("*.jpg|*.png|... (any image files, searched recursively)",),
    "shapes": (),
}
"""Paths under ``root`` that torchvision's loader reads; a trailing ``/`` is a folder of images."""

MD5: Dict[str, Dict[str, str]] = {
    "cifar10": {
        "cifar-10-batches-py/data_batch_1": "c99cafc152244af753f735de768cd75f",
        "cifar-10-batches-py/data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
        "cifar-10-batches-py/data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
        "cifar-10-batches-py/data_batch_4": "634d18415352ddfa80567beed471001a",
        "cifar-10-batches-py/data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
        "cifar-10-batches-py/test_batch": "40351d587109b95175f43aff81a1287e",
        "cifar-10-batches-py/batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
    },
    "flowers102": {
        "flowers-102/imagelabels.mat": "e0620be6f572b9609742df49c70aed4d",
        "flowers-102/setid.mat": "a5357ecc9cb78c4bef273ce3793fc85c",
    },
    "celeba": {
        "celeba/list_eval_partition.txt": "d32c9cbf5e040fd4025c592c306e6668",
        "celeba/list_attr_celeba.txt": "75e246fa4810816ffd6ee81facbd244c",
        "celeba/identity_CelebA.txt": "32bd1bd63d3c78cd57e08160ec5ed1e2",
        "celeba/list_bbox_celeba.txt": "00566efa6fedff7a56946cd1c10f1c16",
        "celeba/list_landmarks_align_celeba.txt": "cc24ecafdb5b50baae59b03474781f8c",
    },
}
"""The published md5 sum of each metadata file (the ones torchvision's classes check too)."""

OFFLINE: Dict[str, str] = {
    "cifar10": "extract cifar-10-python.tar.gz (https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz) into {root}",
    "flowers102": (
        "extract 102flowers.tgz into {root}/flowers-102/ and put imagelabels.mat and setid.mat beside it "
        "(all three from https://www.robots.ox.ac.uk/~vgg/data/flowers/102/)"
    ),
    "celeba": (
        "extract img_align_celeba.zip into {root}/celeba/ and put the five .txt files from CelebA's "
        "Anno/ and Eval/ folders (https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html) beside it"
    ),
    "imagefolder": "put image files (any of .jpg .png .bmp .webp ...) under {root}",
}

SHAPES_SIZE = {"train": 10_000, "test": 1_000}
"""Images in the ``shapes`` set when no ``limit`` is given."""

DEFAULT_CROP = {"celeba": 140}
"""Centre crop (pixels) before resizing: CelebA's 178x218 aligned faces cropped to the face."""


# --------------------------------------------------------------------------- checks


def _check_name(name: str) -> None:
    if name not in NAMES:
        raise unknown("dataset", name, NAMES)


def _check_split(name: str, split: str) -> None:
    if split not in SPLITS[name]:
        raise ConfigError(f"dataset {name!r} has no split {split!r}; allowed: {', '.join(SPLITS[name])}")


def _has_image(folder: Path) -> bool:
    from torchvision.datasets.folder import IMG_EXTENSIONS

    if not folder.is_dir():
        return False
    with os.scandir(folder) as entries:
        return any(e.is_file() and e.name.lower().endswith(IMG_EXTENSIONS) for e in entries)


def _how_to_get(name: str, root: Path) -> str:
    online = f"with internet run `stanley download {name} --root {root}` (or the workflow's download rule)"
    return f"{online}; offline, {OFFLINE[name].format(root=root)}"


def check(name: str, root: str | os.PathLike | None) -> None:
    """Raise :class:`ConfigError` naming every missing file, before any training starts."""
    _check_name(name)
    if name == "shapes":
        return
    if root is None:
        raise ConfigError(f"dataset {name!r} needs a root folder (data root); {_how_to_get(name, Path('DIR'))}")
    root = Path(root).expanduser()
    if name == "imagefolder":
        if not _image_files(root):
            raise ConfigError(f"dataset 'imagefolder': no image files under {root}; {_how_to_get(name, root)}")
        return
    missing = []
    for rel in EXPECTED_FILES[name]:
        path = root / rel
        ok = _has_image(path) if rel.endswith("/") else path.is_file()
        if not ok:
            missing.append(rel + ("*.jpg" if rel.endswith("/") else ""))
    if missing:
        raise ConfigError(
            f"dataset {name!r} is incomplete under {root}: missing {', '.join(missing)} "
            f"(expects {', '.join(EXPECTED_FILES[name])}); {_how_to_get(name, root)}"
        )


# --------------------------------------------------------------------------- torchvision


def _tv_class(name: str):
    from torchvision import datasets

    return {"cifar10": datasets.CIFAR10, "flowers102": datasets.Flowers102, "celeba": datasets.CelebA}[name]


def verify_checksums(name: str, root: Path) -> None:
    """Every file of :data:`MD5` matches its published sum, or one line naming those that do not."""
    from torchvision.datasets.utils import check_integrity

    bad = [rel for rel, md5 in MD5[name].items() if not check_integrity(str(root / rel), md5)]
    if bad:
        raise ConfigError(
            f"dataset {name!r} under {root}: checksum mismatch for {', '.join(bad)} (corrupt or a different "
            f"release); {_how_to_get(name, root)}; or, for a re-packed copy you trust, set data.verify: false "
            f"in the run config (a suite: defaults.data.verify) to check presence only"
        )


class _ArraysOnly(pickle.Unpickler):
    """CIFAR-10's batches are pickles: rebuild their numpy arrays, refuse anything else
    (a tampered batch cannot run code, checksums on or off)."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing {module}.{name}: a CIFAR-10 batch holds only arrays and lists")


def _cifar10_batches(root: Path, split: str) -> np.ndarray:
    """uint8 (N, 3, 32, 32) in the set's order: data_batch_1..5 (train) or test_batch."""
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    parts = []
    for name in names:
        path = root / "cifar-10-batches-py" / name
        try:
            with open(path, "rb") as handle:
                entry = _ArraysOnly(handle, encoding="latin1").load()
            parts.append(np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as error:
            raise ConfigError(f"dataset 'cifar10': {path} is not a CIFAR-10 batch ({error})") from None
    return np.concatenate(parts)


class _Arrays(torch.utils.data.Dataset):
    """uint8 (N, 3, H, W) arrays served as PIL images through the preprocessing."""

    def __init__(self, images: np.ndarray, prep):
        self.images, self.prep = images, prep

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        from PIL import Image

        return self.prep(Image.fromarray(self.images[i].transpose(1, 2, 0))), 0


def _flowers102_files(root: Path, split: str) -> List[Path]:
    """setid.mat's image ids of the split (``all``: train, val, then test), as torchvision reads them."""
    from scipy.io import loadmat

    ids = loadmat(str(root / "flowers-102/setid.mat"), squeeze_me=True)
    keys = {"train": ["trnid"], "val": ["valid"], "test": ["tstid"], "all": ["trnid", "valid", "tstid"]}[split]
    return [root / f"flowers-102/jpg/image_{int(i):05d}.jpg" for key in keys for i in np.atleast_1d(ids[key])]


def _celeba_files(root: Path, split: str) -> List[Path]:
    """list_eval_partition.txt's images of the split (0 train, 1 valid, 2 test), in the file's order."""
    wanted = {"train": "0", "valid": "1", "test": "2", "all": None}[split]
    files = []
    for line in (root / "celeba/list_eval_partition.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and (wanted is None or parts[1] == wanted):
            files.append(root / "celeba/img_align_celeba" / parts[0])
    return files


def download(name: str, root: str | os.PathLike) -> None:
    """Fetch a real data set into ``root`` with torchvision (needs internet; CelebA needs gdown)."""
    _check_name(name)
    root = Path(root).expanduser()
    if name == "shapes":
        return
    if name == "imagefolder":
        raise ConfigError(f"dataset 'imagefolder' has nothing to download; {OFFLINE[name].format(root=root)}")
    root.mkdir(parents=True, exist_ok=True)
    try:
        if name == "cifar10":
            _tv_class(name)(str(root), train=True, download=True)
        elif name == "celeba":
            _tv_class(name)(str(root), split="train", target_type=[], download=True)
        else:
            _tv_class(name)(str(root), split="train", download=True)
    except (OSError, RuntimeError) as error:  # URLError is an OSError
        raise ConfigError(
            f"could not download {name!r} into {root} ({type(error).__name__}: {error}); "
            f"offline, {OFFLINE[name].format(root=root)}"
        ) from error
    check(name, root)


_fetch = download  # load() has a ``download`` flag that hides the function


# --------------------------------------------------------------------------- preprocessing


class _Prep:
    """PIL image -> uint8 tensor (3, size, size): optional centre crop, resize, square crop.

    A class rather than a lambda so DataLoader workers can pickle it.
    """

    def __init__(self, image_size: int, center_crop: Optional[int]):
        from torchvision import transforms

        steps = [] if not center_crop else [transforms.CenterCrop(center_crop)]
        steps += [
            transforms.Resize(image_size, antialias=True),
            transforms.CenterCrop(image_size),
            transforms.PILToTensor(),
        ]
        self.transform = transforms.Compose(steps)

    def __call__(self, image):
        return self.transform(image.convert("RGB"))


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return images.float().div_(127.5).sub_(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] -> uint8 [0, 255] (rounded; the inverse of :func:`to_unit` on its image)."""
    return images.clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)


def _collate(batch):
    return torch.stack([image for image, _ in batch])


def _stack(dataset, indices: Sequence[int], workers: int) -> torch.Tensor:
    loader = torch.utils.data.DataLoader(
        torch.utils.data.Subset(dataset, list(indices)), batch_size=256, shuffle=False,
        num_workers=workers, collate_fn=_collate,
    )
    batches = list(loader)
    return torch.cat(batches) if batches else torch.empty(0, 3, 0, 0, dtype=torch.uint8)


def _torchvision_uint8(name, root, image_size, split, limit, verify, center_crop, workers) -> torch.Tensor:
    """A real set read from torchvision's layout, after its checksums (unless ``verify`` is off)."""
    if verify:
        verify_checksums(name, root)
    prep = _Prep(image_size, center_crop)
    if name == "cifar10":
        images = _cifar10_batches(root, split)[:limit]
        if image_size == 32 and not center_crop:  # already 32x32 uint8
            return torch.from_numpy(np.ascontiguousarray(images))
        return _stack(_Arrays(images, prep), range(len(images)), workers)
    files = (_flowers102_files if name == "flowers102" else _celeba_files)(root, split)[:limit]
    return _stack(_Files(files, prep), range(len(files)), workers)


def _image_files(root: Path) -> List[Path]:
    from torchvision.datasets.folder import IMG_EXTENSIONS

    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name.lower().endswith(IMG_EXTENSIONS))


class _Files(torch.utils.data.Dataset):
    def __init__(self, files: Sequence[Path], prep: _Prep):
        self.files, self.prep = list(files), prep

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int):
        from PIL import Image

        try:
            with Image.open(self.files[i]) as image:
                return self.prep(image), 0
        except (OSError, ValueError, SyntaxError) as error:  # truncated, corrupt or not an image (PIL's errors)
            raise ConfigError(f"image {self.files[i]} cannot be decoded ({type(error).__name__}: "
                              f"{' '.join(str(error).split())[:100]}); replace or remove it") from None


def _imagefolder_uint8(root: Path, image_size, split, limit, center_crop, workers) -> torch.Tensor:
    """``root/split`` when that folder exists; else all of ``root`` serves as the train split."""
    if split != "all" and (root / split).is_dir():
        folder = root / split
    elif split in ("train", "all"):
        folder = root
    else:
        raise ConfigError(f"dataset 'imagefolder': no folder {root / split} for split {split!r}; make one or use split train")
    files = _image_files(folder)[:limit]
    return _stack(_Files(files, _Prep(image_size, center_crop)), range(len(files)), workers)


# --------------------------------------------------------------------------- shapes


def _shapes_chunk(n: int, size: int, seed: Sequence[int]) -> torch.Tensor:
    """``n`` images of one shape (circle, square or triangle) each, uint8 (n, 3, size, size)."""
    g = torch.Generator().manual_seed(int(np.random.SeedSequence(list(seed)).generate_state(1, np.uint64)[0] >> 1))
    background = torch.rand(n, 3, generator=g)
    # every channel differs from the background by 0.3 to 0.7: always visible
    foreground = (background + 0.3 + 0.4 * torch.rand(n, 3, generator=g)) % 1.0
    kind = torch.randint(0, 3, (n,), generator=g)
    centre = 0.3 + 0.4 * torch.rand(n, 2, generator=g)
    radius = 0.15 + 0.15 * torch.rand(n, generator=g)
    angle = 2 * math.pi * torch.rand(n, generator=g)

    axis = (torch.arange(size) + 0.5) / size
    distance = torch.empty(n, size, size)  # signed distance to the shape's edge, < 0 inside
    for code, sides in enumerate((0, 4, 3)):  # circle, square, triangle
        idx = (kind == code).nonzero().squeeze(1)
        if len(idx) == 0:
            continue
        u = axis.view(1, 1, size) - centre[idx, 0].view(-1, 1, 1)
        v = axis.view(1, size, 1) - centre[idx, 1].view(-1, 1, 1)
        r = radius[idx].view(-1, 1, 1)
        if sides == 0:
            distance[idx] = torch.sqrt(u * u + v * v) - r
            continue
        a = angle[idx].view(-1, 1, 1, 1) + (2 * math.pi / sides) * torch.arange(sides).view(1, 1, 1, -1)
        # a regular polygon with circumradius r: the furthest of its edges' half-planes
        reach = (u.unsqueeze(-1) * torch.cos(a) + v.unsqueeze(-1) * torch.sin(a)).amax(dim=-1)
        distance[idx] = reach - r * math.cos(math.pi / sides)
    coverage = (0.5 - distance * size).clamp_(0, 1).unsqueeze(1)  # one-pixel anti-aliased edge
    image = background.view(n, 3, 1, 1) + (foreground - background).view(n, 3, 1, 1) * coverage
    return image.mul_(255).round_().to(torch.uint8)


def shapes(n: int, image_size: int = 32, seed: int = 0, split: str = "train", chunk: int = 256) -> torch.Tensor:
    """``n`` procedurally drawn images, uint8 (n, 3, size, size), the same for the same seed.

    Each chunk of 256 images has its own seed and is always drawn whole, so the first m
    images do not depend on ``n``.
    """
    stream = SPLITS["shapes"].index(split)
    parts = [_shapes_chunk(chunk, image_size, (seed, stream, start // chunk)) for start in range(0, n, chunk)]
    images = torch.cat(parts)[:n] if parts else torch.empty(0, 3, image_size, image_size, dtype=torch.uint8)
    return images.contiguous()


# --------------------------------------------------------------------------- the entry point


def load(
    name: str,
    root: str | os.PathLike | None = None,
    image_size: int = 32,
    split: str = "train",
    download: bool = False,
    limit: Optional[int] = None,
    seed: int = 0,
    verify: bool = True,
    center_crop: Optional[int] = None,
    dtype: torch.dtype = torch.float32,
    workers: int = 0,
    cache: str | os.PathLike | None = None,
) -> torch.Tensor:
    """A whole data set as one tensor (N, 3, image_size, image_size).

    Float dtypes are scaled to [-1, 1]; ``dtype=torch.uint8`` keeps [0, 255] (4x less memory:
    CelebA's 100k images at 64x64 are 1.2 GB as uint8). ``limit`` keeps the first images in
    the set's own order; ``seed`` only drives ``shapes``. ``center_crop`` (pixels) defaults to
    :data:`DEFAULT_CROP`; 0 turns it off. ``cache`` names a folder where the decoded uint8
    tensor is kept as .npy, so later jobs skip decoding JPEGs.
    """
    _check_name(name)
    _check_split(name, split)
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1:
        raise ConfigError(f"image_size must be a positive integer, got {image_size!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"limit must be a positive integer or null, got {limit!r}")
    crop = DEFAULT_CROP.get(name) if center_crop is None else center_crop

    cache_file = None
    if cache is not None and name != "shapes":
        cache_file = Path(cache) / f"{name}-{split}-{image_size}px-crop{crop or 0}-{limit or 'all'}.npy"
        if cache_file.is_file():
            return _finish(torch.from_numpy(np.load(cache_file)), dtype)

    if name == "shapes":
        images = shapes(limit or SHAPES_SIZE[split], image_size, seed, split)
    else:
        root = Path(root).expanduser() if root is not None else None
        if download and name != "imagefolder":
            _fetch(name, root)
        check(name, root)
        if name == "imagefolder":
            images = _imagefolder_uint8(root, image_size, split, limit, crop, workers)
        else:
            images = _torchvision_uint8(name, root, image_size, split, limit, verify, crop, workers)
    if len(images) == 0:
        raise ConfigError(f"dataset {name!r} split {split!r} under {root} has no images")

    if cache_file is not None:
        from ..plumbing.io import write_atomic

        def save(tmp: Path) -> None:
            with open(tmp, "wb") as handle:
                np.save(handle, images.numpy())

        write_atomic(cache_file, save)
    return _finish(images, dtype)


def _finish(images: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return images if dtype == torch.uint8 else to_unit(images).to(dtype)


__all__ = [
    "DEFAULT_CROP", "EXPECTED_FILES", "MD5", "NAMES", "OFFLINE", "SHAPES_SIZE", "SPLITS",
    "check", "download", "load", "shapes", "to_uint8", "to_unit", "verify_checksums",
]

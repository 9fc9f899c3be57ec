"""Image data sets as one in-memory tensor (N, 3, H, W) scaled to [-1, 1].

The paper's sets are small at 32x32 / 64x64, so training draws batches from a tensor rather
than a DataLoader. Real sets (``cifar10``, ``flowers102``, ``celeba``) go through torchvision's
own classes, so their on-disk layout is exactly torchvision's; :func:`check` runs before any
training and says which files are missing and how to get them. ``imagefolder`` reads any
folder of images; ``shapes`` is generated in memory (offline demos and CI).

``verify=False`` skips only torchvision's md5 comparison (every file must still exist): for
test fixtures in the real layout and for re-packed copies of a data set. Real runs keep it on.
"""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple
from unittest import mock

import numpy as np
import torch

from .errors import ConfigError, unknown

NAMES = ("cifar10", "flowers102", "celeba", "imagefolder", "shapes")

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


@contextlib.contextmanager
def _checksums(verify: bool) -> Iterator[None]:
    """With ``verify=False``, torchvision's integrity checks test presence only (no md5)."""
    if verify:
        yield
        return
    from torchvision.datasets import celeba, cifar, flowers102, utils

    def present(fpath, md5=None):
        return utils.check_integrity(fpath, None)

    with contextlib.ExitStack() as stack:
        for module in (cifar, flowers102, celeba):
            stack.enter_context(mock.patch.object(module, "check_integrity", present))
        yield


def _bad_checksums(name: str, root: Path) -> List[str]:
    from torchvision.datasets.utils import check_integrity

    cls = _tv_class(name)
    if name == "cifar10":
        files = [(f"{cls.base_folder}/{f}", md5) for f, md5 in cls.train_list + cls.test_list]
        files.append((f"{cls.base_folder}/{cls.meta['filename']}", cls.meta["md5"]))
    elif name == "flowers102":
        files = [(f"flowers-102/{f}", md5) for key, (f, md5) in cls._file_dict.items() if key != "image"]
    else:
        files = [(f"{cls.base_folder}/{f}", md5) for _, md5, f in cls.file_list if not f.endswith((".zip", ".7z"))]
    return [rel for rel, md5 in files if not check_integrity(str(root / rel), md5)]


def _open(name: str, root: Path, split: str, verify: bool, transform):
    cls = _tv_class(name)
    try:
        with _checksums(verify):
            if name == "cifar10":
                return cls(str(root), train=split == "train", transform=transform)
            if name == "celeba":
                return cls(str(root), split=split, target_type=[], transform=transform)
            return cls(str(root), split=split, transform=transform)
    except RuntimeError as error:
        if "corrupted" not in str(error):
            raise
        bad = _bad_checksums(name, root) if verify else []
        raise ConfigError(
            f"dataset {name!r} under {root}: checksum mismatch for {', '.join(bad) or 'its files'} "
            f"(corrupt or a different release); {_how_to_get(name, root)}; or set verify: false to skip the md5 check"
        ) from error


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
    prep = _Prep(image_size, center_crop)
    splits = ("train", "val", "test") if (name == "flowers102" and split == "all") else (split,)
    parts, remaining = [], limit
    for part in splits:
        if remaining is not None and remaining <= 0:
            break
        dataset = _open(name, root, part, verify, prep)
        n = len(dataset) if remaining is None else min(len(dataset), remaining)
        if name == "cifar10" and image_size == 32 and not center_crop:  # already 32x32 uint8 in memory
            parts.append(torch.from_numpy(dataset.data[:n]).permute(0, 3, 1, 2).contiguous())
        else:
            parts.append(_stack(dataset, range(n), workers))
        remaining = None if remaining is None else remaining - n
    return torch.cat(parts)


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
        from .io import write_atomic

        def save(tmp: Path) -> None:
            with open(tmp, "wb") as handle:
                np.save(handle, images.numpy())

        write_atomic(cache_file, save)
    return _finish(images, dtype)


def _finish(images: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return images if dtype == torch.uint8 else to_unit(images).to(dtype)


__all__ = [
    "DEFAULT_CROP", "EXPECTED_FILES", "NAMES", "OFFLINE", "SHAPES_SIZE", "SPLITS",
    "check", "download", "load", "shapes", "to_uint8", "to_unit",
]

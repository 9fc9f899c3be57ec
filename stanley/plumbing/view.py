"""A private view of a results folder that holds only the files a job declares.

The report reads a results folder by its layout; a folder that an earlier config also wrote
holds files the current plan never made (a figure of a data set since dropped, a study since
renamed). Rendering from a view of the declared files keeps those leftovers out, without
teaching every reader to filter.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import ConfigError


@contextmanager
def declared_view(root: str | Path, paths: Iterable[str | Path]) -> Iterator[Path]:
    """A temporary folder laid out like ``root`` holding a link to each of ``paths`` (each a file
    under ``root``) and nothing else; removed on exit."""
    root = Path(root)
    with tempfile.TemporaryDirectory(prefix="stanley-view-") as view:
        for path in paths:
            path = Path(path)
            relative = Path(os.path.relpath(path, root))
            if relative.parts[:1] == ("..",) or relative.is_absolute():
                raise ConfigError(f"declared input {path} is not under the results folder {root}")
            if not path.is_file():
                raise ConfigError(f"declared input {path} is missing: make it first (its workflow job) "
                                  "or leave it out of the list")
            link = Path(view) / relative
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to(path.resolve())
        yield Path(view)

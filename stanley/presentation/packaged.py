"""Files that ship inside the package: the report's templates and the papers' reference values.

Found through :mod:`importlib.resources`, so ``stanley report`` works from any directory and
from an installed wheel, not only from the repository root.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def packaged(*parts: str) -> Path:
    """The path of a file shipped in the package (installed unzipped, as pip and setuptools do)."""
    return Path(str(resources.files(__package__).joinpath(*parts)))


TEMPLATES = packaged("templates")
"""The Jinja2 templates of the report (``index.html.j2`` and the sections it includes)."""
PAPER_FID_CURVES = packaged("reference", "paper_fid_curves.csv")
"""The authors' logged FID curves behind the paper's Figures 4 and 5 (see ``reference/README.md``)."""
BEYOND_PAPER = packaged("reference", "beyond_paper.csv")
"""The printed values of the papers the studies beyond STANLEY reproduce."""

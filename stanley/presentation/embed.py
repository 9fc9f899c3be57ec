"""Files embedded in the report as data URIs, so the HTML is one self-contained file.

Only the report module (:mod:`stanley.presentation.report`) embeds; the sections hand it paths.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Optional


def data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def figure(path: Path) -> Optional[str]:
    return data_uri(path, "image/png") if path.is_file() else None


def table_link(path: Path) -> Optional[str]:
    return data_uri(path, "text/csv") if path.is_file() else None

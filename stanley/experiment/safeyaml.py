"""YAML from users, read safely: plain data only, and bounded in size, depth and alias expansion.

``yaml.safe_load`` already refuses to build objects, but not a file of gigabytes, a nesting
deep enough to exhaust the recursion limit, or an anchor bomb (nine aliases of nine aliases
of ... expand to 9^9 values: loading is quick, but every later copy, hash or message of the
value is not). Every YAML a user hands the library (config files, ``KEY=VALUE`` options) goes
through here and gets one bounded line when it is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError

MAX_BYTES = 1 << 20  # the paper's suite config is about 10 KiB
MAX_DEPTH = 40  # nesting of lists and mappings; run configs use 3
MAX_NODES = 100_000  # values after expanding every alias

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _depth(text: str) -> int:
    depth = deepest = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):  # streams; libyaml's would fail first at 1000 deep
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                break
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return deepest


def _expanded_size(node: yaml.Node) -> int:
    """Values in the document once aliases are expanded, counted without expanding them."""
    sizes: dict = {}

    def size(n: yaml.Node) -> int:
        if id(n) in sizes:
            if sizes[id(n)] is None:
                raise RecursionError("a YAML alias refers to the value that contains it")
            return sizes[id(n)]
        sizes[id(n)] = None
        if isinstance(n, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in n.value)
        elif isinstance(n, yaml.SequenceNode):
            total = 1 + sum(size(v) for v in n.value)
        else:
            total = 1
        sizes[id(n)] = total = min(total, MAX_NODES + 1)
        return total

    return size(node)


def loads(text: str, where: str) -> Any:
    """The data in ``text``; ``where`` names its source in messages (a file, an option)."""
    try:
        if _depth(text) > MAX_DEPTH:
            raise ConfigError(f"{where} nests lists or mappings more than {MAX_DEPTH} deep; flatten it")
        node = yaml.compose(text, Loader=Loader)
        try:
            size = 0 if node is None else _expanded_size(node)
        except RecursionError:
            raise ConfigError(f"{where} has a YAML alias inside the value it names (a recursive anchor); "
                              "write the value out") from None
        if size > MAX_NODES:
            raise ConfigError(f"{where} expands to more than {MAX_NODES:,} values once its YAML aliases (*name) "
                              "are expanded; write the values out or use fewer aliases")
        return yaml.load(text, Loader=Loader)
    except yaml.YAMLError as error:
        first = " ".join(str(error).split("\n")[0].split())[:160]
        raise ConfigError(f"{where} is not valid YAML: {first}") from None


def load_file(path: str | Path, what: str = "config file") -> Any:
    """The data in a YAML file: UTF-8 text of at most :data:`MAX_BYTES`."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{what} {path} does not exist" if not path.exists() else f"{what} {path} is not a file")
    if path.stat().st_size > MAX_BYTES:
        raise ConfigError(f"{what} {path} is {path.stat().st_size:,} bytes; a config is at most {MAX_BYTES:,}")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{what} {path} is not UTF-8 text (a binary file, or UTF-16?); save it as UTF-8") from None
    return loads(text, f"{what} {path}")

"""One error type for everything a user can get wrong, with a hint at the nearest valid name."""

from __future__ import annotations

import difflib
from typing import Iterable


class ConfigError(ValueError):
    """Bad input from a user: a config key, an option value, a missing file.

    The CLI prints its message as one line and exits with status 2, so the message
    must say what is wrong and how to fix it.
    """


def nearest(name: str, choices: Iterable[str]) -> str:
    """' (did you mean X?)' when a choice is close to ``name``, else ''."""
    match = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else ""


def unknown(kind: str, name: str, choices: Iterable[str]) -> ConfigError:
    choices = sorted(choices)
    return ConfigError(
        f"unknown {kind} {name!r}{nearest(name, choices)}; allowed: {', '.join(map(str, choices))}"
    )

"""The errors a user can expect, each one line, with a hint at the nearest valid name.

:class:`ConfigError` is bad input (the CLI exits 2), :class:`Fault` an expected fault at run
time that no input could avoid (exit 1). :func:`shown` keeps every value quoted in a message
short, however large the value (an expanded YAML anchor can be gigabytes).
"""

from __future__ import annotations

import difflib
import math
import reprlib
from typing import Any, Iterable


class ConfigError(ValueError):
    """Bad input from a user: a config key, an option value, a missing file.

    The CLI prints its message as one line and exits with status 2, so the message
    must say what is wrong and how to fix it.
    """


class Fault(RuntimeError):
    """An expected failure at run time that is not bad input: a run directory another process
    is writing, a corrupt file. The CLI prints it as one line and exits with status 1."""


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 2, 60, 60
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 6
MAX_SHOWN = 100


def shown(value: Any) -> str:
    """``repr(value)``, cut to at most :data:`MAX_SHOWN` characters without building the whole repr."""
    text = " ".join(_REPR.repr(value).split())
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


def require_number(what: str, value: Any, low: float | None = None, high: float | None = None, *,
                   strict_low: bool = False, integer: bool = False, nullable: bool = False, why: str = "") -> None:
    """Raise :class:`ConfigError` unless ``value`` is a finite number (an integer if asked) in range.

    ``what`` names the value in the message (e.g. ``config key training.lr``); ``why`` says where
    an upper bound comes from.
    """
    if value is None and nullable:
        return
    kinds = (int,) if integer else (int, float)
    ok = isinstance(value, kinds) and not isinstance(value, bool) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if strict_low else value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        kind = "an integer" if integer else "a finite number"
        bounds = []
        if low is not None:
            bounds.append(f"{'>' if strict_low else '>='} {low}")
        if high is not None:
            bounds.append(f"<= {high}")
        raise ConfigError(
            f"{what} must be {kind}{' ' + ' and '.join(bounds) if bounds else ''}"
            f"{' or null' if nullable else ''}, got {shown(value)}{f' ({why})' if why else ''}"
        )


def nearest(name: str, choices: Iterable[str]) -> str:
    """' (did you mean X?)' when a choice is close to ``name``, else ''."""
    match = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else ""


def unknown(kind: str, name: str, choices: Iterable[str]) -> ConfigError:
    choices = sorted(map(str, choices))
    listed = ", ".join(choices)
    if len(listed) > 300:  # a long list helps nobody: the nearest name does
        listed = listed[:297] + "..."
    return ConfigError(f"unknown {kind} {shown(name)}{nearest(name, choices)}; allowed: {listed}")

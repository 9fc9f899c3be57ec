"""Numbers and tables as the report shows them: one owner for how many figures each quantity
gets, how a missing value reads, and how a frame becomes an HTML table. Used by the report and
its diagnostics section alike, so every table speaks one format."""

from __future__ import annotations

import html
import math
import numbers
from typing import Any, Dict, Optional

import pandas as pd

DIGITS = {
    # quantity: ("sig", n) significant figures or ("dec", n) decimals. Chosen per quantity: what
    # a reader can compare, not what the float holds. Bounded quantities get fixed decimals.
    "fid": ("sig", 3), "kl": ("sig", 3), "sliced_w2": ("sig", 3), "tv": ("dec", 3), "mse": ("sig", 3),
    "grad_norm": ("sig", 3), "energy_diff": ("sig", 3), "gamma": ("sig", 3), "movement": ("sig", 2),
    "acceptance": ("dec", 2), "seconds": ("sig", 2), "hours": ("sig", 2), "p": ("sig", 2),
    "mu": ("dec", 3), "rho": ("dec", 4), "log": ("sig", 3), "ess": ("dec", 0), "rhat": ("dec", 2),
    "bias": ("sig", 2), "setting": ("exact", 6), "value": ("sig", 3),
}
"""How many figures each quantity is shown with; :func:`quantity_of` reads a table column's
quantity from its name; a "setting" is shown as written; anything else is a "value"."""
SMALL, LARGE = 1e-3, 1e6  # outside these magnitudes: a × 10ⁿ (never 1.06e+03)
MISSING = "\u2014"  # an em dash; its reason goes in the cell's title (``Blank``)
SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


class Blank(str):
    """A missing value as shown (an em dash) that carries why it is missing; ``html_table`` puts
    the reason in the cell's title, so a hover says it."""

    def __new__(cls, why: str) -> "Blank":
        blank = super().__new__(cls, MISSING)
        blank.why = why
        return blank


def missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _exponent(value: float) -> int:
    return math.floor(math.log10(abs(value)))


def _decimals(value: float, quantity: str) -> int:
    """Decimal places (negative: rounding to tens, hundreds...) for ``value`` as ``quantity``."""
    kind, n = DIGITS.get(quantity, DIGITS["value"])
    if kind == "dec" or value == 0:
        return n if kind == "dec" else 0
    return n - 1 - _exponent(value)


def _fixed(value: float, decimals: int, sign: bool = False) -> str:
    text = f"{round(value, decimals):{'+' if sign else ''},.{max(decimals, 0)}f}"
    return text.replace("-", "\u2212")


def _scientific(value: float, quantity: str, sign: bool = False) -> str:
    exponent = _exponent(value)
    kind, n = DIGITS.get(quantity, DIGITS["value"])
    mantissa = value / 10 ** exponent
    mantissa = (f"{mantissa:{'+' if sign else ''}.{n}g}" if kind == "exact"
                else f"{mantissa:{'+' if sign else ''}.{max(n - 1, 0)}f}")
    return f"{mantissa.replace('-', chr(0x2212))} \u00d7 10{str(exponent).translate(SUPERSCRIPT)}"


def _exact(value: float, sign: bool = False) -> str:
    """A setting as it was written: 100, not 100.0; 0.001; 2 × 10⁻⁴ (6 significant figures at most)."""
    if value.is_integer() and abs(value) < LARGE:
        return _fixed(value, 0, sign)
    if value != 0 and not SMALL <= abs(value) < LARGE:
        return _scientific(value, "setting", sign)
    return f"{value:{'+' if sign else ''}.6g}".replace("-", "\u2212")


def number(value: Any, quantity: str = "value", sign: bool = False, why: str = "no value") -> str:
    """One number as the report shows it: the quantity's significant figures or decimals,
    thousands separated, a true minus sign, ∞ for infinities, a × 10ⁿ outside [10⁻³, 10⁶),
    and an em dash (a ``Blank`` saying ``why``) where there is no number."""
    if missing(value):
        return Blank(why)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"  # as YAML writes it
    value = float(value)
    if math.isinf(value):
        return ("+" if sign else "") + "\u221e" if value > 0 else "\u2212\u221e"
    kind, n = DIGITS.get(quantity, DIGITS["value"])
    if kind == "exact":
        return _exact(value, sign)
    if value != 0 and kind == "sig" and not SMALL <= abs(value) < LARGE:
        return _scientific(value, quantity, sign)
    text = _fixed(value, _decimals(value, quantity), sign)
    if value != 0 and float(text.replace(",", "").replace("\u2212", "-")) == 0:
        # below the quantity's last decimal: a change that small is no change at this precision;
        # a value that small is bounded, never a bare 0.000
        return _fixed(0.0, n) if sign else f"< {_fixed(10.0 ** -n, n)}"
    return text


def plus_minus(mean: Any, sd: Any, quantity: str = "value") -> str:
    """'mean ± sd', the sd to the same decimal place as the mean (so "0.292 ± 0.004", not
    "0.292 ± 0.00412"); the sd left out where it is missing (one seed); a ``Blank`` for a
    missing mean. An sd too small to show at that place is written "< 0.001"."""
    if missing(mean):
        return Blank("not measured")
    shown = number(mean, quantity)
    if missing(sd) or "\u00d7" in shown or math.isinf(float(mean)):
        return shown
    decimals = _decimals(float(mean), quantity)
    if 0 < sd < 0.5 * 10 ** -decimals:
        return f"{shown} \u00b1 < {_fixed(10 ** -decimals, decimals)}"
    return f"{shown} \u00b1 {_fixed(float(sd), decimals)}"


def change(delta: Any, reference: Any, quantity: str = "value") -> str:
    """A signed difference to the decimal place of the value it changes ("467 (−60)", not
    "467 (−60.1)"); a change below that place is "0"."""
    if missing(delta) or missing(reference) or math.isinf(float(reference)) or math.isinf(float(delta)):
        return number(delta, quantity, sign=True)
    decimals = _decimals(float(reference), quantity)
    if abs(delta) < 0.5 * 10 ** -decimals:
        return _fixed(0.0, decimals)
    return _fixed(float(delta), decimals, sign=True)


def mean_sd_n(mean: Any, sd: Any, n: int, quantity: str = "value") -> str:
    """'mean ± sd (n=k)' from a mean, sd and count over seeds; a ``Blank`` when no seed has a value."""
    if not n:
        return Blank("no run measured it")
    return f"{plus_minus(mean, sd, quantity)} (n={int(n)})"


def mean_sd_of(values: pd.Series, quantity: str = "value") -> str:
    """'mean ± sd (n=k)' over the non-missing ``values`` (seeds); a ``Blank`` when none."""
    values = values.dropna()
    return mean_sd_n(values.mean(), values.std(ddof=1), len(values), quantity)


def quantity_of(column: str) -> str:
    """The ``DIGITS`` quantity a table column holds, read from its name."""
    name = column.lower()
    for key, quantity in (("fid", "fid"), ("sliced", "sliced_w2"), ("kl", "kl"), ("tv", "tv"), ("mse", "mse"),
                          ("grad", "grad_norm"), ("energy", "energy_diff"), ("gamma", "gamma"),
                          ("movement", "movement"), ("accept", "acceptance")):
        if key in name:
            return quantity
    return "seconds" if name.endswith("_s") or name.endswith("(s)") else "value"


def html_table(frame: pd.DataFrame, formats: Optional[Dict[str, str]] = None, classes: Optional[Dict[str, str]] = None) -> str:
    """A table as HTML: every cell escaped, numbers through :func:`number` (``formats`` maps a
    column to its quantity, else :func:`quantity_of`), missing values as an em dash with their
    reason on hover, ``classes`` giving a column's cells a CSS class (e.g. "hash" to wrap)."""
    formats, classes = formats or {}, classes or {}

    def cell(column: str, value: Any) -> str:
        quantity = formats.get(column, quantity_of(column))
        counted = quantity == "value" and isinstance(value, numbers.Real) and float(value).is_integer()
        if isinstance(value, numbers.Integral) and not isinstance(value, bool) or counted and abs(value) < LARGE:
            value = f"{int(value):,}"  # a count or an index (seeds, iterations, runs): every digit
        elif isinstance(value, numbers.Real) or missing(value):
            value = number(value, quantity, why="no value")
        title = f' title="{html.escape(value.why)}"' if isinstance(value, Blank) else ""
        css = f' class="{classes[column]}"' if column in classes else (' class="blank"' if title else "")
        return f"<td{css}{title}>{html.escape(str(value))}</td>"

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = "".join("<tr>" + "".join(cell(c, v) for c, v in zip(frame.columns, row)) + "</tr>\n"
                   for row in frame.astype(object).itertuples(index=False))
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>"

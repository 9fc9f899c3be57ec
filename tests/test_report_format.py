"""The report's one number format and one spelling of names, against hand-written strings."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from stanley.experiment import names
from stanley.presentation import figures
from stanley.presentation.formatting import Blank, change, html_table, mean_sd_of, number, plus_minus
from stanley.presentation.report import mean_sd


@pytest.mark.parametrize("value, quantity, expected", [
    (1060.4, "fid", "1,060"),          # 3 significant figures, no 1.06e+03
    (357.249, "fid", "357"),
    (42.46, "fid", "42.5"),
    (0.99897, "tv", "0.999"),          # a bounded quantity: fixed decimals
    (3.35e-5, "tv", "< 0.001"),        # never a bare 0.000
    (0.4567, "acceptance", "0.46"),
    (0.998512, "rho", "0.9985"),
    (-41.21, "log", "\u221241.2"),     # a true minus sign
    (1.2345e-4, "p", "1.2 \u00d7 10\u207b\u2074"),
    (1234567.0, "kl", "1.23 \u00d7 10\u2076"),
    (math.inf, "mu", "\u221e"),
    (-math.inf, "mu", "\u2212\u221e"),
    (0.0, "fid", "0"),
    (100.0, "setting", "100"),         # settings as written
    (1e-4, "setting", "1 \u00d7 10\u207b\u2074"),
    (0.0070710678, "setting", "0.00707107"),
    (True, "setting", "true"),
    ("completed", "value", "completed"),
])
def test_number(value, quantity, expected):
    assert number(value, quantity) == expected


def test_signed_changes():
    assert number(13.14, "kl", sign=True) == "+13.1"
    assert number(-60.13, "kl", sign=True) == "\u221260.1"
    assert number(-2.3e-5, "tv", sign=True) == "0.000"  # below the last decimal: no change at this precision
    assert change(-60.13, 407.0, "kl") == "\u221260"       # to the decimal place of the value it changes
    assert change(-0.00818, 0.316, "sliced_w2") == "\u22120.008"
    assert change(2.3e-5, 1.0, "tv") == "0.000"


@pytest.mark.parametrize("mean, sd, quantity, expected", [
    (1060.0, 410.0, "fid", "1,060 \u00b1 410"),
    (0.2921, 0.00412, "mse", "0.292 \u00b1 0.004"),   # the sd to the mean's decimal place
    (13.2, 3.223, "fid", "13.2 \u00b1 3.2"),
    (0.999, 3e-5, "tv", "0.999 \u00b1 < 0.001"),
    (654.2, 468.3, "kl", "654 \u00b1 468"),
    (38.8, float("nan"), "fid", "38.8"),                # one seed: no sd
])
def test_plus_minus(mean, sd, quantity, expected):
    assert plus_minus(mean, sd, quantity) == expected


def test_missing_values_are_a_dash_that_says_why():
    shown = plus_minus(float("nan"), 1.0, "fid")
    assert shown == "\u2014" and isinstance(shown, Blank) and shown.why
    assert number(None, "fid", why="not run") == "\u2014"
    assert mean_sd_of(pd.Series([1.0, 2.0, None]), "kl") == "1.50 \u00b1 0.71 (n=2)"
    assert isinstance(mean_sd_of(pd.Series([None, None], dtype=float)), Blank)
    table = html_table(pd.DataFrame({"sampler": ["STANLEY"], "fid": [float("nan")], "runs": [3]}))
    assert '<td class="blank" title="no value">\u2014</td>' in table and "<td>3</td>" in table
    assert "nan" not in table.lower()
    counts = html_table(pd.DataFrame({"iteration": np.array([12345, 100000]), "runs": [3.0, 2.0]}))
    assert "<td>12,345</td>" in counts and "<td>3</td>" in counts  # counts keep every digit


def test_no_number_in_a_table_is_scientific_in_python_style():
    rng = np.random.default_rng(0)
    values = np.concatenate([10.0 ** rng.uniform(-30, 30, 200), -(10.0 ** rng.uniform(-30, 30, 200)), [np.nan, np.inf]])
    frame = pd.DataFrame({c: values for c in ("fid", "tv", "kl", "acceptance", "wall_time_s", "other")})
    text = html_table(frame)
    assert not any(token in text.lower() for token in ("e+", "e-0", "e-1", "e-2", "nan", "inf"))


def test_mean_sd_table_uses_display_names_and_the_quantitys_format():
    frame = pd.DataFrame({"sampler": ["stanley", "stanley", "stanley_mh", "stanley_mh"], "tv": [0.5, 0.7, 0.2, 0.3]})
    table = mean_sd(frame, ["tv"])
    assert list(table["sampler"]) == ["STANLEY (paper text)", "STANLEY + MH"]
    assert list(table["tv"]) == ["0.600 \u00b1 0.141 (n=2)", "0.250 \u00b1 0.071 (n=2)"]


@pytest.mark.parametrize("name, expected", [
    ("stanley", "STANLEY (paper text)"), ("langevin", "Langevin"), ("mala", "MH (MALA)"), ("stanley_mh", "STANLEY + MH"),
    ("hmc", "HMC"), ("gd", "GD (no noise)"), ("cifar10", "CIFAR-10"), ("flowers102", "Flowers 102"),
    ("celeba", "CelebA"), ("stanley[norm=pixel]", "STANLEY (paper text)[norm=pixel]"),
    ("stanley (paper text)", "STANLEY (paper text)"), ("stanley_mh[drift=unscaled]", "STANLEY + MH[drift=unscaled]"),
    ("stanley_code", "STANLEY (authors' image code)"), ("stanley_toy", "STANLEY (authors' toy script)"),
    ("shapes", "shapes"),
])
def test_display_names(name, expected):
    assert names.display(name) == expected


def test_toy_metrics_draw_tv_on_a_linear_axis_and_name_samplers_one_way(tmp_path, monkeypatch):
    drawn = []
    monkeypatch.setattr(figures, "write_figure", lambda out, fig: drawn.append(fig))
    rows = [{"dataset": "rings", "sampler": s, "seed": seed, "iteration": it, "kl": 10.0 ** (3 - it / 50),
             "tv": 0.99 - it / 1000, "sliced_w2": 0.4 + 0.01 * seed}
            for s in ("langevin", "stanley") for seed in (0, 1) for it in (0, 50, 100)]
    pd.DataFrame(rows).to_csv(tmp_path / "eval.csv", index=False)
    figures.toy_metrics([str(tmp_path / "eval.csv")], tmp_path / "toy.png")
    fig = drawn[0]
    kl, tv, w2 = fig.axes[:3]
    assert tv.get_yscale() == "linear" and tv.get_ylim()[0] == 0  # TV lives in [0, 1]
    assert kl.get_yscale() == "log"      # KL spans two decades here
    assert w2.get_yscale() == "linear"   # sliced W2 spans less than one
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert labels == ["STANLEY (paper text)", "Langevin"]
    assert "±1 sd" in fig._suptitle.get_text()

"""The command line explains itself: --version, choices and defaults in --help from the modules
that own them, one line and exit status 2 for every bad option; run configs start from the
paper's toy sampler setting."""

from __future__ import annotations

import pytest

from stanley.experiment import config
from stanley.plumbing import provenance
from stanley.sampling import samplers, targets
from stanley.cli import main
from stanley.presentation.figures import FIGURES
from stanley.presentation.report import SCALES


def run_cli(capsys, *argv: str):
    """(exit status, stdout, stderr) of ``stanley ARGV`` run in this process."""
    try:
        status = main(list(argv))
    except SystemExit as stop:
        status = stop.code
    out, err = capsys.readouterr()
    return status, out, err


def test_version_names_every_package_that_shapes_a_number_or_a_figure(capsys):
    status, out, _ = run_cli(capsys, "--version")
    assert status == 0 and out.startswith("stanley 0.1.0 (")
    for name in ("torch", "torchvision", "numpy", "scipy", "clean-fid", "matplotlib", "seaborn", "pillow"):
        assert f" {name} " in out and name in provenance.PACKAGES


@pytest.mark.parametrize("argv, names", [
    (("train", "--help"), samplers.NAMES),
    (("sample", "--help"), [*samplers.NAMES, *targets.REGISTRY]),
    (("figure", "--help"), FIGURES),
    (("claims", "--help"), SCALES),
    (("report", "--help"), SCALES),
])
def test_help_lists_the_allowed_names_from_their_owner(capsys, argv, names):
    status, out, _ = run_cli(capsys, *argv)
    assert status == 0
    flat = " ".join(out.split())
    for name in names:
        assert name in flat


@pytest.mark.parametrize("argv", [("train", "--config", "run.yaml", "--out", "o"),
                                  ("tables", "--runs", "r", "--out", "o")])
def test_parsing_a_command_imports_no_heavy_library(argv):
    """Every job of the DAG is one ``stanley`` process: the parser alone must not import torch,
    scipy or matplotlib (argparse lists a choice list when an option is added; ours stay unread)."""
    import subprocess
    import sys

    code = ("import sys; from stanley.cli import build_parser; build_parser().parse_args(sys.argv[1:]); "
            "heavy = sorted({'torch', 'scipy', 'matplotlib'} & set(sys.modules)); assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code, *argv], check=True)


def test_help_shows_defaults(capsys):
    _, out, _ = run_cli(capsys, "sample", "--help")
    flat = " ".join(out.split())
    assert "independent chains (default: 1000)" in flat and "(default: gaussian)" in flat
    assert "(default: None)" not in flat


@pytest.mark.parametrize("argv, words", [
    (("claims", "--out", "x.csv", "--scale", "foo"), "invalid choice: 'foo'"),
    (("train", "--config", "x.yaml", "--out", "x", "--threads", "0"), "--threads: expected a whole number >= 1"),
    (("train", "--config", "x.yaml", "--out", "x", "--threads", "-1"), "--threads: expected a whole number >= 1"),
    (("sample", "--target", "rings", "--sampler", "stanley", "--steps", "2", "--out", "x.npz",
      "--target-opt", "sd=[1"), "the value of 'sd' is not valid YAML"),
    (("sample", "--target", "rings", "--sampler", "stanley", "--steps", "2", "--out", "x.npz",
      "--target-opt", "sd"), "expected KEY=VALUE"),
    (("sample", "--target", "ringz", "--sampler", "stanley", "--steps", "2", "--out", "x.npz"), "invalid choice: 'ringz'"),
    (("sample", "--target", "rings", "--sampler", "stanley", "--steps", "0", "--out", "x.npz"), "--steps: expected"),
    (("diagnose", "drift", "--target", "rings", "--sampler", "stanley", "--radii", "1,2", "--out", "x.csv",
      "--threads", "0"), "--threads: expected a whole number >= 1"),
])
def test_bad_options_get_one_line_and_exit_2(capsys, tmp_path, monkeypatch, argv, words):
    monkeypatch.chdir(tmp_path)
    status, out, err = run_cli(capsys, *argv)
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and words in err, err
    assert not list(tmp_path.iterdir())  # refused before any work


def test_run_config_starts_from_the_papers_toy_sampler():
    run = config.complete_run({})
    assert run["sampler"]["options"] == samplers.options_for("stanley", config.PAPER_TOY_SAMPLER)
    assert run["sampler"]["options"]["step_size"] == 2.0 and run["sampler"]["options"]["threshold"] == 0.01
    assert run["evaluation"]["temperature"] == pytest.approx(0.01 ** 2 / 2)  # eps^2, eps = 0.01 / sqrt(2)
    # the noise alone changed: the base step, hence the drift (s / 2) grad f, stays the paper's
    only_noise = config.complete_run({"sampler": {"name": "langevin", "options": {"noise_scale": 0.02}}})
    assert only_noise["sampler"]["options"] == {"step_size": 2.0, "noise_scale": 0.02}
    assert only_noise["evaluation"]["temperature"] == pytest.approx(0.02 ** 2)
    assert config.complete_run({"sampler": {"name": "hmc"}})["sampler"]["options"]["leapfrog"] == 5


def test_suite_without_a_sampler_pool_gets_the_papers_toy_sampler():
    suite = {"datasets": ["rings"], "samplers": ["stanley", "gd"], "seeds": [0]}
    stanley = config.resolve_run(suite, "rings", "stanley", 0)["sampler"]["options"]
    assert stanley == samplers.options_for("stanley", config.PAPER_TOY_SAMPLER)
    assert config.resolve_run(suite, "rings", "gd", 0)["sampler"]["options"] == {"step_size": 2.0}

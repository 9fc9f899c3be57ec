"""The ``stanley`` command: the contract the workflow and users rely on (README, "CLI").

Every subcommand checks its input (options, config, input files, where its output goes) before
any work starts. Every failure the command can expect prints one line ``stanley: error: ...``
and exits with a documented status (:data:`EXIT_CODES`); an unexpected one keeps its traceback.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import List, Optional

from .cliutil import Names, owned, positive_int
from .errors import ConfigError, Fault, shown

EXIT_CODES = """exit status:
  0  done
  1  an expected fault at run time: a file that cannot be read or written (full disk,
     permissions, a vanished directory), a run directory another process is writing
  2  bad input: an option, a config key or value, an input file (missing, not UTF-8 text,
     malformed), an output path that names a directory or a device; nothing was done
  other  an unexpected error, printed with its traceback (please report it)"""
MAX_MESSAGE = 600  # characters of an error line


def _load_run(path: str, dataset=None, sampler=None, seed=None) -> dict:
    """A complete run config from a run config file, or from a suite config and a selection."""
    from .experiment import config

    raw = config.load_yaml(path)
    if config.is_suite(raw):
        missing = [flag for flag, value in (("--dataset", dataset), ("--sampler", sampler),
                                             ("--seed", seed)) if value is None]
        if missing:
            raise ConfigError(f"{path} is a suite config: pick one run with {' '.join(missing)}")
        return config.resolve_run(raw, dataset, sampler, seed)
    if dataset or sampler or seed is not None:
        raise ConfigError(f"{path} is a run config: --dataset/--sampler/--seed only select from a suite")
    return config.complete_run(raw)


def _tuned(run: dict, choice: str | None) -> dict:
    """The run with the tuning stage's choice for its sampler applied (stanley.experiment.tuning); as is without one."""
    if not choice:
        return run
    from .experiment import tuning

    return tuning.tuned(run, tuning.load_choice(choice))


def _train(args: argparse.Namespace) -> None:
    import torch

    from .experiment import config
    from .learning import training

    if args.threads:
        torch.set_num_threads(args.threads)
    run = _tuned(_load_run(args.config, args.dataset, args.sampler, args.seed), args.tuned)
    if not args.threads and config.data_kind(run["data"]["name"]) == "toy":
        torch.set_num_threads(1)  # tiny nets: one thread is fastest (benchmarks/train_step.py)
    out = training.train(run, args.out, progress=not args.no_progress)
    print(f"stanley: {config.run_label(run)} written to {out}")


def _tune(args: argparse.Namespace) -> None:
    from .experiment import tuning
    from .plumbing.io import write_csv, write_yaml
    from .plumbing.rundir import TuningDir

    table = tuning.tuning_table(args.pilots, args.points, args.fraction, args.tolerance)
    out = TuningDir(args.out)
    write_csv(out.pilots, table)
    write_yaml(out.choice, tuning.choice(table))
    print(f"stanley: tuning choice for {len(table)} pilots written to {out.path}")


def _train_batch(args: argparse.Namespace) -> None:
    import torch

    from .learning import batched
    from .experiment import config

    if len(args.config) != len(args.out):
        raise ConfigError(f"train-batch pairs each --config with an --out; got {len(args.config)} --config and "
                          f"{len(args.out)} --out")
    jobs = [(_tuned(_load_run(path), args.tuned), out) for path, out in zip(args.config, args.out)]
    torch.set_num_threads(args.threads or 1)
    trainer = batched.BatchTrainer(jobs, progress=not args.no_progress)  # checks every run before any work
    for run, out in zip([run for run, _ in jobs], trainer.train()):
        print(f"stanley: {config.run_label(run)} written to {out}")


def _sample(args: argparse.Namespace) -> None:
    import numpy as np
    import torch

    from .learning import budget
    from .sampling import samplers, targets
    from .cliutil import parse_key_values, sampler_options_from_args
    from .plumbing.io import write_atomic

    target = targets.get(args.target, **parse_key_values(args.target_opt))
    options = sampler_options_from_args(args)
    kernel = samplers.get(args.sampler, target.log_prob, **options)
    budget.check_fits(budget.sampling_bytes(args.chains, args.steps, target.dim),
                      budget.available_bytes(torch.device("cpu")), f"{args.chains} chains x {args.steps} steps")
    generator = torch.Generator().manual_seed(args.seed)
    z0 = initial_points(args.init, target, args.chains, generator)
    state, info = samplers.sample(kernel, z0, args.steps, generator)
    write_atomic(args.out, lambda tmp: np.savez(
        open(tmp, "wb"), samples=state.z.numpy(), initial=z0.numpy(),
        **{f"info_{key}": value.numpy() for key, value in info.items()},
    ))
    print(f"stanley: {args.chains} chains x {args.steps} gradient evaluations of {args.sampler} "
          f"on {args.target} written to {args.out}")


def initial_points(spec: str, target, n: int, generator):
    """``gaussian`` (standard normal), ``target`` (exact samples) or ``point:X,Y,...``."""
    import torch

    if spec == "gaussian":
        return torch.randn(n, target.dim, generator=generator)
    if spec == "target":
        return target.sample(n, generator)
    if spec.startswith("point:"):
        try:
            point = [float(v) for v in spec[len("point:"):].split(",")]
        except ValueError:
            point = []
        if len(point) != target.dim or not all(math.isfinite(v) for v in point):
            raise ConfigError(f"--init {shown(spec)}: give {target.dim} comma-separated finite numbers, e.g. point:3,0")
        return torch.tensor(point).expand(n, target.dim).clone()
    raise ConfigError(f"--init must be gaussian, target or point:X,Y; got {shown(spec)}")


def _fid_stats(args: argparse.Namespace) -> None:
    from .images import fid

    extractor = fid.feature_extractor(args.inception, proxy=args.proxy, device=args.device)
    path = fid.reference_stats(args.dataset, extractor, args.out, root=args.root, image_size=args.image_size,
                               limit=args.limit, split=args.split, verify=not args.no_verify)
    print(f"stanley: {extractor.protocol} reference statistics of {args.dataset} written to {path}")


def _download(args: argparse.Namespace) -> None:
    from .images import data, fid

    if args.name == "inception":
        print(f"stanley: Inception weights at {fid.download_inception(args.root)}")
        return
    try:
        data.check(args.name, args.root)
        print(f"stanley: {args.name} is complete under {args.root}")
    except ConfigError as missing:
        try:
            data.download(args.name, args.root)
        except ConfigError as failed:  # offline: say what is missing where, then why the download failed
            raise ConfigError(f"{missing}; the download failed too: {failed}") from None
        data.check(args.name, args.root)
        print(f"stanley: {args.name} downloaded to {args.root}")


def _inpaint(args: argparse.Namespace) -> None:
    import torch

    from .learning.inpainting import run_inpainting

    if args.threads:
        torch.set_num_threads(args.threads)
    npz, table = run_inpainting(args.run, n=args.n, out_dir=args.out_dir, mask_side=args.mask, steps=args.steps,
                                device=args.device)
    print(f"stanley: inpainting of {args.run} written to {npz} and {table}")


def _tables(args: argparse.Namespace) -> None:
    from .presentation.tables import gather

    for path in gather(args.runs, args.out, variants=args.variants):
        print(f"stanley: wrote {path}")


def _claims(args: argparse.Namespace) -> None:
    from .presentation.claims import evaluate
    from .plumbing.io import write_csv

    if not Path(args.results).is_dir():
        raise ConfigError(f"--results {args.results}: no such directory (give the results folder the workflow wrote)")
    ledger = evaluate(args.results, scale=args.scale)
    write_csv(args.out, ledger)
    for row in ledger.itertuples():
        print(f"{row.id:20s} {row.reading:28s} {row.verdict:13s} {row.statistic}")


def _figure(args: argparse.Namespace) -> None:
    from .presentation import figures

    path = figures.make(args.name, args.inputs, args.out)
    print(f"stanley: wrote {path}")


def _report(args: argparse.Namespace) -> None:
    from .presentation.report import render, render_declared

    if args.inputs:
        path = render_declared(args.inputs, results=args.results, templates=args.templates, out=args.out,
                               scale=args.scale)
    else:
        path = render(results=args.results, templates=args.templates, out=args.out, scale=args.scale)
    print(f"stanley: wrote {path}")


class _Help(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Defaults shown after each option's help, except where there is none to show; the epilog
    (the exit codes) keeps its lines."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or action.default == [] or not action.help:
            return action.help
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """argparse with defaults in --help and one-line errors (exit 2), like every other bad input."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)

    def add_argument(self, *args, **kwargs):
        """A lazy list of names (:class:`Names`) stays unread while the parser is built: argparse
        would list it in a metavar at once, importing its owner (torch, matplotlib, scipy) on
        every command; it is listed in --help instead, and read when a value is checked."""
        if isinstance(kwargs.get("choices"), Names) and "metavar" not in kwargs:
            kwargs["metavar"] = args[-1].lstrip("-").upper()
            kwargs["help"] = f"{kwargs.get('help', '')} (one of: %(choices)s)".lstrip()
        return super().add_argument(*args, **kwargs)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _data_names():
    from .experiment.options import DATASETS, TARGETS

    return [*TARGETS, *DATASETS]


def _downloadable():
    from .images.data import OFFLINE

    return [name for name in OFFLINE if name != "imagefolder"] + ["inception"]


SAMPLERS, TARGETS = owned("stanley.experiment.options", "NAMES"), owned("stanley.experiment.options", "TARGETS")
DATASETS, DATA, DOWNLOADS = owned("stanley.experiment.options", "DATASETS"), Names(_data_names), Names(_downloadable)
FIGURE_NAMES, SCALE_NAMES = owned("stanley.presentation.figures", "FIGURES"), owned("stanley.presentation.report", "SCALES")
DEVICES = ("auto", "cpu", "cuda")


class _Version(argparse.Action):
    """``--version``: this package and every package that shapes a number or a figure."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from . import __version__
        from .plumbing.provenance import package_versions

        others = ", ".join(f"{name} {version}" for name, version in package_versions().items() if name != "stanley")
        print(f"stanley {__version__} ({others})")
        parser.exit(0)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="stanley", description="The STANLEY reproducibility suite's command line: training, sampling, "
                     "FID, tables, figures and the report. A bad option or config gets one line and exit status 2.",
                     epilog=EXIT_CODES)
    parser.add_argument("--version", action=_Version, help="versions of stanley and the packages its numbers depend on")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("train", help="train one EBM (Algorithm 1); resumes from checkpoints in --out")
    p.add_argument("--config", required=True, help="a run config, or a suite config with --dataset/--sampler/--seed")
    p.add_argument("--out", required=True, help="run directory: tables, checkpoints, samples")
    p.add_argument("--dataset", choices=DATA, help="a data set of the suite (suite configs only)")
    p.add_argument("--sampler", choices=SAMPLERS, help="a sampler of the suite (suite configs only)")
    p.add_argument("--seed", type=int, help="a seed of the suite (suite configs only)")
    p.add_argument("--threads", type=positive_int, help="torch CPU threads (default: 1 for toy targets, else torch's choice)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--tuned", help="a tuning stage's choice file (stanley tune): its multipliers for this run's sampler")
    p.set_defaults(func=_train, out_is_directory=True)

    p = sub.add_parser("tune", help="score one data set's pilot runs and choose each sampler's grid point")
    p.add_argument("--pilots", nargs="+", required=True, help="pilot run directories")
    p.add_argument("--points", nargs="+", required=True, help="each pilot's grid point, e.g. step_size=x0.3")
    p.add_argument("--fraction", type=float, required=True, help="the pilots' share of the matrix's iterations")
    p.add_argument("--tolerance", type=float, default=0.02, help="relative score difference the pilots cannot resolve")
    p.add_argument("--out", required=True, help="directory for the pilots' table and the choice (stanley.plumbing.rundir.TuningDir)")
    p.set_defaults(func=_tune, out_is_directory=True)

    p = sub.add_parser("train-batch", help="train several toy runs as one batched computation, each into its own "
                                           "run directory (the tables its solo run writes); resumes each run")
    p.add_argument("--config", action="append", required=True, help="a run config (repeat, one per run)")
    p.add_argument("--out", action="append", required=True, help="that run's directory (repeat, in --config order)")
    p.add_argument("--threads", type=positive_int, help="torch CPU threads (default: 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--tuned", help="a tuning stage's choice file (stanley tune): its multipliers for every run's sampler")
    p.set_defaults(func=_train_batch, out_is_directory=True)

    from .cliutil import add_sampler_options

    p = sub.add_parser("sample", help="run a sampler on a toy target; save final states and per-step info")
    p.add_argument("--target", required=True, choices=TARGETS, help="toy target")
    p.add_argument("--target-opt", action="append", default=[], metavar="KEY=VALUE",
                   help="target option, value read as YAML (repeatable)")
    p.add_argument("--sampler", required=True, choices=SAMPLERS, help="sampler")
    p.add_argument("--steps", type=positive_int, required=True, help="gradient evaluations per chain (K)")
    p.add_argument("--chains", type=positive_int, default=1000, help="independent chains")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--init", default="gaussian", help="starts: gaussian | target | point:X,Y")
    p.add_argument("--out", required=True, help="an .npz file")
    add_sampler_options(p)
    p.set_defaults(func=_sample)

    p = sub.add_parser("fid-stats", help="FID reference statistics of a data set's training images")
    p.add_argument("--dataset", required=True, choices=DATASETS, help="image data set")
    p.add_argument("--root", default="data", help="data directory")
    p.add_argument("--image-size", type=positive_int, default=32, help="side of the images in pixels")
    p.add_argument("--limit", type=positive_int, default=None, help="use the first N images (default: all)")
    p.add_argument("--split", default="train", help="the data set's split")
    p.add_argument("--no-verify", action="store_true", help="skip the md5 check (a run config's data.verify: false)")
    p.add_argument("--proxy", action="store_true", help="the stand-in extractor (tests, CI): labelled proxy")
    p.add_argument("--inception", default=None, help="Inception weights file (default: $STANLEY_INCEPTION)")
    p.add_argument("--device", default="cpu", choices=DEVICES, help="where the feature network runs")
    p.add_argument("--out", required=True, help="an .npz file")
    p.set_defaults(func=_fid_stats)

    p = sub.add_parser("download", help="fetch a data set, or the Inception weights, where the internet is reachable")
    p.add_argument("name", choices=DOWNLOADS, help="a data set, or the Inception weights")
    p.add_argument("--root", default=None, help="data directory (for inception: where the weights go)")
    p.set_defaults(func=_download)

    p = sub.add_parser("inpaint", help="fill a masked centre square of test images with a trained run's sampler")
    p.add_argument("--run", required=True, help="a finished image run directory (stanley train --out)")
    p.add_argument("--n", type=positive_int, default=100, help="test images (the paper's 100)")
    p.add_argument("--out-dir", default=None, help="where the inpainting arrays and table go (default --run)")
    p.add_argument("--mask", type=positive_int, default=None, help="side of the masked centre square in pixels (default half the image)")
    p.add_argument("--steps", type=positive_int, default=None, help="gradient evaluations (default the run's mcmc_steps)")
    p.add_argument("--device", default=None, choices=DEVICES, help="where to run (default the run's device)")
    p.add_argument("--threads", type=positive_int, help="torch CPU threads (default: torch's choice)")
    p.set_defaults(func=_inpaint)

    p = sub.add_parser("tables", help="gather run tables into one table per kind")
    p.add_argument("--runs", nargs="+", required=True, help="run directories")
    p.add_argument("--variants", nargs="+", default=None,
                   help="one variant name per run directory (a study's); default: read from each run's config")
    p.add_argument("--out", required=True, help="tables directory")
    p.set_defaults(func=_tables, out_is_directory=True)

    p = sub.add_parser("claims", help="the claims ledger: a verdict per claim of the paper, from the tables")
    p.add_argument("--results", default="results", help="the results folder the tables are in")
    p.add_argument("--scale", default="paper", choices=SCALE_NAMES, help="written beside every verdict")
    p.add_argument("--out", required=True, help="a .csv file")
    p.set_defaults(func=_claims)

    p = sub.add_parser("figure", help="draw one figure from tables")
    p.add_argument("name", choices=FIGURE_NAMES, help="the figure")
    p.add_argument("--inputs", nargs="+", required=True, help="the tables or sample files it is drawn from")
    p.add_argument("--out", required=True, help="a .png file")
    p.set_defaults(func=_figure)

    p = sub.add_parser("report", help="render the HTML report from results")
    p.add_argument("--results", default="results", help="the results folder")
    p.add_argument("--templates", default=None, help="a folder of templates to use instead of the packaged ones")
    p.add_argument("--out", default=None, help="the HTML file written (default: the report under RESULTS)")
    p.add_argument("--scale", default="paper", choices=SCALE_NAMES, help="label shown on every section")
    p.add_argument("--inputs", nargs="+", default=None,
                   help="the result files (under --results) the report may read, and no other; the workflow "
                        "passes the ones its DAG declares (default: whatever the results folder holds)")
    p.set_defaults(func=_report)

    from .diagnostics.cli import add_parser as add_diagnose

    add_diagnose(sub)
    return parser


def check_common(args: argparse.Namespace) -> None:
    """What every subcommand checks before its own work: the shared options, and that its output
    path names nothing that must not be replaced (a directory, a device, a FIFO)."""
    from .cliutil import check_common_options
    from .plumbing.io import check_output

    check_common_options(args)
    outs = getattr(args, "out", None)
    for out in (outs if isinstance(outs, list) else [outs] if outs else []):  # train-batch: one per run
        check_output(out, directory=getattr(args, "out_is_directory", False))
    if getattr(args, "out_dir", None):
        check_output(args.out_dir, directory=True)


def _say(message) -> None:
    text = " ".join(str(message).split())
    print(f"stanley: error: {text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 3] + '...'}", file=sys.stderr)


def main(argv: Optional[List[str]] = None) -> int:
    """Run one subcommand; the exit status is one of :data:`EXIT_CODES`."""
    args = build_parser().parse_args(argv)
    try:
        check_common(args)
        args.func(args)
    except ConfigError as error:
        _say(error)
        return 2
    except UnicodeDecodeError as error:  # an input file that is not text
        _say(f"an input file is not UTF-8 text ({error.reason} at byte {error.start}); give a text file")
        return 2
    except Fault as error:
        _say(error)
        return 1
    except OSError as error:  # a full disk or a vanished directory mid-run; outputs are atomic, so none is torn
        _say(f"could not read or write {error.filename or 'a file'}: {error.strerror or error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

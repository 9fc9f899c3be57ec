"""The ``stanley`` command: the contract the workflow and users rely on (README, "CLI").

Every subcommand checks its input before any work starts; a :class:`ConfigError` prints one
line ``stanley: error: ...`` and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from .errors import ConfigError


def _load_run(path: str, dataset=None, sampler=None, seed=None) -> dict:
    """A complete run config from a run config file, or from a suite config and a selection."""
    from . import config

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


def _train(args: argparse.Namespace) -> None:
    import torch

    from . import config, training

    if args.threads:
        torch.set_num_threads(args.threads)
    run = _load_run(args.config, args.dataset, args.sampler, args.seed)
    if not args.threads and config.data_kind(run["data"]["name"]) == "toy":
        torch.set_num_threads(1)  # tiny nets: one thread is fastest (benchmarks/train_step.py)
    out = training.train(run, args.out, progress=not args.no_progress)
    print(f"stanley: {config.run_label(run)} written to {out}")


def _train_batch(args: argparse.Namespace) -> None:
    import torch

    from . import batched, config

    if len(args.config) != len(args.out):
        raise ConfigError(f"train-batch pairs each --config with an --out; got {len(args.config)} --config and "
                          f"{len(args.out)} --out")
    jobs = [(_load_run(path), out) for path, out in zip(args.config, args.out)]
    torch.set_num_threads(args.threads or 1)
    trainer = batched.BatchTrainer(jobs, progress=not args.no_progress)  # checks every run before any work
    for run, out in zip([run for run, _ in jobs], trainer.train()):
        print(f"stanley: {config.run_label(run)} written to {out}")


def _sample(args: argparse.Namespace) -> None:
    import numpy as np
    import torch

    from . import samplers, targets
    from .cliutil import parse_key_values, sampler_options_from_args
    from .io import write_atomic

    target = targets.get(args.target, **parse_key_values(args.target_opt))
    options = sampler_options_from_args(args)
    kernel = samplers.get(args.sampler, target.log_prob, **options)
    if args.chains < 1 or args.steps < 1:
        raise ConfigError("--chains and --steps must be at least 1")
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
        if len(point) != target.dim:
            raise ConfigError(f"--init {spec}: give {target.dim} comma-separated numbers, e.g. point:3,0")
        return torch.tensor(point).expand(n, target.dim).clone()
    raise ConfigError(f"--init must be gaussian, target or point:X,Y; got {spec!r}")


def _fid_stats(args: argparse.Namespace) -> None:
    from . import fid

    extractor = fid.feature_extractor(args.inception, proxy=args.proxy, device=args.device)
    path = fid.reference_stats(args.dataset, extractor, args.out, root=args.root, image_size=args.image_size,
                               limit=args.limit, split=args.split)
    print(f"stanley: {extractor.protocol} reference statistics of {args.dataset} written to {path}")


def _download(args: argparse.Namespace) -> None:
    from . import data, fid

    if args.name == "inception":
        print(f"stanley: Inception weights at {fid.download_inception(args.root)}")
        return
    try:
        data.check(args.name, args.root)
        print(f"stanley: {args.name} is complete under {args.root}")
    except ConfigError:
        data.download(args.name, args.root)
        data.check(args.name, args.root)
        print(f"stanley: {args.name} downloaded to {args.root}")


def _inpaint(args: argparse.Namespace) -> None:
    import torch

    from .inpainting import run_inpainting

    if args.threads:
        torch.set_num_threads(args.threads)
    npz, table = run_inpainting(args.run, n=args.n, out_dir=args.out_dir, mask_side=args.mask, steps=args.steps,
                                device=args.device)
    print(f"stanley: inpainting of {args.run} written to {npz} and {table}")


def _tables(args: argparse.Namespace) -> None:
    from .tables import gather

    for path in gather(args.runs, args.out, variants=args.variants):
        print(f"stanley: wrote {path}")


def _claims(args: argparse.Namespace) -> None:
    from .claims import evaluate
    from .io import write_csv

    ledger = evaluate(args.results, scale=args.scale)
    write_csv(args.out, ledger)
    for row in ledger.itertuples():
        print(f"{row.id:26s} {row.verdict:13s} {row.statistic}")


def _figure(args: argparse.Namespace) -> None:
    from . import figures

    path = figures.make(args.name, args.inputs, args.out)
    print(f"stanley: wrote {path}")


def _report(args: argparse.Namespace) -> None:
    from .report import render

    path = render(results=args.results, templates=args.templates, out=args.out, scale=args.scale)
    print(f"stanley: wrote {path}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stanley", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train one EBM (Algorithm 1); resumes from checkpoints in --out")
    p.add_argument("--config", required=True, help="a run config, or a suite config with --dataset/--sampler/--seed")
    p.add_argument("--out", required=True, help="run directory: tables, checkpoints, samples")
    p.add_argument("--dataset"), p.add_argument("--sampler"), p.add_argument("--seed", type=int)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: 1 for toy targets, else torch's choice)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_train)

    p = sub.add_parser("train-batch", help="train several toy runs as one batched computation, each into its own "
                                           "run directory (the tables its solo run writes); resumes each run")
    p.add_argument("--config", action="append", required=True, help="a run config (repeat, one per run)")
    p.add_argument("--out", action="append", required=True, help="that run's directory (repeat, in --config order)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_train_batch)

    from .cliutil import add_sampler_options

    p = sub.add_parser("sample", help="run a sampler on a toy target; save final states and per-step info")
    p.add_argument("--target", required=True)
    p.add_argument("--target-opt", action="append", default=[], metavar="KEY=VALUE",
                   help="target option, value read as YAML (repeatable)")
    p.add_argument("--sampler", required=True)
    p.add_argument("--steps", type=int, required=True, help="gradient evaluations per chain (K)")
    p.add_argument("--chains", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--init", default="gaussian", help="gaussian | target | point:X,Y")
    p.add_argument("--out", required=True, help="an .npz file")
    add_sampler_options(p)
    p.set_defaults(func=_sample)

    p = sub.add_parser("fid-stats", help="FID reference statistics of a data set's training images")
    p.add_argument("--dataset", required=True)
    p.add_argument("--root", default="data", help="data directory")
    p.add_argument("--image-size", type=int, default=32)
    p.add_argument("--limit", type=int, default=None, help="use the first N images")
    p.add_argument("--split", default="train")
    p.add_argument("--proxy", action="store_true", help="the stand-in extractor (tests, CI): labelled proxy")
    p.add_argument("--inception", default=None, help="Inception weights file (default: $STANLEY_INCEPTION)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", required=True, help="an .npz file")
    p.set_defaults(func=_fid_stats)

    p = sub.add_parser("download", help="fetch a data set, or the Inception weights, where the internet is reachable")
    p.add_argument("name", help="cifar10 | flowers102 | celeba | inception")
    p.add_argument("--root", default=None, help="data directory (for inception: where the weights go)")
    p.set_defaults(func=_download)

    p = sub.add_parser("inpaint", help="fill a masked centre square of test images with a trained run's sampler")
    p.add_argument("--run", required=True, help="a finished image run directory (config.yaml, model.pt)")
    p.add_argument("--n", type=int, default=100, help="test images (the paper's 100)")
    p.add_argument("--out-dir", default=None, help="where inpainting.npz and inpainting.csv go (default --run)")
    p.add_argument("--mask", type=int, default=None, help="side of the masked centre square in pixels (default half the image)")
    p.add_argument("--steps", type=int, default=None, help="gradient evaluations (default the run's mcmc_steps)")
    p.add_argument("--device", default=None, help="cpu | cuda | auto (default the run's device)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    p.set_defaults(func=_inpaint)

    p = sub.add_parser("tables", help="gather run tables into one table per kind")
    p.add_argument("--runs", nargs="+", required=True, help="run directories")
    p.add_argument("--variants", nargs="+", default=None,
                   help="one variant name per run directory (a study's); default: read from each run's config")
    p.add_argument("--out", required=True, help="tables directory")
    p.set_defaults(func=_tables)

    p = sub.add_parser("claims", help="the claims ledger: a verdict per claim of the paper, from the tables")
    p.add_argument("--results", default="results")
    p.add_argument("--scale", default="paper", help="paper or smoke: written beside every verdict")
    p.add_argument("--out", required=True, help="a .csv file")
    p.set_defaults(func=_claims)

    p = sub.add_parser("figure", help="draw one figure from tables")
    p.add_argument("name")
    p.add_argument("--inputs", nargs="+", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=_figure)

    p = sub.add_parser("report", help="render the HTML report from results")
    p.add_argument("--results", default="results")
    p.add_argument("--templates", default="report/templates")
    p.add_argument("--out", default="report/index.html")
    p.add_argument("--scale", default="paper", help="label shown on every section: paper or smoke")
    p.set_defaults(func=_report)

    from .diagnostics.cli import add_parser as add_diagnose

    add_diagnose(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except ConfigError as error:
        print(f"stanley: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a full disk or a vanished directory mid-run; outputs are atomic, so none is torn
        print(f"stanley: error: could not read or write {error.filename or 'a file'}: {error.strerror or error}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

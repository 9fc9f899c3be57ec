"""``stanley diagnose drift|minorisation|rate|mixing|uniformity|summarise|plot``.

The compute subcommands take one target and one or more samplers (``--sampler a,b``); the
sampler flags form a shared pool from which each sampler takes the options it knows (as
``sampler.options`` in a suite config). Each writes one CSV. ``summarise`` turns the CSVs into
the verdict table and ``plot`` draws a figure from them, so restyling never recomputes.
"""

from __future__ import annotations

import argparse
from typing import Any, Dict, List

from ..cliutil import (
    add_sampler_options,
    parse_floats,
    parse_key_values,
    parse_names,
    positive_int,
    sampler_options_from_args,
)
from ..errors import ConfigError, unknown

PLOTS = ("drift", "rate", "uniformity")


def _setup(args: argparse.Namespace):
    """torch threads, the target, and each sampler's options from the shared pool."""
    import torch

    from ..sampling import samplers, targets

    if getattr(args, "threads", 0):
        torch.set_num_threads(args.threads)
    target = targets.get(args.target, **parse_key_values(args.target_opt))
    names = parse_names(args.sampler)
    if not names:
        raise ConfigError("--sampler needs at least one sampler name, e.g. --sampler langevin,stanley")
    pool = sampler_options_from_args(args)
    for name in names:
        if name not in samplers.NAMES:
            raise unknown("sampler", name, samplers.NAMES)
    unused = [key for key in pool if not any(key in samplers.OPTIONS[n] for n in names)]
    if unused:
        raise ConfigError(f"option(s) {', '.join(unused)} are taken by none of the samplers {', '.join(names)}")
    return target, {name: samplers.options_for(name, pool) for name in names}


def _generator(seed: int, sampler: str):
    """One generator per sampler, so a sampler's numbers do not depend on which others ran."""
    import torch

    from ..sampling import samplers

    return torch.Generator().manual_seed(int(seed) * 1000 + samplers.NAMES.index(sampler))


def _write(table, out: str) -> None:
    from ..plumbing.io import write_csv

    write_csv(out, table)
    print(f"stanley: wrote {out}")


def _concat(frames):
    import pandas as pd

    return pd.concat(frames, ignore_index=True)


def _drift(args: argparse.Namespace) -> None:
    from .drift import drift_table
    from .verdicts import drift_verdict

    target, per_sampler = _setup(args)
    radii = parse_floats(args.radii, "--radii")
    frames = []
    for name, options in per_sampler.items():
        frame = drift_table(target, args.target, name, options, args.beta, radii, args.directions, args.samples,
                            _generator(args.seed, name), rao_blackwell=not args.plain)
        verdict = drift_verdict(frame)
        why = f": {verdict['reason']}" if verdict.get("reason") else ""
        print(f"stanley: {args.target}/{name}: drift inequality {verdict['drift']} on the tested range "
              f"(R={verdict.get('R')}, mu={verdict.get('mu', float('nan')):.4g}, "
              f"mu_upper={verdict.get('mu_upper', float('nan')):.4g}){why}")
        frames.append(frame)
    _write(_concat(frames), args.out)


def _minorisation(args: argparse.Namespace) -> None:
    from .minorisation import minorisation_table

    target, per_sampler = _setup(args)
    radii = parse_floats(args.radii, "--radii")
    _write(_concat([minorisation_table(target, args.target, name, options, radii, args.grid)
                    for name, options in per_sampler.items()]), args.out)


def _rate(args: argparse.Namespace) -> None:
    from .rate import rate_table

    target, per_sampler = _setup(args)
    frames = []
    for name, options in per_sampler.items():
        frame = rate_table(target, args.target, name, options, args.chains, args.steps, args.start_radius,
                           _generator(args.seed, name), distance=args.distance, projections=args.projections,
                           limit_steps=args.limit_steps, grid=args.grid)
        first = frame.iloc[0]
        why = f": {first['rate_reason']}" if first["rate_reason"] else ""
        print(f"stanley: {args.target}/{name}: rho per gradient evaluation {first['rho_per_grad']:.4g} "
              f"[{first['rho_low']:.4g}, {first['rho_high']:.4g}] (distance to the {first['limit']}); "
              f"rate {first['rate']}{why}")
        frames.append(frame)
    _write(_concat(frames), args.out)


def _mixing(args: argparse.Namespace) -> None:
    from .mixing import mixing_table

    target, per_sampler = _setup(args)
    _write(_concat([mixing_table(target, args.target, name, options, args.chains, args.warmup, args.draws,
                                 args.init_scale, _generator(args.seed, name))
                    for name, options in per_sampler.items()]), args.out)


def _uniformity(args: argparse.Namespace) -> None:
    import torch

    from .uniformity import uniformity_table

    if args.threads:
        torch.set_num_threads(args.threads)
    options: Dict[str, Any] = sampler_options_from_args(args)
    radii = parse_floats(args.radii, "--radii")
    frames = [uniformity_table(run, args.beta, radii, args.directions, args.samples,
                               torch.Generator().manual_seed(args.seed), a=args.a, sampler=args.sampler,
                               options=options, grid_size=args.grid, label=args.label or None)
              for run in args.run]
    _write(_concat(frames), args.out)


def _summarise(args: argparse.Namespace) -> None:
    from ..plumbing.io import write_csv
    from .verdicts import uniformity_verdicts, verdict_table

    if not args.drift and not args.uniformity:
        raise ConfigError("summarise needs --drift tables (and optionally --minorisation, --rate, --mixing) "
                          "or --uniformity tables")
    if args.drift:
        table = verdict_table(args.drift, args.minorisation, args.rate, args.mixing)
        write_csv(args.out, table)
        print(f"stanley: wrote {args.out}")
        print(table[["target", "sampler", "drift", "reliable", "R", "mu_upper", "rho", "rate", "ess_bulk_per_1k",
                     "rhat"]]
              .to_string(index=False))
    if args.uniformity:
        out = args.uniformity_out or args.out
        write_csv(out, uniformity_verdicts(args.uniformity))
        print(f"stanley: wrote {out}")


def _plot(args: argparse.Namespace) -> None:
    from . import figures

    print(f"stanley: wrote {figures.make(args.name, args.inputs, args.out)}")


def _target_and_samplers(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", required=True, help="toy target name (gaussian, light, laplace, student, rings, ...)")
    p.add_argument("--target-opt", action="append", default=[], metavar="KEY=VALUE",
                   help="target option, value read as YAML (repeatable)")
    p.add_argument("--sampler", required=True, help="one sampler or several, comma-separated")
    add_sampler_options(p)
    p.add_argument("--threads", type=positive_int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--out", required=True, help="a CSV file")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``diagnose`` on the main CLI's subparsers; each leaf sets ``func``."""
    what = "Theorem 1 drift, small set, rate and mixing diagnostics on toy targets"
    parser = subparsers.add_parser("diagnose", help=what, description=what)
    sub = parser.add_subparsers(dest="diagnostic", required=True)

    p = sub.add_parser("drift", help="log(Pi V / V) on a grid of radii x directions, with standard errors")
    _target_and_samplers(p)
    p.add_argument("--beta", type=float, default=0.5, help="V = c pi^(-beta / T), beta in (0, 1)")
    p.add_argument("--radii", required=True, help="comma-separated radii, e.g. 0,1,2,4,8")
    p.add_argument("--directions", type=int, default=8, help="directions per radius")
    p.add_argument("--samples", type=int, default=1000, help="one-step transitions per point (M)")
    p.add_argument("--plain", action="store_true", help="no Rao-Blackwellisation over the accept step")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_drift)

    p = sub.add_parser("minorisation", help="the small-set constant on balls of the given radii (2-D grids)")
    _target_and_samplers(p)
    p.add_argument("--radii", required=True, help="comma-separated ball radii")
    p.add_argument("--grid", type=int, default=41, help="grid points per axis in the ball")
    p.set_defaults(func=_minorisation)

    p = sub.add_parser("rate", help="distance to the target per step from a far start; fit rho")
    _target_and_samplers(p)
    p.add_argument("--chains", type=int, default=2000)
    p.add_argument("--steps", type=int, default=500, help="gradient evaluations per chain")
    p.add_argument("--start-radius", type=float, required=True, help="the far start, on the diagonal")
    p.add_argument("--distance", default="sw", help="sw (sliced W2, any dim) or tv (histograms, 2-D)")
    p.add_argument("--projections", type=int, default=64, help="sliced W2 projections")
    p.add_argument("--limit-steps", type=int, default=2000,
                   help="gradient evaluations of the long run that approximates a biased limit")
    p.add_argument("--grid", type=int, default=40, help="TV histogram cells per axis")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_rate)

    p = sub.add_parser("mixing", help="bulk/tail ESS and rank-normalised split R-hat per gradient evaluation")
    _target_and_samplers(p)
    p.add_argument("--chains", type=int, default=8)
    p.add_argument("--warmup", type=int, default=1000, help="gradient evaluations discarded")
    p.add_argument("--draws", type=int, default=4000, help="gradient evaluations kept")
    p.add_argument("--init-scale", type=float, default=2.0, help="starts: exact draws times this (over-dispersed)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_mixing)

    p = sub.add_parser("uniformity", help="drift with the theta-free V over a training run's saved energies")
    p.add_argument("--run", action="append", required=True, help="a training run directory (repeatable)")
    p.add_argument("--label", default="", help="name of the run in the table (default: its path)")
    p.add_argument("--sampler", default=None,
                   help="default: the run's own sampler; sampler flags override its options")
    add_sampler_options(p)
    p.add_argument("--beta", type=float, default=0.5)
    p.add_argument("--a", type=float, default=None, help="exponent a of V = V1^a V2^(2a); default 1/(6 beta)")
    p.add_argument("--radii", required=True)
    p.add_argument("--directions", type=int, default=8)
    p.add_argument("--samples", type=int, default=500)
    p.add_argument("--grid", type=int, default=200, help="grid size for log Z_theta")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=positive_int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_uniformity)

    p = sub.add_parser("summarise", help="the verdict table (target x sampler) from the diagnostics CSVs")
    for kind in ("drift", "minorisation", "rate", "mixing", "uniformity"):
        p.add_argument(f"--{kind}", nargs="*", default=[], help=f"{kind} CSVs")
    p.add_argument("--out", required=True)
    p.add_argument("--uniformity-out", default=None, help="uniformity verdicts (default: --out)")
    p.set_defaults(func=_summarise)

    p = sub.add_parser("plot", help="a diagnostics figure from its CSVs")
    p.add_argument("name", choices=PLOTS)
    p.add_argument("--inputs", nargs="+", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=_plot)
    return parser


def main(argv: List[str]) -> int:
    """``stanley`` restricted to ``diagnose`` (for in-process runs); ConfigError propagates."""
    parser = argparse.ArgumentParser(prog="stanley")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    args.func(args)
    return 0

"""The GPU check: everything a first GPU session should measure, in one table, in under 8 minutes.

    bash benchmarks/gpu_check.sh [--budget SECONDS] [--only STEP,STEP]      (README: "The GPU check")

Written before any GPU was available here, to be run the first time one is: the time on it may
be short, so every step runs in its own process under its own time limit (a hang or a crash
costs that step, never the table), and a missing CUDA device or package stops it at once with
one line. Steps:

* ``tests``: the CUDA-only tests (``pytest -m gpu`` on the files that have them);
* ``convnet``: the CIFAR-10 ConvNet step (n_f 64, batch 100, K 50, STANLEY) of the project
  against the straightforward baseline of ``benchmarks/train_step.py``, guarded to be the same
  computation, with achieved TFLOP/s (FLOPs counted analytically) and % of the GPU's peak;
* ``graphs``: the K-step sampling loop captured in one CUDA graph against eager (torch.compile
  is left out: its compile time alone would take a good share of the budget);
* ``tf32``: TF32 on and off, each with the proxy FID of a short Langevin run on ``shapes``;
* ``share``: throughput with 1, 2 and 4 training processes sharing the GPU;
* ``long``: a 1,000-iteration CIFAR-size run (CIFAR-10 when under data/, else random images of its
  shape, labelled) with peak memory, and the projected GPU-hours of the paper's image matrix.

Exit status: 0 every step ran, 1 a step failed or timed out (the table says which), 2 nothing
was measured (no CUDA device, a missing package).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
STEPS = ("tests", "convnet", "graphs", "tf32", "share", "long")
STEP_LIMITS = {"tests": 80, "convnet": 50, "graphs": 45, "tf32": 80, "share": 30, "long": 110}
"""Seconds each step may take at most ("share": per number of jobs). With the start-up checks
they fit in --budget's default; a step that no longer fits in what is left of it is skipped."""
SHARE_JOBS = (1, 2, 4)
PAPER = {"n_f": 64, "batch": 100, "K": 50, "image_size": 32}  # the CIFAR-10 ConvNet step
TF32_RUN = {"iterations": 200, "fid_samples": 1000, "images": 2000}  # the short runs of the TF32 step
REQUIRED = {  # module -> distribution, for everything the steps import (torch aside)
    "numpy": "numpy", "scipy": "scipy", "pandas": "pandas", "yaml": "pyyaml", "tqdm": "tqdm",
    "PIL": "pillow", "requests": "requests", "cleanfid": "clean-fid", "torchvision": "torchvision",
    "pytest": "pytest",
}


class Peak(NamedTuple):
    """Dense (no sparsity) peak TFLOP/s of a GPU from its data sheet; tf32 None: no TF32 units."""

    name: str
    fp32: float
    tf32: Optional[float]


PEAKS = (  # first match wins; names as torch.cuda.get_device_name prints them
    (r"H200 NVL|H100 NVL", None),  # not listed: their per-GPU data-sheet figures differ by form factor
    (r"H100.*PCIe", Peak("H100 PCIe", 51.2, 378.0)),
    (r"GH200|H100|H200", Peak("H100/H200 SXM", 66.9, 494.7)),
    (r"A100", Peak("A100", 19.5, 156.0)),
    (r"L40S", Peak("L40S", 91.6, 183.0)),
    (r"\bL4\b", Peak("L4", 30.3, 60.0)),
    (r"\bA10\b", Peak("A10", 31.2, 62.5)),
    (r"V100.*PCIE", Peak("V100 PCIe", 14.0, None)),
    (r"V100", Peak("V100 SXM2", 15.7, None)),
    (r"\bT4\b", Peak("T4", 8.1, None)),
)


def peak_for(device_name: str) -> Optional[Peak]:
    """The data-sheet peak of a GPU by its name, or None where this table does not know it."""
    for pattern, peak in PEAKS:
        if re.search(pattern, device_name, re.I):
            return peak
    return None


def peak_share(flops_per_s: float, peak: Optional[Peak], tf32: bool) -> Optional[float]:
    """Achieved / peak, against the TF32 peak when TF32 is on and the GPU has it, else FP32."""
    if peak is None:
        return None
    tflops = peak.tf32 if tf32 and peak.tf32 is not None else peak.fp32
    return flops_per_s / (tflops * 1e12)


# --------------------------------------------------------------------------- FLOPs, by hand


class ConvCost(NamedTuple):
    forward: int  # one image through the network, multiply-adds x 2
    first: int  # of which the first layer (its input gradient is not needed in the learning step)


def conv_flops(layers: Iterable[Any], image_size: int) -> ConvCost:
    """FLOPs of one image through a stack of ``nn.Conv2d`` (others skipped): 2 Cin Cout k^2 Hout Wout each.

    Elementwise work (biases, LeakyReLU, the sampler's update) is left out, as FLOP counts of
    networks usually do; it is a few per cent of the convolutions here.
    """
    from torch import nn

    size, total, first = (image_size, image_size), 0, None
    for layer in layers:
        if not isinstance(layer, nn.Conv2d):
            continue
        (kh, kw), (sh, sw), (ph, pw) = layer.kernel_size, layer.stride, layer.padding
        size = ((size[0] + 2 * ph - kh) // sh + 1, (size[1] + 2 * pw - kw) // sw + 1)
        flops = 2 * layer.in_channels * layer.out_channels // layer.groups * kh * kw * size[0] * size[1]
        total += flops
        first = flops if first is None else first
    return ConvCost(total, first or 0)


def model_flops(run: Dict[str, Any]) -> ConvCost:
    """One image through a run's energy network (the multi-scale one sums its scales)."""
    import torch

    from stanley.learning import step

    size = run["data"]["image_size"]
    with torch.device("meta"):  # the layers' shapes without allocating their weights
        net = step.build_model(run, (3, size, size))
    nets = getattr(net, "nets", None) or [net]
    costs = [conv_flops(n.modules(), n.image_size) for n in nets]
    return ConvCost(sum(c.forward for c in costs), sum(c.first for c in costs))


def iteration_flops(cost: ConvCost, batch: int, chains: int, steps: int) -> int:
    """One training iteration (Algorithm 1) in model FLOPs.

    Sampling: ``steps`` gradient evaluations per chain, each a forward and a backward to the
    input (the same FLOPs again). Learning: forward on the data batch and on the chain ends,
    then backward to the weights (the forward's FLOPs again) and to each layer's input but
    the first's (the data and the chain ends need no gradient).
    """
    return 2 * chains * steps * cost.forward + 2 * batch * (3 * cost.forward - cost.first)


def generation_flops(cost: ConvCost, n: int, steps: int) -> int:
    """``n`` short-run samples of ``steps`` gradient evaluations each (FID's samples)."""
    return 2 * n * steps * cost.forward


# --------------------------------------------------------------------------- the projection


def run_cost(run: Dict[str, Any]) -> Dict[str, float]:
    """A run's model FLOPs: its training iterations and the samples of its FID evaluations."""
    t, cost = run["training"], model_flops(run)
    train = t["iterations"] * iteration_flops(cost, t["batch_size"], t["n_chains"], t["mcmc_steps"])
    fids = t["iterations"] // run["fid"]["every"] if run["fid"]["every"] else 0
    generate = fids * generation_flops(cost, run["fid"]["n_samples"], t["mcmc_steps"])
    return {"train": float(train), "fid_samples": float(generate)}


def with_fid_reference(suite: Dict[str, Any]) -> Dict[str, Any]:
    """The suite with a name for its FID statistics (the workflow sets each data set's own; runs
    with FID do not validate without one, and nothing here reads it)."""
    from stanley.experiment import config

    return config.deep_merge(suite, {"defaults": {"fid": {"reference": "gpu-check-unused.npz"}}})


def image_runs(suite: Dict[str, Any]) -> Dict[str, List[Dict[str, Any]]]:
    """The image runs of a suite config: its matrix and its studies, each distinct config once
    (the workflow trains a study run equal to a matrix run only once)."""
    from stanley.experiment import config, studies

    suite = with_fid_reference(suite)
    seen, out = set(), {"matrix": [], "studies": []}
    matrix = [run for _, _, _, run in config.suite_runs(suite)]
    for part, runs in (("matrix", matrix), ("studies", list(studies.runs(suite).values()))):
        for run in runs:
            key = config.config_hash(run)
            if config.data_kind(run["data"]["name"]) == "images" and key not in seen:
                seen.add(key)
                out[part].append(run)
    return out


def projected_hours(runs: Sequence[Dict[str, Any]], seconds_per_flop: float) -> Dict[str, float]:
    """GPU-hours of ``runs`` at a measured rate (seconds per model FLOP), FID's Inception pass aside."""
    costs = [run_cost(run) for run in runs]
    train = sum(c["train"] for c in costs) * seconds_per_flop / 3600
    fid = sum(c["fid_samples"] for c in costs) * seconds_per_flop / 3600
    return {"runs": len(runs), "train_hours": train, "fid_sample_hours": fid, "hours": train + fid}


# --------------------------------------------------------------------------- the table


class Row(NamedTuple):
    step: str
    setting: str
    result: str
    note: str = ""
    status: str = "ok"  # ok | FAIL | TIMEOUT | skipped


def format_table(title: str, rows: Sequence[Row]) -> str:
    """One plain-text table, columns as wide as their widest cell."""
    header = Row("step", "setting", "result", "note", "status")
    cells = [header, *rows]
    widths = [max(len(str(r[i])) for r in cells) for i in range(4)]
    order = (4, 0, 1, 2, 3)  # status first: a failure is the first thing seen
    status_width = max(len(r.status) for r in cells)

    def line(r: Row) -> str:
        parts = [r.status.ljust(status_width)] + [str(r[i]).ljust(widths[i]) for i in order[1:]]
        return "  ".join(parts).rstrip()

    rule = "-" * len(line(Row(*("-" * w for w in widths), status="-" * status_width)))
    return "\n".join([title, rule, line(header), rule, *map(line, rows), rule])


def fmt(value: Optional[float], spec: str, unit: str = "", missing: str = "unknown") -> str:
    return missing if value is None else f"{value:{spec}}{unit}"


# --------------------------------------------------------------------------- preflight


def missing_packages(modules: Dict[str, str] = REQUIRED) -> List[str]:
    """The distributions whose module does not import here."""
    missing = []
    for module, dist in modules.items():
        try:
            importlib.import_module(module)
        except Exception:  # ImportError, or a broken install that fails on import
            missing.append(dist)
    return missing


def preflight() -> Optional[str]:
    """Why nothing can be measured here, in one line; None when the check can run."""
    try:
        import torch
    except Exception as error:
        return f"gpu_check: PyTorch does not import ({error}); install a CUDA build of torch first"
    if not torch.cuda.is_available():
        built = torch.version.cuda or "none (a CPU-only build)"
        return (f"gpu_check: no CUDA device visible to torch {torch.__version__} (CUDA build: {built}); "
                "run this on a GPU machine; nothing was measured")
    missing = missing_packages()
    if missing:
        return (f"gpu_check: missing Python packages: {', '.join(missing)}; bring their wheels in .whl/ "
                f"(README, 'The GPU check') or pip install them")
    return None


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=465.0,
                        help="seconds for the whole check (default 465: under 8 minutes with start-up)")
    parser.add_argument("--only", default=",".join(STEPS), help=f"comma-separated steps (default all: {','.join(STEPS)})")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument("--missing", action="store_true", help="print the missing packages, one a line; exit 1 if any")
    # internal: one step in a child process
    parser.add_argument("--worker", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=8.0, help=argparse.SUPPRESS)
    parser.add_argument("--ready", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--go", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in STEPS]
    if unknown:
        parser.error(f"--only: unknown step(s) {', '.join(unknown)}; choose from {', '.join(STEPS)}")
    if not args.budget > 0:
        parser.error(f"--budget must be a positive number of seconds, got {args.budget:g}")
    args.only = only
    return args


# --------------------------------------------------------------------------- the steps (on the GPU)


def _bench():
    """benchmarks/train_step.py: its baseline, guards and timing helper (one owner for each)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import train_step

    return train_step


def _cuda_context():
    if str(ROOT) not in sys.path:  # the library from this tree, installed or not
        sys.path.insert(0, str(ROOT))
    import torch

    name = torch.cuda.get_device_name(0)
    return torch, torch.device("cuda"), name, peak_for(name)


def step_tests(args) -> List[Row]:
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*.py")
                   if "mark.gpu" in p.read_text())
    command = [sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-rs", "-p", "no:cacheprovider", *files]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])})
    lines = done.stdout.strip().splitlines()
    summary = lines[-1].strip("= ") if lines else "no output"
    skips = [line.split("] ", 1)[-1] for line in lines if line.startswith("SKIPPED")]
    status = "ok" if done.returncode == 0 else "FAIL"
    note = "; ".join(skips) if status == "ok" else (done.stdout + done.stderr)[-300:].replace("\n", " | ")
    return [Row("CUDA-only tests", "pytest -m gpu " + " ".join(files), summary, note, status)]


def _median_ms(fn, reps: int, sync) -> float:
    import statistics

    times = []
    for _ in range(reps):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def step_convnet(args) -> List[Row]:
    torch, device, name, peak = _cuda_context()
    bench = _bench()
    tmp = Path(tempfile.mkdtemp(prefix="stanley-gpu-"))
    n_f, batch, steps = PAPER["n_f"], PAPER["batch"], PAPER["K"]
    trainer = bench.image_trainer("stanley", tmp / "convnet", "cuda", n_f, batch, steps)
    theirs = bench.ShortRunConvNet(n_f).to(device).load_from(trainer.learner.net)
    bench.check_same_function(trainer.learner.net, theirs, torch.rand(8, 3, 32, 32, device=device) * 2 - 1, (3, 32, 32), "ConvNet")
    baseline = bench.baseline_for(trainer, "stanley", bench.CIFAR, theirs, (3, 32, 32))
    guards = bench.check_same_results(trainer, baseline, 2, "convnet stanley", atol=1e-3)
    times = bench.interleaved({"project": trainer.step, "baseline": baseline.step}, 7, {"project": 2, "baseline": 2},
                              {"project": 1, "baseline": 1}, device)
    flops = iteration_flops(conv_flops(trainer.learner.net.modules(), 32), batch, batch, steps)
    tf32 = torch.backends.cudnn.allow_tf32
    rows = []
    for variant in ("project", "baseline"):
        seconds = times[variant]["wall"]
        share = peak_share(flops / seconds, peak, tf32)
        rows.append(Row(f"ConvNet step, {variant}", f"n_f {n_f}, B {batch}, K {steps}, stanley, cuDNN TF32 {'on' if tf32 else 'off'}",
                        f"{1e3 * seconds:.1f} ms/it, {flops / seconds / 1e12:.1f} TFLOP/s, {fmt(share and 100 * share, '.1f', '% of peak')}",
                        f"{flops / 1e12:.3f} TFLOP/it (model FLOPs, by hand)"))
    ratio = times["baseline"]["wall"] / times["project"]["wall"]
    rows.append(Row("ConvNet step, ratio", "baseline time / project time", f"{ratio:.2f}x",
                    f"guards: loss diff {guards['loss_max_abs_diff']:.1e}, weights {guards['weight_max_abs_diff']:.1e}"))
    return rows


def step_graphs(args) -> List[Row]:
    """The K-step loop captured once as a CUDA graph and replayed, against the eager loop.

    Captured on torch's default CUDA generator (graph-safe); a noise-free kernel (gd) checks
    that the replay computes what the eager loop does.
    """
    torch, device, name, peak = _cuda_context()
    bench = _bench()
    from stanley.sampling import samplers

    tmp = Path(tempfile.mkdtemp(prefix="stanley-gpu-"))
    n_f, batch, steps = PAPER["n_f"], PAPER["batch"], PAPER["K"]
    trainer = bench.image_trainer("stanley", tmp / "graphs", "cuda", n_f, batch, steps)
    net = trainer.learner.net
    z0 = torch.rand(batch, 3, 32, 32, device=device) * 2 - 1

    def graphed(kernel):
        loop = lambda: samplers.sample(kernel, z0, steps, None)[0].z  # noqa: E731
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # warm-up off the capture stream, as CUDA graphs need
            for _ in range(3):
                loop()
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            out = loop()
        return loop, graph, out

    gd = samplers.get("gd", net, step_size=bench.CIFAR["step_size"])
    eager_gd, graph_gd, out_gd = graphed(gd)
    graph_gd.replay()
    torch.cuda.synchronize()
    diff = (out_gd - eager_gd()).abs().max().item()
    same = diff <= 1e-3
    eager, graph, out = graphed(trainer.learner.kernel)
    sync = torch.cuda.synchronize
    eager_ms = _median_ms(eager, 7, sync)
    graph_ms = _median_ms(graph.replay, 7, sync)
    finite = bool(torch.isfinite(out).all())
    flops = generation_flops(conv_flops(net.modules(), 32), batch, steps)
    setting = f"K = {steps} steps of stanley, {batch} chains, n_f {n_f}"
    return [Row("K-step loop, eager", setting, f"{eager_ms:.1f} ms, {flops / eager_ms / 1e9:.1f} TFLOP/s"),
            Row("K-step loop, CUDA graph", setting, f"{graph_ms:.1f} ms, {flops / graph_ms / 1e9:.1f} TFLOP/s",
                f"{eager_ms / graph_ms:.2f}x eager; replay vs eager on gd (no noise): max diff {diff:.1e}"
                f"{'' if same else ' (over 1e-3!)'}; finite samples: {finite}", "ok" if finite and same else "FAIL")]


def _short_run(device: str, iterations: int, sampler: str, fid_every: int, n_samples: int,
               reference: Optional[Path]) -> Dict[str, Any]:
    from stanley.experiment import config

    return config.complete_run({
        "device": device, "seed": 0,
        "data": {"name": "shapes", "image_size": 32, "noise": 0.03, "limit": TF32_RUN["images"]},
        "model": {"name": "convnet", "options": {"n_f": PAPER["n_f"], "slope": 0.05}},
        "sampler": {"name": sampler, "options": {"step_size": 2.0, "noise_scale": 0.0070710678}},
        "training": {"iterations": iterations, "batch_size": PAPER["batch"], "n_chains": PAPER["batch"],
                     "mcmc_steps": PAPER["K"], "init": "uniform", "init_scale": 1.0, "lr": 1e-4,
                     "log_every": 50, "checkpoint_every": iterations},
        "evaluation": {"every": iterations},
        "fid": {"every": fid_every, "n_samples": n_samples, "batch_size": 250, "proxy": True,
                "reference": str(reference) if reference else None},
    })


def step_tf32(args) -> List[Row]:
    """The same short Langevin run (same seed) with TF32 on and off: speed and proxy FID.

    Langevin, not STANLEY: under the paper's text reading STANLEY's image chains barely move
    from their noise start (README), which would make both FIDs those of noise.
    """
    torch, device, name, peak = _cuda_context()
    import pandas as pd

    from stanley.images import fid
    from stanley.learning import training

    tmp = Path(tempfile.mkdtemp(prefix="stanley-gpu-"))
    iterations, n_samples, images = TF32_RUN["iterations"], TF32_RUN["fid_samples"], TF32_RUN["images"]
    reference = fid.reference_stats("shapes", fid.feature_extractor(proxy=True, device="cuda"), tmp / "ref.npz",
                                    image_size=32, limit=images, seed=0)
    rows = []
    for tf32 in (True, False):
        torch.backends.cudnn.allow_tf32 = tf32
        torch.backends.cuda.matmul.allow_tf32 = tf32
        out = tmp / f"tf32_{tf32}"
        start = time.perf_counter()
        trainer = training.Trainer(_short_run("cuda", iterations, "langevin", iterations, n_samples, reference), out,
                                   progress=False)
        trainer.train()
        wall, elapsed = time.perf_counter() - start, trainer.elapsed
        final = pd.read_csv(out / "fid.csv").iloc[-1]
        rows.append(Row(f"TF32 {'on' if tf32 else 'off'}",
                        f"shapes 32x32, langevin, n_f {PAPER['n_f']}, B {PAPER['batch']}, K {PAPER['K']}, "
                        f"{iterations} it, seed 0",
                        f"{1e3 * elapsed / iterations:.1f} ms/it, FID (proxy) {final['fid']:.2f}",
                        f"{final['n_samples']} samples vs {images:,} training images; {wall:.0f} s in all"))
    return rows


def _share_worker(args) -> None:
    """One of N jobs: build, warm up, say ready, wait for go, then count iterations for --seconds."""
    torch, device, name, peak = _cuda_context()
    bench = _bench()
    tmp = Path(tempfile.mkdtemp(prefix="stanley-gpu-"))
    trainer = bench.image_trainer("stanley", tmp / "share", "cuda", PAPER["n_f"], PAPER["batch"], PAPER["K"])
    for _ in range(2):
        trainer.step()
    torch.cuda.synchronize()
    args.ready.write_text("ready")
    deadline = time.monotonic() + 60
    while not args.go.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    start, count = time.perf_counter(), 0
    while time.perf_counter() - start < args.seconds:
        trainer.step()
        torch.cuda.synchronize()
        count += 1
    args.out.write_text(json.dumps({"iterations": count, "seconds": time.perf_counter() - start}))


def step_share(args, budget_left) -> List[Row]:
    rows, single = [], None
    for jobs in SHARE_JOBS:
        limit = min(STEP_LIMITS["share"], budget_left())
        if limit < 20:
            rows.append(Row(f"{jobs} job(s) sharing the GPU", "", "not run", "out of time", "skipped"))
            continue
        tmp = Path(tempfile.mkdtemp(prefix="stanley-share-"))
        go = tmp / "go"
        procs = []
        for k in range(jobs):
            command = [sys.executable, str(HERE), "--worker", "share", "--out", str(tmp / f"{k}.json"),
                       "--ready", str(tmp / f"{k}.ready"), "--go", str(go), "--seconds", str(args.seconds)]
            with open(tmp / f"{k}.log", "w") as log:  # a file, not a pipe: a chatty worker cannot block on it
                procs.append(subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                              start_new_session=True))
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and not all((tmp / f"{k}.ready").exists() for k in range(jobs)):
            if any(p.poll() not in (None, 0) for p in procs):
                break
            time.sleep(0.05)
        go.write_text("go")
        for p in procs:
            try:
                p.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _kill(p)
        results = [json.loads((tmp / f"{k}.json").read_text()) for k in range(jobs) if (tmp / f"{k}.json").exists()]
        setting = (f"{jobs} process(es), each ConvNet n_f {PAPER['n_f']}, B {PAPER['batch']}, K {PAPER['K']}, "
                   f"stanley, {args.seconds:g} s")
        if len(results) != jobs:
            tail = next(((tmp / f"{k}.log").read_text()[-300:] for k, p in enumerate(procs) if p.returncode),
                        "").replace("\n", " | ")
            rows.append(Row(f"{jobs} job(s) sharing the GPU", setting, f"{len(results)} of {jobs} finished", tail, "FAIL"))
            continue
        rates = [r["iterations"] / r["seconds"] for r in results]
        total = sum(rates)
        single = total if jobs == 1 else single
        gain = f"{total / single:.2f}x one job" if single else ""
        rows.append(Row(f"{jobs} job(s) sharing the GPU", setting, f"{total:.1f} it/s in all",
                        f"per job {min(rates):.1f}-{max(rates):.1f} it/s; {gain}".rstrip("; ")))
    return rows


def step_long(args) -> List[Row]:
    """1,000 iterations of the paper's CIFAR-10 run config (its data when present), then the projection."""
    torch, device, name, peak = _cuda_context()
    from stanley.experiment import config
    from stanley.images import data
    from stanley.learning import training
    from stanley.errors import ConfigError

    suite = config.load_yaml(ROOT / "workflow/config/config.yaml")
    run = config.resolve_run(with_fid_reference(suite), "cifar10", "stanley", 0)
    iterations = 1000
    run = config.deep_merge(run, {"device": "cuda", "fid": {"every": 0},
                                  "training": {"iterations": iterations, "log_every": 100, "checkpoint_every": iterations},
                                  "evaluation": {"every": iterations}})
    try:
        data.check("cifar10", run["data"]["root"])
        what = f"CIFAR-10 from {run['data']['root']}/"
        random_images = False
    except ConfigError:
        run = config.deep_merge(run, {"data": {"name": "shapes", "limit": 64}})
        what = "random uint8 images of CIFAR-10's shape (50,000 x 3 x 32 x 32): CIFAR-10 is not under data/"
        random_images = True
    run = config.validate_run(run)
    out = Path(tempfile.mkdtemp(prefix="stanley-gpu-")) / "long"
    trainer = training.Trainer(run, out, progress=False)
    if random_images:  # the data set's place taken by random images of its shape, on the device
        trainer.data.images = torch.randint(0, 256, (50_000, 3, 32, 32), dtype=torch.uint8, device=device)
    torch.cuda.reset_peak_memory_stats()
    trainer.train()
    elapsed = trainer.elapsed
    peak_memory = torch.cuda.max_memory_allocated() / 2**30
    t = run["training"]
    flops = iteration_flops(model_flops(run), t["batch_size"], t["n_chains"], t["mcmc_steps"])
    seconds_per_flop = elapsed / (iterations * flops)
    share = peak_share(flops * iterations / elapsed, peak, torch.backends.cudnn.allow_tf32)
    rows = [Row("1,000-iteration run", f"paper CIFAR-10 config, stanley, seed 0; {what}",
                f"{elapsed:.1f} s ({1e3 * elapsed / iterations:.1f} ms/it), peak memory {peak_memory:.2f} GiB",
                f"{flops * iterations / elapsed / 1e12:.1f} TFLOP/s, {fmt(share and 100 * share, '.1f', '% of peak')}; "
                f"status {trainer.status}", "ok" if trainer.status == "completed" else "FAIL")]
    runs = image_runs(suite)
    for part, label in (("matrix", "the paper's image matrix"), ("studies", "the studies beyond the paper")):
        p = projected_hours(runs[part], seconds_per_flop)
        rows.append(Row(f"projected: {label}", f"{p['runs']} runs of workflow/config/config.yaml, one job at a time",
                        f"{p['hours']:.0f} GPU-hours",
                        f"training {p['train_hours']:.0f} h + FID samples {p['fid_sample_hours']:.0f} h "
                        "(Inception features not included), scaled by model FLOPs from the run above"))
    return rows


WORKERS = {"tests": step_tests, "convnet": step_convnet, "graphs": step_graphs, "tf32": step_tf32, "long": step_long}


# --------------------------------------------------------------------------- the orchestrator


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def run_step(step: str, limit: float) -> List[Row]:
    """One step in a child process under ``limit`` seconds; its rows, or one row saying why not."""
    with tempfile.TemporaryDirectory(prefix="stanley-gpu-check-") as tmp:
        out = Path(tmp) / "rows.json"
        process = subprocess.Popen([sys.executable, str(HERE), "--worker", step, "--out", str(out)], cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            log, _ = process.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            _kill(process)
            return [Row(step, "", "not finished", f"stopped after {limit:.0f} s", "TIMEOUT")]
        if process.returncode == 0 and out.exists():
            return [Row(*row) for row in json.loads(out.read_text())]
        tail = (log or "").strip().splitlines()
        return [Row(step, "", f"exit status {process.returncode}", tail[-1][-300:] if tail else "no output", "FAIL")]


def worker(args) -> int:
    if args.worker == "share":
        _share_worker(args)
        return 0
    rows = WORKERS[args.worker](args)
    args.out.write_text(json.dumps([list(r) for r in rows]))
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    if args.missing:
        missing = missing_packages()
        print("\n".join(missing))
        return 1 if missing else 0
    started = time.monotonic()
    problem = preflight()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    import torch

    name = torch.cuda.get_device_name(0)
    peak = peak_for(name)
    budget_left = lambda: args.budget - (time.monotonic() - started)  # noqa: E731
    rows: List[Row] = []
    for step in args.only:
        print(f"gpu_check: {step} ...", file=sys.stderr, flush=True)
        if step == "share":
            rows += step_share(args, budget_left)
            continue
        limit = min(STEP_LIMITS[step], budget_left())
        if limit < 15:
            rows.append(Row(step, "", "not run", f"out of time ({budget_left():.0f} s of --budget left)", "skipped"))
            continue
        rows += run_step(step, limit)
    peaks = (f"peak FP32 {peak.fp32:g}, TF32 {fmt(peak.tf32, 'g', missing='none')} TFLOP/s dense ({peak.name} data sheet)"
             if peak else "peak unknown (the name is not in gpu_check.PEAKS)")
    title = (f"GPU check: {name}, torch {torch.__version__}, CUDA {torch.version.cuda}; {peaks}; "
             f"{time.monotonic() - started:.0f} s")
    print(format_table(title, rows))
    if args.json:
        args.json.write_text(json.dumps([r._asdict() for r in rows], indent=2))
    return 0 if all(r.status == "ok" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())

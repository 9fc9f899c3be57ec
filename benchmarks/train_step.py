"""Time per training iteration (Algorithm 1): the project's step against a straightforward baseline.

    .venv/bin/python benchmarks/train_step.py [--reps 7] [--quick] [--json FILE]

One run, one table. Every time is the median over ``--reps`` repetitions, the project and the
baseline interleaved repetition by repetition (so a neighbour's load hits both alike), wall
clock and CPU time of this process (CPU time is what the process itself spent, blind to time
waiting for a shared core). The baseline is written the way the reference codes are:

* rings toy (paper setting: K = 100, batch 100, widths 2-32-64-64-64-1): ebm-anatomy's
  ToyNet as five 1x1 ``Conv2d`` layers on [B, 2, 1, 1] tensors, ``torch.autograd.grad`` every
  step, a Python loop, Adam on ``f(z).mean() - f(x).mean()``; same generators, same update
  rule as the project's kernel (STANLEY and Langevin, docs/maths.md, The samplers);
* CIFAR-10 ConvNet (n_f = 64, batch 100, K = 50, 32 x 32) on a GPU; on a CPU at reduced
  size (the table says which), the short-run code's loop around the same network.

Before any timing, guards check that the baseline network is the same function as the
project's (weights copied across) and that both steps give the same samples, losses and
updated weights from the same generator states. Then: each row's FLOPs per iteration
(counted by ``torch.utils.flop_counter``), the achieved FLOP/s against this machine's
matrix-multiply peak (measured here), the share of a paper-schedule run's wall time that
FID evaluation would take, and the cost of the tqdm progress bar.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stanley.experiment import config  # noqa: E402
from stanley.sampling import samplers
from stanley.learning import training
from stanley.learning.models import ConvNet, ToyNet  # noqa: E402

DEFAULT_THREADS = torch.get_num_threads()

# the paper's toy dynamics in our form (docs/maths.md, The samplers): s = 2, eps = 0.01 / sqrt(2), th = 0.01
TOY = {"step_size": 2.0, "noise_scale": 0.01 / math.sqrt(2), "threshold": 0.01}
# CIFAR-10 (section 4): the short-run update x += grad f + 0.01 N(0, I), th = 2e-4
CIFAR = {"step_size": 2.0, "noise_scale": 0.01 / math.sqrt(2), "threshold": 2e-4}


# --------------------------------------------------------------------------- timing helpers


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def interleaved(variants: Dict[str, Callable[[], None]], reps: int, inner: Dict[str, int],
                threads: Dict[str, int], device: torch.device) -> Dict[str, Dict[str, float]]:
    """Median wall and CPU seconds per call of each variant, the variants taking turns."""
    wall: Dict[str, List[float]] = {name: [] for name in variants}
    cpu: Dict[str, List[float]] = {name: [] for name in variants}
    for name, fn in variants.items():  # warm-up (allocator, oneDNN primitives, caches)
        torch.set_num_threads(threads[name])
        fn()
        sync(device)
    for _ in range(reps):
        for name, fn in variants.items():
            torch.set_num_threads(threads[name])
            n = inner[name]
            sync(device)
            w, c = time.perf_counter(), time.process_time()
            for _ in range(n):
                fn()
            sync(device)
            wall[name].append((time.perf_counter() - w) / n)
            cpu[name].append((time.process_time() - c) / n)
    torch.set_num_threads(DEFAULT_THREADS)
    return {name: {"wall": statistics.median(wall[name]), "cpu": statistics.median(cpu[name]),
                   "wall_min": min(wall[name])} for name in variants}


class _Flops(TorchDispatchMode):
    """``torch.utils.flop_counter``'s per-op formulas (matmul, conv, their backwards), summed.

    (FlopCounterMode itself tracks modules with hooks that ``autograd.grad`` on a leaf rejects.)
    """

    def __init__(self):
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.total += formula(*args, **kwargs, out_val=out)
        return out


def count_flops(fn: Callable[[], None]) -> int:
    with _Flops() as counter:
        fn()
    return counter.total


def matmul_peak(device: torch.device, threads: int, dtype=torch.float32, reps: int = 5,
                clock: Callable[[], float] = time.perf_counter) -> float:
    """Best median FLOP/s of square fp32 matrix products on this machine (this many threads),
    by wall clock, or with ``clock=time.process_time`` by this process's CPU time (blind to
    time spent waiting for a shared core: the one to hold CPU times against)."""
    torch.set_num_threads(threads)
    sizes = (256, 512, 1024) if device.type == "cpu" else (4096, 8192)
    best = 0.0
    for n in sizes:
        a = torch.randn(n, n, device=device, dtype=dtype)
        b = torch.randn(n, n, device=device, dtype=dtype)
        a @ b
        calls = max(1, int(2e9 // (2 * n**3))) if device.type == "cpu" else 20
        times = []
        for _ in range(reps):
            sync(device)
            t = clock()
            for _ in range(calls):
                a @ b
            sync(device)
            times.append((clock() - t) / calls)
        best = max(best, 2 * n**3 / statistics.median(times))
    torch.set_num_threads(DEFAULT_THREADS)
    return best


# --------------------------------------------------------------------------- the baselines


class ConvToyNet(nn.Module):
    """ebm-anatomy's ToyNet: five 1x1 convolutions 2-32-64-64-64-1, LeakyReLU(0.05)."""

    def __init__(self, dim: int = 2, n_f: int = 32, leak: float = 0.05):
        super().__init__()
        self.f = nn.Sequential(
            nn.Conv2d(dim, n_f, 1, 1, 0), nn.LeakyReLU(leak),
            nn.Conv2d(n_f, 2 * n_f, 1, 1, 0), nn.LeakyReLU(leak),
            nn.Conv2d(2 * n_f, 2 * n_f, 1, 1, 0), nn.LeakyReLU(leak),
            nn.Conv2d(2 * n_f, 2 * n_f, 1, 1, 0), nn.LeakyReLU(leak),
            nn.Conv2d(2 * n_f, 1, 1, 1, 0))

    def forward(self, x):
        return self.f(x).squeeze()

    @torch.no_grad()
    def load_from(self, toy: ToyNet) -> "ConvToyNet":
        convs = [m for m in self.f if isinstance(m, nn.Conv2d)]
        linears = [m for m in toy.net if isinstance(m, nn.Linear)]
        for conv, linear in zip(convs, linears, strict=True):
            conv.weight.copy_(linear.weight.view_as(conv.weight))
            conv.bias.copy_(linear.bias)
        return self


class ShortRunConvNet(nn.Module):
    """The short-run / ebm-anatomy image EBM as their code writes it (32 x 32, LeakyReLU 0.2)."""

    def __init__(self, n_f: int = 64, leak: float = 0.2):
        super().__init__()
        self.f = nn.Sequential(
            nn.Conv2d(3, n_f, 3, 1, 1), nn.LeakyReLU(leak),
            nn.Conv2d(n_f, n_f * 2, 4, 2, 1), nn.LeakyReLU(leak),
            nn.Conv2d(n_f * 2, n_f * 4, 4, 2, 1), nn.LeakyReLU(leak),
            nn.Conv2d(n_f * 4, n_f * 8, 4, 2, 1), nn.LeakyReLU(leak),
            nn.Conv2d(n_f * 8, 1, 4, 1, 0))

    def forward(self, x):
        return self.f(x).squeeze()

    @torch.no_grad()
    def load_from(self, net: ConvNet) -> "ShortRunConvNet":
        ours = [m for m in net.net if isinstance(m, nn.Conv2d)]
        theirs = [m for m in self.f if isinstance(m, nn.Conv2d)]
        for a, b in zip(theirs, ours, strict=True):
            a.weight.copy_(b.weight)
            a.bias.copy_(b.bias)
        return self


class Baseline:
    """The reference codes' training iteration: sample with autograd.grad in a loop, then Adam.

    ``sampler`` is ``"stanley"`` (coordinate-wise gamma, sqrt(gamma) noise: the paper's text)
    or ``"langevin"``. Random draws in the project's order, from the same kind of generators.
    """

    def __init__(self, f: nn.Module, sampler: str, options: dict, batch: Callable[[int, torch.Generator], torch.Tensor],
                 init: Callable[[int, torch.Generator], torch.Tensor], n: int, steps: int, data_noise: float,
                 shape: tuple, data_generator: torch.Generator, chain_generator: torch.Generator, lr: float):
        self.f, self.sampler, self.n, self.steps, self.shape = f, sampler, n, steps, shape
        self.s, self.eps, self.th = options["step_size"], options["noise_scale"], options.get("threshold")
        self.batch, self.init, self.data_noise = batch, init, data_noise
        self.data_generator, self.chain_generator = data_generator, chain_generator
        self.optimizer = torch.optim.Adam(f.parameters(), lr=lr, betas=(0.9, 0.999))

    def sample(self, z: torch.Tensor) -> torch.Tensor:
        s, eps, th, g = self.s, self.eps, self.th, self.chain_generator
        x_k = z.clone().view(self.n, *self.shape).requires_grad_(True)
        for _ in range(self.steps):
            f_prime = torch.autograd.grad(self.f(x_k).sum(), [x_k])[0]
            noise = torch.randn(x_k.shape, generator=g, device=x_k.device)
            if self.sampler == "stanley":
                gamma = th / torch.clamp(f_prime.abs(), min=th)
                x_k.data += s / 2 * gamma * f_prime + math.sqrt(s) * eps * torch.sqrt(gamma) * noise
            else:
                x_k.data += s / 2 * f_prime + math.sqrt(s) * eps * noise
        return x_k.detach()

    def step(self) -> Dict[str, torch.Tensor]:
        x = self.batch(self.n, self.data_generator).to(self.chain_generator.device).view(self.n, *self.shape)
        if self.data_noise > 0:
            x = x + self.data_noise * torch.randn(x.shape, generator=self.chain_generator, device=x.device)
        z = self.sample(self.init(self.n, self.chain_generator))
        f_data, f_model = self.f(x).mean(), self.f(z).mean()
        loss = f_model - f_data
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.detach(), "z": z}


# --------------------------------------------------------------------------- the two cases


def toy_trainer(sampler: str, out: Path, seed: int = 0, evaluation: Optional[dict] = None) -> training.Trainer:
    options = {k: v for k, v in TOY.items() if k in samplers.OPTIONS[sampler]}
    run = config.complete_run({
        "device": "cpu", "seed": seed,
        "sampler": {"name": sampler, "options": options},
        "training": {"iterations": 10_000, "batch_size": 100, "n_chains": 100, "mcmc_steps": 100,
                     "init": "gaussian", "init_scale": 2.0, "optimizer": "adam", "lr": 1e-4},
        "evaluation": {"grid_size": 16, "n_samples": 100, **(evaluation or {}),
                       **({} if "noise_scale" in options else {"temperature": TOY["noise_scale"] ** 2})},
    })
    return training.Trainer(run, out, progress=False)


def image_trainer(sampler: str, out: Path, device: str, n_f: int, batch: int, steps: int) -> training.Trainer:
    options = {k: v for k, v in CIFAR.items() if k in samplers.OPTIONS[sampler]}
    run = config.complete_run({
        "device": device, "seed": 0,
        "data": {"name": "shapes", "image_size": 32, "limit": 512, "noise": 0.03},
        "model": {"name": "convnet", "options": {"n_f": n_f}},
        "sampler": {"name": sampler, "options": options},
        "training": {"iterations": 100_000, "batch_size": batch, "n_chains": batch, "mcmc_steps": steps,
                     "init": "uniform", "init_scale": 1.0, "optimizer": "adam", "lr": 1e-4},
        "evaluation": {"temperature": 1.0},
    })
    return training.Trainer(run, out, progress=False)


def baseline_for(trainer: training.Trainer, sampler: str, options: dict, f: nn.Module, shape: tuple) -> Baseline:
    """A baseline on ``f`` whose generators start where the trainer's are now."""
    run = trainer.run
    data_generator = torch.Generator().set_state(trainer.learner.data_generator.get_state())
    chain_generator = torch.Generator(trainer.device).set_state(trainer.learner.chain_generator.get_state())
    chains = trainer.learner.chains
    return Baseline(f, sampler, options, trainer.data.batch, lambda n, g: chains.noise(n, g), run["training"]["n_chains"],
                    run["training"]["mcmc_steps"], run["data"]["noise"], shape, data_generator, chain_generator,
                    run["training"]["lr"])


def check_same_function(ours: nn.Module, theirs: nn.Module, x: torch.Tensor, their_shape: tuple, what: str) -> float:
    with torch.no_grad():
        diff = (ours(x) - theirs(x.view(len(x), *their_shape))).abs().max().item()
    scale = max(1.0, ours(x).abs().max().item())
    if not diff <= 1e-5 * scale:
        raise SystemExit(f"GUARD FAILED: the baseline {what} is not the project's network (max |diff| {diff:.3g})")
    return diff


def check_same_results(trainer: training.Trainer, baseline: Baseline, iterations: int, what: str,
                       atol: float) -> Dict[str, float]:
    """Run both steps from the same state; compare losses and the updated weights.

    Losses must agree to ``atol``; weights to ``atol`` plus 2 lr per iteration: Adam's first
    steps move each weight by about lr * sign(gradient), so a gradient that is zero up to
    rounding may step either way in the two codes.
    """
    ours_losses, theirs_losses = [], []
    for _ in range(iterations):
        ours_losses.append(trainer.step()["loss"].item())
        theirs_losses.append(baseline.step()["loss"].item())
    loss_diff = max(abs(a - b) for a, b in zip(ours_losses, theirs_losses))
    ours_p = torch.cat([p.detach().flatten().cpu() for p in trainer.learner.net.parameters()])
    theirs_p = torch.cat([p.detach().flatten().cpu() for p in baseline.f.parameters()])
    weight_diff = (ours_p - theirs_p).abs().max().item()
    if not (loss_diff <= atol and weight_diff <= atol + 2 * trainer.run["training"]["lr"] * iterations):
        raise SystemExit(f"GUARD FAILED: {what}: project and baseline differ after {iterations} iterations "
                         f"(loss {loss_diff:.3g}, weights {weight_diff:.3g})")
    return {"loss_max_abs_diff": loss_diff, "weight_max_abs_diff": weight_diff}


def check_same_samples(trainer: training.Trainer, baseline: Baseline, z0: torch.Tensor, atol: float) -> float:
    g1 = torch.Generator(trainer.device).manual_seed(123)
    g2 = torch.Generator(trainer.device).manual_seed(123)
    ours, _ = samplers.sample(trainer.learner.kernel, z0, trainer.run["training"]["mcmc_steps"], g1)
    baseline.chain_generator, saved = g2, baseline.chain_generator
    theirs = baseline.sample(z0)
    baseline.chain_generator = saved
    diff = (ours.z - theirs.view_as(ours.z)).abs().max().item()
    if not diff <= atol:
        raise SystemExit(f"GUARD FAILED: the project's samples and the baseline's differ by {diff:.3g}")
    return diff


# --------------------------------------------------------------------------- FID share and progress bar


def inception_seconds_per_image(device: torch.device, n: int = 4) -> Optional[Dict[str, float]]:
    """Inception-v3 features at 299 x 299 (random weights: the cost, not the numbers) and clean-fid's resize."""
    try:
        from torchvision.models import inception_v3
    except ImportError:
        return None
    net = inception_v3(weights=None, aux_logits=False, init_weights=False).eval().to(device)
    net.fc = nn.Identity()
    x = torch.rand(n, 3, 299, 299, device=device)
    with torch.no_grad():
        net(x)
        sync(device)
        times = []
        for _ in range(3):
            t = time.perf_counter()
            net(x)
            sync(device)
            times.append((time.perf_counter() - t) / n)
    flops = count_flops(lambda: net(x[:1]))
    resize = float("nan")
    try:
        import numpy as np
        from cleanfid.resize import build_resizer

        fn = build_resizer("clean")
        image = (np.random.default_rng(0).random((32, 32, 3)) * 255).astype(np.uint8)
        fn(image)
        t = time.perf_counter()
        for _ in range(20):
            fn(image)
        resize = (time.perf_counter() - t) / 20
    except Exception:  # clean-fid missing: resize cost unknown, left out
        pass
    return {"features": statistics.median(times), "resize": resize, "flops": flops}


def tqdm_cost(iteration_seconds: float) -> Dict[str, float]:
    """Per-iteration cost of ``bar.update()`` with training.py's settings, against an iteration."""
    from tqdm import tqdm

    n = 20_000
    with open(os.devnull, "w") as devnull:
        bar = tqdm(total=n, mininterval=2.0, unit="it", file=devnull, desc="bench")
        t = time.perf_counter()
        for _ in range(n):
            bar.update()
        seconds = (time.perf_counter() - t) / n
        bar.close()
    return {"seconds": seconds, "share": seconds / iteration_seconds}


# --------------------------------------------------------------------------- batched runs and the floor

WIDTHS = (2, 32, 64, 64, 64, 1)  # the paper's toy net


def toy_iteration_flops(chains: int = 100, steps: int = 100, batch: int = 100, widths=WIDTHS) -> int:
    """FLOPs of one toy iteration, counted by hand (2 per multiply-add; pointwise ops left out).

    A gradient evaluation is the forward pass (every layer's product) and the input gradient
    (every layer's product but the last, which is a broadcast of its weight row); the learning
    step is a forward pass on data and chain ends and a backward pass of about twice its cost.
    """
    layers = list(zip(widths[:-1], widths[1:]))
    forward = 2 * sum(a * b for a, b in layers)
    input_gradient = 2 * sum(a * b for a, b in layers[:-1])
    return chains * steps * (forward + input_gradient) + 3 * forward * 2 * batch


def toy_batch(sampler: str, runs: int, out: Path):
    """A group of ``runs`` toy runs (seeds 0..runs-1) at the paper's setting, sampled together."""
    from stanley.learning.batched import Group

    return Group([toy_trainer(sampler, out / f"seed{seed}", seed=seed) for seed in range(runs)])


def check_batch_equals_solo(sampler: str, runs: int, tmp: Path, iterations: int = 2) -> float:
    """The batched iteration gives each run its solo run's values (losses, weights)."""
    group = toy_batch(sampler, runs, tmp / f"guard-batch-{sampler}")
    solos = [toy_trainer(sampler, tmp / f"guard-solo-{sampler}-{seed}", seed=seed) for seed in range(runs)]
    worst = 0.0
    for _ in range(iterations):
        for (trainer, values), solo in zip(group.iterate(), solos):
            worst = max(worst, abs(values["loss"].item() - solo.step()["loss"].item()))
    for trainer, solo in zip(group.trainers, solos):
        for a, b in zip(trainer.learner.net.parameters(), solo.learner.net.parameters()):
            worst = max(worst, (a - b).abs().max().item())
    if not worst <= 1e-5:
        raise SystemExit(f"GUARD FAILED: batched {sampler} runs differ from their solo runs by {worst:.3g}")
    return worst


def paper_toy_plan():
    """The paper's toy experiment as the workflow runs it (``--config only=[rings]``): its plan."""
    import warnings

    from stanley.plan import Plan

    suite = config.restricted(config.load_yaml(ROOT / "workflow" / "config" / "config.yaml"), ["rings"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Plan.from_suite(suite, "results")


def evaluation_seconds(sampler: str, out: Path, evaluation: dict) -> float:
    """One toy evaluation with the paper config's settings (density grid, samples of K steps): CPU seconds."""
    torch.set_num_threads(1)  # as the workflow's toy jobs run
    keys = ("grid_size", "n_samples", "projections")
    trainer = toy_trainer(sampler, out, evaluation={key: evaluation[key] for key in keys})
    trainer.observe(frozenset({"eval", "snapshot"}))  # the first call pays for allocations and kernel set-up, once per process
    clock = time.process_time()
    trainer.observe(frozenset({"eval", "snapshot"}))
    return time.process_time() - clock


# --------------------------------------------------------------------------- main


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7, help="repetitions per variant (medians)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, one toy sampler")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--profile", action="store_true",
                        help="only profile the project's rings-toy step (torch.profiler ops, cProfile functions)")
    args = parser.parse_args(argv)
    if args.profile:
        return profile_toy_step()
    reps = 3 if args.quick else args.reps
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    cpu = torch.device("cpu")
    rows: List[Dict] = []
    notes: List[str] = []
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, default threads {DEFAULT_THREADS}, "
          f"GPU: {torch.cuda.get_device_name(0) if cuda else 'none'}, load average {load:.2f}", flush=True)

    peaks = {"cpu x1": matmul_peak(cpu, 1), f"cpu x{DEFAULT_THREADS}": matmul_peak(cpu, DEFAULT_THREADS),
             "cpu x1 by CPU time": matmul_peak(cpu, 1, clock=time.process_time)}
    if cuda:
        tf32 = torch.backends.cuda.matmul.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = False
        peaks["cuda fp32"] = matmul_peak(device, DEFAULT_THREADS)
        torch.backends.cuda.matmul.allow_tf32 = True
        peaks["cuda tf32"] = matmul_peak(device, DEFAULT_THREADS)
        torch.backends.cuda.matmul.allow_tf32 = tf32
        peaks["cuda bf16"] = matmul_peak(device, DEFAULT_THREADS, torch.bfloat16)
    print("matmul peak (fp32 unless said): " + ", ".join(f"{k} {v / 1e9:.1f} GFLOP/s" for k, v in peaks.items()), flush=True)
    guards: Dict[str, float] = {}

    # ---- rings toy, the paper's setting, on the CPU (the project's workflow trains it with --threads 1)
    tmp = Path(tempfile.mkdtemp(prefix="stanley-bench-"))
    toy_samplers = ["stanley"] if args.quick else ["stanley", "langevin"]
    toy_times = {}
    for sampler in toy_samplers:
        torch.set_num_threads(1)
        trainer = toy_trainer(sampler, tmp / f"toy-{sampler}")
        conv = ConvToyNet().load_from(trainer.learner.net)
        guards["toy net |f_conv - f_linear|"] = check_same_function(
            trainer.learner.net, conv, torch.randn(1000, 2, generator=torch.Generator().manual_seed(0)) * 3, (2, 1, 1), "ToyNet")
        baseline = baseline_for(trainer, sampler, TOY, conv, (2, 1, 1))
        guards[f"toy {sampler} samples"] = check_same_samples(trainer, baseline, 2 * torch.randn(100, 2), atol=1e-4)
        guards.update({f"toy {sampler} {k}": v for k, v in check_same_results(
            trainer, baseline, 3, f"toy {sampler}", atol=1e-4).items()})
        flops_ours = count_flops(trainer.step)
        flops_theirs = count_flops(baseline.step)
        variants = {"project": trainer.step, "baseline": baseline.step,
                    "baseline (default threads)": baseline.step, "project (default threads)": trainer.step}
        threads = {"project": 1, "baseline": 1, "baseline (default threads)": DEFAULT_THREADS,
                   "project (default threads)": DEFAULT_THREADS}
        inner = {"project": 5, "baseline": 2, "baseline (default threads)": 1, "project (default threads)": 5}
        print(f"timing rings toy / {sampler} ...", flush=True)
        times = interleaved(variants, reps, inner, threads, cpu)
        toy_times[sampler] = times
        for name, t in times.items():
            n_threads = threads[name]
            peak = peaks["cpu x1"] if n_threads == 1 else peaks[f"cpu x{DEFAULT_THREADS}"]
            flops = flops_ours if name.startswith("project") else flops_theirs
            rows.append({"case": f"rings toy {sampler} (K=100, B=100)", "variant": name.split(" (")[0],
                         "device": f"cpu x{n_threads}", **t, "flops": flops,
                         "flops_per_s": flops / t["wall"], "peak_share": flops / t["wall"] / peak})

    # ---- batched toy runs (stanley train-batch, the workflow's toy jobs): per run-iteration, one thread
    torch.set_num_threads(1)
    batch_samplers = ["stanley"] if args.quick else list(samplers.NAMES)
    batch_times: Dict[str, Dict[str, Dict[str, float]]] = {}
    runs_of = {"solo": 1, "batched x3": 3, "batched x12": 12}
    for sampler in batch_samplers:
        guards[f"batched {sampler} vs solo"] = check_batch_equals_solo(sampler, 3, tmp)
        variants = {"solo": toy_trainer(sampler, tmp / f"solo-{sampler}").step,
                    "batched x3": toy_batch(sampler, 3, tmp / f"batch3-{sampler}").iterate}
        if sampler == "stanley":
            variants["batched x12"] = toy_batch(sampler, 12, tmp / f"batch12-{sampler}").iterate
        print(f"timing batched rings toy / {sampler} ...", flush=True)
        times = interleaved(variants, reps, {name: 3 if name == "solo" else 1 for name in variants},
                            {name: 1 for name in variants}, cpu)
        batch_times[sampler] = {name: {key: value / runs_of[name] for key, value in t.items()}
                                for name, t in times.items()}
    plan = paper_toy_plan()
    evaluation = evaluation_seconds("stanley", tmp / "evaluation", plan.dataset_run("rings").config["evaluation"])

    # ---- CIFAR-10 ConvNet: the paper's size on a GPU, reduced on a CPU
    if cuda:
        n_f, batch, steps, where = 64, 100, 50, "cuda"
    else:
        n_f, batch, steps, where = 16, 25, 10, "cpu"
        notes.append(f"ConvNet on the CPU at reduced size (n_f {n_f}, batch {batch}, K {steps}); "
                     "the paper's is n_f 64, batch 100, K 50 (run this on a GPU for it)")
    image_device = torch.device(where)
    torch.set_num_threads(1 if where == "cpu" else DEFAULT_THREADS)
    trainer = image_trainer("stanley", tmp / "cifar", where, n_f, batch, steps)
    theirs_net = ShortRunConvNet(n_f).to(image_device).load_from(trainer.learner.net)
    guards["convnet |f_theirs - f_ours|"] = check_same_function(
        trainer.learner.net, theirs_net, torch.rand(8, 3, 32, 32, device=image_device) * 2 - 1, (3, 32, 32), "ConvNet")
    baseline = baseline_for(trainer, "stanley", CIFAR, theirs_net, (3, 32, 32))
    guards.update({f"convnet stanley {k}": v for k, v in check_same_results(
        trainer, baseline, 2, "convnet stanley", atol=1e-3).items()})
    flops_ours, flops_theirs = count_flops(trainer.step), count_flops(baseline.step)
    thread_count = 1 if where == "cpu" else DEFAULT_THREADS
    print(f"timing ConvNet on {where} ...", flush=True)
    conv_times = interleaved({"project": trainer.step, "baseline": baseline.step}, reps,
                             {"project": 1, "baseline": 1}, {"project": thread_count, "baseline": thread_count},
                             image_device)
    # cuDNN convolutions run in TF32 by PyTorch's default (torch.backends.cudnn.allow_tf32)
    peak = peaks["cpu x1"] if where == "cpu" else peaks["cuda tf32" if torch.backends.cudnn.allow_tf32 else "cuda fp32"]
    for name, t in conv_times.items():
        flops = flops_ours if name == "project" else flops_theirs
        rows.append({"case": f"CIFAR-10 ConvNet stanley (n_f={n_f}, B={batch}, K={steps})", "variant": name,
                     "device": f"{where} x{thread_count}" if where == "cpu" else where, **t, "flops": flops,
                     "flops_per_s": flops / t["wall"], "peak_share": flops / t["wall"] / peak})

    # ---- FID share at the paper's schedule: 100k iterations, FID every 5k on 10k samples, K steps per batch
    fid_batch = batch
    gen_generator = torch.Generator(image_device).manual_seed(7)
    z0 = torch.rand((fid_batch, 3, 32, 32), generator=gen_generator, device=image_device) * 2 - 1
    gen_times = interleaved({"generate": lambda: samplers.sample(trainer.learner.kernel, z0, steps, gen_generator)},
                            max(3, reps // 2), {"generate": 1}, {"generate": thread_count}, image_device)
    gen_per_image = gen_times["generate"]["wall"] / fid_batch
    gen_flops = count_flops(lambda: samplers.sample(trainer.learner.kernel, z0, steps, gen_generator)) / fid_batch
    torch.set_num_threads(thread_count)
    inception = inception_seconds_per_image(image_device)
    torch.set_num_threads(DEFAULT_THREADS)
    iteration = conv_times["project"]["wall"]
    fid_share = None
    if inception is not None:
        resize = 0.0 if math.isnan(inception["resize"]) else inception["resize"]
        per_image = gen_per_image + inception["features"] + resize
        fid_seconds = (100_000 // 5_000) * 10_000 * per_image
        train_seconds = 100_000 * iteration
        fid_share = fid_seconds / (fid_seconds + train_seconds)
        # the paper's sizes, scaled by FLOPs at the rates measured here (exact when run on a GPU at full size)
        scale_flops = flops_for_paper_convnet(image_device) if where == "cpu" else None
        paper = None
        if scale_flops is not None:
            rate_iter = flops_ours / iteration
            rate_gen = gen_flops / gen_per_image
            paper_iter = scale_flops["iteration"] / rate_iter
            paper_gen = scale_flops["per_image"] / rate_gen
            paper_fid = 20 * 10_000 * (paper_gen + inception["features"] + resize)
            paper = paper_fid / (paper_fid + 100_000 * paper_iter)
    # ---- progress bar
    bar = tqdm_cost(toy_times[toy_samplers[0]]["project"]["wall"])

    # ---- the table
    print()
    header = f"{'case':<46} {'variant':<9} {'device':<7} {'ms/iter':>9} {'cpu ms':>8} {'GFLOP/it':>9} {'GFLOP/s':>8} {'% peak':>7}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['case']:<46} {r['variant']:<9} {r['device']:<7} {1e3 * r['wall']:>9.2f} {1e3 * r['cpu']:>8.2f} "
              f"{r['flops'] / 1e9:>9.3f} {r['flops_per_s'] / 1e9:>8.2f} {100 * r['peak_share']:>6.1f}%")
    print()
    print("ratios (baseline time / project time, medians of wall clock; CPU time in brackets):")
    for sampler, t in toy_times.items():
        base1, base_n = t["baseline"], t["baseline (default threads)"]
        ours1, ours_n = t["project"], t["project (default threads)"]
        print(f"  rings toy {sampler}:")
        print(f"    project (1 thread: the workflow's --threads 1 and stanley train's toy default) vs the reference "
              f"code as written (torch's default, {DEFAULT_THREADS} threads): {base_n['wall'] / ours1['wall']:.1f}x "
              f"[{base_n['cpu'] / ours1['cpu']:.1f}x]")
        print(f"    both on 1 thread: {base1['wall'] / ours1['wall']:.1f}x [{base1['cpu'] / ours1['cpu']:.1f}x]; "
              f"both on {DEFAULT_THREADS} threads: {base_n['wall'] / ours_n['wall']:.1f}x [{base_n['cpu'] / ours_n['cpu']:.1f}x]; "
              f"best of each: {min(base1['wall'], base_n['wall']) / min(ours1['wall'], ours_n['wall']):.1f}x")
    print(f"  ConvNet ({where}): {conv_times['baseline']['wall'] / conv_times['project']['wall']:.2f}x "
          f"[{conv_times['baseline']['cpu'] / conv_times['project']['cpu']:.2f}x]")
    print()
    print_toy_speed(toy_times, batch_times, peaks["cpu x1 by CPU time"], evaluation, plan)
    print()
    print("guards (max |difference|, all within tolerance): " + ", ".join(f"{k} {v:.2g}" for k, v in guards.items()))
    print(f"generation: {1e3 * gen_per_image:.2f} ms per image (K = {steps}, batch {fid_batch}, {where})")
    if inception is not None:
        print(f"Inception-v3 features: {1e3 * inception['features']:.1f} ms per image ({inception['flops'] / 1e9:.1f} GFLOP, "
              f"random weights: cost only), clean-fid resize {1e3 * inception['resize']:.2f} ms per image ({where})")
        print(f"FID share of a paper-schedule run's wall time (100k iterations, FID every 5k on 10k samples): "
              f"{100 * fid_share:.1f}% with the ConvNet at the size timed here"
              + (f"; {100 * paper:.1f}% at the paper's size (n_f 64, B 100, K 50), FLOP-scaled from the rates measured here"
                 if paper is not None else ""))
    else:
        notes.append("torchvision missing: Inception cost and the FID share not measured")
    print(f"tqdm progress bar: {1e6 * bar['seconds']:.2f} us per update = {100 * bar['share']:.3f}% of a toy iteration")
    if not cuda:
        notes.append("GPU paths not measured (no GPU in this run): ConvNet.forward holds weights and inputs "
                     "channels-last on CUDA; cuDNN convolutions use TF32 by PyTorch's default")
    notes.append("bf16: not enabled; it needs a short run's FID with the real Inception network on a GPU "
                 "to show the FID does not move, which this machine cannot measure")
    for note in notes:
        print(f"note: {note}")
    if args.json:
        args.json.write_text(json.dumps({"peaks": peaks, "rows": rows, "guards": guards, "fid_share": fid_share,
                                         "tqdm": bar, "notes": notes}, indent=2))
    return 0


def print_toy_speed(toy_times, batch_times, peak: float, evaluation: float, plan) -> None:
    """The toy table: each variant per run-iteration against the FLOP floor and the baseline,
    and the paper's toy experiment projected on two cores of this machine."""
    flops = toy_iteration_flops()
    floor = flops / peak
    print(f"rings toy at the paper's setting (K = 100, 100 chains, batch 100, 2-32-64-64-64-1), one thread, "
          f"per run-iteration; FLOP floor = {flops / 1e9:.3f} GFLOP (counted by hand) / {peak / 1e9:.1f} GFLOP/s "
          f"(one core's fp32 matmul peak by CPU time, measured above) = {1e3 * floor:.2f} ms")
    header = f"{'variant':<28} {'sampler':<11} {'cpu ms':>8} {'wall ms':>8} {'x floor':>8} {'baseline/this':>14}"
    print(header)
    print("-" * len(header))
    for sampler, times in batch_times.items():
        base = toy_times.get(sampler, {}).get("baseline")
        lines = ([("ebm-anatomy-style baseline", base)] if base else []) + list(times.items())
        for name, t in lines:
            against = f"{base['cpu'] / t['cpu']:>13.1f}x" if base else f"{'':>14}"
            print(f"{name:<28} {sampler:<11} {1e3 * t['cpu']:>8.2f} {1e3 * t['wall']:>8.2f} "
                  f"{t['cpu'] / floor:>7.2f}x {against}")
    # the paper's toy experiment as the workflow runs it: the tuning pilots (one job each), then the
    # matrix and the ablation (one job per sampler or variant, its seeds batched) and the studies
    from stanley.learning.schedule import Schedule

    def run_seconds(run, variant: str) -> float:
        per_iteration = batch_times.get(run["sampler"]["name"], batch_times["stanley"])[variant]["cpu"]
        return (per_iteration * run["training"]["iterations"]
                + len(Schedule.of(run).iterations_of("eval")) * evaluation)

    def wall(job_seconds):  # longest job first, each to the less busy core
        cores = [0.0, 0.0]
        for seconds in sorted(job_seconds, reverse=True):
            cores[cores.index(min(cores))] += seconds
        return max(cores)

    batches = [*plan.toy_batches().values(), *plan.ablation_batches().values()]
    batched = {run.path for runs in batches for run in runs}
    runs = plan.training_runs().values()
    pilots = [run_seconds(run.config, "solo") for run in runs if run.stage == "pilot"]
    single = [run_seconds(run.config, "solo") for run in runs if run.stage != "pilot" and run.path not in batched]
    jobs = [sum(run_seconds(run.config, "batched x3" if len(members) > 1 else "solo") for run in members)
            for members in batches]  # the batch size timed above nearest the workflow's (one per seed)
    counted = len(batched) + len(single)
    total = wall(pilots) + wall(jobs + single)
    print(f"the paper's toy experiment (snakemake --cores 2 --config only=[rings]: {len(pilots)} tuning pilots, then "
          f"{counted} runs in {len(jobs)} batched jobs and {len(single)} single ones; {len(Schedule.of(plan.dataset_run('rings').config).iterations_of('eval'))} "
          f"evaluations per run at {evaluation:.2f} s each) projected on this machine's 2 cores from the CPU times above: "
          f"{total / 60:.1f} min of training (pilots {wall(pilots) / 60:.1f}, the rest {wall(jobs + single) / 60:.1f}); "
          f"the diagnostics, job start-up and the samplers not timed above (costed as stanley) left out")


PRODUCTS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm")


def profile_toy_step(iterations: int = 10) -> int:
    """Where an iteration's time goes, solo and batched (3 runs): top ops by self CPU time, the
    matrix products' share, and the top Python functions."""
    import cProfile
    import io
    import pstats

    from torch.profiler import ProfilerActivity, profile

    torch.set_num_threads(1)
    tmp = Path(tempfile.mkdtemp(prefix="stanley-bench-"))
    for what, step, runs in (("solo", toy_trainer("stanley", tmp / "solo").step, 1),
                             ("batched x3", toy_batch("stanley", 3, tmp / "batch").iterate, 3)):
        for _ in range(3):
            step()
        clock = time.process_time()
        for _ in range(iterations):
            step()
        cpu = (time.process_time() - clock) / iterations / runs
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(iterations):
                step()
        events = prof.key_averages()
        total = sum(e.self_cpu_time_total for e in events)
        products = sum(e.self_cpu_time_total for e in events if e.key in PRODUCTS)
        print(f"== rings-toy STANLEY step, {what} (1 thread): {1e3 * cpu:.2f} ms CPU per run-iteration; "
              f"under torch.profiler, matrix products take {100 * products / total:.0f}% of self CPU time")
        print(events.table(sort_by="self_cpu_time_total", row_limit=15))
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(iterations):
            step()
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
        print(f"cProfile, {what}, by own time:")
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip()))
    return 0


def flops_for_paper_convnet(device: torch.device) -> Optional[Dict[str, float]]:
    """FLOPs of one paper-size iteration (n_f 64, B 100, K 50) and of one generated image, counted on 1 chain."""
    net = ConvNet(n_f=64).to(device)
    x = torch.rand(1, 3, 32, 32, device=device)

    def grad_eval():
        z = x.clone().requires_grad_(True)
        torch.autograd.grad(net(z).sum(), z)

    def loss_step():
        (net(x).mean() - net(x).mean()).backward()

    per_eval = count_flops(grad_eval)
    loss = count_flops(loss_step)
    return {"iteration": 100 * (50 * per_eval + loss / 1), "per_image": 50 * per_eval}


if __name__ == "__main__":
    raise SystemExit(main())

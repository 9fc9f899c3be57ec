# Theorem 1 diagnostics (drift, small set, geometric rate, mixing) on the toy targets, and
# uniformity in theta on the rings training runs. Rules only call `stanley diagnose`; the
# library turns the `diagnostics` config block into each command line
# (stanley.diagnostics.suite.argv), so the workflow and `suite.run` issue the same commands.
# One job per (diagnostic, target): every sampler of a target runs in it, which keeps the
# number of Python start-ups (torch import) small.
import shlex

from snakemake.exceptions import WorkflowError

from stanley.diagnostics import suite as diagnostics_suite
from stanley.errors import ConfigError

DIAG_RESULTS = config.get("results", "results")
DIAG_DIR = f"{DIAG_RESULTS}/diagnostics"
DIAG_FIGURES = f"{DIAG_RESULTS}/figures"
DIAG_CODE = "stanley/diagnostics/figures.py"
DIAG_RUN_DIR = globals().get("RUN_DIR", f"{DIAG_RESULTS}/runs/{{dataset}}/{{sampler}}/seed{{seed}}")

try:
    DIAGNOSTICS = diagnostics_suite.check(config.get("diagnostics"))
except ConfigError as error:
    raise WorkflowError(f"invalid diagnostics config: {error}")

DIAG_TARGETS = list(DIAGNOSTICS["targets"])


def diagnostics_runs():
    """{sampler: run dir} of the training runs the uniformity check reads (those in the matrix)."""
    u = DIAGNOSTICS["uniformity"]
    if u is None or u["dataset"] not in config.get("datasets", []) or u["seed"] not in config.get("seeds", []):
        return {}
    return {
        s: DIAG_RUN_DIR.format(dataset=u["dataset"], sampler=s, seed=u["seed"])
        for s in u["samplers"]
        if s in config.get("samplers", [])
    }


def diagnostics_tables(kind):
    return expand(f"{DIAG_DIR}/{{kind}}/{{target}}.csv", kind=kind, target=DIAG_TARGETS)


rule diagnose:
    output:
        f"{DIAG_DIR}/{{diag_kind}}/{{diag_target}}.csv",
    wildcard_constraints:
        diag_kind="|".join(diagnostics_suite.KINDS),
        diag_target="|".join(DIAG_TARGETS),
    params:
        args=lambda w, output: shlex.join(
            diagnostics_suite.argv(DIAGNOSTICS, w.diag_kind, w.diag_target, output[0], threads=1)
        ),
    threads: 1
    log:
        f"{DIAG_RESULTS}/logs/diagnostics/{{diag_kind}}/{{diag_target}}.log",
    shell:
        "stanley {params.args} > {log} 2>&1"


rule diagnose_uniformity:
    input:
        # energies.pt and config.yaml are written beside the declared outputs of `train`
        lambda w: f"{diagnostics_runs()[w.diag_sampler]}/samples.npz",
    output:
        f"{DIAG_DIR}/uniformity/{{diag_sampler}}.csv",
    params:
        args=lambda w, output: shlex.join(
            diagnostics_suite.uniformity_argv(
                DIAGNOSTICS, diagnostics_runs()[w.diag_sampler], output[0], label=w.diag_sampler, threads=1
            )
        ),
    threads: 1
    log:
        f"{DIAG_RESULTS}/logs/diagnostics/uniformity/{{diag_sampler}}.log",
    shell:
        "stanley {params.args} > {log} 2>&1"


rule diagnostics_verdicts:
    input:
        drift=diagnostics_tables("drift"),
        minorisation=diagnostics_tables("minorisation"),
        rate=diagnostics_tables("rate"),
        mixing=diagnostics_tables("mixing"),
    output:
        f"{DIAG_DIR}/verdicts.csv",
    shell:
        "stanley diagnose summarise --drift {input.drift} --minorisation {input.minorisation} "
        "--rate {input.rate} --mixing {input.mixing} --out {output}"


rule diagnostics_uniformity_verdicts:
    input:
        expand(f"{DIAG_DIR}/uniformity/{{sampler}}.csv", sampler=list(diagnostics_runs())),
    output:
        f"{DIAG_DIR}/uniformity_verdicts.csv",
    shell:
        "stanley diagnose summarise --uniformity {input} --out {output}"


rule diagnostics_figure:
    input:
        tables=lambda w: (
            expand(f"{DIAG_DIR}/uniformity/{{sampler}}.csv", sampler=list(diagnostics_runs()))
            if w.diag_plot == "uniformity"
            else diagnostics_tables(w.diag_plot)
        ),
        code=DIAG_CODE,
    output:
        f"{DIAG_FIGURES}/diagnostics_{{diag_plot}}.png",
    wildcard_constraints:
        diag_plot="drift|rate|uniformity",
    shell:
        "stanley diagnose plot {wildcards.diag_plot} --inputs {input.tables} --out {output}"


rule diagnostics:
    input:
        f"{DIAG_DIR}/verdicts.csv",
        f"{DIAG_FIGURES}/diagnostics_drift.png",
        f"{DIAG_FIGURES}/diagnostics_rate.png",
        (
            [f"{DIAG_DIR}/uniformity_verdicts.csv", f"{DIAG_FIGURES}/diagnostics_uniformity.png"]
            if diagnostics_runs()
            else []
        ),

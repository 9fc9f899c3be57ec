# Theorem 1 diagnostics (drift, small set, geometric rate, mixing) on the toy targets, and
# uniformity in theta on the rings training runs. Rules only call `stanley diagnose` with the
# arguments the library builds (common.smk). One job per (diagnostic, target): every sampler of
# a target runs in it, which keeps the number of Python start-ups (torch import) small.


rule diagnose:
    output:
        f"{DIAG_DIR}/{{diag_kind}}/{{diag_target}}.csv",
    log:
        in_results("logs/diagnostics/{diag_kind}/{diag_target}.log"),
    wildcard_constraints:
        diag_kind=one_of(diagnostics_suite.KINDS),
        diag_target=one_of(DIAG_TARGETS),
    conda:
        ENVIRONMENT
    threads: 1
    params:
        args=diagnose_args,
    shell:
        "stanley {params.args} > {log:q} 2>&1"


rule diagnose_uniformity:
    input:
        # energies.pt and config.yaml are written beside the declared outputs of `train`
        lambda w: f"{diagnostics_runs()[w.diag_sampler]}/samples.npz",
    output:
        f"{DIAG_DIR}/uniformity/{{diag_sampler}}.csv",
    log:
        in_results("logs/diagnostics/uniformity/{diag_sampler}.log"),
    conda:
        ENVIRONMENT
    threads: 1
    params:
        args=uniformity_args,
    shell:
        "stanley {params.args} > {log:q} 2>&1"


rule diagnostics_verdicts:
    input:
        drift=diagnostics_tables("drift"),
        minorisation=diagnostics_tables("minorisation"),
        rate=diagnostics_tables("rate"),
        mixing=diagnostics_tables("mixing"),
    output:
        f"{DIAG_DIR}/verdicts.csv",
    log:
        in_results("logs/diagnostics/verdicts.log"),
    conda:
        ENVIRONMENT
    shell:
        "stanley diagnose summarise --drift {input.drift:q} --minorisation {input.minorisation:q} "
        "--rate {input.rate:q} --mixing {input.mixing:q} --out {output:q} > {log:q} 2>&1"


rule diagnostics_uniformity_verdicts:
    input:
        uniformity_tables(),
    output:
        f"{DIAG_DIR}/uniformity_verdicts.csv",
    log:
        in_results("logs/diagnostics/uniformity_verdicts.log"),
    conda:
        ENVIRONMENT
    shell:
        "stanley diagnose summarise --uniformity {input:q} --out {output:q} > {log:q} 2>&1"


rule diagnostics_figure:
    input:
        tables=diagnostics_plot_inputs,
        code=DIAG_CODE,
    output:
        report(
            in_results("figures/diagnostics_{diag_plot}.png"),
            caption="../report/diagnostics.rst",
            category="Theorem 1 diagnostics",
        ),
    log:
        in_results("logs/figures/diagnostics_{diag_plot}.log"),
    wildcard_constraints:
        diag_plot="drift|rate|uniformity",
    conda:
        ENVIRONMENT
    shell:
        "stanley diagnose plot {wildcards.diag_plot} --inputs {input.tables:q} --out {output:q} "
        "> {log:q} 2>&1"


rule diagnostics:
    input:
        f"{DIAG_DIR}/verdicts.csv",
        in_results("figures/diagnostics_drift.png"),
        in_results("figures/diagnostics_rate.png"),
        (
            [
                f"{DIAG_DIR}/uniformity_verdicts.csv",
                in_results("figures/diagnostics_uniformity.png"),
            ]
            if diagnostics_runs()
            else []
        ),

# Theorem 1 diagnostics (drift, small set, geometric rate, mixing) on the toy targets, and
# uniformity in theta on the rings training runs. Rules only call `stanley diagnose` with the
# arguments the library builds (common.smk). One job per (diagnostic, target): every sampler of
# a target runs in it, which keeps the number of Python start-ups (torch import) small.


rule diagnose:
    output:
        DIAG_TABLE,
    log:
        in_results("logs/diagnostics/{diag_kind}/{diag_target}.log"),
    wildcard_constraints:
        diag_kind=one_of(diagnostics_suite.KINDS),
        diag_target=one_of(PLAN.diagnostics_targets),
    conda:
        ENVIRONMENT
    threads: 1
    params:
        args=diagnose_args,
    shell:
        "stanley {params.args} > {log:q} 2>&1"


rule diagnose_uniformity:
    input:
        lambda w: PLAN.uniformity_run_inputs(w.diag_sampler),  # its config and energy networks
    output:
        UNIFORMITY_TABLE,
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
        drift=PLAN.diagnostics_tables("drift"),
        minorisation=PLAN.diagnostics_tables("minorisation"),
        rate=PLAN.diagnostics_tables("rate"),
        mixing=PLAN.diagnostics_tables("mixing"),
    output:
        pattern(LAYOUT.diagnostics_verdicts),
    log:
        in_results("logs/diagnostics/verdicts.log"),
    conda:
        ENVIRONMENT
    shell:
        "stanley diagnose summarise --drift {input.drift:q} --minorisation {input.minorisation:q} "
        "--rate {input.rate:q} --mixing {input.mixing:q} --out {output:q} > {log:q} 2>&1"


rule diagnostics_uniformity_verdicts:
    input:
        PLAN.uniformity_tables(),
    output:
        pattern(LAYOUT.uniformity_verdicts),
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
            pattern(LAYOUT.diagnostics_figure("{diag_plot}")),
            caption="../report/diagnostics.rst",
            category="Theorem 1 diagnostics",
        ),
    log:
        in_results("logs/figures/diagnostics_{diag_plot}.log"),
    wildcard_constraints:
        diag_plot=one_of(PLAN.diagnostics_plots()),
    conda:
        ENVIRONMENT
    shell:
        "stanley diagnose plot {wildcards.diag_plot} --inputs {input.tables:q} --out {output:q} "
        "> {log:q} 2>&1"


rule diagnostics:
    input:
        pattern(LAYOUT.diagnostics_verdicts),
        [pattern(LAYOUT.diagnostics_figure(p)) for p in PLAN.diagnostics_plots()],
        [pattern(LAYOUT.uniformity_verdicts)] if PLAN.uniformity_runs() else [],

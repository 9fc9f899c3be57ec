# Figures read tables only (showyourwork's split): restyling a figure never retrains.
# Each figure depends on the plotting code, so editing stanley/presentation/figures.py redraws it;
# which results each figure is drawn from is the plan's (Plan.figure_inputs).
# report(): `snakemake --report report.zip` gathers the figures with their captions
# (workflow/report/*.rst) beside the suite's own HTML report.


rule fig1:
    input:
        unpack(lambda w: figure_rule_inputs("fig1")),
    output:
        report(
            pattern(LAYOUT.figure("fig1")),
            caption="../report/fig1.rst",
            category="Paper figures",
        ),
    log:
        in_results("logs/figures/fig1.log"),
    conda:
        ENVIRONMENT
    shell:
        "stanley figure fig1 --inputs {input.data:q} --out {output:q} > {log:q} 2>&1"


rule fig1_density:
    input:
        unpack(lambda w: figure_rule_inputs("fig1_density")),
    output:
        report(
            pattern(LAYOUT.figure("fig1_density")),
            caption="../report/fig1_density.rst",
            category="Paper figures",
        ),
    log:
        in_results("logs/figures/fig1_density.log"),
    conda:
        ENVIRONMENT
    shell:
        "stanley figure fig1_density --inputs {input.data:q} --out {output:q} > {log:q} 2>&1"


rule toy_metrics:
    input:
        unpack(lambda w: figure_rule_inputs("toy_metrics")),
    output:
        report(
            pattern(LAYOUT.figure("toy_metrics")),
            caption="../report/toy_metrics.rst",
            category="Toy metrics",
        ),
    log:
        in_results("logs/figures/toy_metrics.log"),
    conda:
        ENVIRONMENT
    shell:
        "stanley figure toy_metrics --inputs {input.data:q} --out {output:q} > {log:q} 2>&1"


rule training_curves:
    input:
        unpack(lambda w: figure_rule_inputs("training")),
    output:
        report(
            pattern(LAYOUT.figure("training")),
            caption="../report/training.rst",
            category="Toy metrics",
        ),
    log:
        in_results("logs/figures/training.log"),
    conda:
        ENVIRONMENT
    shell:
        "stanley figure training --inputs {input.data:q} --out {output:q} > {log:q} 2>&1"


rule fig2:
    input:
        unpack(lambda w: figure_rule_inputs("fig2")),
    output:
        report(
            pattern(LAYOUT.figure("fig2")),
            caption="../report/fig2.rst",
            category="Paper figures",
        ),
    log:
        in_results("logs/figures/fig2.log"),
    conda:
        ENVIRONMENT
    shell:
        "stanley figure fig2 --inputs {input.data:q} --out {output:q} > {log:q} 2>&1"


rule fig3:
    input:
        unpack(lambda w: figure_rule_inputs("fig3")),
    output:
        report(
            pattern(LAYOUT.figure("fig3")),
            caption="../report/fig3.rst",
            category="Paper figures",
        ),
    log:
        in_results("logs/figures/fig3.log"),
    conda:
        ENVIRONMENT
    shell:
        "stanley figure fig3 --inputs {input.data:q} --out {output:q} > {log:q} 2>&1"


rule fig4:
    input:
        unpack(lambda w: figure_rule_inputs("fig4")),
        paper=PAPER_CURVES,
    output:
        report(
            pattern(LAYOUT.figure("fig4")),
            caption="../report/fig4.rst",
            category="Paper figures",
        ),
    log:
        in_results("logs/figures/fig4.log"),
    conda:
        ENVIRONMENT
    shell:
        "stanley figure fig4 --inputs {input.data:q} {input.paper:q} --out {output:q} > {log:q} 2>&1"


rule fig5:
    input:
        unpack(lambda w: figure_rule_inputs("fig5")),
        paper=PAPER_CURVES,
    output:
        report(
            pattern(LAYOUT.figure("fig5")),
            caption="../report/fig5.rst",
            category="Paper figures",
        ),
    log:
        in_results("logs/figures/fig5.log"),
    conda:
        ENVIRONMENT
    shell:
        "stanley figure fig5 --inputs {input.data:q} {input.paper:q} --out {output:q} > {log:q} 2>&1"


rule fig6:
    input:
        unpack(lambda w: figure_rule_inputs("fig6")),
    output:
        report(
            pattern(LAYOUT.figure("fig6")),
            caption="../report/fig6.rst",
            category="Paper figures",
        ),
    log:
        in_results("logs/figures/fig6.log"),
    conda:
        ENVIRONMENT
    shell:
        "stanley figure fig6 --inputs {input.data:q} --out {output:q} > {log:q} 2>&1"


rule figures:
    input:
        [pattern(LAYOUT.figure(name)) for name in TOY_FIGURES],
        image_figures(),

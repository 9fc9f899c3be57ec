# Figures read tables only (showyourwork's split): restyling a figure never retrains.
# Each figure depends on the plotting code, so editing stanley/presentation/figures.py redraws it.
# report(): `snakemake --report report.zip` gathers the figures with their captions
# (workflow/report/*.rst) beside the suite's own HTML report.


rule fig1:
    input:
        samples=expand("{run}/samples.npz", run=seed_runs("rings")),
        code=FIGURE_CODE,
    output:
        report(
            in_results("figures/fig1.png"),
            caption="../report/fig1.rst",
            category="Paper figures",
        ),
    log:
        in_results("logs/figures/fig1.log"),
    conda:
        ENVIRONMENT
    shell:
        "stanley figure fig1 --inputs {input.samples:q} --out {output:q} > {log:q} 2>&1"


rule fig1_density:
    input:
        samples=expand("{run}/samples.npz", run=seed_runs("rings")),
        code=FIGURE_CODE,
    output:
        report(
            in_results("figures/fig1_density.png"),
            caption="../report/fig1_density.rst",
            category="Paper figures",
        ),
    log:
        in_results("logs/figures/fig1_density.log"),
    conda:
        ENVIRONMENT
    shell:
        "stanley figure fig1_density --inputs {input.samples:q} --out {output:q} > {log:q} 2>&1"


rule toy_metrics:
    input:
        table=in_results("tables/eval.csv"),
        code=FIGURE_CODE,
    output:
        report(
            in_results("figures/toy_metrics.png"),
            caption="../report/toy_metrics.rst",
            category="Toy metrics",
        ),
    log:
        in_results("logs/figures/toy_metrics.log"),
    conda:
        ENVIRONMENT
    shell:
        "stanley figure toy_metrics --inputs {input.table:q} --out {output:q} > {log:q} 2>&1"


rule training_curves:
    input:
        table=in_results("tables/metrics.csv"),
        code=FIGURE_CODE,
    output:
        report(
            in_results("figures/training.png"),
            caption="../report/training.rst",
            category="Toy metrics",
        ),
    log:
        in_results("logs/figures/training.log"),
    conda:
        ENVIRONMENT
    shell:
        "stanley figure training --inputs {input.table:q} --out {output:q} > {log:q} 2>&1"


rule fig2:
    input:
        samples=expand("{run}/samples.npz", run=grid_runs("fig2")),
        code=FIGURE_CODE,
    output:
        report(
            in_results("figures/fig2.png"),
            caption="../report/fig2.rst",
            category="Paper figures",
        ),
    log:
        in_results("logs/figures/fig2.log"),
    conda:
        ENVIRONMENT
    shell:
        "stanley figure fig2 --inputs {input.samples:q} --out {output:q} > {log:q} 2>&1"


rule fig3:
    input:
        samples=expand("{run}/samples.npz", run=grid_runs("fig3")),
        code=FIGURE_CODE,
    output:
        report(
            in_results("figures/fig3.png"),
            caption="../report/fig3.rst",
            category="Paper figures",
        ),
    log:
        in_results("logs/figures/fig3.log"),
    conda:
        ENVIRONMENT
    shell:
        "stanley figure fig3 --inputs {input.samples:q} --out {output:q} > {log:q} 2>&1"


rule fig4:
    input:
        runs=expand("{run}/metrics.csv", run=curve_runs("fig4")),  # fid.csv is beside each
        paper=PAPER_CURVES,
        code=FIGURE_CODE,
    output:
        report(
            in_results("figures/fig4.png"),
            caption="../report/fig4.rst",
            category="Paper figures",
        ),
    log:
        in_results("logs/figures/fig4.log"),
    conda:
        ENVIRONMENT
    params:
        tables=expand("{run}/fid.csv", run=curve_runs("fig4")),
    shell:
        "stanley figure fig4 --inputs {params.tables:q} {input.paper:q} --out {output:q} > {log:q} 2>&1"


rule fig5:
    input:
        runs=expand("{run}/metrics.csv", run=curve_runs("fig5")),
        paper=PAPER_CURVES,
        code=FIGURE_CODE,
    output:
        report(
            in_results("figures/fig5.png"),
            caption="../report/fig5.rst",
            category="Paper figures",
        ),
    log:
        in_results("logs/figures/fig5.log"),
    conda:
        ENVIRONMENT
    params:
        tables=expand("{run}/fid.csv", run=curve_runs("fig5")),
    shell:
        "stanley figure fig5 --inputs {params.tables:q} {input.paper:q} --out {output:q} > {log:q} 2>&1"


rule fig6:
    input:
        npz=fig6_inputs,
        code=FIGURE_CODE,
    output:
        report(
            in_results("figures/fig6.png"),
            caption="../report/fig6.rst",
            category="Paper figures",
        ),
    log:
        in_results("logs/figures/fig6.log"),
    conda:
        ENVIRONMENT
    shell:
        "stanley figure fig6 --inputs {input.npz:q} --out {output:q} > {log:q} 2>&1"


rule figures:
    input:
        rules.fig1.output,
        rules.fig1_density.output,
        rules.toy_metrics.output,
        rules.training_curves.output,
        image_figures(),

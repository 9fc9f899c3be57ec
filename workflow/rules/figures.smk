# Figures read tables only (showyourwork's split): restyling a figure never retrains.
# Each figure depends on the plotting code, so editing stanley/figures.py redraws it.
FIGURE_CODE = "stanley/figures.py"


def first_seed_runs(dataset):
    seed = str(min(config["seeds"]))
    return [RUN_DIR.format(dataset=dataset, sampler=s, seed=seed) for s in config["samplers"]]


rule fig1:
    input:
        samples=expand("{run}/samples.npz", run=first_seed_runs("rings")),
        code=FIGURE_CODE,
    output:
        RESULTS + "/figures/fig1.png",
    shell:
        "stanley figure fig1 --inputs {input.samples} --out {output}"


rule fig1_density:
    input:
        samples=expand("{run}/samples.npz", run=first_seed_runs("rings")),
        code=FIGURE_CODE,
    output:
        RESULTS + "/figures/fig1_density.png",
    shell:
        "stanley figure fig1_density --inputs {input.samples} --out {output}"


rule toy_metrics:
    input:
        table=RESULTS + "/tables/eval.csv",
        code=FIGURE_CODE,
    output:
        RESULTS + "/figures/toy_metrics.png",
    shell:
        "stanley figure toy_metrics --inputs {input.table} --out {output}"


rule training_curves:
    input:
        table=RESULTS + "/tables/metrics.csv",
        code=FIGURE_CODE,
    output:
        RESULTS + "/figures/training.png",
    shell:
        "stanley figure training --inputs {input.table} --out {output}"


rule figures:
    input:
        rules.fig1.output,
        rules.fig1_density.output,
        rules.toy_metrics.output,
        rules.training_curves.output,

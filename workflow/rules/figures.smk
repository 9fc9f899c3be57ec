# Figures read tables only (showyourwork's split): restyling a figure never retrains.
# Each figure depends on the plotting code, so editing stanley/figures.py redraws it.
FIGURE_CODE = "stanley/figures.py"


PAPER_CURVES = "stanley/reference/paper_fid_curves.csv"  # the authors' FID logs, drawn dashed


def first_seed_runs(dataset):
    return seed_runs(dataset)


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


# Figures 2-5: the paper's image figures, each from the data set(s) the config's `figures` names
# (the paper's by default; the smoke config draws them all from the stand-in shapes set).
IMAGE_FIGURES = {"fig2": ["flowers102"], "fig3": ["cifar10"], "fig4": ["flowers102", "cifar10"],
                 "fig5": ["celeba"], **(config.get("figures") or {})}
GRID_SAMPLERS = {"fig2": ["langevin", "stanley"], "fig3": None}  # Figure 3: every sampler


def fid_on(dataset):
    return all(run["fid"]["every"] for (d, _, _), run in RUNS.items() if d == dataset)


def image_figure_drawn(name):
    datasets = IMAGE_FIGURES[name]
    return bool(datasets) and all(d in IMAGE_DATASETS and (name in GRID_SAMPLERS or fid_on(d)) for d in datasets)


def grid_runs(name):
    return [run for d in IMAGE_FIGURES[name] for run in seed_runs(d, GRID_SAMPLERS[name])]


def curve_runs(name):
    return [run for d in IMAGE_FIGURES[name] for run in run_dirs(d)]


rule fig2:
    input:
        samples=expand("{run}/samples.npz", run=grid_runs("fig2")),
        code=FIGURE_CODE,
    output:
        RESULTS + "/figures/fig2.png",
    shell:
        "stanley figure fig2 --inputs {input.samples} --out {output}"


rule fig3:
    input:
        samples=expand("{run}/samples.npz", run=grid_runs("fig3")),
        code=FIGURE_CODE,
    output:
        RESULTS + "/figures/fig3.png",
    shell:
        "stanley figure fig3 --inputs {input.samples} --out {output}"


rule fig4:
    input:
        runs=expand("{run}/metrics.csv", run=curve_runs("fig4")),  # fid.csv is beside each
        paper=PAPER_CURVES,
        code=FIGURE_CODE,
    output:
        RESULTS + "/figures/fig4.png",
    params:
        tables=expand("{run}/fid.csv", run=curve_runs("fig4")),
    shell:
        "stanley figure fig4 --inputs {params.tables} {input.paper} --out {output}"


rule fig5:
    input:
        runs=expand("{run}/metrics.csv", run=curve_runs("fig5")),
        paper=PAPER_CURVES,
        code=FIGURE_CODE,
    output:
        RESULTS + "/figures/fig5.png",
    params:
        tables=expand("{run}/fid.csv", run=curve_runs("fig5")),
    shell:
        "stanley figure fig5 --inputs {params.tables} {input.paper} --out {output}"


def fig6_inputs(wildcards):
    """STANLEY against Langevin, as in the paper (the first seed); else whatever two were run."""
    seed = min(config["seeds"])
    shown = [s for s in ("stanley", "langevin") if s in inpainting_samplers()] or inpainting_samplers()[:2]
    return [INPAINT_DIR.format(dataset=INPAINTING["dataset"], sampler=s, seed=seed) + "/inpainting.npz" for s in shown]


rule fig6:
    input:
        npz=fig6_inputs,
        code=FIGURE_CODE,
    output:
        RESULTS + "/figures/fig6.png",
    shell:
        "stanley figure fig6 --inputs {input.npz} --out {output}"


def image_figures():
    drawn = [RESULTS + f"/figures/{name}.png" for name in IMAGE_FIGURES if image_figure_drawn(name)]
    return drawn + ([RESULTS + "/figures/fig6.png"] if inpainting_samplers() else [])


rule figures:
    input:
        rules.fig1.output,
        rules.fig1_density.output,
        rules.toy_metrics.output,
        rules.training_curves.output,
        image_figures(),

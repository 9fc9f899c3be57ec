# Image inpainting (the paper's Figure 6): each trained model of the inpainting data set fills
# a masked centre square of its test images with its own sampler; the masked-region MSE per
# sampler goes to the report, STANLEY's and Langevin's completions to Figure 6 (figures.smk).
INPAINTING = {"dataset": "celeba", "n": 100, **(config.get("inpainting") or {})}
INPAINT_DIR = RESULTS + "/inpainting/{dataset}/{sampler}/seed{seed}"


def inpainting_samplers():
    dataset = INPAINTING["dataset"]
    if dataset not in IMAGE_DATASETS:
        return []
    chosen = INPAINTING.get("samplers")
    unknown = sorted(set(chosen or []) - set(samplers_of(dataset)))
    if unknown:
        raise WorkflowError(f"invalid config: inpainting.samplers names {unknown}, not samplers of {dataset}: {samplers_of(dataset)}")
    return [s for s in samplers_of(dataset) if chosen is None or s in chosen]


def inpainting_dirs(seeds=None):
    return [INPAINT_DIR.format(dataset=INPAINTING["dataset"], sampler=s, seed=seed)
            for s in inpainting_samplers() for seed in (seeds or config["seeds"])]


def inpaint_options(wildcards):
    options = ["--n", str(INPAINTING["n"])]
    for key in ("mask", "steps"):
        if INPAINTING.get(key):
            options += [f"--{key}", str(INPAINTING[key])]
    return " ".join(options)


rule inpaint:
    input:
        RUN_DIR + "/metrics.csv",  # the finished run: model.pt and config.yaml beside it
    output:
        npz=INPAINT_DIR + "/inpainting.npz",
        table=INPAINT_DIR + "/inpainting.csv",
    wildcard_constraints:
        dataset=INPAINTING["dataset"],
    params:
        run=RUN_DIR,
        out=INPAINT_DIR,
        options=inpaint_options,
        slot=slot_prefix,
    resources:
        gpu=lambda w: 1 if uses_gpu(w.dataset) else 0,
    threads: 1
    log:
        RESULTS + "/logs/inpainting/{dataset}/{sampler}/seed{seed}.log",
    shell:
        "{params.slot}stanley inpaint --run {params.run} --out-dir {params.out} {params.options} "
        "--threads {threads} > {log} 2>&1"


# One training job per (dataset, sampler, seed). Checkpoints live inside the run directory but
# are not declared outputs: a killed job rerun resumes from them (DESIGN.md section 8).
# An image run also writes model.pt and (FID on) fid.csv beside the declared outputs; metrics.csv,
# written last, marks the run complete, so rules that read those files take it as their input.


def run_inputs(dataset, run):
    """An image run needs its data set checked, its FID reference statistics and, for the real
    FID, the Inception weights (ancient: a re-downloaded file never retrains anything)."""
    if dataset not in IMAGE_DATASETS:
        return {}
    inputs = {"data": data_stamp(dataset)} if dataset in DOWNLOADABLE else {}
    if run["fid"]["every"]:
        inputs["reference"] = run["fid"]["reference"]
        if not run["fid"]["proxy"]:
            inputs["inception"] = ancient(inception_file(run))
    return inputs


def train_inputs(wildcards):
    """A matrix run's inputs, and the tuning stage's choice (tuning.smk) when tuning is on."""
    dataset = getattr(wildcards, "dataset", None)
    inputs = run_inputs(dataset, run_config(wildcards)) if dataset in IMAGE_DATASETS else {}
    return {**inputs, **tuning_input(dataset, wildcards.sampler)}


def tuned_flag(wildcards, input):
    return f"--tuned {input.tuned}" if "tuned" in input.keys() else ""


rule train:
    input:
        unpack(train_inputs),
    output:
        metrics=RUN_DIR + "/metrics.csv",
        eval=RUN_DIR + "/eval.csv",
        samples=RUN_DIR + "/samples.npz",
        provenance=RUN_DIR + "/provenance.json",
    params:
        run=lambda w: yaml.safe_dump(run_config(w), sort_keys=True),
        dir=RUN_DIR,
        slot=slot_prefix,
        tuned=tuned_flag,
    resources:
        gpu=lambda w: 1 if uses_gpu(w.dataset) else 0,
    threads: 1
    log:
        RESULTS + "/logs/train/{dataset}/{sampler}/seed{seed}.log",
    shell:
        "mkdir -p {params.dir} && printf '%s' {params.run:q} > {params.dir}/run.yaml && "
        "{params.slot}stanley train --config {params.dir}/run.yaml --out {params.dir} --threads {threads} {params.tuned} "
        "> {log} 2>&1"

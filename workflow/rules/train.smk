# One training job per (dataset, sampler, seed) for image runs; toy runs batch their seeds (below).
# Checkpoints live inside the run directory but are not declared outputs: a killed job rerun
# resumes from them (DESIGN.md section 8).
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
    dataset = getattr(wildcards, "dataset", None)
    return run_inputs(dataset, run_config(wildcards)) if dataset in IMAGE_DATASETS else {}


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
    resources:
        gpu=lambda w: 1 if uses_gpu(w.dataset) else 0,
    threads: 1
    log:
        RESULTS + "/logs/train/{dataset}/{sampler}/seed{seed}.log",
    shell:
        "mkdir -p {params.dir} && printf '%s' {params.run:q} > {params.dir}/run.yaml && "
        "{params.slot}stanley train --config {params.dir}/run.yaml --out {params.dir} --threads {threads} "
        "> {log} 2>&1"


# Toy runs: one job per (dataset, sampler) trains every seed as one batch (stanley train-batch),
# each seed into its own run directory, the files `train` writes; a killed batch resumes every
# run. Asking for one seed's file still works: it runs the batch that writes it. Image runs keep
# one job per GPU slot (`train`).
TOY_DATASETS = [d for d in config["datasets"] if d not in IMAGE_DATASETS]
RUN_FILES = ("metrics.csv", "eval.csv", "samples.npz", "provenance.json")


def batch_command(jobs):
    """Each run's run.yaml written into its directory, then one train-batch over them (shell-quoted)."""
    import shlex

    writes, pairs = [], []
    for run, out in jobs:
        writes.append(f"mkdir -p {shlex.quote(out)} && printf '%s' {shlex.quote(yaml.safe_dump(run, sort_keys=True))}"
                      f" > {shlex.quote(out)}/run.yaml")
        pairs.append(f"--config {shlex.quote(out)}/run.yaml --out {shlex.quote(out)}")
    return " && ".join(writes) + " && stanley train-batch " + " ".join(pairs)


def seed_outputs(directory, seeds, **wildcards):
    """The files `train` declares, for every seed of a batch; other wildcards stay wildcards."""
    for name in wildcards:
        directory = directory.replace("{" + name + "}", "{{" + name + "}}")
    return [directory.format(seed=seed) + "/" + name for seed in seeds for name in RUN_FILES]


def matrix_batch(wildcards):
    keys = [(wildcards.dataset, wildcards.sampler, str(seed)) for seed in config["seeds"]]
    return batch_command([(RUNS[key], RUN_DIR.format(dataset=key[0], sampler=key[1], seed=key[2])) for key in keys])


if TOY_DATASETS:

    ruleorder: train_toy_batch > train

    rule train_toy_batch:
        output:
            seed_outputs(RUN_DIR, config["seeds"], dataset=True, sampler=True),
        params:
            command=matrix_batch,
        wildcard_constraints:
            dataset="|".join(TOY_DATASETS),
        threads: 1
        log:
            RESULTS + "/logs/train/{dataset}/{sampler}/batch.log",
        shell:
            "{params.command} --threads {threads} --no-progress > {log} 2>&1"

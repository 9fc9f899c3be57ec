# One training job per (dataset, sampler, seed). Checkpoints live inside the run directory but
# are not declared outputs: a killed job rerun resumes from them (DESIGN.md section 8).


rule train:
    output:
        metrics=RUN_DIR + "/metrics.csv",
        eval=RUN_DIR + "/eval.csv",
        samples=RUN_DIR + "/samples.npz",
        provenance=RUN_DIR + "/provenance.json",
    params:
        run=lambda w: yaml.safe_dump(run_config(w), sort_keys=True),
        dir=RUN_DIR,
    resources:
        gpu=lambda w: 1 if uses_gpu(w.dataset) else 0,
    threads: 1
    log:
        RESULTS + "/logs/train/{dataset}/{sampler}/seed{seed}.log",
    shell:
        "mkdir -p {params.dir} && printf '%s' {params.run:q} > {params.dir}/run.yaml && "
        "stanley train --config {params.dir}/run.yaml --out {params.dir} --threads {threads} "
        "> {log} 2>&1"

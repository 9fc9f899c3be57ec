# The tuning stage (stanley/experiment/tuning.py; its functions in common.smk): one short pilot per grid
# point and (data set, sampler), then `stanley tune` writes each data set's choice.yaml, which
# every run of that data set trains with (`stanley train --tuned`).


use rule run_config as run_config_pilot with:
    output:
        f"{PILOT_DIR}/run.yaml",
    log:
        in_results("logs/run_config/tuning/{dataset}/{sampler}/{point}.log"),
    wildcard_constraints:
        point="[a-z_]+=x[0-9.e+-]+(,[a-z_]+=x[0-9.e+-]+)*",
    params:
        text=lambda w: run_yaml(pilot_run(w)),


use rule train as train_pilot with:
    input:
        unpack(
            lambda w: {
                "config": f"{PILOT_DIR}/run.yaml".format(**w),
                **run_inputs(w.dataset, pilot_run(w)),
            }
        ),
    output:
        metrics=f"{PILOT_DIR}/metrics.csv",
        eval=f"{PILOT_DIR}/eval.csv",
        samples=f"{PILOT_DIR}/samples.npz",
        provenance=f"{PILOT_DIR}/provenance.json",
    log:
        in_results("logs/tuning/{dataset}/{sampler}/{point}.log"),
    benchmark:
        in_results("benchmarks/tuning/{dataset}/{sampler}/{point}.tsv")
    wildcard_constraints:
        point="[a-z_]+=x[0-9.e+-]+(,[a-z_]+=x[0-9.e+-]+)*",


rule tune:
    input:
        lambda w: expand("{run}/metrics.csv", run=pilot_dirs(w.dataset)),
    output:
        choice=f"{TUNING_DIR}/choice.yaml",
        table=f"{TUNING_DIR}/pilots.csv",
    log:
        in_results("logs/tuning/{dataset}/tune.log"),
    conda:
        ENVIRONMENT
    params:
        args=tune_args,
    shell:
        "stanley tune {params.args} > {log:q} 2>&1"


rule tuning:
    input:
        expand(f"{TUNING_DIR}/pilots.csv", dataset=sorted({d for d, _, _ in PILOTS})),

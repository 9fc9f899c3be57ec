# The tuning stage (stanley/experiment/tuning.py): one short pilot per grid point and (data set,
# sampler), trained by the rules of train.smk, then `stanley tune` writes each data set's
# choice.yaml, which every run of that data set trains with (`stanley train --tuned`).


rule tune:
    input:
        lambda w: files_of(PLAN.pilot_runs(w.dataset)),
    output:
        choice=TUNING_CHOICE,
        table=TUNING_TABLE,
    log:
        in_results("logs/tuning/{dataset}/tune.log"),
    wildcard_constraints:
        dataset=one_of(PLAN.tuned_datasets()),
    conda:
        ENVIRONMENT
    params:
        args=tune_args,
    shell:
        "stanley tune {params.args} > {log:q} 2>&1"


rule tuning:
    input:
        expand(TUNING_TABLE, dataset=PLAN.tuned_datasets()),

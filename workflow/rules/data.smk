# Real image data sets and the Inception weights: fetched where the internet is reachable,
# checked where it is not (`stanley download`: a no-op on complete files). A missing or
# incomplete data set stops here, before any training, with the folder and the files expected
# (in the job's log, which the default profile shows on failure). Both run on the machine that
# runs Snakemake (localrule): cluster nodes often have no internet.


rule download_data:
    output:
        DATA_CHECKED,
    log:
        in_results("logs/data/{dataset}.log"),
    wildcard_constraints:
        dataset=one_of(PLAN.downloadable()),
    localrule: True
    conda:
        ENVIRONMENT
    params:
        root=lambda w: PLAN.dataset_run(w.dataset).config["data"]["root"],
    shell:
        "stanley download {wildcards.dataset} --root {params.root:q} > {log:q} 2>&1 && "
        "tail -n 1 {log:q} > {output:q}"


rule download_inception:
    output:
        "{inception_file}",
    log:
        "{inception_file}.download.log",  # beside the weights: they are shared by every results folder
    wildcard_constraints:
        inception_file=one_of(PLAN.inception_files()),
    localrule: True
    conda:
        ENVIRONMENT
    shell:
        "stanley download inception --root {output:q} > {log:q} 2>&1"

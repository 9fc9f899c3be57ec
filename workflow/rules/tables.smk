# Per-run tables gathered into one long table per kind (fid.csv: the runs with FID on).


rule tables:
    input:
        expand("{run}/metrics.csv", run=run_dirs()),
    output:
        **(
            {"fid": in_results("tables/fid.csv")}
            if any(run["fid"]["every"] for run in RUNS.values())
            else {}
        ),
        metrics=in_results("tables/metrics.csv"),
        eval=in_results("tables/eval.csv"),
        provenance=in_results("tables/provenance.csv"),
    log:
        in_results("logs/tables/tables.log"),
    conda:
        ENVIRONMENT
    params:
        runs=run_dirs(),
        out=parent("metrics"),
    shell:
        "stanley tables --runs {params.runs:q} --out {params.out:q} > {log:q} 2>&1"

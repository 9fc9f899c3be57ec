# Per-run tables gathered into one long table per kind (fid.csv: the runs with FID on).


rule tables:
    input:
        files_of(PLAN.matrix.values()),
    output:
        **PLAN.table_files(LAYOUT.tables, list(PLAN.matrix.values())),
    log:
        in_results("logs/tables/tables.log"),
    conda:
        ENVIRONMENT
    params:
        runs=PLAN.run_dirs(),
        out=parent("metrics"),
    shell:
        "stanley tables --runs {params.runs:q} --out {params.out:q} > {log:q} 2>&1"

# The claims ledger: a verdict for each of the paper's claims, from the gathered tables.


rule claims:
    input:
        rules.tables.output,
        f"{DIAG_DIR}/verdicts.csv",
        ledger="stanley/presentation/claims.yaml",
    output:
        in_results("tables/claims.csv"),
    log:
        in_results("logs/tables/claims.log"),
    conda:
        ENVIRONMENT
    params:
        results=lambda w, output: os.path.dirname(os.path.dirname(output[0])),
        scale=config.get("scale", "paper"),
    shell:
        "stanley claims --results {params.results:q} --scale {params.scale:q} --out {output:q} "
        "> {log:q} 2>&1"

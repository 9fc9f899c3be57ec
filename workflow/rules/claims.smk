# The claims ledger: a verdict for each of the paper's claims, from the gathered tables.


rule claims:
    input:
        PLAN.claims_inputs(),
        ledger="stanley/presentation/claims.yaml",
    output:
        pattern(LAYOUT.tables.table("claims")),
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

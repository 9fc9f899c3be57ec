# The self-contained HTML report, rendered from results/ through report/templates/.
# (`snakemake --report report.zip` is Snakemake's own archive of the figures and captions.)


rule report:
    input:
        rules.figures.input,
        rules.tables.output,
        expand("{dir}/inpainting.csv", dir=inpainting_dirs()),
        rules.diagnostics.input,
        rules.ablation_figure.output if ABLATION_SPEC else [],
        expand(in_results("figures/study_{study}.png"), study=STUDIES),
        claims=rules.claims.output[0],  # RESULTS/tables/claims.csv
        diagnostics="report/templates/diagnostics.html.j2",
        studies="report/templates/studies.html.j2",
        templates="report/templates/index.html.j2",
        images="report/templates/images.html.j2",
        paper=PAPER_CURVES,
        beyond=BEYOND_PAPER,
    output:
        "report/index.html",
    log:
        in_results("logs/report.log"),
    conda:
        ENVIRONMENT
    params:
        results=lambda w, input: os.path.dirname(os.path.dirname(input.claims)),
        templates=lambda w, input: os.path.dirname(input.templates),
        scale=config.get("scale", "paper"),
    shell:
        "stanley report --results {params.results:q} --templates {params.templates:q} --out {output:q} "
        "--scale {params.scale:q} > {log:q} 2>&1"

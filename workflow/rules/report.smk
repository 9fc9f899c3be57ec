# The self-contained HTML report, rendered from results/ through the package's templates (stanley/presentation/templates/).
# (`snakemake --report report.zip` is Snakemake's own archive of the figures and captions.)


rule report:
    input:
        rules.figures.input,
        rules.tables.output,
        expand("{dir}/inpainting.csv", dir=inpainting_dirs()),
        rules.diagnostics.input,
        expand(in_results("figures/ablation_{dataset}.png"), dataset=ABLATION_SPEC),
        expand(in_results("figures/study_{study}.png"), study=STUDIES),
        rules.tuning.input,
        claims=rules.claims.output[0],  # RESULTS/tables/claims.csv
        tuning="stanley/presentation/templates/tuning.html.j2",
        diagnostics="stanley/presentation/templates/diagnostics.html.j2",
        studies="stanley/presentation/templates/studies.html.j2",
        templates="stanley/presentation/templates/index.html.j2",
        images="stanley/presentation/templates/images.html.j2",
        paper=PAPER_CURVES,
        beyond=BEYOND_PAPER,
    output:
        in_results("report/index.html"),
    log:
        in_results("logs/report.log"),
    conda:
        ENVIRONMENT
    params:
        results=lambda w, input: os.path.dirname(os.path.dirname(input.claims)),
        scale=config.get("scale", "paper"),
    shell:
        "stanley report --results {params.results:q} --out {output:q} "
        "--scale {params.scale:q} > {log:q} 2>&1"

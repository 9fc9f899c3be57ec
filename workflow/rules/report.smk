# The self-contained HTML report, rendered through the package's templates
# (stanley/presentation/templates/) from the results the plan declares (Plan.report_inputs) and
# nothing else: a file an earlier config left in the results folder never reaches it.
# (`snakemake --report report.zip` is Snakemake's own archive of the figures and captions.)


rule report:
    input:
        results=PLAN.report_inputs(),
        tuning="stanley/presentation/templates/tuning.html.j2",
        diagnostics="stanley/presentation/templates/diagnostics.html.j2",
        studies="stanley/presentation/templates/studies.html.j2",
        templates="stanley/presentation/templates/index.html.j2",
        images="stanley/presentation/templates/images.html.j2",
        paper=PAPER_CURVES,
        beyond=BEYOND_PAPER,
    output:
        pattern(LAYOUT.report),
    log:
        in_results("logs/report.log"),
    conda:
        ENVIRONMENT
    params:
        results=lambda w, output: os.path.dirname(os.path.dirname(output[0])),
        scale=config.get("scale", "paper"),
    shell:
        "stanley report --results {params.results:q} --inputs {input.results:q} --out {output:q} "
        "--scale {params.scale:q} > {log:q} 2>&1"

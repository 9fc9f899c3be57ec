# The STANLEY reproducibility suite. The default config is the paper's matrix;
#   snakemake --cores all --resources gpu=4                       # the full suite on a GPU box
#   snakemake --cores all --configfile workflow/config/smoke.yaml  # toy scale (CI, make demo)
# A --configfile replaces the default config (no merge); --config KEY=VALUE overrides keys.
from snakemake.utils import min_version, validate

min_version("9.0")

if "datasets" not in config:
    configfile: "workflow/config/config.yaml"

validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/fid.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/tuning.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/inpainting.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/diagnostics.smk"
include: "workflow/rules/ablation.smk"
include: "workflow/rules/studies.smk"
include: "workflow/rules/claims.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        "report/index.html",
    default_target: True

# Real image data sets and the Inception weights: fetched where the internet is reachable,
# checked where it is not (as `stanley download`: a no-op on complete files). A missing or
# incomplete data set stops here, before any training, with the folder and the files expected.
# Both run on the machine that runs Snakemake (localrule): cluster nodes often have no internet.
import re
from pathlib import Path

from stanley import data as data_lib
from stanley import fid as fid_lib

DOWNLOADABLE = [d for d in IMAGE_DATASETS if d != "shapes"]  # shapes is drawn in memory
DATA_CHECKED = RESULTS + "/data/{dataset}.checked"


def data_stamp(dataset):
    return DATA_CHECKED.format(dataset=dataset)


def inception_file(run):
    """The weights file a run's FID loads: fid.inception, else $STANLEY_INCEPTION, else the cache."""
    return str(fid_lib.inception_path(run["fid"]["inception"]))


INCEPTION_FILES = sorted({
    inception_file(run) for (d, _, _), run in RUNS.items()
    if d in IMAGE_DATASETS and run["fid"]["every"] and not run["fid"]["proxy"]
})


rule download_data:
    output:
        DATA_CHECKED,
    params:
        root=lambda w: dataset_run(w.dataset)["data"]["root"],
    wildcard_constraints:
        dataset="|".join(DOWNLOADABLE) or "(?!x)x",
    localrule: True
    run:
        # the library's own check and download (what `stanley download` runs), so that a failed
        # download still says which files are missing where
        try:
            data_lib.check(wildcards.dataset, params.root)
        except ConfigError as missing:
            try:
                data_lib.download(wildcards.dataset, params.root)
            except ConfigError as failed:
                raise WorkflowError(f"{missing}\nThe download failed too: {failed}") from None
        Path(output[0]).write_text(f"{wildcards.dataset} complete under {params.root}\n")


rule download_inception:
    output:
        "{inception_file}",
    wildcard_constraints:
        inception_file="|".join(map(re.escape, INCEPTION_FILES)) or "(?!x)x",
    localrule: True
    shell:
        "stanley download inception --root {output}"

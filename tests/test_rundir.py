"""The run directory and the results layout: one owner for every file name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, small_run
from stanley.plumbing.checkpoints import checksum_of
from stanley.experiment import config
from stanley.learning import training
from stanley.errors import ConfigError
from stanley.plumbing.rundir import Layout, RunDir, Tables


def test_training_writes_exactly_the_files_its_run_directory_names(tmp_path):
    run = config.complete_run(small_run(iterations=20, mcmc_steps=10, checkpoint_every=10,
                                        log_every=10) | {"evaluation": {"every": 10, "grid_size": 16,
                                                                        "n_samples": 50, "projections": 8}})
    training.train(run, tmp_path, progress=False)
    files = RunDir(tmp_path)
    named = {files.config, files.metrics, files.eval, files.samples, files.energies, files.provenance,
             checksum_of(files.energies), files.checkpoints, files.lock}
    assert set(tmp_path.iterdir()) == named  # a toy run: no model.pt, no fid.csv
    assert files.load_config() == run  # what training used, read back whole


def write(path: Path, text: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.yaml").write_text(text)
    return path


def test_load_config_fills_the_defaults_so_every_block_has_one_shape(tmp_path):
    fragment = {"model": {"name": "toynet"}, "sampler": {"name": "mala", "options": {"noise_scale": 0.5}}}
    loaded = RunDir(write(tmp_path, yaml.safe_dump(fragment))).load_config()
    assert loaded == config.complete_run(fragment)
    assert loaded["model"]["options"] == {} and loaded["evaluation"]["temperature"] == 0.25  # eps^2


@pytest.mark.parametrize("text, words", [
    (None, "config.yaml is missing"),
    ("model: [unclosed", "not valid YAML"),
    ("sampler: {name: stanly}", "sampler.name must be one of"),
    ("sampler: {name: stanley, nam: x}", "did you mean 'name'"),
    ("training: {lr: fast}", "training.lr must be a finite number"),
    ("!!python/object/apply:os.system ['echo pwned']", "not valid YAML"),  # safe_load: nothing runs
])
def test_load_config_names_the_file_and_the_fault(tmp_path, text, words):
    run_dir = write(tmp_path / "run", text) if text is not None else tmp_path / "run"
    with pytest.raises(ConfigError) as error:
        RunDir(run_dir).load_config()
    assert words in str(error.value) and str(run_dir) in str(error.value)


def test_layout_paths_and_what_it_finds(tmp_path):
    layout = Layout(tmp_path)
    assert layout.run("rings", "stanley", 0).metrics == tmp_path / "runs/rings/stanley/seed0/metrics.csv"
    assert layout.tables.table("fid") == tmp_path / "tables/fid.csv"
    assert layout.ablation_tables.table("eval") == tmp_path / "tables/ablation/eval.csv"
    assert layout.figure("fig4") == tmp_path / "figures/fig4.png"
    assert layout.report.parent.parent == tmp_path  # each scale's results hold their own report
    assert layout.studies() == [] and layout.inpainting_runs() == []

    for name in ("b_study", "a_study"):
        spec = layout.study_tables(name).study_spec
        spec.parent.mkdir(parents=True)
        spec.write_text(yaml.safe_dump({"name": name, "variants": {"K5": {}}}))
    layout.study_tables("unfinished").path.mkdir()  # no spec yet: not a study's tables
    assert [t.path.name for t in layout.studies()] == ["a_study", "b_study"]
    assert layout.studies()[0].load_study_spec()["name"] == "a_study"

    done = RunDir(tmp_path / "inpainting/celeba/stanley/seed0")
    done.path.mkdir(parents=True)
    done.inpainting_table.write_text("image,mse\n0,0.1\n")
    (tmp_path / "inpainting/celeba/langevin/seed0").mkdir(parents=True)  # killed before its table
    assert layout.inpainting_runs() == [done]


def test_a_bad_study_spec_is_one_clear_error(tmp_path):
    (tmp_path / "study.yaml").write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="is not a mapping"):
        Tables(tmp_path).load_study_spec()


def test_reading_a_run_directory_does_not_import_torch(tmp_path):
    """Table, figure and report jobs read run configs; torch would cost them seconds each."""
    write(tmp_path, yaml.safe_dump({"data": {"name": "shapes"}, "model": {"name": "convnet"},
                                    "sampler": {"name": "stanley", "options": {"noise_scale": 0.01}}}))
    code = ("import sys; from stanley.plumbing.rundir import RunDir; "
            f"run = RunDir({str(tmp_path)!r}).load_config(); "
            "print(run['data']['name'], 'torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.split() == ["shapes", "False"]

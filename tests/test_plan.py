"""The experiment plan (stanley.plan), checked without Snakemake: which runs exist,
where they live, what each job reads and writes, and what the report may read."""

from __future__ import annotations

import itertools
import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from stanley.errors import ConfigError
from stanley.experiment import config as suite_config
from stanley.plan import Plan
from stanley.plumbing.rundir import Layout
from stanley.plumbing.view import declared_view

CONFIGS = {name: yaml.safe_load((ROOT / "workflow" / "config" / f"{name}.yaml").read_text())
           for name in ("config", "smoke")}
DIAGNOSTICS = {"targets": {"gaussian": CONFIGS["smoke"]["diagnostics"]["targets"]["gaussian"]}, "uniformity": None}


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def plan(request):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tuning budget's warning on a cut-down matrix
        return Plan.from_suite(CONFIGS[request.param], "results")


def shapes_suite(**extra) -> dict:
    """A small image suite: shapes with the proxy FID, two samplers, one seed."""
    suite = {"datasets": ["shapes"], "samplers": ["stanley", "langevin"], "seeds": [0],
             "defaults": {"device": "cpu"},
             "per_dataset": {"shapes": {"data": {"image_size": 32, "limit": 100}, "model": {"name": "convnet"},
                                        "fid": {"every": 10, "proxy": True}}},
             "diagnostics": DIAGNOSTICS}
    return suite_config.deep_merge(suite, extra)


def test_importing_the_plan_loads_no_torch():
    code = "import stanley.plan, sys; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_the_matrix_is_the_product_of_data_sets_samplers_and_seeds(plan):
    suite = plan.suite
    expected = {(d, s, seed) for d in suite["datasets"] for s in suite_config.samplers_of(suite, d)
                for seed in suite["seeds"]}
    assert set(plan.matrix) == expected
    for (d, s, seed), run in plan.matrix.items():
        assert run.path == str(Layout("results").run(d, s, seed).path)
        assert (run.config["data"]["name"], run.config["sampler"]["name"], run.config["seed"]) == (d, s, seed)


def test_only_one_data_set_trains_exactly_the_full_plans_runs_of_it():
    """--config only=[rings]: the paper's toy experiment alone is the full plan's rings runs, config
    for config (matrix, pilots, ablation, studies), so a later full run reuses every one of them."""
    full = CONFIGS["config"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = Plan.from_suite(full, "results").training_runs()
        rings = Plan.from_suite(suite_config.restricted(full, ["rings"]), "results").training_runs()
    expected = {path: run for path, run in whole.items() if run.config["data"]["name"] == "rings"}
    assert len(rings) == 21 + 35 + 12 + 3  # matrix, pilots, ablation, the rings study (the paper's own)
    assert rings.keys() == expected.keys()
    assert all(rings[path].config == expected[path].config for path in rings)


@pytest.mark.parametrize("only, words", [(["ringz"], "only names 'ringz', which the suite does not run"),
                                         ("rings", "only must be a non-empty list")])
def test_only_names_what_it_cannot_keep(only, words):
    with pytest.raises(ConfigError, match=words):
        suite_config.restricted(CONFIGS["config"], only)


def test_no_two_jobs_declare_the_same_output(plan):
    outputs = Counter(path for job in plan.jobs() for path in job.output_files())
    assert [path for path, n in outputs.items() if n > 1] == []


def test_every_input_is_made_by_another_job_or_is_a_source_file(plan):
    jobs = list(plan.jobs())
    made = {path: job for job in jobs for path in job.output_files()}
    for job in jobs:
        for path in job.input_files():
            assert path in made or (ROOT / path).is_file(), f"{job.kind} {job.key}: nothing makes {path}"
            assert made.get(path) is not job, f"{job.kind} {job.key} reads its own output {path}"


def test_each_file_a_later_job_reads_is_declared_by_the_job_that_trains_the_run(plan):
    # the readers: gathering tables, tuning, inpainting and uniformity read files beside metrics.csv
    trained = {path for job in plan.jobs() if job.kind in ("train", "toy_batch", "ablation_batch")
               for path in job.output_files()}
    read = {path for job in plan.jobs() if job.kind in ("tables", "tune", "inpaint", "uniformity", "ablation_tables",
                                                         "study_tables")
            for path in job.input_files()}
    assert read and read <= trained
    names = {Path(p).name for p in read}
    assert {"config.yaml", "eval.csv", "provenance.json", "metrics.csv"} <= names
    if plan.inpainting_samplers():
        assert {"model.pt", "fid.csv"} <= names
    if plan.uniformity_runs():
        assert "energies.pt" in names


def test_the_report_reads_every_table_and_figure_the_plan_makes(plan):
    inputs = set(plan.report_inputs())
    shown = {"figure", "diagnostics_figure", "tables", "ablation_tables", "study_tables", "study_spec", "claims",
             "diagnostics_verdicts", "uniformity_verdicts", "diagnose", "uniformity"}
    for job in plan.jobs():
        if job.kind in shown:
            assert set(job.output_files()) <= inputs, job
    for job in plan.jobs():
        if job.kind == "inpaint":
            assert job.outputs["table"][0] in inputs
        if job.kind == "tune":
            assert job.outputs["table"][0] in inputs
    report = next(job for job in plan.jobs() if job.kind == "report")
    assert report.input_files() == plan.report_inputs()


def test_a_study_variant_identical_to_a_matrix_run_reuses_its_directory():
    suite = CONFIGS["smoke"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = Plan.from_suite(suite, "out")
    same = plan.study_runs[("rings_gamma_active", "paper", "stanley", 0)]
    assert same.path == plan.run("rings", "stanley", 0).path == "out/runs/rings/stanley/seed0"
    other = plan.study_runs[("rings_gamma_active", "gamma_active", "stanley", 0)]
    assert other.path == "out/studies/rings_gamma_active/gamma_active/stanley/seed0"
    assert other.config["sampler"]["options"]["threshold"] == 0.003
    assert sum(job.kind == "run_config" and job.key == (same.path,) for job in plan.jobs()) == 1  # trained once


def test_study_variants_identical_to_each_other_share_one_directory():
    suite = shapes_suite(studies={"twice": {"dataset": "shapes", "samplers": ["langevin"], "seeds": [0],
                                            "variants": {"a": {"training": {"iterations": 7}},
                                                         "b": {"training": {"iterations": 7}}}}})
    plan = Plan.from_suite(suite, "out")
    first, second = plan.study_runs[("twice", "a", "langevin", 0)], plan.study_runs[("twice", "b", "langevin", 0)]
    assert first.path == second.path == "out/studies/twice/a/langevin/seed0"


def test_fid_references_follow_each_runs_own_resolved_config():
    """per_sampler (and every level) decides the image size and protocol, hence the file."""
    suite = shapes_suite(per_sampler={"langevin": {"data": {"image_size": 16}, "fid": {"proxy": False,
                                                                                         "inception": "w/incep.pt"}}})
    plan = Plan.from_suite(suite, "out")
    stanley, langevin = plan.run("shapes", "stanley", 0), plan.run("shapes", "langevin", 0)
    assert stanley.config["fid"]["reference"] == "out/reference/shapes_proxy_32.npz"
    assert langevin.config["fid"]["reference"] == "out/reference/shapes_inception_16.npz"
    assert langevin.needs["inception"] == "w/incep.pt"
    assert set(plan.references()) == {"out/reference/shapes_proxy_32.npz", "out/reference/shapes_inception_16.npz"}


@pytest.mark.parametrize("level", ["defaults", "per_dataset", "per_sampler"])
def test_a_configured_reference_wins_at_every_level(level, tmp_path):
    given = str(tmp_path / "mine.npz")
    fragment = {"fid": {"reference": given}}
    where = {"defaults": fragment, "per_dataset": {"shapes": fragment}, "per_sampler": {"langevin": fragment}}[level]
    plan = Plan.from_suite(shapes_suite(**{level: where}), "out")
    langevin, stanley = plan.run("shapes", "langevin", 0), plan.run("shapes", "stanley", 0)
    assert langevin.config["fid"]["reference"] == given and langevin.needs["reference"] == given
    expected_stanley = "out/reference/shapes_proxy_32.npz" if level == "per_sampler" else given
    assert stanley.config["fid"]["reference"] == expected_stanley
    assert given not in plan.references()  # nothing makes it: it is the user's file
    assert set(plan.references()) == ({expected_stanley} if level == "per_sampler" else set())


def test_an_explicit_null_reference_means_the_default():
    plan = Plan.from_suite(shapes_suite(per_sampler={"langevin": {"fid": {"reference": None}}}), "out")
    assert plan.run("shapes", "langevin", 0).config["fid"]["reference"] == "out/reference/shapes_proxy_32.npz"


def test_fid_off_needs_no_reference_and_declares_no_fid_table():
    plan = Plan.from_suite(shapes_suite(per_dataset={"shapes": {"fid": {"every": 0}}}), "out")
    run = plan.run("shapes", "stanley", 0)
    assert run.config["fid"]["reference"] is None and "reference" not in run.needs
    assert run.file_set == "images" and "fid" not in run.files and "model" in run.files
    assert plan.references() == {} and not plan.image_figure_drawn("fig4")


def test_tuning_pilots_their_choice_and_who_trains_with_it():
    suite = shapes_suite(tuning={"grid": {"step_size": [0.5, 1]}, "iterations": {"shapes": 5}, "seed": 9,
                                 "max_fraction": 1.0})
    plan = Plan.from_suite(suite, "out")
    assert set(plan.pilots) == {("shapes", s, p) for s in ("stanley", "langevin")
                                for p in ("step_size=x0.5", "step_size=x1")}
    pilot = plan.pilots[("shapes", "langevin", "step_size=x0.5")]
    assert pilot.path == "out/tuning/shapes/langevin/step_size=x0.5" and "tuned" not in pilot.needs
    assert pilot.config["training"]["iterations"] == 5 and pilot.config["seed"] == 9
    assert plan.run("shapes", "langevin", 0).needs["tuned"] == "out/tuning/shapes/choice.yaml"
    tune = next(job for job in plan.jobs() if job.kind == "tune")
    assert tune.outputs == {"choice": ["out/tuning/shapes/choice.yaml"], "table": ["out/tuning/shapes/pilots.csv"]}


def test_ablation_variants_and_toy_batches():
    suite = {"datasets": ["rings"], "samplers": ["stanley", "langevin"], "seeds": [0, 1],
             "ablation": {"dataset": "rings", "sampler": "stanley", "seeds": [1], "switches": {"norm": ["coordinate", "sample"]}},
             "diagnostics": DIAGNOSTICS}
    plan = Plan.from_suite(suite, "out")
    assert set(plan.ablation_runs) == {("rings", "norm=sample", 1)}  # coordinate is the paper's run itself
    assert plan.ablation_dirs("rings") == ["out/runs/rings/stanley/seed1", "out/ablation/rings/norm=sample/seed1"]
    assert {key: [r.path for r in runs] for key, runs in plan.ablation_batches().items()} == {
        ("rings", "norm=sample"): ["out/ablation/rings/norm=sample/seed1"]}
    assert {key: [r.path for r in runs] for key, runs in plan.toy_batches().items()} == {
        ("rings", s): [f"out/runs/rings/{s}/seed0", f"out/runs/rings/{s}/seed1"] for s in ("stanley", "langevin")}
    assert plan.single_runs() == []  # every toy run trains in a batch
    unbatched = Plan.from_suite({**suite, "batch_toy_runs": False}, "out")
    assert unbatched.toy_batches() == {} and len(unbatched.single_runs("toy")) == 5
    toy = unbatched.run("rings", "stanley", 0)
    assert set(toy.files) == {"metrics", "eval", "samples", "provenance", "config", "energies", "energies_checksum"}


def test_an_image_ablation_trains_one_job_per_run_beside_the_matrix_runs_of_each_reading():
    plan = Plan.from_suite(shapes_suite(samplers=["stanley", "stanley_code", "langevin"],
                                        ablation={"shapes": {"switches": {"drift": ["unscaled"]}}}), "out")
    (run,) = plan.ablation_runs.values()
    assert run.key == ("shapes", "drift=unscaled", 0) and run.config["sampler"]["options"]["drift"] == "unscaled"
    assert run.file_set == "images_fid" and run in plan.single_runs() and plan.ablation_batches() == {}
    # the paper-text run is the reference, the authors' code reading (its switches at once) beside it
    assert plan.ablation_dirs("shapes") == ["out/runs/shapes/stanley/seed0", "out/runs/shapes/stanley_code/seed0",
                                            "out/ablation/shapes/drift=unscaled/seed0"]
    assert "ablation_shapes" in plan.figures()
    assert plan.figure_inputs("ablation_shapes") == list(plan.ablation_tables("shapes").values())
    assert "out/tables/ablation/shapes/fid.csv" in plan.ablation_tables("shapes").values()
    assert set(plan.ablation_tables("shapes").values()) <= set(plan.report_inputs())


def test_figures_use_the_data_sets_the_config_names():
    plan = Plan.from_suite(shapes_suite(datasets=["rings", "shapes"],
                                        figures={"fig2": ["shapes"], "fig3": [], "fig4": ["shapes"], "fig5": []},
                                        inpainting={"dataset": "shapes", "samplers": ["langevin"]}), "out")
    assert plan.figures()[:4] == ["fig1", "fig1_density", "toy_metrics", "training"]
    assert {"fig2", "fig4", "fig6"} <= set(plan.figures()) and not {"fig3", "fig5"} & set(plan.figures())
    assert plan.figure_inputs("fig2") == ["out/runs/shapes/stanley/seed0/samples.npz",  # config order
                                          "out/runs/shapes/langevin/seed0/samples.npz"]
    assert plan.figure_inputs("fig4") == ["out/runs/shapes/stanley/seed0/fid.csv", "out/runs/shapes/langevin/seed0/fid.csv"]
    assert plan.figure_inputs("fig6") == ["out/inpainting/shapes/langevin/seed0/inpainting.npz"]
    with pytest.raises(ConfigError, match="not a figure of this plan"):
        plan.figure_inputs("fig9")


@pytest.mark.parametrize("extra, words", [
    ({"inpainting": {"dataset": "shapes", "samplers": ["mala"]}}, "inpainting.samplers names ['mala']"),
    ({"studies": {"s": {"dataset": "cifar10", "samplers": ["langevin"], "variants": {"a": {}}}}}, "studies.s.dataset"),
    ({"ablation": {"dataset": "shapes", "sampler": "langevin"}}, "ablation.sampler"),
    ({"per_sampler": {"langevin": {"fid": {"every": "often"}}}}, "fid.every"),
])
def test_a_bad_suite_is_one_line(extra, words):
    with pytest.raises(ConfigError) as error:
        plan = Plan.from_suite(shapes_suite(**extra), "out")
        plan.inpainting_samplers()
    assert words in str(error.value) and "\n" not in str(error.value)


def test_a_run_outside_the_plan_is_named():
    plan = Plan.from_suite(shapes_suite(), "out")
    with pytest.raises(ConfigError, match="shapes|mala|0 is not a run"):
        plan.run("shapes", "mala", 0)
    with pytest.raises(ConfigError, match="not a run directory"):
        plan.training_run("out/runs/shapes/mala/seed0")


def test_a_toy_run_writes_exactly_the_files_the_plan_declares(tmp_path):
    from conftest import small_run
    from stanley.learning import training
    from stanley.plumbing.rundir import RunDir

    run = suite_config.complete_run(small_run(iterations=20, mcmc_steps=10, checkpoint_every=10, log_every=10)
                                    | {"evaluation": {"every": 10, "grid_size": 16, "n_samples": 50, "projections": 8}})
    training.train(run, tmp_path, progress=False)
    files = RunDir(tmp_path)
    left = {path for path in tmp_path.iterdir()} - {files.checkpoints, files.lock}
    assert left == set(files.written(run).values())


def test_the_declared_view_holds_the_listed_files_only(tmp_path):
    results = tmp_path / "results"
    for name in ("figures/fig2.png", "figures/fig5.png", "tables/eval.csv"):
        (results / name).parent.mkdir(parents=True, exist_ok=True)
        (results / name).write_text(name)
    with declared_view(results, [results / "figures/fig2.png", results / "tables/eval.csv"]) as view:
        found = sorted(str(p.relative_to(view)) for p in view.rglob("*") if p.is_file())
        assert found == ["figures/fig2.png", "tables/eval.csv"]  # fig5.png: a leftover, left out
        assert (view / "tables/eval.csv").read_text() == "tables/eval.csv"
    assert not view.exists()
    with pytest.raises(ConfigError, match="not under the results folder"):
        with declared_view(results, [tmp_path / "elsewhere.csv"]):
            pass
    with pytest.raises(ConfigError, match="is missing"):
        with declared_view(results, [results / "tables/fid.csv"]):
            pass


def test_the_report_leaves_out_an_undeclared_leftover(tmp_path):
    from stanley.presentation.report import render_declared

    results = Layout(tmp_path / "results")
    figure = results.figure("fig1")
    figure.parent.mkdir(parents=True)
    figure.write_bytes(b"\x89PNG leftover of an earlier config")
    declared = render_declared([], results.root, out=tmp_path / "declared.html", scale="smoke")
    scanned = render_declared([figure], results.root, out=tmp_path / "scanned.html", scale="smoke")
    assert "data:image/png" not in declared.read_text() and "data:image/png" in scanned.read_text()

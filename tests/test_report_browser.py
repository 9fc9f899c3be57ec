"""The report in a real browser: headless Chromium, no console errors, every image loads, not blank,
no sideways scrolling at a laptop's 1366 px nor at a phone's 375 px.

Tests never install system packages: without Chromium (Debian's chromium package, which .ci/run installs on a CI
machine; $STANLEY_CHROMIUM names another binary) the test skips and says so.
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from conftest import small_run
from stanley.experiment import config
from stanley.presentation import figures, report, tables
from stanley.learning import training

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def chromium() -> str:
    """Checked before the report is built, so a machine without a browser skips at once."""
    pytest.importorskip("playwright.sync_api", reason="the playwright package drives Chromium")
    path = next(filter(None, (shutil.which(name) for name in (os.environ.get("STANLEY_CHROMIUM"), "chromium",
                                                              "chromium-browser") if name)), None)
    if not path:
        pytest.skip("Chromium is not installed (no chromium on PATH); install Debian's chromium package to run this test")
    return path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, chromium):
    """A real report from two tiny rings runs, each of two seeds."""
    results = tmp_path_factory.mktemp("results")
    runs = []
    for sampler in ("stanley", "langevin"):
        for seed in (0, 1):
            run = config.complete_run(config.deep_merge(small_run(sampler, iterations=20, mcmc_steps=20),
                                                        {"seed": seed, "evaluation": {"every": 10}}))
            out = results / "runs" / "rings" / sampler / f"seed{seed}"
            training.train(run, out, progress=False)
            runs.append(out)
    tables.gather(runs, results / "tables")
    seed0 = [str(r / "samples.npz") for r in runs if r.name == "seed0"]
    figures.make("fig1", seed0, results / "figures/fig1.png")
    figures.make("fig1_density", seed0, results / "figures/fig1_density.png")
    figures.make("toy_metrics", [str(results / "tables/eval.csv")], results / "figures/toy_metrics.png")
    figures.make("training", [str(results / "tables/metrics.csv")], results / "figures/training.png")
    return report.render(results, out=results / "index.html", scale="smoke")


def test_report_in_headless_chromium(chromium, rendered, tmp_path):
    from playwright import sync_api
    errors, shot = [], tmp_path / "report.png"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})  # a laptop screen
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(rendered.resolve().as_uri())
        page.wait_for_load_state("load")
        images = page.evaluate("Array.from(document.images).map(i => [i.alt, i.complete && i.naturalWidth > 0])")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        headings = page.evaluate("Array.from(document.querySelectorAll('nav a')).map(a => a.getAttribute('href'))")
        missing_targets = [h for h in headings if not page.query_selector(h)]
        page.screenshot(path=str(shot))
        phone = browser.new_page(viewport={"width": 375, "height": 812})  # a phone: wide tables scroll in their box
        phone.goto(rendered.resolve().as_uri())
        phone.wait_for_load_state("load")
        phone_overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        browser.close()
    assert errors == []
    assert len(images) >= 4 and all(ok for _, ok in images), images
    assert overflow <= 0, f"the page is {overflow}px wider than a 1366px screen"
    assert phone_overflow <= 0, f"the page is {phone_overflow}px wider than a 375px phone screen"
    assert missing_targets == [], "table-of-contents links without a target"
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.std() > 10 and (pixels < 128).mean() > 0.01, "the screenshot is blank"

"""docs/extending.md, checked: a sampler added at the places it lists works, and the lists of
sampler names that the docs say to extend agree with the one in stanley/experiment/options.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import yaml

from conftest import ROOT
from stanley.experiment import options

STEPS = [  # (file under stanley/, text that must be there, text inserted after it): the doc's steps 1-3
    ("experiment/options.py", '    "gd": {"step_size": 0.1},\n', '    "half_langevin": dict(_LANGEVIN),\n'),
    ("sampling/samplers.py", "    o = _check(name, options)\n",
     '    if name == "half_langevin":  # Langevin at half the base step\n'
     '        return Unadjusted(logdensity_fn, Isotropic(o["step_size"] / 2, o["noise_scale"]))\n'),
    ("experiment/names.py", 'ORDER = (*readings.NAMES, "langevin", "mala", "stanley_mh", "hmc", "gd"',
     ', "half_langevin"'),
    ("experiment/names.py", '"gd": "GD (no noise)",', ' "half_langevin": "Langevin (half step)",'),
]

CHECK = """
import sys, torch
from stanley.experiment import config
from stanley.experiment import names
from stanley.sampling import samplers
run = config.complete_run({"sampler": {"name": "half_langevin", "options": {"step_size": 0.4, "noise_scale": 0.5}},
                           "training": {"mcmc_steps": 6}})
half = samplers.get("half_langevin", lambda z: -0.5 * (z * z).sum(1), **run["sampler"]["options"])
full = samplers.get("langevin", lambda z: -0.5 * (z * z).sum(1), step_size=0.2, noise_scale=0.5)
z = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))
a, _ = samplers.sample(half, z, 6, torch.Generator().manual_seed(1))
b, _ = samplers.sample(full, z, 6, torch.Generator().manual_seed(1))
assert torch.equal(a.z, b.z), "half_langevin at s is not langevin at s/2"
print(names.LABELS["half_langevin"], names.sampler_order(["half_langevin", "stanley"]))
print(samplers.__file__)
"""


def test_a_sampler_added_where_the_docs_say_works(tmp_path):
    assert "`OPTIONS` in\n   `stanley/experiment/options.py`" in (ROOT / "docs/extending.md").read_text()  # the doc still says so
    copy = tmp_path / "stanley"
    shutil.copytree(ROOT / "stanley", copy, ignore=shutil.ignore_patterns("__pycache__"))
    for name, anchor, insert in STEPS:
        path = copy / name
        text = path.read_text()
        assert text.count(anchor) == 1, f"stanley/{name} no longer holds {anchor!r}: update docs/extending.md"
        path.write_text(text.replace(anchor, anchor + insert))
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    labels, module = result.stdout.splitlines()[:2]
    assert labels == "Langevin (half step) ['stanley', 'half_langevin']"
    assert module.startswith(str(copy))  # the edited copy ran, not the checkout


def schema_enums(node, key=None):
    """(key, set of values) for every ``enum`` in a JSON schema, the key being the property it
    constrains (``items`` and ``propertyNames`` lists report their parent's key)."""
    found = []
    if isinstance(node, dict):
        if "enum" in node:
            found.append((key, set(node["enum"])))
        for child, value in node.items():
            found += schema_enums(value, key if child in ("items", "propertyNames", "additionalProperties") else child)
    elif isinstance(node, list):
        for value in node:
            found += schema_enums(value, key)
    return found


def test_the_name_lists_the_docs_point_at_agree_with_options():
    from stanley.diagnostics import suite
    from stanley.experiment import names as display

    names = set(options.NAMES)
    assert set(display.ORDER) == names and names <= set(display.LABELS)
    from stanley.experiment import readings

    # the diagnostics run each kernel once: the other readings of STANLEY are its switch settings
    assert set(suite.SAMPLERS) == names - (set(readings.NAMES) - {readings.KERNEL})
    enums = schema_enums(yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text()))
    sampler_lists = [values for key, values in enums if "langevin" in values and key != "noise_sd"]
    assert len(sampler_lists) >= 2 and all(values == names for values in sampler_lists)
    assert [values for _, values in enums if "rings" in values] == [set(options.TARGETS)]
    switches = {"norm": options.NORMS, "drift": options.DRIFTS, "refresh": options.REFRESHES,
                "noise_power": options.NOISE_POWERS, "noise_sd": options.NOISE_SDS}
    for key, values in enums:
        if key in switches:
            assert values == set(switches[key]), key
    assert {key for key, _ in enums} >= set(switches)  # the walk found them

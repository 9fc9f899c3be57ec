"""The ambiguity ablation: one switch at a time, the paper's run never duplicated."""

from __future__ import annotations

import pytest

from stanley.experiment import ablation, config
from stanley.sampling import samplers
from stanley.errors import ConfigError


def suite(**spec):
    return {
        "datasets": ["rings"], "samplers": ["stanley", "langevin"], "seeds": [0, 1, 2],
        "defaults": {"sampler": {"options": {"step_size": 2.0, "noise_scale": 0.01, "threshold": 0.01}}},
        "ablation": {"dataset": "rings", "sampler": "stanley", "seeds": [0, 1], **spec},
    }


def test_one_switch_at_a_time():
    switches = {"norm": ["coordinate", "sample"], "noise_power": [1.0], "drift": ["unscaled"], "refresh": ["iteration"]}
    variants = ablation.variants(suite(switches=switches))
    assert sorted(variants) == ["drift=unscaled", "noise_power=1", "norm=sample", "refresh=iteration"]  # coordinate is the paper's
    paper = config.resolve_run(suite(), "rings", "stanley", 0)
    for name, runs in variants.items():
        assert sorted(runs) == [0, 1]
        options = {**samplers.OPTIONS["stanley"], **runs[0]["sampler"]["options"]}
        before = {**samplers.OPTIONS["stanley"], **paper["sampler"]["options"]}
        changed = {k for k in ablation.SWITCHES if options[k] != before[k]}
        assert len(changed) == 1 and name.startswith(changed.pop())
        assert ablation.variant_of(runs[0]) == name  # the label is derived back from the config
    assert ablation.variant_of(paper) == ablation.PAPER


@pytest.mark.parametrize("spec, words", [
    ({"switches": {"nrom": ["sample"]}}, ["nrom", "norm"]),
    ({"switches": {"norm": ["l2"]}}, ["ablation.switches.norm"]),
    ({"sampler": "langevin"}, ["ablation.sampler"]),
    ({"seeds": [7]}, ["ablation.seeds"]),
    ({"dataset": "cifar10"}, ["ablation.dataset"]),
])
def test_bad_ablation_spec_names_the_key(spec, words):
    with pytest.raises(ConfigError) as error:
        ablation.variants(suite(**spec))
    for word in words:
        assert word in str(error.value)

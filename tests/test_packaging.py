"""environment.yml (the conda route) and pyproject.toml (pip) install the same packages."""

from __future__ import annotations

import tomllib

import yaml

from conftest import ROOT


def test_environment_yml_lists_pyprojects_packages_with_the_same_specifiers():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["test"])
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [entry for entry in environment["dependencies"] if isinstance(entry, str)]
    pip = next(entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict))
    assert set(pip) == wanted
    python = next(entry for entry in conda if entry.startswith("python="))
    minimum = project["requires-python"].removeprefix(">=")
    assert tuple(map(int, python.split("=")[1].split("."))) >= tuple(map(int, minimum.split(".")))


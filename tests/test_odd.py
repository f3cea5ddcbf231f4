"""docs/ODD.md stays true to the code: quoted defaults, setting names, code references, validation targets."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
import yaml

import sim.mechanisms
from sim.evidence.parameters import collect, validation_targets

ROOT = Path(__file__).resolve().parent.parent
ODD = (ROOT / "docs" / "ODD.md").read_text()
PREFIXES = ("borough.", "students.", "staff.", "police.", "incidents.", "scenario.mechanisms.")


@pytest.fixture(scope="module")
def defaults() -> dict[str, list[object]]:
    """Each parameter's default values: the schema defaults, and every scenario's own parameters."""
    out: dict[str, list[object]] = {}
    for s in collect():
        if s.kind in ("default", "mechanism"):
            for p in s.parameters:
                out.setdefault(p.name, []).append(p.value)
    return out


def test_every_default_quoted_in_the_odd_matches_the_configs(defaults):
    quoted = re.findall(r"`([a-z_.]+)`(?:\[s\])? \(default `?(\[[^\]]*\]|[^\s,;:)`]+)", ODD)
    assert len(quoted) > 40
    wrong = []
    for name, value in quoted:
        if name not in defaults:
            wrong.append(f"{name}: not a parameter")
        elif yaml.safe_load(value) not in defaults[name]:
            wrong.append(f"{name}: ODD says {value}, the declarations say {defaults[name]}")
    assert not wrong, "docs/ODD.md is out of date:\n" + "\n".join(wrong)


def test_every_setting_named_in_the_odd_exists(defaults):
    named = {n for n in re.findall(r"`([a-z_]+(?:\.[a-z_0-9]+)+)`", ODD) if n.startswith(PREFIXES)}
    unknown = [n for n in sorted(named) if n not in defaults and not any(d.startswith(n + ".") for d in defaults)]
    assert not unknown, f"docs/ODD.md names settings that do not exist: {unknown}"


def _classes() -> dict[str, type]:
    out = {}
    core = ["sim.core.model", "sim.core.agents", "sim.core.population", "sim.core.incidents", "sim.core.borough"]
    core += ["sim.core.streams"]
    core += ["sim.core.outcomes", "sim.core.config", "sim.core.mechanism", "sim.core.metrics", "sim.parameters"]
    core += [info.name for info in pkgutil.iter_modules(sim.mechanisms.__path__, "sim.mechanisms.")]
    for name in core:
        module = importlib.import_module(name)
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if obj.__module__.startswith("sim"):
                out.setdefault(name, obj)
    return out


def test_code_references_in_the_odd_exist():
    missing = []
    for path, qualname in re.findall(r"`(sim/[\w/]+\.py):([\w.]+)`", ODD):
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        obj = module
        for part in qualname.split("."):
            obj = getattr(obj, part, None)
        if obj is None:
            missing.append(f"{path}:{qualname}")
    classes = _classes()
    for cls_name, attr in re.findall(r"`([A-Z]\w+)\.(\w+)`", ODD):
        if cls_name in classes and not hasattr(classes[cls_name], attr):
            missing.append(f"{cls_name}.{attr}")
        elif cls_name not in classes:
            missing.append(f"{cls_name} (no such class)")
    assert not missing, f"docs/ODD.md refers to code that does not exist: {missing}"


def test_the_patterns_section_lists_every_validation_target():
    ids = {t["id"] for t in validation_targets()}
    assert ids, "validation/targets.yaml has no targets"
    section = ODD.split("### 1. Purpose and patterns")[1].split("### 2.")[0]
    listed = set(re.findall(r"`([a-z_]+)`", section))
    assert ids <= listed, f"targets missing from docs/ODD.md §1: {sorted(ids - listed)}"
    assert "python -m sim.validate" in section

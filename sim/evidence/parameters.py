"""Where every parameter comes from: ``docs/parameters.md``, generated from the parameters' declarations.

Every parameter is declared once, with :func:`sim.core.parameters.param`: its default, unit, meaning, source (a
citation, or a string beginning "assumption") and plausible range, in the schemas of :mod:`sim.core.config` and in
each policing mechanism's ``Params`` (``sim/mechanisms/``). A variant file in ``conf/`` (``conf/borough/small.yaml``)
names the source of each value it sets in its ``sources:`` mapping. This module lists them all, section by section,
and writes the table analysts read through a Jinja template (``templates/parameters.md.j2``)::

    python -m sim.parameters            # write docs/parameters.md
    python -m sim.parameters --check    # exit 1 if a declaration lacks a unit, source or range, a variant value
                                        # has no source, or docs/parameters.md is stale

Each built-in mechanism's parameters are listed once (``scenario.mechanisms.<name>.<parameter>``); each scenario
(``conf/scenario/*.yaml``) is listed with the mechanisms it is made of, and any value it sets differently from a
mechanism's default, whose source the scenario file gives in its ``sources:`` mapping (``<mechanism>.<parameter>``).

The check cannot judge whether a source is a good one; it checks that every value gives one.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import jinja2
import yaml

from sim.core.compose import compose_config
from sim.core.config import SCHEMA_GROUPS, SimConfig
from sim.core.configure import load_built_in_mechanisms
from sim.core.mechanism import Mechanism
from sim.core.parameters import Parameter, parameters
from sim.core.paths import CONF_DIR, ROOT

DOC_PATH = ROOT / "docs" / "parameters.md"
TARGETS_PATH = ROOT / "validation" / "targets.yaml"
TEMPLATES = Path(__file__).resolve().parent / "templates"
COMMAND = "python -m sim.parameters"
RUN_SETTINGS = ("seed", "days", "output")  # the top-level settings of SimConfig that are parameters
NOT_SET_BY_VARIANTS = frozenset({"defaults", "sources", "name"})  # keys of a variant file that are not values


@dataclass(frozen=True)
class Evidence:
    """A published figure the model draws on, found in sources and validation targets by ``cited_as``."""

    quantity: str
    value: str
    source: str
    cited_as: str  # regular expression matched against the sources of parameters and of validation targets
    note: str = ""


EVIDENCE = (
    Evidence(
        "school days per year",
        "190",
        "Education (School Day and School Year) (England) Regulations 1999",
        r"School Day and School Year",
        "Rates are annualised to 190 days (`SCHOOL_YEAR_DAYS`, `sim/core/incidents.py`).",
    ),
    Evidence("points per school per year (Hackney)", "20", "Liberty 2025", r"20 points"),
    Evidence("Hackney schools", "58 primary, 15 secondary", "Hackney JSNA", r"Hackney JSNA"),
    Evidence("class size", "26.6 infant, 22.4 secondary", "DfE 2023/24", r"DfE school census"),
    Evidence(
        "child stop-search outcomes",
        "77% no further action, 10% arrest, 6% community resolution",
        "Youth Justice Statistics 2022/23",
        r"77%",
        "Only the no-further-action share is used.",
    ),
    Evidence(
        "Black children's share of child stop-searches vs population",
        "20% vs 6%",
        "Youth Justice Statistics 2022/23",
        r"20% of child stop-searches",
    ),
    Evidence(
        "police in schools and exclusionary discipline",
        "rate ratio 1.21 (95% CI 1.04-1.40)",
        "Fisher & Hennessy 2016",
        r"Fisher & Hennessy",
    ),
    Evidence(
        "school police and discipline",
        "+6%, driven by low-level offences, largest for Black students",
        "Weisburst 2019",
        r"Weisburst",
    ),
    Evidence(
        "school police effects by race",
        "> 2x larger for Black than White students",
        "Sorensen, Avila-Acosta, Engberg & Bushway 2023",
        r"Sorensen",
    ),
    Evidence(
        "offence mix with school police",
        "more disorderly-conduct, fewer assault/weapon arrests",
        "Theriot 2009",
        r"Theriot",
    ),
    Evidence(
        "police-delivered drug education",
        "d = 0.023 (95% CI -0.04, 0.08)",
        "West & O'Neal 2004",
        r"West & O'Neal",
    ),
    Evidence(
        "youth work / mentoring",
        "-21% violence, -14% offending",
        "Youth Endowment Fund toolkit",
        r"Youth Endowment Fund",
        "-14% offending is used; violence is not modelled separately.",
    ),
    Evidence(
        "child stop-searches (all policing)",
        "~107,800 in England and Wales in the year to March 2023: ~18 per 1,000 10-17-year-olds; London ~30-40",
        "Youth Justice Statistics 2022/23; Home Office, Police powers and procedures",
        r"107,800",
        "Scales `stops_per_patrol`; compare `corridor_stops_per_1000_secondary` (docs/ODD.md §7.9).",
    ),
    Evidence(
        "hot-spots policing",
        "small, significant crime reductions (d ~ 0.13), no displacement on average",
        "Braga, Turchan, Papachristos & Hureau 2019 (Campbell review)",
        r"Braga",
    ),
    Evidence(
        "runaway feedback loops in predictive policing",
        "urn model; a correction that discounts finds by patrol exposure",
        "Ensign et al. 2018",
        r"Ensign",
    ),
)


def validation_targets(path: Path = TARGETS_PATH) -> list[dict[str, Any]]:
    """The validation targets (``validation/targets.yaml``, checked by ``python -m sim.validate``), if any."""
    if not path.exists():
        return []
    return list((yaml.safe_load(path.read_text()) or {}).get("targets") or [])


@dataclass
class Section:
    """The parameters of one configuration option: the run, a group's default (schema) or variant, a scenario."""

    title: str  # the Hydra choice, e.g. ``borough=small``, or ``run`` for the top-level settings
    where: str  # where the values are declared: a schema, or a file under ``conf/``
    kind: Literal["default", "variant", "mechanism", "scenario"]
    description: str
    parameters: list[Parameter]
    extends: str = ""  # a variant: the option it extends (only what it changes is listed)
    problems: list[str] = field(default_factory=list)  # a variant file's values without a source, and the like
    mechanisms: list[str] = field(default_factory=list)  # a scenario: the mechanisms it is made of, in order


# --- collecting the parameters -----------------------------------------------------------------------------
def collect(conf_dir: Path = CONF_DIR) -> list[Section]:
    """Every section: the run settings, then each group's default and variants, in ``config.yaml``'s order."""
    chosen = chosen_options(conf_dir)
    out = [run_section()]
    for group in sorted(set(chosen) | set(SCHEMA_GROUPS), key=lambda g: list(chosen).index(g) if g in chosen else 99):
        if group in SCHEMA_GROUPS:
            out.append(default_section(group))
            out += [variant_section(conf_dir, group, p) for p in _yaml_files(conf_dir / group)]
        elif group == "scenario":
            out += [mechanism_section(name, cls) for name, cls in load_built_in_mechanisms().items()]
            files = sorted(_yaml_files(conf_dir / group), key=lambda p: (p.stem != chosen[group], p.stem))
            out += [scenario_section(conf_dir, p, default=p.stem == chosen[group]) for p in files]
    return out


def chosen_options(conf_dir: Path) -> dict[str, str]:
    """The default option of each group, in the order of ``config.yaml``'s ``defaults`` list."""
    data = yaml.safe_load((conf_dir / "config.yaml").read_text()) or {}
    out: dict[str, str] = {}
    for item in data.get("defaults", []):
        if isinstance(item, dict):
            out |= {k: v for k, v in item.items() if " " not in k and isinstance(v, str)}
    return out


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def run_section() -> Section:
    """The top-level settings of a run (``seed``, ``days``, ``output``)."""
    return Section(
        title="run",
        where="`SimConfig` in `sim/core/config.py`",
        kind="default",
        description="The settings of the run itself (the top level of the configuration).",
        parameters=parameters(SimConfig, include=RUN_SETTINGS),
    )


def default_section(group: str) -> Section:
    """A group's default option: its schema's defaults."""
    option, schema = SCHEMA_GROUPS[group]
    return Section(
        title=f"{group}={option}",
        where=f"`{schema.__name__}` in `sim/core/config.py`",
        kind="default",
        description=_first_line(schema.__doc__),
        parameters=parameters(schema, f"{group}."),
    )


def variant_section(conf_dir: Path, group: str, path: Path) -> Section:
    """A variant file: the values it sets, each with the source its ``sources`` mapping gives."""
    rel = path.relative_to(conf_dir).as_posix()
    data = yaml.safe_load(path.read_text()) or {}
    declared = {p.name: p for p in parameters(SCHEMA_GROUPS[group][1], f"{group}.")}
    sources = data.get("sources") or {}
    values = _leaves({k: v for k, v in data.items() if k not in NOT_SET_BY_VARIANTS})
    section = Section(
        title=f"{group}={path.stem}",
        where=f"`conf/{rel}`",
        kind="variant",
        description=_leading_comment(path),
        parameters=[],
        extends=", ".join(f"{group}={d}" for d in data.get("defaults", []) if isinstance(d, str) and d != "_self_"),
    )
    for name, value in values.items():
        base = declared.get(f"{group}.{name}")
        if base is None:
            section.problems.append(f"conf/{rel}: {name} is not a setting of {group}")
            continue
        section.parameters.append(replace(base, value=value, source=str(sources.get(name, ""))))
        if not str(sources.get(name, "")).strip():
            section.problems.append(
                f"conf/{rel}: {group}.{name} = {value!r} has no source: add `{name}: <source>` under `sources:`"
            )
    section.problems += [
        f"conf/{rel}: sources names {name}, which the file does not set" for name in sources if name not in values
    ]
    return section


def mechanism_section(name: str, cls: type[Mechanism]) -> Section:
    """A built-in mechanism: its parameters and their defaults, as its ``Params`` declare them."""
    return Section(
        title=f"mechanism {name}",
        where=f"`{cls.__name__}.Params` in `{cls.__module__.replace('.', '/')}.py`",
        kind="mechanism",
        description=_first_line(cls.__doc__),
        parameters=parameters(cls.Params, f"scenario.mechanisms.{name}."),
    )


def scenario_section(conf_dir: Path, path: Path, default: bool = False) -> Section:
    """A scenario file: its mechanisms, and the values it sets differently from their defaults (with sources)."""
    rel = path.relative_to(conf_dir).as_posix()
    data = yaml.safe_load(path.read_text()) or {}
    config = compose_config([f"scenario={path.stem}"]).scenario
    section = Section(
        title=f"scenario={path.stem}" + (" (default)" if default else ""),
        where=f"`conf/{rel}`",
        kind="scenario",
        description=config.description or _leading_comment(path),
        parameters=[],
        mechanisms=list(config.mechanisms),
    )
    sources = data.get("sources") or {}
    set_here = _leaves(data.get("mechanisms") or {})
    for name, value in set_here.items():
        mechanism, _, key = name.partition(".")
        section.parameters.append(
            Parameter(f"scenario.mechanisms.{name}", value, "", f"{key} of {mechanism}", str(sources.get(name, "")))
        )
        if not str(sources.get(name, "")).strip():
            section.problems.append(f"conf/{rel}: mechanisms.{name} = {value!r} has no source under `sources:`")
    return section


def _leaves(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out |= _leaves(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0] if doc else ""


def _leading_comment(path: Path) -> str:
    """A config file's description: the comment lines it starts with."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    return " ".join(lines)


# --- the document ------------------------------------------------------------------------------------------
def shown(value: Any) -> str:
    """A value as the document shows it (YAML-like: true/false, null, integral floats without ``.0``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    return str(value)


def range_text(p: Parameter) -> str:
    """The plausible range ``[low, high]``, or the allowed values of a boolean or a choice."""
    if p.range is not None:
        return f"[{shown(p.range[0])}, {shown(p.range[1])}]"
    if p.choices is not None:
        return " / ".join(shown(c) for c in p.choices)
    return ""


def _cell(text: Any) -> str:
    text = str(text)
    return text.replace("|", "\\|").replace("\n", " ") if text else "—"


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.lower()).replace(" ", "-")


def evidence_rows(sections: list[Section]) -> list[dict[str, str]]:
    """Each evidence figure with the parameters whose source cites it and the validation targets testing it."""
    params = [p for s in sections for p in s.parameters]
    targets = validation_targets()
    rows = []
    for e in EVIDENCE:
        cited = dict.fromkeys(p.name for p in params if re.search(e.cited_as, p.source))
        tested = [t["id"] for t in targets if re.search(e.cited_as, str(t.get("source", "")))]
        rows.append(
            {
                "quantity": e.quantity,
                "value": e.value,
                "source": e.source,
                "cited": ", ".join(f"`{n}`" for n in cited),
                "tested": "; ".join([*(f"`{t}`" for t in tested), *([e.note] if e.note else [])]),
            }
        )
    return rows


def render(sections: list[Section]) -> str:
    """The text of ``docs/parameters.md``."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters |= {"cell": _cell, "shown": shown, "range_text": range_text, "anchor": _anchor}
    params = [p for s in sections for p in s.parameters]
    return env.get_template("parameters.md.j2").render(
        command=COMMAND,
        sections=sections,
        evidence=evidence_rows(sections),
        count=len(params),
        assumptions=sum(p.is_assumption for p in params),
        sourced=sum(bool(p.source.strip()) and not p.is_assumption for p in params),
        missing=sum(not p.source.strip() for p in params),
    )


# --- the check ---------------------------------------------------------------------------------------------
def declaration_problems(sections: list[Section]) -> tuple[list[str], list[str]]:
    """Parameters lacking a unit, source, meaning or range: (errors, warnings: none so far)."""
    errors: list[str] = []
    warnings: list[str] = []
    for s in sections:
        for p in s.parameters:
            missing = [m for m in p.missing() if not (s.kind in ("variant", "scenario") and m == "source")]
            if not missing:
                continue
            line = f"{s.title}: {p.name} = {shown(p.value)} has no {', no '.join(missing)}"
            (warnings if s.kind == "scenario" else errors).append(line)
    return errors, warnings


def problems(conf_dir: Path = CONF_DIR, doc_path: Path = DOC_PATH) -> list[str]:
    """Everything ``--check`` reports as an error: incomplete declarations, unsourced variant values, a stale file."""
    sections = collect(conf_dir)
    out = declaration_problems(sections)[0] + [line for s in sections for line in s.problems]
    if not doc_path.exists():
        out.append(f"{_shown_path(doc_path)} is missing: run `{COMMAND}`")
    elif doc_path.read_text() != render(sections):
        out.append(
            f"{_shown_path(doc_path)} is stale (declarations or conf/ changed since it was made): run `{COMMAND}`"
        )
    return out


def _shown_path(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    """Write docs/parameters.md, or with ``--check`` report what is missing or stale (exit 1)."""
    parser = argparse.ArgumentParser(prog=COMMAND, description="Generate or check docs/parameters.md.")
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if a unit, source or range is missing or the file is stale",
    )
    parser.add_argument("--conf-dir", type=Path, default=CONF_DIR, help="the config directory (default: conf/)")
    parser.add_argument(
        "--output", type=Path, default=DOC_PATH, help="the generated file (default: docs/parameters.md)"
    )
    args = parser.parse_args(argv)
    sections = collect(args.conf_dir)
    warnings = declaration_problems(sections)[1]
    if warnings:
        print(
            f"warning: {len(warnings)} scenario parameters are not yet declared with param() (no unit or range); "
            "their sources are read from conf/scenario comments",
            file=sys.stderr,
        )
    if args.check:
        found = problems(args.conf_dir, args.output)
        for line in found:
            print(f"error: {line}", file=sys.stderr)
        if found:
            return 1
        pending = f" ({len(warnings)} scenario parameters still lack a declared unit or range)" if warnings else ""
        print(f"{_shown_path(args.output)} is up to date and every parameter has a source{pending}")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(sections))
    errors = declaration_problems(sections)[0] + [line for s in sections for line in s.problems]
    for line in errors:
        print(f"error: {line}", file=sys.stderr)
    print(f"wrote {_shown_path(args.output)} ({sum(len(s.parameters) for s in sections)} parameters)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

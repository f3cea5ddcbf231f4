"""Where every parameter comes from: ``docs/parameters.md``, generated from the configs in ``conf/``.

Every default value in ``conf/`` carries its source in an end-of-line comment, or the word "assumption" (the
house style). This module pairs each value with its comment, and with the meaning (the ``Field`` descriptions
of the schemas in :mod:`sim.core.config` and of each policing model's ``Params``) and unit of the setting, and
writes the table analysts read::

    python -m sim.parameters            # write docs/parameters.md
    python -m sim.parameters --check    # exit 1 if a parameter has no source or docs/parameters.md is stale

How a value is paired with its comment: PyYAML composes each file into nodes that know where they start and
end in the text. A value's comment is what follows the value on the line where it ends, after ``#``. A
flow-style mapping (an incident type, an item of the points menu) is one entry: the comment after its closing
brace covers every setting in it, unless a setting carries its own. A list (``[0.3, 0.6, ...]``) is one
setting. A block mapping (``types:``, ``params:``) is a heading, not a setting: each setting under it needs
its own comment. Labels (``name``), import paths (``policing_model``, ``agents``), Hydra's ``defaults`` and
``hydra`` sections, and the experiments (``conf/experiment/``: sweeps, not defaults) are not parameters.

The check cannot judge whether a comment is a good source; it checks that every value gives one.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.core.paths import ROOT
from sim.core.config import SimConfig

CONF_DIR = ROOT / "conf"
DOC_PATH = ROOT / "docs" / "parameters.md"
TARGETS_PATH = ROOT / "validation" / "targets.yaml"
COMMAND = "python -m sim.parameters"

SKIPPED_GROUPS = frozenset({"experiment", "hydra"})  # sweeps and Hydra's own settings: not defaults of the model
NOT_PARAMETERS = frozenset({"defaults", "hydra", "agents", "name", "description", "policing_model"})  # top-level keys of a file

# Units by setting name (the last part of the dotted name); a full dotted name takes precedence.
UNITS: dict[str, str] = {
    # top level
    "seed": "integer",
    "days": "school days",
    "daily": "true/false",
    # borough
    "primary_schools": "schools",
    "secondary_schools": "schools",
    "primary_pupils_mean": "pupils per school",
    "secondary_pupils_mean": "pupils per school",
    "school_size_cv": "coefficient of variation",
    "class_size_primary": "pupils per class",
    "class_size_secondary": "pupils per class",
    "wards": "wards",
    "over_policed_ward_share": "share of wards (0-1)",
    "over_policed_student_share_in_over_policed_wards": "share of students (0-1)",
    "over_policed_student_share_elsewhere": "share of students (0-1)",
    "catchment_wards": "wards",
    "route_risk_sigma": "SD of log risk",
    "youth_workers_per_1000_pupils": "youth workers per 1,000 pupils",
    "youth_work_caseload": "cases per youth worker",
    "youth_work_case_days": "school days",
    "mental_health_slots_per_1000_pupils": "places per 1,000 pupils",
    "mental_health_case_days": "school days",
    "support_funding_multiplier": "multiplier",
    # incident types
    "kind": "offending / wellbeing",
    "severity": "severity level 1-5",
    "cj_appropriate_probability": "probability",
    "recordable": "true/false",
    "indictable": "true/false",
    "serious": "true/false",
    "rate_primary": "per 1,000 pupils per school year",
    "rate_secondary": "per 1,000 pupils per school year",
    "street_rate_primary": "per 1,000 pupils per school year",
    "street_rate_secondary": "per 1,000 pupils per school year",
    "found_by_stop_weight": "relative weight",
    "staff_notice_by_severity": "probability, by severity 1-5",
    "public_report_by_severity": "probability, by severity 1-5",
    # students
    "propensity_sigma": "SD of log propensity",
    "need_sigma": "SD of log need",
    "drift_rate": "share of the gap closed per school day",
    "drift_noise": "SD of log propensity per school day",
    "over_policed_propensity_ratio": "ratio",
    "max_propensity": "multiple of the average propensity",
    "labelling_effect": "proportional rise per crime record",
    "labelling_engagement_loss": "engagement (0-1) per crime record",
    "exclusion_engagement_loss": "engagement (0-1) per exclusion",
    "disengagement_risk": "proportional extra risk at zero engagement",
    "youth_work_effect": "proportional fall per full case",
    "mental_health_effect": "proportional fall per full case",
    "police_lesson_effect": "proportional change per lesson",
    "secondary_years": "year groups",
    "primary_years": "year groups",
    # staff
    "referral_tolerance_mean": "severity level (1-5 scale)",
    "referral_tolerance_sd": "severity levels",
    "proximity_shift": "severity levels",
    "youth_work_referral_propensity": "multiple of the average risk",
    "youth_work_diversion": "probability",
    "escalate_when_no_capacity": "probability",
    "police_work_hours_by_severity": "hours per incident, by severity 1-5",
    "pastoral_hours_per_crisis": "hours per crisis",
    "exclusion_by_severity": "probability, by severity 1-5",
    "police_exclusion_multiplier": "multiplier",
    # police
    "recording_by_severity": "probability, by severity 1-5",
    "over_policed_recording_odds": "odds multiplier",
    "over_policed_stop_weight": "relative weight",
    "schools_protocol_use": "probability",
    "officer_notice_by_severity": "probability, by severity 1-5",
    "hours_incident_response": "hours per incident",
    "hours_crime_record": "hours per crime record",
    "hours_consultation": "hours per consultation",
    # scenarios
    "presence_days_share": "probability (share of school days)",
    "primary_schools_per_officer": "schools per officer",
    "presence_contacts_per_day": "students per officer per day (mean)",
    "lessons_per_week": "lessons per officer per week (mean)",
    "hours_per_day": "hours per day",
    "hours_per_lesson": "hours per lesson",
    "schools_per_officer": "schools per officer",
    "advise_police_when_needed": "probability",
    "advise_police_when_not_needed": "probability",
    "points_budget": "points per school per school year",
    "cost": "points",
    "reach": "school / year_group / class",
    "officer_hours": "hours per activity",
    "weight": "relative weight",
    "detects": "incident type",
    "detection_probability": "probability per participant",
    "patrol_share_of_routes": "share of routes per school day",
    "patrol_hours": "hours per patrol",
    "stops_per_patrol": "stops per patrol (mean)",
    "patrol_detection_probability": "probability",
    "stop_find_probability": "probability per stop",
    "route_selection": "rule",
    "historic_records_per_route": "records per route (mean)",
    "historic_over_policing_bias": "multiplier",
    "patrol_deterrence": "proportional fall in risk",
    "youth_work_referral_after_contact": "probability",
}


@dataclass(frozen=True)
class Evidence:
    """A figure of DESIGN.md §6 (or §4), found in sources and validation targets by ``cited_as``."""

    quantity: str
    value: str
    source: str
    cited_as: str  # regular expression matched against parameters' comments and validation targets' sources
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
        "runaway feedback loops in predictive policing (DESIGN §4)",
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


@dataclass(frozen=True)
class Parameter:
    """One default value in a config file, with what is known about it."""

    name: str  # dotted override path, e.g. ``students.labelling_effect``
    default: str  # as written in the YAML
    comment: str  # the end-of-line comment ("" when there is none): its source, or "assumption"
    file: str  # relative to the conf directory
    line: int  # 1-based
    meaning: str = ""
    unit: str = ""

    @property
    def has_source(self) -> bool:
        """Whether the value says where it comes from (a source, or the word "assumption")."""
        return bool(self.comment.strip(" #-:;,."))

    @property
    def is_assumption(self) -> bool:
        """Whether the source says it is an assumption."""
        return self.comment.lower().startswith("assumption")


@dataclass
class Section:
    """The parameters of one config file."""

    file: str  # relative to the conf directory, e.g. ``borough/hackney.yaml``
    description: str  # the file's leading comment
    inherits: list[str] = field(default_factory=list)  # files it extends (Hydra ``defaults``)
    parameters: list[Parameter] = field(default_factory=list)


# --- reading the configs ----------------------------------------------------------------------------------
def config_files(conf_dir: Path) -> list[tuple[str, Path]]:
    """The config files as (group, path): ``config.yaml`` first, then the groups in its defaults' order."""
    out: list[tuple[str, Path]] = []
    top = conf_dir / "config.yaml"
    if top.exists():
        out.append(("", top))
    order: list[str] = []
    chosen: dict[str, str] = {}
    if top.exists():
        for item in (yaml.safe_load(top.read_text()) or {}).get("defaults", []):
            if isinstance(item, dict):
                for key, value in item.items():
                    if " " not in key and isinstance(value, str):
                        order.append(key)
                        chosen[key] = value
    groups = [d.name for d in conf_dir.iterdir() if d.is_dir() and d.name not in SKIPPED_GROUPS]
    groups.sort(key=lambda g: (order.index(g) if g in order else len(order), g))
    for group in groups:
        files = sorted((conf_dir / group).glob("*.yaml"), key=lambda p: (p.stem != chosen.get(group), p.stem))
        out += [(group, p) for p in files]
    return out


def collect(conf_dir: Path = CONF_DIR) -> list[Section]:
    """Every config file's parameters, each paired with its comment, meaning and unit."""
    return [_read_file(conf_dir, group, path) for group, path in config_files(conf_dir)]


def _read_file(conf_dir: Path, group: str, path: Path) -> Section:
    text = path.read_text()
    lines = text.splitlines()
    rel = path.relative_to(conf_dir).as_posix()
    section = Section(file=rel, description=_leading_comment(lines))
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is None:
        return section
    if not isinstance(root, yaml.MappingNode):
        raise ValueError(f"{rel}: expected a mapping at the top level")
    package = _package(lines, group)
    data = yaml.safe_load(text) or {}
    section.inherits = [
        f"{group}/{d}.yaml" for d in data.get("defaults", []) if isinstance(d, str) and d != "_self_" and group
    ]
    schema = _schema_of(package, data)
    for key_node, value_node in root.value:
        key = key_node.value
        if key in NOT_PARAMETERS:
            continue
        _walk(value_node, key_node, [key], "", lines, rel, package, schema, section.parameters)
    return section


def _package(lines: list[str], group: str) -> str:
    """The dotted prefix of the file's settings (Hydra's ``# @package`` header, else the group)."""
    for line in lines:
        match = re.match(r"#\s*@package\s+(\S+)", line)
        if match:
            return "" if match.group(1) == "_global_" else match.group(1)
        if line.strip() and not line.startswith("#"):
            break
    return group


def _leading_comment(lines: list[str]) -> str:
    out = []
    for line in lines:
        if not line.startswith("#"):
            break
        if not re.match(r"#\s*@package", line):
            out.append(line.lstrip("#").strip())
    return " ".join(out)


@dataclass(frozen=True)
class _Schema:
    """Where a file's settings are described: ``model`` at ``keys + path[len(strip):]`` for a setting."""

    model: type[BaseModel] | None
    keys: tuple[str, ...] = ()
    strip: tuple[str, ...] = ()

    def field(self, path: list[str]) -> FieldInfo | None:
        if self.model is None or tuple(path[: len(self.strip)]) != self.strip:
            return None
        return _field(self.model, [*self.keys, *path[len(self.strip) :]])


def _schema_of(package: str, data: dict[str, Any]) -> _Schema:
    """Where the file's settings are described: a scenario's ``params`` by its policing model's ``Params``."""
    if package == "scenario":  # a scenario lists mechanisms; their parameters are declared in sim/mechanisms/
        return _Schema(None)
    return _Schema(SimConfig, tuple(package.split(".")) if package else ())


def _walk(
    node: yaml.Node,
    key_node: yaml.Node,
    path: list[str],
    inherited: str,
    lines: list[str],
    file: str,
    package: str,
    schema: _Schema,
    out: list[Parameter],
) -> None:
    """Emit the parameters under one value node (a scalar, a list, or a mapping of further settings)."""
    if isinstance(node, yaml.MappingNode):
        # A flow mapping is one entry: its comment covers its settings. A block mapping is a heading.
        covering = (_comment_after(node, lines) or inherited) if node.flow_style else ""
        for child_key, child in node.value:
            _walk(child, child_key, [*path, child_key.value], covering, lines, file, package, schema, out)
        return
    if isinstance(node, yaml.SequenceNode):
        comment = _comment_after(node, lines) if node.flow_style else _comment_after(key_node, lines, colon=True)
        default = "[" + ", ".join(_text(item, lines) for item in node.value) + "]"
    else:
        comment = _comment_after(node, lines)
        default = _text(node, lines)
    name = ".".join([package, *path] if package else path)
    info = schema.field(path)
    out.append(
        Parameter(
            name=name,
            default=default,
            comment=comment or inherited,
            file=file,
            line=node.start_mark.line + 1,
            meaning=(info.description or "") if info is not None else "",
            unit=UNITS.get(name, UNITS.get(path[-1], _inferred_unit(info))),
        )
    )


def _comment_after(node: yaml.Node, lines: list[str], colon: bool = False) -> str:
    """The comment that follows a node on the line where it ends ("" if none).

    After a value inside a flow collection a comma may come first; with ``colon`` (a key whose value is a
    block list), the key's colon.
    """
    rest = lines[node.end_mark.line][node.end_mark.column :].strip() if node.end_mark.line < len(lines) else ""
    if colon:
        rest = rest.removeprefix(":").strip()
    rest = rest.removeprefix(",").strip()
    return rest[1:].strip() if rest.startswith("#") else ""


def _text(node: yaml.Node, lines: list[str]) -> str:
    """A scalar as written in the file (whitespace of a folded value collapsed)."""
    if isinstance(node, yaml.SequenceNode):
        return "[" + ", ".join(_text(item, lines) for item in node.value) + "]"
    if isinstance(node, yaml.MappingNode):
        return "{" + ", ".join(f"{k.value}: {_text(v, lines)}" for k, v in node.value) + "}"
    start, end = node.start_mark, node.end_mark
    if start.line == end.line:
        raw = lines[start.line][start.column : end.column]
    else:
        raw = " ".join(
            [
                lines[start.line][start.column :],
                *lines[start.line + 1 : end.line],
                lines[end.line][: end.column],
            ]
        )
    return " ".join(raw.split())


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation
        else:
            return annotation


def _field(schema: type[BaseModel], keys: list[str]) -> FieldInfo | None:
    """The schema field a dotted path ends at (through nested settings and the values of dicts)."""
    node: Any = schema
    info: FieldInfo | None = None
    for key in keys:
        node = _unwrap(node)
        if isinstance(node, type) and issubclass(node, BaseModel):
            info = node.model_fields.get(key)
            if info is None:
                return None
            node = info.annotation
        elif get_origin(node) is dict:
            node = get_args(node)[1]
            info = None
        else:
            return None
    return info


def _inferred_unit(info: FieldInfo | None) -> str:
    """A unit for a setting missing from :data:`UNITS`, from its type (probability, true/false), else ""."""
    if info is None:
        return ""
    annotation = _unwrap(info.annotation)
    if annotation is bool:
        return "true/false"
    bounds = {type(m).__name__: getattr(m, type(m).__name__.lower(), None) for m in info.metadata}
    if annotation is float and bounds.get("Ge") == 0 and bounds.get("Le") == 1:
        return "probability"
    return ""


# --- the document ------------------------------------------------------------------------------------------
def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") if text else "—"


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.lower()).replace(" ", "-")


def render(sections: list[Section]) -> str:
    """The text of ``docs/parameters.md``."""
    params = [p for s in sections for p in s.parameters]
    assumptions = sum(p.is_assumption for p in params)
    sourced = sum(p.has_source and not p.is_assumption for p in params)
    out = [
        "# Parameters",
        "",
        f"<!-- Generated by `{COMMAND}` from the YAML files in conf/. Do not edit by hand. -->",
        "",
        f"Generated by `{COMMAND}` from the configs in `conf/`: do not edit this file. To change a default, "
        'edit the YAML file (the value and its end-of-line comment: the source, or the word "assumption"); '
        "meanings come from the schemas (`sim/core/config.py`, and each policing model's `Params` in "
        "`sim/mechanisms/`), units and the evidence list from `sim/evidence/parameters.py`, validation targets from "
        f"`validation/targets.yaml`. Then run `{COMMAND}`. `{COMMAND} --check` (run by the test suite) fails "
        "when a parameter has no source or this file is stale.",
        "",
        f"{len(params)} parameters in {len(sections)} files: {sourced} cite a source, "
        f"{assumptions} are assumptions"
        + (f", {missing} without a source" if (missing := len(params) - sourced - assumptions) else "")
        + ". Assumptions are there to be swept.",
        "",
        "A name is the setting's override path: `scripts/sim students.labelling_effect=0.3`. Scenario "
        "parameters (`scenario.params.*`) apply to the scenario whose file they are in: "
        "`scripts/sim scenario=embedded_officer scenario.mechanisms.police_lessons.lessons_per_week=0`. A borough that extends "
        "another (Hydra `defaults`) lists only what it changes. Labels (`name`), import paths "
        "(`policing_model`, `agents.*`) and Hydra's own settings are not parameters; the experiments in "
        "`experiments/` are sweeps over these.",
        "",
        "## Evidence and what it informs",
        "",
        "The figures of DESIGN.md §6 (and the feedback-loop paper of §4), the parameters whose source cites "
        "them, and the validation targets that test the model against them (`validation/targets.yaml`, "
        "checked by `python -m sim.validate`; docs/ODD.md §1).",
        "",
        "| quantity | value | source | parameters citing it | validation targets, notes |",
        "|---|---|---|---|---|",
    ]
    targets = validation_targets()
    for e in EVIDENCE:
        cited = dict.fromkeys(p.name for p in params if re.search(e.cited_as, p.comment))
        tested = [t["id"] for t in targets if re.search(e.cited_as, str(t.get("source", "")))]
        names = ", ".join(f"`{n}`" for n in cited) or "—"
        ids = "; ".join([*(f"`{t}`" for t in tested), *([e.note] if e.note else [])]) or "—"
        out.append(f"| {e.quantity} | {_cell(e.value)} | {e.source} | {names} | {_cell(ids)} |")
    out += ["", "## Files", ""]
    for s in sections:
        out.append(f"- [`conf/{s.file}`](#{_anchor(f'conf/{s.file}')}) ({len(s.parameters)})")
    for s in sections:
        out += ["", f"## conf/{s.file}", ""]
        if s.description:
            out += [s.description, ""]
        if s.inherits:
            bases = ", ".join(f"`conf/{b}`" for b in s.inherits)
            out += [f"Extends {bases}: only the settings it changes are listed.", ""]
        if not s.parameters:
            out.append("No parameters.")
            continue
        out += ["| name | default | unit | meaning | source |", "|---|---|---|---|---|"]
        for p in s.parameters:
            source = _cell(p.comment) if p.has_source else "**missing**"
            out.append(f"| `{p.name}` | `{_cell(p.default)}` | {_cell(p.unit)} | {_cell(p.meaning)} | {source} |")
    return "\n".join(out) + "\n"


# --- the check ---------------------------------------------------------------------------------------------
def missing_sources(sections: list[Section]) -> list[Parameter]:
    """The parameters whose value says nowhere where it comes from."""
    return [p for s in sections for p in s.parameters if not p.has_source]


def problems(conf_dir: Path = CONF_DIR, doc_path: Path = DOC_PATH) -> list[str]:
    """Everything ``--check`` reports: parameters without a source, and a missing or stale generated file."""
    sections = collect(conf_dir)
    out = [
        f"conf/{p.file}:{p.line}: {p.name} = {p.default} has no source: add an end-of-line comment naming "
        "its source, or '# assumption'"
        for p in missing_sources(sections)
    ]
    expected = render(sections)
    if not doc_path.exists():
        out.append(f"{_shown(doc_path)} is missing: run `{COMMAND}`")
    elif doc_path.read_text() != expected:
        out.append(f"{_shown(doc_path)} is stale (configs or schemas changed since it was made): run `{COMMAND}`")
    return out


def _shown(path: Path) -> str:
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
        help="do not write; exit 1 if a source is missing or the file is stale",
    )
    parser.add_argument("--conf-dir", type=Path, default=CONF_DIR, help="the config directory (default: conf/)")
    parser.add_argument(
        "--output", type=Path, default=DOC_PATH, help="the generated file (default: docs/parameters.md)"
    )
    args = parser.parse_args(argv)
    if args.check:
        found = problems(args.conf_dir, args.output)
        for line in found:
            print(f"error: {line}", file=sys.stderr)
        if found:
            return 1
        print(f"{_shown(args.output)} is up to date and every parameter has a source")
        return 0
    sections = collect(args.conf_dir)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(sections))
    missing = missing_sources(sections)
    for p in missing:
        print(f"warning: conf/{p.file}:{p.line}: {p.name} has no source", file=sys.stderr)
    print(f"wrote {_shown(args.output)} ({sum(len(s.parameters) for s in sections)} parameters)")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

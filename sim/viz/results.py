"""The view's results tab: a sweep folder's report, tables and figures, filtered by scenario and outcome.

A sweep folder is what ``python -m sim -m ...`` or ``scripts/main`` writes under ``results/<name>/``: ``report.md``,
``summary.csv`` (one row per scenario and metric), ``contributions.csv`` (leave-one-out terms, when run) and
``figures/*.png``. The report is rendered on the server (python-markdown) with its figures inlined, so the page
fetches nothing.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import markdown
import pandas as pd
import solara

from sim.core.paths import ROOT

ALL = "(all)"
TABLES = ("summary.csv", "contributions.csv")
OUTCOME_COLUMNS = ("metric", "outcome")  # the column naming the outcome in each table


@dataclass
class Sweep:
    """What a sweep folder holds."""

    folder: Path
    report: str = ""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: list[Path] = field(default_factory=list)

    @property
    def scenarios(self) -> list[str]:
        """The scenarios named in its tables."""
        names = {str(s) for t in self.tables.values() if "scenario" in t for s in t["scenario"].dropna().unique()}
        return sorted(names)

    @property
    def outcomes(self) -> list[str]:
        """The outcomes named in its tables."""
        return sorted(
            {str(v) for t in self.tables.values() for c in OUTCOME_COLUMNS if c in t for v in t[c].dropna().unique()}
        )


def open_sweep(folder: str | Path) -> Sweep:
    """Read a sweep folder (relative paths are from the repository root).

    Raises:
        ValueError: when the folder does not exist or holds no report, table or figure.
    """
    path = Path(folder).expanduser()
    if not path.is_absolute():
        path = ROOT / path
    if not path.is_dir():
        raise ValueError(f"{folder}: no such folder")
    sweep = Sweep(path)
    if (path / "report.md").is_file():
        sweep.report = (path / "report.md").read_text()
    for name in TABLES:
        if (path / name).is_file():
            sweep.tables[name] = pd.read_csv(path / name)
    sweep.figures = sorted((path / "figures").glob("*.png")) if (path / "figures").is_dir() else []
    if not (sweep.report or sweep.tables or sweep.figures):
        raise ValueError(f"{folder}: not a sweep folder (no report.md, {', '.join(TABLES)} or figures/*.png)")
    return sweep


def filtered(table: pd.DataFrame, scenario: str = ALL, outcome: str = ALL) -> pd.DataFrame:
    """The rows of a table for one scenario and/or one outcome (``(all)``: no filter)."""
    keep = pd.Series(True, index=table.index)
    if scenario != ALL and "scenario" in table:
        keep &= table["scenario"].astype(str) == scenario
    for column in OUTCOME_COLUMNS:
        if outcome != ALL and column in table:
            keep &= table[column].astype(str) == outcome
    return table[keep]


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def report_html(sweep: Sweep) -> str:
    """The report as HTML, its figures inlined (images the folder does not have are dropped)."""
    text = markdown.markdown(sweep.report, extensions=["tables", "fenced_code"])

    def inline(match: re.Match[str]) -> str:
        figure = sweep.folder / html.unescape(match.group(2))
        if figure.is_file() and figure.resolve().is_relative_to(sweep.folder.resolve()):
            return f'{match.group(1)}"{_data_uri(figure)}" style="max-width: 100%"'
        return ""

    text = re.sub(r'(<img[^>]*?src=)"([^"]+)"', inline, text)
    return text.replace("<table>", '<table class="sweep-table">')


STYLE = """
.sweep-report table, .sweep-table { border-collapse: collapse; font-size: 12px; margin: 8px 0; }
.sweep-report th, .sweep-report td, .sweep-table th, .sweep-table td { border: 1px solid #ccc; padding: 2px 6px; }
"""


def _try_open(folder: str) -> tuple[Sweep | None, str]:
    try:
        return open_sweep(folder), ""
    except ValueError as err:
        return None, str(err)


@solara.component
def Results() -> None:
    """Open a sweep folder; browse its report, tables (filtered by scenario and outcome) and figures."""
    folder = solara.use_reactive("results/compare_scenarios")
    scenario = solara.use_reactive(ALL)
    outcome = solara.use_reactive(ALL)
    sweep, problem = solara.use_memo(lambda: _try_open(folder.value), [folder.value])
    report = solara.use_memo(lambda: report_html(sweep) if sweep and sweep.report else "", [folder.value])
    solara.Style(STYLE)
    solara.InputText("Sweep folder", value=folder, continuous_update=False)
    if sweep is None:
        solara.Warning(f"{problem}. Run a sweep first (scripts/main writes results/compare_scenarios).")
        return
    with solara.Row():
        solara.Select("Scenario", value=scenario, values=[ALL, *sweep.scenarios])
        solara.Select("Outcome", value=outcome, values=[ALL, *sweep.outcomes])
    for name, table in sweep.tables.items():
        rows = filtered(table, scenario.value, outcome.value)
        solara.HTML(tag="h3", unsafe_innerHTML=f"{html.escape(name)}: {len(rows)} of {len(table)} rows")
        shown = rows.head(300).to_html(index=False, classes="sweep-table", float_format=lambda v: f"{v:,.4g}")
        solara.HTML(tag="div", unsafe_innerHTML=shown, style={"overflow-x": "auto", "max-height": "420px"})
    if sweep.figures:
        solara.HTML(tag="h3", unsafe_innerHTML="Figures")
        for figure in sweep.figures:
            solara.HTML(tag="div", unsafe_innerHTML=f"<b>{html.escape(figure.stem)}</b>")
            solara.Image(str(figure), width="900px")
    if report:
        with solara.Details("Report (report.md)", expand=False):
            solara.HTML(tag="div", unsafe_innerHTML=report, classes=["sweep-report"])

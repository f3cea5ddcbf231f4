"""Provenance of parameters (placeholder until the provenance work lands): ``param()`` declares a setting."""

from __future__ import annotations

from typing import Any

from pydantic import Field


def param(
    default: Any,
    *,
    unit: str,
    source: str,
    meaning: str,
    range: tuple[float, float] | None = None,  # noqa: A002
) -> Any:
    """A pydantic field with its default, unit, meaning, source and plausible range."""
    extra: dict[str, Any] = {"unit": unit, "source": source}
    if range is not None:
        extra["range"] = list(range)
    bounds = {"ge": range[0], "le": range[1]} if range is not None else {}
    return Field(default=default, description=meaning, json_schema_extra=extra, **bounds)

"""Provenance in one place: each parameter declares its value, unit, meaning, source and plausible range together.

A schema declares a parameter with :func:`param` instead of ``pydantic.Field``::

    labelling_effect: NonNegative = param(
        0.2,
        unit="proportional rise per crime record",
        range=(0, 3),
        source="assumption: a crime record raises later risk by 20% (labelling; Liberty 2025)",
        meaning="Proportional rise in baseline propensity per crime record",
    )

The default is the value; ``meaning`` becomes the field's description; unit, source and range are stored in the
field's JSON-schema extras, so they travel with the schema. The range is enforced: a value outside it (or NaN or
infinity) is refused when the model is validated, with one message naming the value, the range and the source.
For a list (a value by severity) the range applies to each element. Labels and other settings that are not model
parameters are declared with :func:`label`.

:func:`parameters` walks any pydantic model (class or instance) and lists its parameters with their provenance.
Two rules let data say where a value comes from when the schema cannot: a model with a ``source`` field (one entry
of a catalogue, e.g. an incident type) gives that source to each of its settings that declares none, and a model
with a ``sources`` mapping (a variant file: setting name -> source) overrides the declared source of the settings
it names.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import AfterValidator, BaseModel, Field
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError, PydanticUndefined

RANGE_ERROR = "outside_plausible_range"
NOT_A_PARAMETER = {"parameter": False}


def param(
    default: Any = PydanticUndefined,
    *,
    unit: str,
    meaning: str,
    source: str | None = None,
    range: tuple[float, float] | None = None,
) -> Any:
    """A parameter's declaration: its default, unit, meaning, source and plausible range, in one place.

    Args:
        default: the value (omit it for a setting every entry must give, e.g. in a catalogue entry).
        unit: what the number counts ("probability", "school days", "true/false", ...).
        meaning: what the setting does (becomes the field's description).
        source: a citation, or a string beginning "assumption"; omit it only inside a model whose ``source``
            field gives the source of every entry (see :func:`parameters`).
        range: the plausible ``(low, high)``, inclusive; values outside it are refused. Omit it for labels,
            booleans and choices (a ``Literal``), whose allowed values are their type.

    Returns:
        A pydantic ``FieldInfo`` to use as the field's default (``name: float = param(...)``).
    """
    extra: dict[str, Any] = {"unit": unit}
    if source is not None:
        extra["source"] = source
    if range is not None:
        low, high = range
        if not low <= high:
            raise ValueError(f"range {list(range)} is empty")
        extra["range"] = [low, high]
    info = Field(default=default, description=meaning, json_schema_extra=extra, validate_default=True)
    if range is not None:
        check = _range_check(range[0], range[1], source)
        if default is not PydanticUndefined:
            try:
                check(default)
            except PydanticCustomError as err:
                raise ValueError(f"the default is outside its own range: {err}") from None
        info.metadata.append(AfterValidator(check))
    return info


def label(default: Any = PydanticUndefined, *, meaning: str) -> Any:
    """A setting that is not a model parameter (a name used in outputs): no unit, source or range."""
    return Field(default=default, description=meaning, json_schema_extra=dict(NOT_A_PARAMETER))


def _range_check(low: float, high: float, source: str | None) -> Any:
    """A validator refusing a number (or any element of a list) outside ``[low, high]``, NaN or infinity."""

    def check(value: Any) -> Any:
        for x in value if isinstance(value, list | tuple) else [value]:
            if isinstance(x, int | float) and not (math.isfinite(x) and low <= x <= high):
                where = f"{value!r}" if x is value else f"{x!r} (in {value!r})"
                why = f" ({source})" if source else ""
                raise PydanticCustomError(
                    RANGE_ERROR,
                    "{where} is outside the plausible range [{low}, {high}]{why}",
                    {"where": where, "low": low, "high": high, "why": why},
                )
        return value

    return check


@dataclass(frozen=True)
class Parameter:
    """One parameter and what is known about it."""

    name: str  # dotted override path, e.g. ``students.labelling_effect``
    value: Any  # the default (walking a class) or the value (walking an instance); None if required
    unit: str = ""
    meaning: str = ""
    source: str = ""  # a citation, or a string beginning "assumption"
    range: tuple[float, float] | None = None  # plausible [low, high], inclusive
    choices: tuple[Any, ...] | None = None  # the allowed values of a boolean or a Literal

    @property
    def is_numeric(self) -> bool:
        """Whether the value is a number or a list of numbers (so it needs a plausible range)."""
        values = self.value if isinstance(self.value, list | tuple) else [self.value]
        return bool(values) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)

    @property
    def is_assumption(self) -> bool:
        """Whether the source says it is an assumption."""
        return self.source.lower().startswith("assumption")

    def missing(self) -> list[str]:
        """What the declaration lacks: "unit", "source", "meaning", "range" (a number without one)."""
        out = [what for what in ("unit", "source", "meaning") if not getattr(self, what).strip()]
        if self.is_numeric and self.range is None:
            out.append("range")
        return out


def provenance(info: FieldInfo) -> dict[str, Any]:
    """The unit, source and range a field declares (empty for a field declared without :func:`param`)."""
    extra = info.json_schema_extra
    return dict(extra) if isinstance(extra, dict) else {}


def is_parameter(info: FieldInfo) -> bool:
    """Whether a field is a parameter (not a :func:`label`, a ``source`` or a ``sources`` mapping)."""
    return provenance(info).get("parameter", True) is not False


def parameters(
    model: type[BaseModel] | BaseModel,
    prefix: str = "",
    sources: dict[str, str] | None = None,
    include: Collection[str] | None = None,
) -> list[Parameter]:
    """Every parameter of a pydantic model (class or instance), nested settings and catalogue entries included.

    A class whose fields all have defaults is walked as its default instance; otherwise its fields' declared
    defaults are listed (None where a value is required).

    Args:
        model: the model class or instance.
        prefix: prepended to every name (e.g. ``"students."``).
        sources: sources by name relative to ``model``, overriding the declared ones (used for nesting).
        include: only these top-level fields (default: all).

    Returns:
        The parameters in declaration order, named by their dotted path.
    """
    if isinstance(model, type):
        instance = _default_instance(model)
        if instance is None:
            return _walk_class(model, prefix, include)
        model = instance
    cls = type(model)
    own = getattr(model, "sources", None) if "sources" in cls.model_fields else None
    sources = {**(sources or {}), **(own or {})}
    entry_source = getattr(model, "source", None) if "source" in cls.model_fields else None
    out: list[Parameter] = []
    for name, info in _fields(cls, include):
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            out += parameters(value, f"{prefix}{name}.", _below(sources, name))
        elif isinstance(value, dict) and value and all(isinstance(v, BaseModel) for v in value.values()):
            for key, item in value.items():
                out += parameters(item, f"{prefix}{name}.{key}.", _below(sources, f"{name}.{key}"))
        else:
            out.append(_leaf(f"{prefix}{name}", value, info, sources.get(name) or entry_source))
    return out


def _default_instance(model: type[BaseModel]) -> BaseModel | None:
    if any(info.is_required() for info in model.model_fields.values()):
        return None
    return model()


def _fields(model: type[BaseModel], include: Collection[str] | None) -> list[tuple[str, FieldInfo]]:
    """The parameter fields of a model (labels and sources left out), only those in ``include`` if given."""
    return [
        (name, info)
        for name, info in model.model_fields.items()
        if is_parameter(info) and (include is None or name in include)
    ]


def _walk_class(model: type[BaseModel], prefix: str, include: Collection[str] | None) -> list[Parameter]:
    out: list[Parameter] = []
    for name, info in _fields(model, include):
        nested = _model_class(info.annotation)
        if nested is not None and info.is_required():
            out += parameters(nested, f"{prefix}{name}.")
        else:
            value = None if info.is_required() else info.get_default(call_default_factory=True)
            out.append(_leaf(f"{prefix}{name}", value, info, None))
    return out


def _below(sources: dict[str, str], name: str) -> dict[str, str]:
    """The sources under ``name``, renamed relative to it."""
    head = name + "."
    return {k.removeprefix(head): v for k, v in sources.items() if k.startswith(head)}


def _leaf(name: str, value: Any, info: FieldInfo, override: str | None) -> Parameter:
    extra = provenance(info)
    low_high = extra.get("range")
    return Parameter(
        name=name,
        value=value,
        unit=str(extra.get("unit", "")),
        meaning=info.description or "",
        source=override or str(extra.get("source", "")),
        range=(low_high[0], low_high[1]) if low_high else None,
        choices=_choices(info.annotation),
    )


def _strip_annotated(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _model_class(annotation: Any) -> type[BaseModel] | None:
    annotation = _strip_annotated(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _choices(annotation: Any) -> tuple[Any, ...] | None:
    annotation = _strip_annotated(annotation)
    if annotation is bool:
        return (True, False)
    if get_origin(annotation) is Literal:
        return get_args(annotation)
    return None

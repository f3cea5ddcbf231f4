"""The validated configuration of one simulation run.

Hydra composes the YAML files in ``conf/``; :func:`validate_config` checks the result against the schemas here
before any work starts, so that a wrong type, an out-of-range value or an unknown key is reported by the name of
the setting and what it allows. Values live in the YAML files (each with its source); the schemas say what is
allowed and what each setting means.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
Count = Annotated[int, Field(ge=0)]
Severity = Annotated[int, Field(ge=1, le=5)]
BySeverity = Annotated[list[Probability], Field(min_length=5, max_length=5)]
HoursBySeverity = Annotated[list[NonNegative], Field(min_length=5, max_length=5)]


class ConfigError(ValueError):
    """A configuration that cannot be run, with every offending setting named."""


class Settings(BaseModel):
    """Base for every configuration section: unknown keys are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class BoroughConfig(Settings):
    """The borough: schools, wards, routes and local support services."""

    name: str = Field(description="Borough label used in outputs")
    primary_schools: Count = Field(description="Number of primary schools")
    secondary_schools: Count = Field(description="Number of secondary schools")
    primary_pupils_mean: Positive = Field(description="Mean pupils per primary school")
    secondary_pupils_mean: Positive = Field(description="Mean pupils per secondary school")
    school_size_cv: NonNegative = Field(description="Coefficient of variation of school size")
    class_size_primary: Positive = Field(description="Pupils per class (one teacher each), primary")
    class_size_secondary: Positive = Field(description="Pupils per class (one teacher each), secondary")
    wards: Annotated[int, Field(ge=1)] = Field(description="Number of neighbourhoods (wards)")
    over_policed_ward_share: Probability = Field(description="Share of wards with a high policing intensity")
    over_policed_student_share_in_over_policed_wards: Probability = Field(
        description="Share of students from over-policed communities among those living in over-policed wards"
    )
    over_policed_student_share_elsewhere: Probability = Field(
        description="Share of students from over-policed communities among those living in other wards"
    )
    catchment_wards: Annotated[int, Field(ge=1)] = Field(description="Wards a school draws its pupils from")
    route_risk_sigma: NonNegative = Field(description="Log-normal spread of the true street-incident risk of routes")
    youth_workers_per_1000_pupils: NonNegative = Field(description="Youth workers (non-statutory) per 1,000 pupils")
    youth_work_caseload: Count = Field(description="Cases one youth worker holds at once")
    youth_work_case_days: Annotated[int, Field(ge=1)] = Field(description="School days a youth-work case lasts")
    mental_health_slots_per_1000_pupils: NonNegative = Field(
        description="Mental-health support places open at once per 1,000 pupils"
    )
    mental_health_case_days: Annotated[int, Field(ge=1)] = Field(description="School days a mental-health case lasts")
    support_funding_multiplier: NonNegative = Field(
        description="Multiplier on youth-work and mental-health capacity (1 = today's provision)"
    )

    @model_validator(mode="after")
    def _has_schools(self) -> BoroughConfig:
        if self.primary_schools + self.secondary_schools == 0:
            raise ValueError("a borough needs at least one school (primary_schools + secondary_schools > 0)")
        if self.catchment_wards > self.wards:
            raise ValueError(f"catchment_wards ({self.catchment_wards}) cannot exceed wards ({self.wards})")
        return self


class IncidentTypeConfig(Settings):
    """One type of incident in the catalogue, with its ground-truth probability of needing criminal justice."""

    kind: Literal["offending", "wellbeing"] = Field(description="Offending behaviour or a wellbeing crisis")
    severity: Severity = Field(description="Severity, 1 (low-level) to 5 (most serious)")
    cj_appropriate_probability: Probability = Field(
        description="Probability that a criminal-justice response is appropriate for an incident of this type"
    )
    recordable: bool = Field(description="A notifiable crime that police must record once told (NCRS)")
    indictable: bool = Field(description="Indictable: the Schools Protocol does not let the school handle it alone")
    serious: bool = Field(description="Serious: counts on the safety side; staff always call police (emergency)")
    rate_primary: NonNegative = Field(description="In-school incidents per 1,000 primary pupils per school year")
    rate_secondary: NonNegative = Field(description="In-school incidents per 1,000 secondary pupils per school year")
    street_rate_primary: NonNegative = Field(description="School-run incidents per 1,000 primary pupils per year")
    street_rate_secondary: NonNegative = Field(description="School-run incidents per 1,000 secondary pupils per year")
    found_by_stop_weight: NonNegative = Field(
        default=0.0, description="Relative chance that a stop-search finds this (possession offences)"
    )

    @model_validator(mode="after")
    def _wellbeing_not_crime(self) -> IncidentTypeConfig:
        if self.kind == "wellbeing" and (self.recordable or self.cj_appropriate_probability > 0):
            raise ValueError("a wellbeing incident cannot be recordable or need a criminal-justice response")
        return self


class IncidentsConfig(Settings):
    """The incident catalogue and how incidents come to light."""

    types: dict[str, IncidentTypeConfig] = Field(description="Incident catalogue by name")
    staff_notice_by_severity: BySeverity = Field(description="Probability staff notice an in-school incident")
    public_report_by_severity: BySeverity = Field(
        description="Probability a school-run incident is reported to police by the public"
    )

    @field_validator("types")
    @classmethod
    def _non_empty(cls, v: dict[str, IncidentTypeConfig]) -> dict[str, IncidentTypeConfig]:
        if not v:
            raise ValueError("the incident catalogue needs at least one type")
        return v


class StudentsConfig(Settings):
    """Students' latent state and how it responds to what happens to them."""

    propensity_sigma: NonNegative = Field(description="Log-normal spread of baseline propensity (mean 1)")
    need_sigma: NonNegative = Field(description="Log-normal spread of wellbeing need (mean 1)")
    drift_rate: Probability = Field(description="Daily pull of propensity back to the student's baseline")
    drift_noise: NonNegative = Field(description="Daily standard deviation of log-propensity noise")
    over_policed_propensity_ratio: Positive = Field(
        description="True propensity of over-policed-community students relative to others"
    )
    max_propensity: Annotated[float, Field(gt=1.0)] = Field(
        description="Ceiling on a student's propensity (multiple of the average), so labelling cannot run away"
    )
    labelling_effect: NonNegative = Field(description="Proportional rise in baseline propensity per crime record")
    labelling_engagement_loss: Probability = Field(description="Engagement lost per crime record")
    exclusion_engagement_loss: Probability = Field(description="Engagement lost per exclusion")
    disengagement_risk: NonNegative = Field(
        description="Extra incident risk at zero engagement (risk x (1 + this x (1 - engagement)))"
    )
    youth_work_effect: Probability = Field(description="Proportional fall in propensity after a full youth-work case")
    mental_health_effect: Probability = Field(description="Proportional fall in need after a full mental-health case")
    police_lesson_effect: Annotated[float, Field(ge=-1.0, le=1.0)] = Field(
        description="Proportional change in propensity per police-delivered lesson"
    )
    secondary_years: Annotated[int, Field(ge=1)] = Field(description="Year groups in a secondary school")
    primary_years: Annotated[int, Field(ge=1)] = Field(description="Year groups in a primary school")


class StaffConfig(Settings):
    """Teachers' decisions."""

    referral_tolerance_mean: Annotated[float, Field(ge=0.0, le=6.0)] = Field(
        description="Mean severity a teacher needs before calling police"
    )
    referral_tolerance_sd: NonNegative = Field(description="Spread of referral tolerance between teachers")
    proximity_shift: NonNegative = Field(
        description="Fall in referral tolerance (severity levels) when an officer is on site"
    )
    youth_work_referral_propensity: NonNegative = Field(
        description="Risk (propensity raised by disengagement) from which a teacher refers an offender to youth work"
    )
    youth_work_diversion: Probability = Field(
        description="Probability a student's youth worker takes on a non-serious incident instead of police"
    )
    escalate_when_no_capacity: Probability = Field(
        description="Probability a teacher calls police when the support a student needs is full"
    )
    police_work_hours_by_severity: HoursBySeverity = Field(
        description="Teacher hours of police-like work (investigating, searching) per offending incident handled"
    )
    pastoral_hours_per_crisis: NonNegative = Field(description="Teacher hours per wellbeing crisis handled alone")
    exclusion_by_severity: BySeverity = Field(description="Probability school discipline is an exclusion")
    police_exclusion_multiplier: NonNegative = Field(
        description="Multiplier on exclusion probability when police were involved"
    )


class PoliceConfig(Settings):
    """Officers' decisions, common to every policing model."""

    recording_by_severity: BySeverity = Field(
        description="Probability an officer records a recordable incident as a crime"
    )
    over_policed_recording_odds: Positive = Field(
        description="Odds multiplier on recording for students from over-policed communities"
    )
    over_policed_stop_weight: Positive = Field(
        description="Relative chance a student from an over-policed community is picked for a stop or approach"
    )
    schools_protocol_use: Probability = Field(
        description="Probability a non-indictable in-school incident is left to the school (Schools Protocol)"
    )
    officer_notice_by_severity: BySeverity = Field(description="Probability an on-site officer sees an incident")
    hours_incident_response: NonNegative = Field(description="Officer hours per incident attended")
    hours_crime_record: NonNegative = Field(description="Extra officer hours per crime recorded")
    hours_consultation: NonNegative = Field(description="Officer hours per advice consultation")


class AgentsConfig(Settings):
    """Import paths of the agent classes: point one at a subclass of your own to change a rule.

    A configuration is code: the module named is imported (and its top-level code runs) when the configuration is
    checked, as with Hydra's ``instantiate``.
    """

    school: str = Field(description="School agent class")
    student: str = Field(description="Student agent class")
    teacher: str = Field(description="Teacher agent class")
    youth_worker: str = Field(description="Youth worker agent class")
    officer: str = Field(description="Officer agent class")


class ScenarioConfig(Settings):
    """A policing model: the mechanisms it is made of, in order, each with its parameters.

    ``mechanisms`` maps a mechanism's name to its parameters (those not given take the mechanism's defaults). A
    built-in mechanism is named by its name alone (``sim.core.mechanism.BUILT_IN_MECHANISMS``); any other gives its
    class as ``class: package.module.Class`` among its parameters. The classes and parameters are checked by
    :func:`sim.core.configure.validate_config`.
    """

    name: str = Field(min_length=1, description="Scenario label used in outputs")
    description: str = Field(default="", description="What the policing model is, in a sentence")
    mechanisms: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="The policing mechanisms, in order: name -> parameters"
    )

    @field_validator("mechanisms", mode="before")
    @classmethod
    def _none_is_empty(cls, v: Any) -> Any:
        """``name:`` with nothing after it (YAML null) is a mechanism with its default parameters."""
        if isinstance(v, dict):
            return {k: ({} if p is None else p) for k, p in v.items()}
        return v


class OutputConfig(Settings):
    """What a run writes."""

    daily: bool = Field(description="Write daily.parquet (one row per day per school)")


class SimConfig(Settings):
    """Everything one run needs."""

    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = Field(description="Seed of every random stream")
    days: Annotated[int, Field(ge=1, le=3650)] = Field(description="School days to simulate (190 = one year)")
    borough: BoroughConfig
    scenario: ScenarioConfig
    incidents: IncidentsConfig
    students: StudentsConfig
    staff: StaffConfig
    police: PoliceConfig
    agents: AgentsConfig
    output: OutputConfig


def _allowed_names(schema: type[BaseModel] | None, loc: tuple) -> list[str] | None:
    """The setting names allowed beside the unknown one at ``loc`` (None if the schema cannot be walked)."""
    from typing import get_args, get_origin

    node: Any = schema
    for part in loc[:-1]:
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(str(part))
            if field is None:
                return None
            node = field.annotation
        elif get_origin(node) is dict:
            node = get_args(node)[1]
        else:
            return None
        while get_origin(node) is Annotated:
            node = get_args(node)[0]
    if isinstance(node, type) and issubclass(node, BaseModel):
        return sorted(node.model_fields)
    return None


def format_validation_error(err: ValidationError, prefix: str = "", schema: type[BaseModel] | None = None) -> str:
    """Turn a pydantic error into one line per offending setting, named by its dotted path."""
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in (prefix.split(".") if prefix else []) + list(e["loc"]))
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            allowed = _allowed_names(schema, tuple(e["loc"]))
            hint = f"; allowed here: {', '.join(allowed)}" if allowed else ""
            lines.append(f"  {loc}: unknown setting{hint}")
        elif e["type"] == "missing":
            lines.append(f"  {loc}: required setting is missing")
        else:
            got = e.get("input")
            shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
            lines.append(f"  {loc or '<root>'}: {msg}{shown}")
    return "\n".join(lines)

"""The validated configuration of one simulation run.

Every parameter is declared here once, with :func:`~sim.core.parameters.param`: its default, unit, meaning,
source (a citation, or "assumption") and plausible range. Hydra composes ``conf/config.yaml``, whose default groups
(``borough: hackney``, ``students: default``, ...) are these schema defaults (registered by
:func:`sim.core.compose.register_defaults`); a variant file in ``conf/`` (``borough/small.yaml``) sets some values
and names the source of each in ``sources``. :func:`sim.core.configure.validate_config` checks the result against
the schemas before any work starts, so that a wrong type, a value outside its plausible range or an unknown key is
reported by the name of the setting and what it allows.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.core.parameters import NOT_A_PARAMETER, RANGE_ERROR, is_parameter, label, param

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


class SectionSettings(Settings):
    """A configuration group (borough, incidents, students, staff, police) whose defaults are in this schema.

    A variant file (``conf/borough/small.yaml``) sets some values and names the source of each in ``sources``.
    """

    sources: dict[str, str] = Field(
        default_factory=dict,
        description="Sources of the values a variant file sets: setting name (dotted below this section) -> source",
        json_schema_extra=dict(NOT_A_PARAMETER),
    )

    @model_validator(mode="after")
    def _sources_name_settings(self) -> SectionSettings:
        fields = type(self).model_fields
        for name, source in self.sources.items():
            head = name.split(".")[0]
            if head not in fields or not is_parameter(fields[head]):
                settings = sorted(n for n, info in fields.items() if is_parameter(info))
                raise ValueError(f"sources names {name!r}, which is not a setting here; settings: {settings}")
            if not source.strip():
                raise ValueError(f"sources gives {name!r} an empty source")
        return self


class BoroughConfig(SectionSettings):
    """The borough: schools, wards, routes and local support services (defaults: Hackney)."""

    name: str = label("hackney", meaning="Borough label used in outputs")
    primary_schools: Count = param(
        58,
        unit="schools",
        range=(0, 2500),
        source="Hackney JSNA (range: up to London scale, ~1,800-2,000 state primaries)",
        meaning="Number of primary schools",
    )
    secondary_schools: Count = param(
        15,
        unit="schools",
        range=(0, 600),
        source="Hackney JSNA (range: up to London scale, ~500 state secondaries)",
        meaning="Number of secondary schools",
    )
    primary_pupils_mean: Positive = param(
        350.0,
        unit="pupils per school",
        range=(50, 1000),
        source="assumption: with 900 per secondary gives ~33k pupils, the size of Hackney's school population (30-35k)",
        meaning="Mean pupils per primary school",
    )
    secondary_pupils_mean: Positive = param(
        900.0,
        unit="pupils per school",
        range=(200, 2000),
        source="assumption: see primary_pupils_mean",
        meaning="Mean pupils per secondary school",
    )
    school_size_cv: NonNegative = param(
        0.3,
        unit="coefficient of variation",
        range=(0, 1),
        source="assumption",
        meaning="Coefficient of variation of school size",
    )
    class_size_primary: Positive = param(
        26.6,
        unit="pupils per class",
        range=(10, 35),
        source="DfE school census 2023/24 (infant classes)",
        meaning="Pupils per class (one teacher each), primary",
    )
    class_size_secondary: Positive = param(
        22.4,
        unit="pupils per class",
        range=(10, 35),
        source="DfE school census 2023/24 (secondary classes)",
        meaning="Pupils per class (one teacher each), secondary",
    )
    wards: Annotated[int, Field(ge=1)] = param(
        21,
        unit="wards",
        range=(1, 1000),
        source="Hackney has 21 wards (2014 boundaries); range: up to London's ~680",
        meaning="Number of neighbourhoods (wards)",
    )
    over_policed_ward_share: Probability = param(
        0.33,
        unit="share of wards (0-1)",
        range=(0, 1),
        source="assumption",
        meaning="Share of wards with a high policing intensity",
    )
    over_policed_student_share_in_over_policed_wards: Probability = param(
        0.5,
        unit="share of students (0-1)",
        range=(0, 1),
        source="assumption",
        meaning="Share of students from over-policed communities among those living in over-policed wards",
    )
    over_policed_student_share_elsewhere: Probability = param(
        0.1,
        unit="share of students (0-1)",
        range=(0, 1),
        source="assumption",
        meaning="Share of students from over-policed communities among those living in other wards",
    )
    catchment_wards: Annotated[int, Field(ge=1)] = param(
        3,
        unit="wards",
        range=(1, 20),
        source="assumption: a school draws from its own ward and two neighbours",
        meaning="Wards a school draws its pupils from",
    )
    route_risk_sigma: NonNegative = param(
        0.8,
        unit="SD of log risk",
        range=(0, 2),
        source="assumption: street risk is concentrated on a few routes",
        meaning="Log-normal spread of the true street-incident risk of routes",
    )
    youth_workers_per_1000_pupils: NonNegative = param(
        0.5,
        unit="youth workers per 1,000 pupils",
        range=(0, 10),
        source="assumption: under-funded youth services (Liberty 2025)",
        meaning="Youth workers (non-statutory) per 1,000 pupils",
    )
    youth_work_caseload: Count = param(
        12,
        unit="cases per youth worker",
        range=(0, 40),
        source="assumption",
        meaning="Cases one youth worker holds at once",
    )
    youth_work_case_days: Annotated[int, Field(ge=1)] = param(
        60,
        unit="school days",
        range=(1, 190),
        source="assumption: about a term (range: up to a school year)",
        meaning="School days a youth-work case lasts",
    )
    mental_health_slots_per_1000_pupils: NonNegative = param(
        4.0,
        unit="places per 1,000 pupils",
        range=(0, 50),
        source="assumption: under-funded mental-health provision (Liberty 2025)",
        meaning="Mental-health support places open at once per 1,000 pupils",
    )
    mental_health_case_days: Annotated[int, Field(ge=1)] = param(
        40, unit="school days", range=(1, 190), source="assumption", meaning="School days a mental-health case lasts"
    )
    support_funding_multiplier: NonNegative = param(
        1.0,
        unit="multiplier",
        range=(0, 10),
        source="assumption: today's provision (the capacities above); sweep it to see police work that exists because "
        "support is short (experiments sweep 0.5-4)",
        meaning="Multiplier on youth-work and mental-health capacity (1 = today's provision)",
    )
    # Welfare demand on police outside school (docs/ODD.md §7.15): missing-child reports and mental-health crises
    # that end with police attending, because no support service answers them.
    missing_reports_per_1000_primary: NonNegative = param(
        5.0,
        unit="reports per 1,000 primary pupils per year",
        range=(0, 20),
        source="NCA UK Missing Persons Bureau 2016/17: 179,953 missing-child incidents in England and Wales (about 14 "
        "per 1,000 under-18s); about 80% are of 12-17-year-olds (NCA UKMPU 2019/20: 159,274 of 198,943), leaving ~4-6 "
        "per 1,000 5-11-year-olds (range: 0 to three times that)",
        meaning="Missing-child reports to police per 1,000 primary pupils per year (at average wellbeing need)",
    )
    missing_reports_per_1000_secondary: NonNegative = param(
        36.0,
        unit="reports per 1,000 secondary pupils per year",
        range=(0, 80),
        source="NCA UK Missing Persons Bureau 2016/17 and UKMPU 2019/20: ~145,000-160,000 missing incidents a year of "
        "12-17-year-olds in England and Wales, ~4 million of that age: ~36-40 per 1,000 (many are repeat episodes of a "
        "few children, e.g. missing from care); range: half to twice that across areas",
        meaning="Missing-child reports to police per 1,000 secondary pupils per year (at average wellbeing need)",
    )
    mental_health_crises_per_1000_primary: NonNegative = param(
        1.0,
        unit="crises per 1,000 primary pupils per year",
        range=(0, 5),
        source="assumption: out-of-school mental-health crises for which someone calls police (no national count by "
        "age); far rarer than in secondary ages",
        meaning="Out-of-school mental-health crises reported to police per 1,000 primary pupils per year",
    )
    mental_health_crises_per_1000_secondary: NonNegative = param(
        8.0,
        unit="crises per 1,000 secondary pupils per year",
        range=(0, 30),
        source="assumption (no national count of police-attended crises of children): well above the 753 section 136 "
        "detentions of under-18s in 2013-14 (Home Affairs Committee 2015; ~0.15 per 1,000 10-17-year-olds), as most "
        "attendances end without detention; mental-state incidents are 5.1% of police contacts from the public "
        "(Kane, Cattell & Wire 2021)",
        meaning="Out-of-school mental-health crises reported to police per 1,000 secondary pupils per year",
    )
    services_answer_crisis_share: Probability = param(
        0.22,
        unit="share of crises at today's provision",
        range=(0, 0.6),
        source="Humberside Police before Right Care, Right Person (HMICFRS PEEL 2022; College of Policing smarter "
        "practice): officers deployed to 78% of 25,000 a year concern-for-welfare, mental-health and missing calls, "
        "so ~22% went to other services; range: none to RCRP-like arrangements",
        meaning="Share of mental-health crises reported to police that a support service answers instead, at today's "
        "provision (it scales with support_funding_multiplier)",
    )
    police_attend_crisis_floor: Probability = param(
        0.1,
        unit="share of crises",
        range=(0, 0.5),
        source="assumption: Right Care, Right Person keeps a police response where there is a real and immediate risk "
        "to life or of serious harm (National Partnership Agreement 2023)",
        meaning="Share of mental-health crises police attend however much support there is (risk to life)",
    )

    @model_validator(mode="after")
    def _has_schools(self) -> BoroughConfig:
        if self.primary_schools + self.secondary_schools == 0:
            raise ValueError("a borough needs at least one school (primary_schools + secondary_schools > 0)")
        if self.catchment_wards > self.wards:
            raise ValueError(f"catchment_wards ({self.catchment_wards}) cannot exceed wards ({self.wards})")
        return self


class IncidentTypeConfig(Settings):
    """One type of incident in the catalogue, with its ground-truth probability of needing criminal justice.

    The ranges are absolute, the same for every type: rates up to one incident of a type per pupil per school year
    in school (the catalogue's highest is 300 per 1,000), a tenth of that on the school run.
    """

    source: str = Field(
        min_length=1,
        description="Where this type's figures come from (a citation, or 'assumption...'): the source of each setting",
        json_schema_extra=dict(NOT_A_PARAMETER),
    )
    kind: Literal["offending", "wellbeing"] = param(
        unit="offending / wellbeing", meaning="Offending behaviour or a wellbeing crisis"
    )
    severity: Severity = param(
        unit="severity level 1-5", range=(1, 5), meaning="Severity, 1 (low-level) to 5 (most serious)"
    )
    cj_appropriate_probability: Probability = param(
        unit="probability",
        range=(0, 1),
        meaning="Probability that a criminal-justice response is appropriate for an incident of this type",
    )
    recordable: bool = param(unit="true/false", meaning="A notifiable crime that police must record once told (NCRS)")
    indictable: bool = param(
        unit="true/false", meaning="Indictable: the Schools Protocol does not let the school handle it alone"
    )
    serious: bool = param(
        unit="true/false", meaning="Serious: counts on the safety side; staff always call police (emergency)"
    )
    rate_primary: NonNegative = param(
        unit="per 1,000 pupils per school year",
        range=(0, 1000),
        meaning="In-school incidents per 1,000 primary pupils per school year",
    )
    rate_secondary: NonNegative = param(
        unit="per 1,000 pupils per school year",
        range=(0, 1000),
        meaning="In-school incidents per 1,000 secondary pupils per school year",
    )
    street_rate_primary: NonNegative = param(
        unit="per 1,000 pupils per school year",
        range=(0, 100),
        meaning="School-run incidents per 1,000 primary pupils per year",
    )
    street_rate_secondary: NonNegative = param(
        unit="per 1,000 pupils per school year",
        range=(0, 100),
        meaning="School-run incidents per 1,000 secondary pupils per year",
    )
    found_by_stop_weight: NonNegative = param(
        0.0,
        unit="relative weight",
        range=(0, 1),
        meaning="Above 0: a possession offence a pupil can carry and a stop-search find (sim/core/possession.py; "
        "how often it is carried comes from the school-run rates, not from this weight)",
    )
    harms_victim: bool = param(
        False,
        unit="true/false",
        meaning="Harms a victim (injury): a serious incident of this type counts in serious_harm_incidents unless a "
        "timely response averts the harm",
        source="definition: violence against the person with injury (ONS 'violence with injury'); possession and "
        "supply offences harm no identified victim by themselves",
    )

    @model_validator(mode="after")
    def _wellbeing_not_crime(self) -> IncidentTypeConfig:
        if self.kind == "wellbeing" and (self.recordable or self.cj_appropriate_probability > 0):
            raise ValueError(
                "a wellbeing incident cannot be recordable or need a criminal-justice response "
                "(recordable must be false and cj_appropriate_probability 0)"
            )
        if self.harms_victim and not (self.serious and self.kind == "offending"):
            raise ValueError("only a serious offending incident can harm a victim (harms_victim needs serious)")
        return self


_ASSUMED = "assumption: no published figure gives base rates by type; every rate is there to be swept"
_CATALOGUE_COLUMNS = (
    "kind",
    "severity",
    "cj_appropriate_probability",
    "recordable",
    "indictable",
    "serious",
    "rate_primary",
    "rate_secondary",
    "street_rate_primary",
    "street_rate_secondary",
    "found_by_stop_weight",
    "source",
)
# The default incident catalogue, one type a row, in the order of the random draws. Rates are incidents per 1,000
# pupils per school year, in school and on the school run (street_*); stop = found_by_stop_weight.
# fmt: off
_CATALOGUE: dict[str, tuple[Any, ...]] = {
    #                                 kind        sev  cj    record indict serious  in school    school run  stop
    #                                                                                prim   sec  prim  sec
    "low_level_disruption":          ("offending", 1, 0.0,  False, False, False,  120,   300, 0,    0,   0.0, _ASSUMED),
    "verbal_conflict":               ("offending", 1, 0.0,  True,  False, False,  60,    120, 2,    10,  0.0,
                                      f"{_ASSUMED} (public-order offence if recorded)"),
    "fight_no_injury":               ("offending", 2, 0.02, True,  False, False,  25,    60,  2,    12,  0.0, _ASSUMED),
    "theft_or_damage":               ("offending", 2, 0.1,  True,  False, False,  8,     30,  1,    8,   0.0, _ASSUMED),
    "drugs_possession_small":        ("offending", 2, 0.05, True,  False, False,  0.1,   12,  0,    10,  0.7, _ASSUMED),
    "youth_produced_sexual_imagery": ("offending", 3, 0.05, True,  False, False,  0.5,   10,  0,    0,   0.0,
                                      f"{_ASSUMED}; outcome 21 practice (UKCIS guidance)"),
    "assault_with_injury":           ("offending", 4, 0.4,  True,  True,  True,   2,     8,   0.3,  4,   0.0, _ASSUMED),
    "drug_supply":                   ("offending", 4, 0.6,  True,  True,  True,   0,     2,   0,    3,   0.1, _ASSUMED),
    "weapon_possession":             ("offending", 5, 0.5,  True,  True,  True,   0.2,   3,   0.1,  4,   0.2, _ASSUMED),
    "serious_violence":              ("offending", 5, 0.85, True,  True,  True,   0.05,  1,   0,    1.5, 0.0, _ASSUMED),
    "wellbeing_crisis":              ("wellbeing", 3, 0.0,  False, False, False,  12,    40,  0,    0,   0.0, _ASSUMED),
}
# fmt: on
DEFAULT_INCIDENT_TYPES: dict[str, dict[str, Any]] = {
    name: dict(zip(_CATALOGUE_COLUMNS, row, strict=True)) for name, row in _CATALOGUE.items()
}
# The types whose incidents injure a victim (counted in serious_harm_incidents): weapon use with injury is an assault
# with injury or serious violence here; weapon possession and drug supply have no identified victim.
for _name in ("assault_with_injury", "serious_violence"):
    DEFAULT_INCIDENT_TYPES[_name]["harms_victim"] = True


class IncidentsConfig(SectionSettings):
    """The incident catalogue and how incidents come to light."""

    types: dict[str, IncidentTypeConfig] = Field(
        default=DEFAULT_INCIDENT_TYPES,
        validate_default=True,
        description="Incident catalogue by name (rates are incidents per 1,000 pupils per school year)",
    )
    staff_notice_by_severity: BySeverity = param(
        [0.4, 0.6, 0.8, 0.9, 0.95],
        unit="probability, by severity 1-5",
        range=(0, 1),
        source="assumption",
        meaning="Probability staff notice an in-school incident",
    )
    public_report_by_severity: BySeverity = param(
        [0.0, 0.05, 0.15, 0.4, 0.7],
        unit="probability, by severity 1-5",
        range=(0, 1),
        source="assumption: school-run incidents reported to police by the public",
        meaning="Probability a school-run incident is reported to police by the public",
    )

    @field_validator("types")
    @classmethod
    def _non_empty(cls, v: dict[str, IncidentTypeConfig]) -> dict[str, IncidentTypeConfig]:
        if not v:
            raise ValueError("the incident catalogue needs at least one type")
        return v


class StudentsConfig(SectionSettings):
    """Students' latent state and how it responds to what happens to them."""

    propensity_sigma: NonNegative = param(
        0.8,
        unit="SD of log propensity",
        range=(0, 2),
        source="assumption: a minority of students account for most incidents",
        meaning="Log-normal spread of baseline propensity (mean 1)",
    )
    need_sigma: NonNegative = param(
        0.8,
        unit="SD of log need",
        range=(0, 2),
        source="assumption",
        meaning="Log-normal spread of wellbeing need (mean 1)",
    )
    drift_rate: Probability = param(
        0.02,
        unit="share of the gap closed per school day",
        range=(0, 0.2),
        source="assumption: pull back to baseline, half-life ~35 school days (range: half-life of 3 days or more)",
        meaning="Daily pull of propensity back to the student's baseline",
    )
    drift_noise: NonNegative = param(
        0.05,
        unit="SD of log propensity per school day",
        range=(0, 0.5),
        source="assumption",
        meaning="Daily standard deviation of log-propensity noise",
    )
    over_policed_propensity_ratio: Positive = param(
        1.0,
        unit="ratio",
        range=(0.5, 2),
        source="assumption: equal underlying behaviour; over-policing is about policing, not behaviour",
        meaning="True propensity of over-policed-community students relative to others",
    )
    move_up_each_year: bool = param(
        True,
        unit="true/false",
        meaning="At the start of each school year children move up a year, Year 6 change school, Year 11 leave and a "
        "Reception intake arrives (docs/ODD.md §7.16); false holds the same children in the same places for every "
        "year (a fixed population, e.g. for Ensign et al.'s setting of exogenous risk)",
        source="England's school year (Education Act 1996); false is a modelling device, not a policy",
    )
    max_propensity: Annotated[float, Field(gt=1.0)] = param(
        30.0,
        unit="multiple of the average propensity",
        range=(2, 100),
        source="assumption: ~17 incidents a year at most for a secondary pupil; without a ceiling labelling compounds "
        "without bound over several years",
        meaning="Ceiling on a student's propensity (multiple of the average), so labelling cannot run away",
    )
    labelling_effect: NonNegative = param(
        0.2,
        unit="proportional rise per crime record",
        range=(0, 3),
        source="assumption: a crime record raises later risk by 20% (labelling; Liberty 2025); range up to a fourfold "
        "rise, for stress tests",
        meaning="Proportional rise in baseline propensity per crime record",
    )
    labelling_engagement_loss: Probability = param(
        0.1,
        unit="engagement (0-1) per crime record",
        range=(0, 1),
        source="assumption",
        meaning="Engagement lost per crime record",
    )
    exclusion_engagement_loss: Probability = param(
        0.05,
        unit="engagement (0-1) per exclusion",
        range=(0, 1),
        source="assumption",
        meaning="Engagement lost per exclusion",
    )
    disengagement_risk: NonNegative = param(
        1.0,
        unit="proportional extra risk at zero engagement",
        range=(0, 5),
        source="assumption: a fully disengaged student has twice the risk",
        meaning="Extra incident risk at zero engagement (risk x (1 + this x (1 - engagement)))",
    )
    youth_work_effect: Probability = param(
        0.14,
        unit="proportional fall per full case",
        range=(0, 0.5),
        source="Youth Endowment Fund toolkit: mentoring/youth work -14% offending (range: up to -50%)",
        meaning="Proportional fall in propensity after a full youth-work case",
    )
    mental_health_effect: Probability = param(
        0.3,
        unit="proportional fall per full case",
        range=(0, 0.8),
        source="assumption",
        meaning="Proportional fall in need after a full mental-health case",
    )
    secondary_years: Annotated[int, Field(ge=1)] = param(
        5,
        unit="year groups",
        range=(5, 7),
        source="school year groups in England (DfE): Years 7-11, no sixth form (7 with one)",
        meaning="Year groups in a secondary school",
    )
    primary_years: Annotated[int, Field(ge=1)] = param(
        7,
        unit="year groups",
        range=(3, 7),
        source="school year groups in England (DfE): Reception to Year 6 (3-4 in infant or junior schools)",
        meaning="Year groups in a primary school",
    )


class StaffConfig(SectionSettings):
    """Teachers' decisions."""

    referral_tolerance_mean: Annotated[float, Field(ge=0.0, le=6.0)] = param(
        3.6,
        unit="severity level (1-5 scale)",
        range=(0, 6),
        source="assumption: severity a teacher needs before calling police (0: always call, 6: never)",
        meaning="Mean severity a teacher needs before calling police",
    )
    referral_tolerance_sd: NonNegative = param(
        0.7,
        unit="severity levels",
        range=(0, 2),
        source="assumption",
        meaning="Spread of referral tolerance between teachers",
    )
    proximity_shift: NonNegative = param(
        1.5,
        unit="severity levels",
        range=(0, 3),
        source="assumption: an officer on site lowers the bar (net-widening; Weisburst 2019, Fisher & Hennessy 2016)",
        meaning="Fall in referral tolerance (severity levels) when an officer is on site",
    )
    youth_work_referral_propensity: NonNegative = param(
        1.5,
        unit="multiple of the average risk",
        range=(0, 10),
        source="assumption: refer a student whose risk (propensity raised by disengagement) is 1.5x average",
        meaning="Risk (propensity raised by disengagement) from which a teacher refers an offender to youth work",
    )
    youth_work_diversion: Probability = param(
        0.7,
        unit="probability",
        range=(0, 1),
        source="assumption: a youth worker who knows the child handles it by diversion",
        meaning="Probability a student's youth worker takes on a non-serious incident instead of police",
    )
    escalate_when_no_capacity: Probability = param(
        0.3,
        unit="probability",
        range=(0, 1),
        source="assumption: teacher calls police when support is full (Liberty 2025)",
        meaning="Probability a teacher calls police when the support a student needs is full",
    )
    police_work_hours_by_severity: HoursBySeverity = param(
        [0.0, 0.5, 1.0, 1.5, 2.0],
        unit="hours per incident, by severity 1-5",
        range=(0, 8),
        source="assumption: investigating, searching, statements (range: up to a working day)",
        meaning="Teacher hours of police-like work (investigating, searching) per offending incident handled",
    )
    pastoral_hours_per_crisis: NonNegative = param(
        1.5,
        unit="hours per crisis",
        range=(0, 8),
        source="assumption",
        meaning="Teacher hours per wellbeing crisis handled alone",
    )
    exclusion_by_severity: BySeverity = param(
        [0.0, 0.05, 0.15, 0.35, 0.6],
        unit="probability, by severity 1-5",
        range=(0, 1),
        source="assumption",
        meaning="Probability school discipline is an exclusion",
    )
    police_exclusion_multiplier: NonNegative = param(
        5.0,
        unit="multiplier",
        range=(1, 5),
        source="assumption, calibrated (python -m sim.validate) towards exclusions with police in school rising by RR "
        "~1.21 (Fisher & Hennessy 2016, 95% CI 1.04-1.40): at London's officer density the top of the plausible "
        "range gives RR ~1.16 (2.2 gave 1.02); no value in the range reaches 1.21",
        meaning="Multiplier on exclusion probability when police were involved",
    )


class PoliceConfig(SectionSettings):
    """Officers' decisions, common to every policing model."""

    recording_by_severity: BySeverity = param(
        [0.3, 0.6, 0.8, 0.9, 0.95],
        unit="probability, by severity 1-5",
        range=(0, 1),
        source="assumption: NCRS says record once told; discretion at low severity",
        meaning="Probability an officer records a recordable incident as a crime",
    )
    over_policed_recording_odds: Positive = param(
        1.5,
        unit="odds multiplier",
        range=(0.5, 5),
        source="assumption: Sorensen et al. 2023 find school-police effects >2x larger for Black students",
        meaning="Odds multiplier on recording for students from over-policed communities",
    )
    over_policed_stop_weight: Positive = param(
        12.0,
        unit="relative weight",
        range=(1, 20),
        source="assumption, calibrated (python -m sim.validate, target stop_disproportionality) so the RRI of "
        "corridor stops is ~3.9: Youth Justice Statistics 2022/23, Black children 20% of child stop-searches vs 6% "
        "of population. The weight multiplies officers' suspicion, which varies a lot between pupils (d' = 2.4), so "
        "the RRI is far below the weight (4 gave 2.5, 10 gave 3.7)",
        meaning="Relative chance a student from an over-policed community is picked for a stop on the street "
        "(Officer.stop_weights), other things (suspicion) equal",
    )
    over_policed_approach_weight: Positive = param(
        4.0,
        unit="relative weight",
        range=(1, 10),
        source="assumption: no published UK measure of whom officers in schools approach; 4 is the weight that was "
        "shared with street stops until stops were picked by suspicion (the value is kept so in-school results do "
        "not move with the stops' calibration)",
        meaning="Relative chance a student from an over-policed community is approached by an officer in school "
        "(Officer.approach_weights: presence contacts)",
    )
    schools_protocol_use: Probability = param(
        0.3,
        unit="probability",
        range=(0, 1),
        source="assumption: share of non-indictable in-school incidents left to the school (Schools Protocol)",
        meaning="Probability a non-indictable in-school incident is left to the school (Schools Protocol)",
    )
    officer_notice_by_severity: BySeverity = param(
        [0.05, 0.1, 0.2, 0.3, 0.4],
        unit="probability, by severity 1-5",
        range=(0, 1),
        source="assumption: what an officer on site sees directly",
        meaning="Probability an on-site officer sees an incident",
    )
    hours_incident_response: NonNegative = param(
        2.0, unit="hours per incident", range=(0, 8), source="assumption", meaning="Officer hours per incident attended"
    )
    hours_crime_record: NonNegative = param(
        2.0,
        unit="hours per crime record",
        range=(0, 8),
        source="assumption: paperwork per crime record",
        meaning="Extra officer hours per crime recorded",
    )
    hours_consultation: NonNegative = param(
        0.25,
        unit="hours per consultation",
        range=(0, 2),
        source="assumption: an advice call with staff",
        meaning="Officer hours per advice consultation",
    )
    hours_missing_report: NonNegative = param(
        6.0,
        unit="hours per missing-child report",
        range=(1, 60),
        source="assumption: most child episodes are low or medium risk and end within 48 hours (87%, NCA 2016/17); "
        "a medium-risk investigation costs police GBP 1,325-2,415 (Shalev Greene & Pakes 2014), some 35-60 officer "
        "hours, the top of the range",
        meaning="Officer hours per missing-child report (risk assessment, search, safe-and-well check on return)",
    )
    hours_welfare_attendance: NonNegative = param(
        3.0,
        unit="hours per attendance",
        range=(1, 16),
        source="assumption: attending a mental-health crisis; waits with a detained person can reach 10-16 hours "
        "(Humberside Police, The Guardian 2023)",
        meaning="Officer hours per mental-health or wellbeing crisis attended",
    )


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

    name: Annotated[str, Field(min_length=1)] = label(meaning="Scenario label used in outputs")
    description: str = label("", meaning="What the policing model is, in a sentence")
    colour: str = label("", meaning="The scenario's colour in figures (e.g. '#0072B2'); none: a stable pick by name")
    mechanisms: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="The policing mechanisms, in order: name -> parameters"
    )
    without: list[str] = Field(
        default_factory=list,
        description="Mechanisms of the scenario left out of this run (a leave-one-out run: the scenario without "
        "them), e.g. ++scenario.without=[police_lessons]; each must be one of `mechanisms`",
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

    daily: bool = param(
        True,
        unit="true/false",
        source="assumption (an output setting, not a model input): write daily.parquet, one row per day per school",
        meaning="Write daily.parquet (one row per day per school)",
    )


class SimConfig(Settings):
    """Everything one run needs."""

    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = param(
        0,
        unit="integer",
        range=(0, 2**63 - 1),
        source="assumption: an arbitrary fixed seed (runs are reproducible); replicate over seeds, e.g. "
        "'seed=range(0,20)'",
        meaning="Seed of every random stream",
    )
    days: Annotated[int, Field(ge=1, le=3650)] = param(
        190,
        unit="school days",
        range=(1, 3650),
        source="school days per year: Education (School Day and School Year) (England) Regulations 1999 (range: "
        "up to about 19 school years)",
        meaning="School days to simulate (190 = one year)",
    )
    borough: BoroughConfig
    scenario: ScenarioConfig
    incidents: IncidentsConfig
    students: StudentsConfig
    staff: StaffConfig
    police: PoliceConfig
    agents: AgentsConfig
    output: OutputConfig


# The Hydra config groups whose default option is the schema's defaults: group -> (option name, section schema).
SCHEMA_GROUPS: dict[str, tuple[str, type[SectionSettings]]] = {
    "borough": ("hackney", BoroughConfig),
    "incidents": ("default", IncidentsConfig),
    "students": ("default", StudentsConfig),
    "staff": ("default", StaffConfig),
    "police": ("default", PoliceConfig),
}
RUN_DEFAULTS_NAME = "run_defaults"  # the Hydra config holding the top-level settings' defaults (seed, days, output)


def section_defaults(schema: type[SectionSettings]) -> dict[str, Any]:
    """A section's defaults as plain data: the node Hydra composes for its default option."""
    return schema().model_dump(exclude={"sources"})


def run_defaults() -> dict[str, Any]:
    """The defaults of the top-level settings (``seed``, ``days``, ``output``) as plain data."""
    fields = SimConfig.model_fields
    return {"seed": fields["seed"].default, "days": fields["days"].default, "output": OutputConfig().model_dump()}


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
            shown = "" if isinstance(got, dict | list) or e["type"] == RANGE_ERROR else f" (got {got!r})"
            lines.append(f"  {loc or '<root>'}: {msg}{shown}")
    return "\n".join(lines)

"""Helpers shared by the test modules (small boroughs, few days)."""

from __future__ import annotations

from sim.core.compose import compose_config
from sim.core.model import BoroughModel
from sim.core.paths import CONF_DIR

# every policing model in conf/scenario/ (the scenario list has no other home), the baseline first
BASELINE = "no_police"
SCENARIOS = (BASELINE, *sorted(p.stem for p in (CONF_DIR / "scenario").glob("*.yaml") if p.stem != BASELINE))

# Settings under which no policy can change a student's behaviour: every scenario must then see the same incidents.
BEHAVIOUR_NEUTRAL = (
    "students.labelling_effect=0",
    "students.labelling_engagement_loss=0",
    "students.exclusion_engagement_loss=0",
    "students.youth_work_effect=0",
    "students.mental_health_effect=0",
)
# ... and the mechanisms' own behavioural effects (deterrence, lessons), switched off where a scenario has them.
MECHANISM_BEHAVIOUR_NEUTRAL: dict[str, tuple[str, ...]] = {
    "embedded_presence": ("in_school_deterrence=0",),
    "police_lessons": ("effect_per_lesson=0",),
    "teacher_led_pshe": ("programme_effect=0",),
    # patrols deter, and a stop that finds a weapon removes it (averting that day's incidents): no stops, no deterrence
    "safer_corridors": ("patrol_deterrence=0", "stops_per_patrol=0"),
}


def behaviour_neutral(scenario: str) -> tuple[str, ...]:
    """The overrides under which no policy of ``scenario`` can change a student's behaviour."""
    mechanisms = compose_config([f"scenario={scenario}", "borough=small"]).scenario.mechanisms
    return BEHAVIOUR_NEUTRAL + tuple(
        f"scenario.mechanisms.{name}.{setting}"
        for name, settings in MECHANISM_BEHAVIOUR_NEUTRAL.items()
        if name in mechanisms
        for setting in settings
    )


def small_config(scenario: str, days: int = 30, seed: int = 0, *overrides: str):
    """A validated config for the small borough."""
    return compose_config([f"scenario={scenario}", "borough=small", f"days={days}", f"seed={seed}", *overrides])


def run_small(scenario: str, days: int = 30, seed: int = 0, *overrides: str) -> BoroughModel:
    """Build and run a small-borough model for ``days`` school days."""
    model = BoroughModel(small_config(scenario, days, seed, *overrides))
    model.run_for(days)
    return model

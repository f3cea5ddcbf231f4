"""An analyst's own policing model: the Hackney pilot's advisors, without Safer Corridors or points.

A policing model is one subclass of :class:`sim.mechanisms.base.PolicingModel` (here of its linked-advisor
variant, overriding only the hooks it changes) plus one YAML file naming it, here
``examples/conf/scenario/advice_only.yaml``. Kept outside the package, it is selected with (docs/extending.md)::

    PYTHONPATH=examples scripts/sim --config-dir examples/conf scenario=advice_only

It separates the first element of the pilot from the other two: staff consult a school-linked officer, whose
advice involves no contact with the child, before a non-emergency call to police; nothing else changes.
"""

from __future__ import annotations

from sim.mechanisms.base import LinkedAdvisorParams, LinkedAdvisorPolicing


class AdviceOnlyParams(LinkedAdvisorParams):
    """Parameters (validated from the YAML's ``params``; unknown keys are errors): those of the linked advisors."""


class AdviceOnly(LinkedAdvisorPolicing):
    """Tactical advisors only: staff ask before calling police; the linked officer attends if advised.

    Everything comes from the shared advisor mechanism (:class:`sim.mechanisms.base.LinkedAdvisorPolicing`); a
    model that changes more overrides the hooks it changes (see ``sim/mechanisms/supportive_policing.py``).
    """

    Params = AdviceOnlyParams
    params: AdviceOnlyParams

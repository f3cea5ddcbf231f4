"""An analyst's own rule: an officer who uses more discretion before recording a crime.

This module is *not* part of the ``sim`` package: it is the kind of file an analyst keeps in their own
folder. It changes one rule, :meth:`sim.core.agents.Officer.decides_to_record`, by subclassing the agent, and is
selected from the command line without editing the package (docs/extending.md)::

    PYTHONPATH=examples scripts/sim agents.officer=cautious_officer.CautiousOfficer

or from Python::

    from sim import BoroughModel
    model = BoroughModel(policing="embedded_officer", borough="small", days=40, rng=1,
                         agents__officer="cautious_officer.CautiousOfficer")

(with ``examples/`` on ``sys.path``).

The rule. For a low-level offence (severity <= ``LOW_SEVERITY``), before the standard recording decision:

1. **first offence**: a student with no crime record so far is never recorded (a word, a restorative
   conversation, or outcome 22 diversion instead);
2. **extra discretion**: otherwise the officer still lets it go with probability ``EXTRA_DISCRETION``.

Anything that gets past both goes through the standard rule (the Schools Protocol, the recording probability
by severity and the over-policed-community bias), so this officer never records an incident the standard
officer would not have recorded.

Randomness comes from ``incident.draw("cautious_discretion")``, a keyed draw that depends only on the seed,
the purpose, the day, the student and the place. So comparing this officer with the standard one, or one
scenario with another, on the same seed stays a paired comparison: the extra draw shifts no other number.
"""

from __future__ import annotations

from typing import ClassVar

from sim.core.agents import Officer
from sim.core.incidents import Incident


class CautiousOfficer(Officer):
    """An officer who never records first low-level offences and uses extra discretion on repeat ones.

    To try other values, subclass again and select that class, e.g.
    ``class VeryCautiousOfficer(CautiousOfficer): EXTRA_DISCRETION = 0.9``.
    """

    LOW_SEVERITY: ClassVar[int] = 2  # 1-2: verbal conflict, fights without injury, theft, small possession
    EXTRA_DISCRETION: ClassVar[float] = 0.5  # assumption: chance of letting a repeat low-level offence go

    def decides_to_record(self, incident: Incident) -> bool:
        """Record only what the standard officer would, minus first and (some) repeat low-level offences."""
        if incident.severity <= self.LOW_SEVERITY:
            if self.model.student(incident.student).crime_records == 0:
                return False  # a first low-level offence is never recorded
            if incident.draw("cautious_discretion") < self.EXTRA_DISCRETION:
                return False  # extra discretion for repeat low-level offences
        return super().decides_to_record(incident)  # the standard rule for everything else

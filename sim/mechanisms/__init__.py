"""Policing mechanisms: each one class (see :mod:`sim.core.mechanism`), combined into scenarios by YAML.

* :mod:`~sim.mechanisms.calls`: staff may call police about non-emergency incidents;
* :mod:`~sim.mechanisms.presence`: officers embedded in schools (Safer Schools Partnership), deterrence on the days
  they are in, and the officer as first responder;
* :mod:`~sim.mechanisms.lessons`: officer-delivered PSHE lessons, and teacher-delivered PSHE designed with police
  input;
* :mod:`~sim.mechanisms.advisors`: school-linked officers as tactical advisors;
* :mod:`~sim.mechanisms.corridors`: Safer Corridors patrols chosen from route intelligence;
* :mod:`~sim.mechanisms.points`: a points budget of police-led activities per school;
* :mod:`~sim.mechanisms.partnership`: the Schools Protocol and youth-work partnership referrals.
"""

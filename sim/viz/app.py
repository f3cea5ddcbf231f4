"""A SolaraViz page for the borough model: ``solara run sim/viz/app.py`` (install with ``pip install -e '.[viz]'``).

Shows the running totals Mesa's DataCollector records each school day, for the policing model, borough and seed
chosen in the side panel. The model is driven by Mesa's own visualisation loop through ``step()``.
"""

from __future__ import annotations

from mesa.visualization import SolaraViz, make_plot_component

from sim.core.model import BoroughModel, quiet_mesa

SCENARIOS = ["no_police", "embedded_officer", "hackney_pilot", "supportive_policing"]

model_params = {
    "policing": {"type": "Select", "value": "hackney_pilot", "values": SCENARIOS, "label": "Policing model"},
    "borough": {"type": "Select", "value": "small", "values": ["small", "hackney"], "label": "Borough"},
    "rng": {"type": "InputText", "value": 0, "label": "Seed"},
}

quiet_mesa()
model = BoroughModel(policing="hackney_pilot", borough="small", rng=0)

page = SolaraViz(
    model,
    components=[
        make_plot_component(["police_contacts", "crime_records", "unnecessary_crime_records"]),
        make_plot_component(["incidents", "serious_incidents", "exclusions", "unmet_youth_work_referrals"]),
    ],
    model_params=model_params,
    name="Schools policing: running totals by school day",
)

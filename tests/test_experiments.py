"""Every named experiment composes, declares its question and sweep, and every job it plans validates."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from sim.core.compose import CONF_DIR, to_sim_config
from sim.core.outcomes import REGISTRY
from sim.runner.sweep import planned_jobs

EXPERIMENTS = sorted(p.stem for p in (CONF_DIR.parent / "experiments").glob("*.yaml"))


def test_the_five_experiments_exist():
    assert {
        "compare_scenarios",
        "youth_work_funding",
        "points_budget",
        "corridor_feedback",
        "recording_discretion",
    } <= set(EXPERIMENTS)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_declares_question_sweep_and_valid_jobs(name: str):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"+experiment={name}"], return_hydra_config=True)
        assert cfg.experiment.name == name
        assert len(cfg.experiment.question) > 40
        assert str(cfg.hydra.mode).endswith("MULTIRUN")
        assert OmegaConf.select(cfg, "hydra.sweep.dir", throw_on_resolution_failure=False) == f"results/{name}"
        jobs = planned_jobs(cfg)
        assert jobs and all(any(o.startswith("seed=") for o in job) for job in jobs)
        checked = set()
        for job in jobs:
            key = tuple(sorted(o for o in job if not o.startswith("seed=")))
            if key in checked:
                continue
            checked.add(key)
            config = to_sim_config(compose(config_name="config", overrides=job))
            assert config.days >= 1
        metrics = cfg.experiment.get("metrics") or []
        assert metrics, "an experiment names the outcomes that answer its question"
        unknown = [m for m in metrics if m not in REGISTRY]
        assert not unknown, f"experiment.metrics names undeclared outcomes: {unknown}"


def test_experiments_folder_is_the_hydra_experiment_group():
    link = CONF_DIR / "experiment"
    assert link.resolve() == (CONF_DIR.parent / "experiments").resolve()
    assert Path(link, "compare_scenarios.yaml").exists()

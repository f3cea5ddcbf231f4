"""``python -m sim``: the Hydra app that runs one simulation, or with ``-m`` a sweep of them."""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sim.core.compose import CONF_DIR, register_defaults, to_sim_config
from sim.core.config import ConfigError, SimConfig
from sim.core.model import quiet_mesa
from sim.runner.run import run_simulation, summary_table, write_outputs
from sim.runner.sweep import job_dir_is_multirun, run_job


def _run_and_write(config: SimConfig, out_dir: Path) -> None:
    write_outputs(run_simulation(config), out_dir)


register_defaults()  # the schema defaults are config-group options (borough: hackney, students: default, ...)


@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Validate the composed configuration, run it, and write the outputs (printing a summary for single runs)."""
    quiet_mesa()
    try:
        config = to_sim_config(cfg)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    if job_dir_is_multirun():
        run_job(config, out_dir, list(HydraConfig.get().overrides.task), _run_and_write)
        return
    model = run_simulation(config)
    paths = write_outputs(model, out_dir)
    print(summary_table(model.metrics()))
    print(f"\nOutputs: {paths['metrics'].parent}")

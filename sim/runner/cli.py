"""``python -m sim``: the Hydra app that runs one simulation, or with ``-m`` a sweep of them."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sim.analysis.folders import FolderInUseError, claim_run_dir, record_run
from sim.core.compose import CONF_DIR, register_defaults, to_sim_config
from sim.core.config import ConfigError, SimConfig
from sim.core.model import quiet_mesa
from sim.runner import joblib_guard
from sim.runner.run import run_simulation, summary_table, write_outputs
from sim.runner.sweep import CLAIMED, config_hash, job_dir_is_multirun, run_job

log = logging.getLogger("sim")


def _run_and_write(config: SimConfig, out_dir: Path) -> None:
    write_outputs(run_simulation(config), out_dir)


joblib_guard.install()  # a worker killed by the kernel costs only its own job
register_defaults()  # the schema defaults are config-group options (borough: hackney, students: default, ...)


@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Validate the composed configuration, run it, and write the outputs (printing a summary for single runs)."""
    quiet_mesa()
    try:
        config = to_sim_config(cfg)
    except ConfigError as err:
        log.error("%s", err)
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    overrides = list(HydraConfig.get().overrides.task)
    if job_dir_is_multirun():
        log.info("sweep job %s: %s", out_dir.name, " ".join(overrides))
        status = run_job(config, out_dir, overrides, _run_and_write)
        log.info("sweep job %s: %s", out_dir.name, status)
        return
    if out_dir.resolve() not in CLAIMED:
        try:  # run without the app's callback: claim the folder here
            claim_run_dir(out_dir)
        except FolderInUseError as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(2)
    log.info("run %s: %s", out_dir, " ".join(overrides) or "(defaults)")
    started = time.time()
    model = run_simulation(config)
    paths = write_outputs(model, out_dir)
    record_run(
        out_dir,
        {
            "overrides": overrides,
            "config_hash": config_hash(config),
            "status": "ok",
            "seconds": round(time.time() - started, 3),
        },
        list(paths.values()),
    )
    summary = summary_table(model.metrics())
    log.info("finished in %.1f s\n%s", time.time() - started, summary)
    print(summary)
    print(f"\nOutputs: {paths['metrics'].parent}")

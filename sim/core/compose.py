"""From Hydra's composed configuration to a validated :class:`~sim.core.config.SimConfig`.

The default options of the groups ``borough`` (``hackney``), ``incidents``, ``students``, ``staff`` and ``police``
(``default``), and the top-level ``run_defaults``, are not YAML files: they are the schema defaults of
:mod:`sim.core.config`, given to Hydra through its ConfigStore by :func:`register_defaults`. So are the built-in
mechanisms' parameters (group ``mechanism``, from each one's ``Params``): the scenario files (``conf/scenario/``)
list their mechanisms as Hydra defaults (``/mechanism@mechanisms.<name>``), so that
``scenario.mechanisms.<name>.<parameter>=...`` overrides a value that exists. Importing this module registers
them, so any composition in a process that imports it (the CLI, :func:`compose_config`, the tests) finds them; a
YAML variant (``conf/borough/small.yaml``) extends them through its ``defaults`` list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, OmegaConf

from sim.core.config import RUN_DEFAULTS_NAME, SCHEMA_GROUPS, SimConfig, run_defaults, section_defaults
from sim.core.configure import load_built_in_mechanisms, validate_config
from sim.core.paths import CONF_DIR


def register_defaults() -> None:
    """Give Hydra the schema and mechanism defaults as config-group options (once per process)."""
    store = ConfigStore.instance()
    if RUN_DEFAULTS_NAME + ".yaml" in store.list(""):
        return
    store.store(name=RUN_DEFAULTS_NAME, node=run_defaults())
    for group, (option, schema) in SCHEMA_GROUPS.items():
        store.store(group=group, name=option, node=section_defaults(schema))
    for name, cls in load_built_in_mechanisms().items():
        store.store(group="mechanism", name=name, node=cls.Params().model_dump(mode="json"))


register_defaults()


def to_sim_config(cfg: DictConfig | dict[str, Any]) -> SimConfig:
    """Validate a composed Hydra config (Hydra's own ``hydra`` node and experiment metadata are ignored)."""
    raw = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    assert isinstance(raw, dict)
    for key in ("hydra", "experiment"):
        raw.pop(key, None)
    return validate_config(cast(dict[str, Any], raw))  # a config's keys are strings


def compose_raw(overrides: Sequence[str] = ()) -> DictConfig:
    """Compose ``conf/config.yaml`` with Hydra override strings, outside a Hydra app, without validating it."""
    register_defaults()
    if GlobalHydra.instance().is_initialized():
        return compose(config_name="config", overrides=list(overrides))
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def compose_config(overrides: Sequence[str] = ()) -> SimConfig:
    """Compose ``conf/config.yaml`` with Hydra override strings, outside a Hydra app, and validate it."""
    return to_sim_config(compose_raw(overrides))

"""From Hydra's composed configuration to a validated :class:`~sim.core.config.SimConfig`.

The scenario files (``conf/scenario/``) list their mechanisms as Hydra defaults (``/mechanism@mechanisms.<name>``);
each mechanism's default parameters come from its ``Params`` class, stored in Hydra's config store as the
``mechanism`` group when this module is imported, so that ``scenario.mechanisms.<name>.<parameter>=...`` overrides
a value that exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf

from sim.core.config import SimConfig
from sim.core.configure import validate_config
from sim.core.mechanism import BUILT_IN_MECHANISMS
from sim.core.paths import CONF_DIR


def register_mechanism_defaults() -> None:
    """Store each built-in mechanism's default parameters as the Hydra config ``mechanism/<name>``."""
    store = ConfigStore.instance()
    for name, path in BUILT_IN_MECHANISMS.items():
        store.store(group="mechanism", name=name, node=get_class(path).Params().model_dump(mode="json"))


register_mechanism_defaults()


def to_sim_config(cfg: DictConfig | dict[str, Any]) -> SimConfig:
    """Validate a composed Hydra config (Hydra's own ``hydra`` node and experiment metadata are ignored)."""
    raw = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    assert isinstance(raw, dict)
    for key in ("hydra", "experiment"):
        raw.pop(key, None)
    return validate_config(raw)


def compose_config(overrides: Sequence[str] = ()) -> SimConfig:
    """Compose ``conf/config.yaml`` with Hydra override strings, outside a Hydra app, and validate it."""
    if GlobalHydra.instance().is_initialized():
        return to_sim_config(compose(config_name="config", overrides=list(overrides)))
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return to_sim_config(compose(config_name="config", overrides=list(overrides)))

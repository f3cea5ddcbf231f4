"""Hydra's basic sweeper plus the leave-one-out jobs an experiment asks for (``experiment.ablation``).

Hydra finds sweepers only in the ``hydra_plugins`` namespace package, so this small shim lives here; what it plans
is :func:`sim.runner.sweep.sweep_ablation_jobs`. ``conf/config.yaml`` selects it (``override hydra/sweeper: sim``).
It launches the basic sweeper's jobs (the Cartesian product of the sweep's values) and then the leave-one-out
jobs, through the configured launcher, in batches of ``max_batch_size`` (all at once when null).
"""

from collections.abc import Sequence

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.types import Override

# The sweeper's settings are the basic sweeper's. (A plain node: Hydra loads plugin modules without registering
# them in sys.modules, which a dataclass here would need.)
ConfigStore.instance().store(
    group="hydra/sweeper",
    name="sim",
    node={"_target_": "hydra_plugins.sim_sweeper.SimSweeper", "max_batch_size": None, "params": None},
    provider="sim",
)


class SimSweeper(BasicSweeper):
    """The basic sweeper, followed by the experiment's leave-one-out jobs (``experiment.ablation``)."""

    def split_arguments(  # the base's is a staticmethod; this one needs the sweep's config
        self, overrides: list[Override], max_batch_size: int | None
    ) -> list[list[list[str]]]:
        """The basic sweeper's jobs, then the leave-one-out ones, in batches of ``max_batch_size``."""
        from sim.runner.sweep import sweep_ablation_jobs

        jobs: list[list[str]] = [job for batch in BasicSweeper.split_arguments(overrides, None) for job in batch]
        assert self.config is not None
        jobs += sweep_ablation_jobs(jobs, self.config)
        if max_batch_size is None:
            return [jobs]
        return list(BasicSweeper.split_overrides_to_chunks(jobs, max_batch_size))

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        """Compose one job per distinct setting before launching: jobs that differ only in their seed compose alike.

        (The basic sweeper composes every job, which takes longer than a small borough's run for each; the sweep's
        callback validates every distinct configuration before any job runs.)
        """
        distinct: dict[tuple[str, ...], Sequence[str]] = {}
        for job in batch:
            distinct.setdefault(tuple(o for o in job if not o.startswith("seed=")), job)
        super().validate_batch_is_legal(list(distinct.values()))

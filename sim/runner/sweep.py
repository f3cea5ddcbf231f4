"""Sweeps with Hydra multirun: each job's life cycle, resume, progress, and the end-of-sweep aggregation.

Every job writes into its own directory named after its overrides (``hydra.job.override_dirname``), so a finished
run is keyed by every setting that was swept. Re-running a sweep into the same directory skips each job whose
directory holds a finished run of the same configuration whose files verify (``run.json``'s sizes and checksums,
:func:`sim.analysis.folders.verify_run`): only what is missing, failed or corrupt runs again. A job that fails
writes ``error.json`` and lets the others go on; the aggregation lists it.

The guarantees live here, in the job's life cycle and the sweep's callback, not in a launcher: a job marks itself
``running`` (with its process id) before it starts and ``ok`` or ``failed`` in ``run.json`` last; the sweep folder
is locked for the whole sweep (:class:`sim.analysis.folders.SweepLock`); the aggregation reads only the runs of the
sweep's plan. So this works with any Hydra launcher (basic, joblib, Ray, submitit). What a launcher adds is how a
dead worker is handled (``sim/runner/joblib_guard.py`` for joblib).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import itertools
import json
import os
import secrets
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydra.core.config_loader import ConfigLoader
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from sim.analysis.folders import (
    CONFIG_FILE,
    DAILY_FILE,
    ERROR_FILE,
    METRICS_FILE,
    RUN_FILE,
    SWEEP_FILE,
    YEARLY_FILE,
    FolderInUseError,
    RunFileError,
    SweepLock,
    claim_run_dir,
    environment_summary,
    read_json,
    record_run,
    verify_run,
    write_json_atomic,
)
from sim.core.config import ConfigError, SimConfig
from sim.core.outcomes import REGISTRY

PROGRESS_FILE = ".progress"
MAX_DIRNAME = 180
WITHOUT = "scenario.without"  # the setting a leave-one-out job overrides
SIM_SWEEPER = "hydra_plugins.sim_sweeper.SimSweeper"  # Hydra's basic sweeper plus the leave-one-out jobs
SWEEP_PID_ENV = "SIM_SWEEP_PID"
"""The sweep's main process id, given to the workers it starts, so that they end when it dies."""
OUTPUT_FILES = (CONFIG_FILE, METRICS_FILE, DAILY_FILE, YEARLY_FILE, ERROR_FILE)
CLAIMED: list[Path] = []
"""The run folder this process claimed for its single run (``on_run_start``)."""


def run_dirname(override_dirname: str) -> str:
    """A job's directory name: its overrides, or a hash of them when too long for a file name."""
    name = override_dirname.replace("/", "_") or "defaults"
    if len(name) > MAX_DIRNAME:
        digest = hashlib.sha1(name.encode()).hexdigest()[:16]
        name = f"{name[: MAX_DIRNAME - 20]}..{digest}"
    return name


_UNIQUE = f"{os.getpid():x}{secrets.token_hex(2)}"


def unique_suffix() -> str:
    """A suffix unique to this process (its id and random hex), for a single run's folder name."""
    return _UNIQUE


if not OmegaConf.has_resolver("sim_run_dir"):
    OmegaConf.register_new_resolver("sim_run_dir", run_dirname)
if not OmegaConf.has_resolver("sim_unique"):
    OmegaConf.register_new_resolver("sim_unique", unique_suffix)


def config_hash(config: SimConfig) -> str:
    """A fingerprint of the full, validated configuration of a run."""
    blob = json.dumps(config.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def job_is_done(out_dir: Path, fingerprint: str) -> tuple[bool, str]:
    """Whether ``out_dir`` holds a finished run of this configuration whose files verify; if not, why."""
    ok, why = verify_run(out_dir)
    if not ok:
        return False, why
    if read_json(out_dir / RUN_FILE).get("config_hash") != fingerprint:
        return False, f"{out_dir / RUN_FILE}: a run of another configuration"
    return True, "ok"


def run_job(config: SimConfig, out_dir: Path, overrides: list[str], work: Callable[[SimConfig, Path], None]) -> str:
    """One sweep job: skip it if already done with this configuration, else run it and record the outcome.

    The job first replaces ``run.json`` with a ``running`` record (its process id), so that a half-written folder is
    never taken for a finished one, and writes ``run.json`` again last, with its status and the size and checksum of
    every file it wrote.

    Returns:
        "skipped", "ok" or "failed".
    """
    watch_parent()
    fingerprint = config_hash(config)
    run_file = out_dir / RUN_FILE
    if run_file.exists() or (out_dir / METRICS_FILE).exists():
        done, why = job_is_done(out_dir, fingerprint)
        if done:
            _note_progress(out_dir.parent, "skipped")
            return "skipped"
        if (out_dir / METRICS_FILE).exists():
            print(f"run {out_dir.name}: running it again: {why}", file=sys.stderr)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    record: dict[str, Any] = {"overrides": overrides, "config_hash": fingerprint, "run_dir": out_dir.name}
    write_json_atomic(run_file, record | {"status": "running", "pid": os.getpid(), "started": started})
    for stale in OUTPUT_FILES:
        (out_dir / stale).unlink(missing_ok=True)
    write_json_atomic(out_dir / CONFIG_FILE, config.model_dump(mode="json"))
    status = "ok"
    try:
        work(config, out_dir)
    except Exception as err:  # one failed run must not lose the others
        status = "failed"
        write_json_atomic(
            out_dir / ERROR_FILE,
            {"overrides": overrides, "error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc()},
        )
        print(f"run {out_dir.name} failed: {type(err).__name__}: {err}", file=sys.stderr)
    record |= {"status": status, "seconds": round(time.time() - started, 3)}
    record_run(out_dir, record, [out_dir / name for name in OUTPUT_FILES if (out_dir / name).exists()])
    _note_progress(out_dir.parent, status)
    return status


def record_failure(out_dir: Path, cause: str, overrides: list[str] | None = None) -> None:
    """Record a job as failed from outside it (its worker died): ``error.json`` with the cause, then ``run.json``."""
    try:
        record = read_json(out_dir / RUN_FILE)
    except RunFileError:
        record = {}
    overrides = overrides if overrides is not None else record.get("overrides", [])
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out_dir / ERROR_FILE, {"overrides": overrides, "error": cause})
    record = {k: v for k, v in record.items() if k not in ("files", "pid")}
    record |= {"overrides": overrides, "run_dir": out_dir.name, "status": "failed"}
    record_run(out_dir, record, [out_dir / ERROR_FILE])
    _note_progress(out_dir.parent, "failed")


def running_jobs(sweep_dir: Path) -> dict[Path, dict[str, Any]]:
    """The job folders whose ``run.json`` says ``running`` (started, not finished), with their records."""
    found = {}
    for d in sorted(p for p in Path(sweep_dir).iterdir() if p.is_dir() and not p.name.startswith(".")):
        with contextlib.suppress(RunFileError):
            if (d / RUN_FILE).exists() and (record := read_json(d / RUN_FILE)).get("status") == "running":
                found[d] = record
    return found


_watching: list[int] = []


def watch_parent() -> None:
    """In a worker process the sweep started, end this process when the sweep's main process dies.

    The sweep's main process gives its id to its workers (``SIM_SWEEP_PID``); a worker it started directly (loky,
    multiprocessing) watches, once a second, whether it still has that parent, and kills itself when it does not,
    so no worker outlives a killed sweep for more than a second or two. A job run in the main process itself, or on
    another machine, does not watch.
    """
    try:
        sweep_pid = int(os.environ.get(SWEEP_PID_ENV, "0"))
    except ValueError:
        return
    if _watching or not sweep_pid or sweep_pid == os.getpid() or os.getppid() != sweep_pid:
        return
    _watching.append(sweep_pid)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != sweep_pid:
                os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="sim-watch-parent", daemon=True).start()


def _note_progress(sweep_dir: Path, status: str) -> None:
    with open(sweep_dir / PROGRESS_FILE, "a") as f:
        f.write(f"{status}\n")


def _plain(node: Any) -> Any:
    """A config node as plain Python ({} for a missing node)."""
    if node is None:
        return {}
    return OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else node


def expand_sweep(arguments: list[str], config_loader: ConfigLoader | None = None) -> list[list[str]]:
    """Every job of a basic-sweeper sweep over ``arguments``, in the order Hydra's basic sweeper launches them.

    Each override contributes its values (``a=1,2``, ``range(0,3)``, ``choice(x,y)``; one value for a plain
    override) and the jobs are their Cartesian product, the first override varying slowest. A key given twice
    keeps its first position and takes its last values, as in the basic sweeper.

    Args:
        arguments: overrides in Hydra's command-line syntax, the sweeper's ``params`` first.
        config_loader: Hydra's config loader, which lists a config group's options for ``glob(...)`` sweeps.

    Returns:
        One list of ``key=value`` overrides per job.

    Raises:
        HydraException: for a sweep the basic sweeper cannot run (an ``interval``).
    """
    values_by_key: dict[str, list[str]] = {}
    for override in OverridesParser.create(config_loader=config_loader).parse_overrides(arguments):
        key = override.get_key_element()
        if not override.is_sweep_override():
            values = [override.get_value_element_as_str()]
        elif override.is_discrete_sweep():
            values = list(override.sweep_string_iterator())
        else:
            raise HydraException(f"the basic sweeper does not support the sweep {override.input_line!r}")
        values_by_key[key] = [f"{key}={value}" for value in values]
    return [list(job) for job in itertools.product(*values_by_key.values())]


def _seed_of(job: list[str]) -> int | None:
    """A job's seed override (None when it has none, or one that is not a number)."""
    for o in job:
        if o.startswith("seed="):
            value = o.split("=", 1)[1]
            return int(value) if value.isdigit() else None
    return None


def ablation_jobs(
    jobs: list[list[str]], ablation: dict[str, Any] | None, units_of: Callable[[list[str]], list[list[str]]]
) -> list[list[str]]:
    """The leave-one-out jobs an experiment asks for (``experiment.ablation``), after the sweep's own jobs.

    For each job on one of the first ``ablation.seeds`` of the sweep's seeds (the smallest), one job per
    mechanism of its scenario: the same overrides plus ``++scenario.without=[...]``, the mechanism left out
    together with those that need it (:func:`sim.core.configure.removal_units`), and ``output.daily=false`` (the
    decomposition needs only ``metrics.json``). A job that already leaves mechanisms out gets none.

    Args:
        jobs: the sweep's own jobs, as :func:`expand_sweep` gives them.
        ablation: ``experiment.ablation`` (None or empty: no leave-one-out jobs).
        units_of: a job's overrides (its seed removed) -> the units of its scenario, each a list of names.
    """
    if not ablation or not ablation.get("seeds"):
        return []
    seeds = sorted({s for s in map(_seed_of, jobs) if s is not None})
    chosen = set(seeds[: int(ablation["seeds"])])
    units: dict[tuple[str, ...], list[list[str]]] = {}
    out = []
    for job in jobs:
        seed = _seed_of(job)
        if (seed is not None and seed not in chosen) or any(o.lstrip("+~").startswith(WITHOUT) for o in job):
            continue
        key = tuple(o for o in job if not o.startswith("seed="))
        if key not in units:
            units[key] = units_of(list(key))
        out += [[*job, f"++{WITHOUT}=[{','.join(unit)}]", "output.daily=false"] for unit in units[key]]
    return out


def _units_of(config_name: str) -> Callable[[list[str]], list[list[str]]]:
    from hydra import compose

    from sim.core.compose import to_sim_config
    from sim.core.configure import removal_units

    return lambda overrides: removal_units(to_sim_config(compose(config_name=config_name, overrides=overrides)))


def sweep_ablation_jobs(jobs: list[list[str]], config: DictConfig) -> list[list[str]]:
    """:func:`ablation_jobs` for a composed sweep configuration (Hydra initialised, as in a sweep)."""
    ablation = _plain(config.get("experiment")).get("ablation") if config.get("experiment") else None
    return ablation_jobs(jobs, ablation, _units_of(config.hydra.job.config_name or "config"))


def repeated_jobs(jobs: list[list[str]]) -> tuple[list[str], list[str]] | None:
    """The first two jobs that set the same values (``seed=0`` and ``seed=00``), or None when all differ."""
    import yaml

    seen: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for job in jobs:
        values = []
        for override in job:
            key, _, text = override.partition("=")
            try:
                value = yaml.safe_load(text)
            except yaml.YAMLError:
                value = text
            values.append((key.lstrip("+~"), json.dumps(value, sort_keys=True, default=str)))
        key_ = tuple(sorted(values))
        if key_ in seen:
            return seen[key_], job
        seen[key_] = job
    return None


def planned_jobs(config: DictConfig) -> list[list[str]] | None:
    """The override list of every job the basic sweeper (or ours) will launch (None for other sweepers).

    With our sweeper (``hydra/sweeper: sim``, the default), the experiment's leave-one-out jobs follow the
    sweep's own (:func:`sweep_ablation_jobs`).
    """
    sweeper = config.hydra.sweeper
    target = str(sweeper.get("_target_", ""))
    if not (target.endswith("BasicSweeper") or target == SIM_SWEEPER):
        return None
    params = [f"{k}={v}" for k, v in (sweeper.get("params") or {}).items()]
    # the config loader lists a group's options, for glob(...) sweeps such as scenario=glob(*)
    loader = GlobalHydra.instance().config_loader() if GlobalHydra.instance().is_initialized() else None
    jobs = expand_sweep(params + list(config.hydra.overrides.task), loader)
    if target == SIM_SWEEPER:
        jobs += sweep_ablation_jobs(jobs, config)
    return jobs


def check_ablation(ablation: Any) -> str | None:
    """What is wrong with ``experiment.ablation`` (None when nothing is, or when it is absent)."""
    if ablation is None or ablation == {}:
        return None
    if not isinstance(ablation, dict):
        return f"expected a mapping with `seeds` (and optionally `outcomes`), got {ablation!r}"
    extra = sorted(set(ablation) - {"seeds", "outcomes"})
    if extra:
        return f"unknown setting(s) {extra}; allowed here: seeds, outcomes"
    seeds = ablation.get("seeds")
    if not (isinstance(seeds, int) and not isinstance(seeds, bool) and seeds >= 0):
        return (
            f"seeds must be a whole number >= 0 (of the sweep's seeds, how many get leave-one-out runs), got {seeds!r}"
        )
    from sim.core.configure import load_built_in_mechanisms

    load_built_in_mechanisms()  # mechanisms declare outcomes of their own
    unknown = [m for m in ablation.get("outcomes") or [] if m not in REGISTRY]
    if unknown:
        return f"outcomes names outcomes that are not declared: {unknown}"
    return None


class SweepCallback(Callback):
    """Checks every job's configuration before any runs, shows progress, and aggregates at the end."""

    def __init__(self, aggregate: bool = True, progress: bool = True) -> None:
        self.aggregate = aggregate
        self.progress = progress
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock: SweepLock | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Launchers pickle the Hydra context (callbacks included) to send jobs to workers: leave the thread behind.
        return {"aggregate": self.aggregate, "progress": self.progress}

    def __setstate__(self, state: dict[str, Any]) -> None:
        SweepCallback.__init__(self, **state)

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        """A single run: validate before Hydra makes the run folder, then claim the folder for this run alone."""
        from omegaconf import open_dict, read_write

        from sim.core.compose import to_sim_config

        task_config = copy.deepcopy(config)
        with read_write(task_config), open_dict(task_config):
            del task_config["hydra"]  # as Hydra gives the task: its own node needs the run's folder to resolve
        try:
            to_sim_config(task_config)
        except ConfigError as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(2)
        run_dir = Path(str(config.hydra.run.dir))
        try:
            claim_run_dir(run_dir)
        except FolderInUseError as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(2)
        except OSError as err:
            print(f"error: cannot create the run folder {run_dir} (hydra.run.dir): {err.strerror}", file=sys.stderr)
            sys.exit(2)
        CLAIMED.append(run_dir.resolve())

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Validate each distinct job configuration; write sweep.json; start the progress display."""
        # Hydra turns exceptions in callbacks into warnings: stop the sweep explicitly instead.
        try:
            self._start(config)
        except Exception as err:
            print(f"error: could not start the sweep: {type(err).__name__}: {err}", file=sys.stderr)
            sys.exit(2)

    def _start(self, config: DictConfig) -> None:
        from hydra import compose

        from sim.core.compose import to_sim_config

        sweep_dir = Path(config.hydra.sweep.dir)
        self._lock = SweepLock(sweep_dir)
        try:
            self._lock.acquire()
        except FolderInUseError as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(2)
        os.environ[SWEEP_PID_ENV] = str(os.getpid())  # the workers end when this process dies (watch_parent)
        jobs = planned_jobs(config)
        if jobs is not None:
            seen: set[tuple[str, ...]] = set()
            for job in jobs:
                key = tuple(sorted(o for o in job if not o.startswith("seed=")))
                if key in seen:
                    continue
                seen.add(key)
                try:
                    to_sim_config(compose(config_name=config.hydra.job.config_name, overrides=job))
                except ConfigError as err:
                    print(f"error: sweep job with overrides {job}:\n{err}", file=sys.stderr)
                    sys.exit(2)
            for job in jobs:
                for o in job:
                    if o.startswith("seed="):
                        value = o.split("=", 1)[1]
                        if not value.isdigit():
                            print(f"error: seed must be a non-negative integer, got {value!r}", file=sys.stderr)
                            sys.exit(2)
            twice = repeated_jobs(jobs)
            if twice:
                first, again = twice
                print(
                    f"error: the sweep runs the same job twice: {' '.join(first)} and {' '.join(again)} "
                    "(each value of a swept setting must differ, e.g. seed=0,1 not seed=0,00)",
                    file=sys.stderr,
                )
                sys.exit(2)
        experiment = _plain(config.get("experiment"))
        unknown = [m for m in (experiment or {}).get("metrics") or [] if m not in REGISTRY]
        if unknown:
            print(f"error: experiment.metrics names outcomes that are not declared: {unknown}", file=sys.stderr)
            sys.exit(2)
        problem = check_ablation((experiment or {}).get("ablation"))
        if problem:
            print(f"error: experiment.ablation: {problem}", file=sys.stderr)
            sys.exit(2)
        meta = {
            "experiment": experiment,
            "task_overrides": list(config.hydra.overrides.task),
            "sweeper_params": _plain(config.hydra.sweeper.get("params")),
            "jobs": jobs,
            "environment": environment_summary(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        }
        write_json_atomic(sweep_dir / SWEEP_FILE, meta)
        (sweep_dir / PROGRESS_FILE).unlink(missing_ok=True)
        if self.progress and jobs:
            self._thread = threading.Thread(target=self._show_progress, args=(sweep_dir, len(jobs)), daemon=True)
            self._thread.start()

    def _show_progress(self, sweep_dir: Path, total: int) -> None:
        from tqdm import tqdm

        progress_file = sweep_dir / PROGRESS_FILE
        interactive = sys.stderr.isatty()
        with tqdm(
            total=total,
            desc="sweep",
            unit="run",
            file=sys.stderr,
            dynamic_ncols=True,
            mininterval=0.5 if interactive else 15.0,
        ) as bar:
            done = 0
            while True:
                stopping = self._stop.wait(0.5)
                try:
                    lines = progress_file.read_text().splitlines()
                except FileNotFoundError:
                    lines = []
                if len(lines) > done:
                    bar.update(len(lines) - done)
                    done = len(lines)
                    failed = sum(1 for line in lines if line == "failed")
                    bar.set_postfix(failed=failed, skipped=sum(1 for line in lines if line == "skipped"), refresh=False)
                if stopping or done >= total:
                    break

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Stop the progress display and aggregate the sweep directory."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self._end(config)
        finally:
            if self._lock is not None:
                self._lock.release()

    def _end(self, config: DictConfig) -> None:
        from sim.analysis.aggregate import aggregate_and_report

        sweep_dir = Path(config.hydra.sweep.dir)
        interrupted = running_jobs(sweep_dir)
        for d, record in interrupted.items():  # no job runs now: a "running" job's process ended without a word
            record_failure(d, f"the job's process (pid {record.get('pid')}) ended before the job finished")
        if not self.aggregate:
            if interrupted:
                sys.exit(1)
            return
        try:
            result = aggregate_and_report(sweep_dir)
        except Exception as err:
            print(
                f"error: aggregating {sweep_dir} failed ({type(err).__name__}: {err}); the runs are intact, "
                f"retry with: python -m sim.analyze {sweep_dir}",
                file=sys.stderr,
            )
            sys.exit(1)
        if result.failed or result.missing:
            sys.exit(1)


def job_dir_is_multirun() -> bool:
    """Whether the current Hydra job is part of a multirun."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.get().mode == RunMode.MULTIRUN

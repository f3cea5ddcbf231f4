"""The joblib launcher, made to survive a worker the kernel kills (out of memory, SIGKILL).

When a loky worker dies, joblib ends the whole ``Parallel`` call with ``TerminatedWorkerError`` and loky kills the
other workers: every job not finished is lost, and Hydra stops the sweep with a raw traceback. Here, the launcher's
``launch`` is wrapped: on that error, the job whose worker died is recorded as failed with the cause (from the
worker's exit code; its ``run.json`` names the worker's process id), and every job not finished is launched again,
in a fresh pool. The sweep then ends as usual (aggregation, and exit code 1 naming the failed job); a re-run of the
sweep runs the killed job again.

This is the only launcher-specific code: what a job records, when it counts as done, and the sweep's lock are in
``sim/runner/sweep.py`` and work with any launcher.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.analysis.folders import RUN_FILE, RunFileError, read_json
from sim.runner.sweep import record_failure

DEAD: dict[int, int] = {}
"""Worker process id -> exit code, of the workers found dead when loky declared its pool broken."""


def _cause(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"killed by {name}" + (" (out of memory, or killed from outside)" if name == "SIGKILL" else "")
    return f"ended with exit code {exitcode}"


def _job_states(sweep_dir: Path, since: float) -> dict[tuple[str, ...], dict[str, Any]]:
    """Each job's ``run.json`` record written since ``since``, by the job's overrides."""
    states = {}
    for run_file in sweep_dir.glob(f"*/{RUN_FILE}"):
        try:
            if run_file.stat().st_mtime < since:
                continue
            record = read_json(run_file)
        except (OSError, RunFileError):
            continue
        states[tuple(sorted(record.get("overrides") or []))] = record | {"dir": run_file.parent}
    return states


def guarded_launch(launch: Any) -> Any:
    """Wrap the joblib launcher's ``launch(launcher, job_overrides, initial_job_idx)`` (see the module's text)."""
    from hydra.core.utils import JobReturn, JobStatus
    from joblib.externals.loky.process_executor import TerminatedWorkerError  # type: ignore[import-untyped]

    def run(launcher: Any, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        sweep_dir = Path(str(launcher.config.hydra.sweep.dir))
        started = time.time() - 1.0  # file times are coarse
        remaining = list(enumerate(job_overrides))
        results: dict[int, JobReturn] = {}
        for _ in range(len(job_overrides) + 1):
            if not remaining:
                break
            DEAD.clear()
            try:
                batch = launch(launcher, [o for _, o in remaining], initial_job_idx + remaining[0][0])
                results |= {i: r for (i, _), r in zip(remaining, batch, strict=True)}
                remaining = []
            except TerminatedWorkerError as err:
                killed = dict(DEAD)
                states = _job_states(sweep_dir, started)
                running = {k: s for k, s in states.items() if s.get("status") == "running"}
                # the job whose worker died (none if it died between jobs); if loky did not say which worker died,
                # every interrupted job
                culprits = {k for k, s in running.items() if s.get("pid") in killed} if killed else set(running)
                for key in culprits:
                    pid = running[key].get("pid")
                    cause = _cause(killed[pid] if pid in killed else next(iter(killed.values()), None))
                    record_failure(
                        running[key]["dir"],
                        f"the worker process running this job (pid {pid}) was {cause}; "
                        "re-run the sweep to run it again",
                    )
                    print(f"run {running[key]['dir'].name} FAILED: its worker (pid {pid}) was {cause}", file=sys.stderr)
                if not culprits:
                    print(f"error: a worker died and no job can be blamed: {err}", file=sys.stderr)
                states = _job_states(sweep_dir, started)
                finished = {k for k, s in states.items() if s.get("status") in ("ok", "failed")}
                for i, overrides in remaining:
                    if tuple(sorted(overrides)) in finished:
                        results[i] = JobReturn(overrides=list(overrides), status=JobStatus.COMPLETED)
                before = len(remaining)
                remaining = [(i, o) for i, o in remaining if i not in results]
                if len(remaining) == before:  # nothing finished or was blamed: do not loop for ever
                    break
                print(f"relaunching the {len(remaining)} job(s) not finished", file=sys.stderr)
        for i, overrides in remaining:  # only when no progress could be made
            results[i] = JobReturn(overrides=list(overrides), status=JobStatus.COMPLETED)
        return [results[i] for i in range(len(job_overrides))]

    return run


def install() -> None:
    """Wrap the joblib launcher's ``launch`` and note which loky workers die (once per process)."""
    try:
        from hydra_plugins.hydra_joblib_launcher import _core  # type: ignore[import-untyped]
        from joblib.externals.loky import process_executor  # type: ignore[import-untyped]
    except ImportError:  # the joblib launcher is not installed: nothing to guard
        return
    if getattr(_core.launch, "_sim_guarded", False):
        return
    exitcodes = process_executor.get_exitcodes_terminated_worker

    def noting_exitcodes(processes: dict[int, Any]) -> Any:
        text = exitcodes(processes)  # waits until the dead worker's exit code is known
        DEAD.update({pid: p.exitcode for pid, p in list(processes.items()) if p.exitcode is not None})
        return text

    process_executor.get_exitcodes_terminated_worker = noting_exitcodes
    _core.Parallel = _watching_workers(_core.Parallel)
    guarded = guarded_launch(_core.launch)
    guarded._sim_guarded = True
    _core.launch = guarded


def _watching_workers(parallel: Any) -> Any:
    """``joblib.Parallel`` whose loky workers watch their parent from the moment they start.

    Not only once they run a job: a worker with no job yet also ends when the sweep is killed
    (:func:`sweep.watch_parent`).

    The joblib launcher names the backend as a string (``loky``); a backend instance carries the initializer.
    """
    from joblib._parallel_backends import LokyBackend  # type: ignore[import-untyped]

    from sim.runner.sweep import watch_parent

    def make(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("backend", "loky") == "loky":
            kwargs["backend"] = LokyBackend(initializer=watch_parent)
        return parallel(*args, **kwargs)

    return make

"""Reliability: no lost or mixed-up results (docs/reliability.md).

Unique, exclusive run folders; a run counts as done only if its files verify against run.json; aggregates replaced
together and restricted to the sweep's plan; a locked sweep folder; read errors that name the file.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.analysis.aggregate import AGGREGATES, aggregate, aggregate_and_report, publish
from sim.analysis.folders import (
    AGGREGATE_FILE,
    FolderInUseError,
    RunFileError,
    SweepLock,
    claim_run_dir,
    process_alive,
    read_json,
    record_run,
    verify_run,
    write_json_atomic,
)
from sim.analyze import main as analyze

ROOT = Path(__file__).resolve().parent.parent
PY = [sys.executable, "-m", "sim"]
SINGLE = ["borough=small", "days=10", "scenario=no_police"]


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT))


# --- run folders: unique and exclusive -------------------------------------------------------------------------
def test_parallel_single_runs_get_their_own_folders(tmp_path: Path):
    """Runs started in the same second, by default and into one explicit folder (issue 11, item 1)."""
    shared = tmp_path / "shared"
    procs = [
        subprocess.Popen([*PY, *SINGLE, f"seed={s}"], cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, text=True)
        for s in (1, 2)
    ]
    procs += [
        subprocess.Popen(
            [*PY, *SINGLE, f"seed={s}", f"hydra.run.dir={shared}"],
            cwd=tmp_path,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for s in (3, 4)
    ]
    results = [(p, *p.communicate(timeout=120)) for p in procs]
    for proc, _out, _err in results[:2]:
        assert proc.returncode == 0
    folders = sorted((tmp_path / "outputs").glob("*/*"))
    assert len(folders) == 2
    seeds = sorted(json.loads((f / "metrics.json").read_text())["seed"] for f in folders)
    assert seeds == [1, 2]
    assert all(verify_run(f)[0] for f in folders)
    assert "finished in" in (folders[0] / "cli.log").read_text()  # the run's log is not empty (item 11)
    codes = sorted(p.returncode for p, _, _ in results[2:])
    assert codes == [0, 2]  # one run gets the explicit folder, the other is refused before it runs
    for proc, _out, err in results[2:]:
        if proc.returncode == 2:
            assert str(shared) in err and "Traceback" not in err
    winner = json.loads((shared / "metrics.json").read_text())["seed"]
    assert f"seed={winner}" in json.loads((shared / "run.json").read_text())["overrides"]
    assert verify_run(shared)[0]


def test_a_folder_is_claimed_once(tmp_path: Path):
    claim_run_dir(tmp_path / "a")
    with pytest.raises(FolderInUseError, match="already used by process"):
        claim_run_dir(tmp_path / "a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "metrics.json").write_text("{}")
    with pytest.raises(FolderInUseError, match="already holds another run"):
        claim_run_dir(tmp_path / "b")


# --- a run counts as done only if its files verify -------------------------------------------------------------
def _finished_run(d: Path) -> Path:
    d.mkdir(parents=True)
    write_json_atomic(d / "metrics.json", {"scenario": "no_police", "seed": 0, "x": 1.5})
    (d / "daily.parquet").write_bytes(b"PAR1" + bytes(100))
    record_run(d, {"status": "ok", "overrides": ["seed=0"]}, [d / "metrics.json", d / "daily.parquet"])
    return d


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda d: (d / "metrics.json").write_text((d / "metrics.json").read_text()[:20]), "bytes, run.json recorded"),
        (lambda d: (d / "daily.parquet").write_bytes(b"PAR1" + bytes(99) + b"x"), "checksum differs"),
        (lambda d: (d / "daily.parquet").unlink(), "missing"),
        (lambda d: (d / "run.json").write_text('{"status": "ok"'), "not valid JSON"),
        (lambda d: (d / "run.json").write_text(""), "is empty"),
        (lambda d: (d / "run.json").write_text("[1]"), "holds a JSON list"),
        (lambda d: write_json_atomic(d / "run.json", {"status": "running"}), "status is 'running'"),
        (lambda d: write_json_atomic(d / "run.json", {"status": "ok"}), "lists no checksums"),
    ],
)
def test_a_damaged_run_does_not_verify_and_the_reason_names_the_file(tmp_path: Path, damage, why):
    d = _finished_run(tmp_path / "run")
    assert verify_run(d) == (True, "ok")
    damage(d)
    ok, reason = verify_run(d)
    assert not ok and why in reason and str(d) in reason


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "is empty"), ("{", "not valid JSON \\(line 1"), ("[]", "holds a JSON list"), ("\xff", "not valid JSON")],
)
def test_read_json_names_the_file(tmp_path: Path, text: str, message: str):
    path = tmp_path / "f.json"
    path.write_text(text)
    with pytest.raises(RunFileError, match=message) as err:
        read_json(path)
    assert str(path) in str(err.value)


# --- sweep folders: lock, plan, aggregates replaced together ---------------------------------------------------
def test_the_sweep_lock_names_its_holder(tmp_path: Path):
    with SweepLock(tmp_path):
        with pytest.raises(FolderInUseError, match=f"process {os.getpid()}"):
            SweepLock(tmp_path).acquire()
        proc = subprocess.run(
            [*PY, "-m", *SINGLE, "seed=0,1", f"hydra.sweep.dir={tmp_path}"],
            cwd=ROOT,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 2
        assert f"is in use by process {os.getpid()}" in proc.stderr and "Traceback" not in proc.stderr
        assert not [p for p in tmp_path.iterdir() if p.is_dir()]  # refused before any job
    SweepLock(tmp_path).acquire()  # released


def _sweep(root: Path, jobs: list[list[str]]) -> Path:
    """A sweep folder with one fake finished run per job (fast: no model runs)."""
    root.mkdir()
    write_json_atomic(root / "sweep.json", {"jobs": jobs})
    for job in jobs:
        d = root / ",".join(job)
        d.mkdir()
        seed = int(job[-1].split("=")[1])
        write_json_atomic(d / "metrics.json", {"scenario": "no_police", "seed": seed, "police_contacts_per_1000": 3.0})
        record_run(d, {"status": "ok", "overrides": job}, [d / "metrics.json"])
    return root


def test_only_the_plans_runs_are_aggregated(tmp_path: Path):
    sweep = _sweep(tmp_path / "s", [["borough=small", f"seed={s}"] for s in range(3)])
    other = sweep / "seed=7"  # another plan's run in the same folder
    shutil.copytree(sweep / "borough=small,seed=0", other)
    record_run(other, {"status": "ok", "overrides": ["seed=7"]}, [other / "metrics.json"])
    result = aggregate(sweep)
    assert sorted(result.runs["seed"]) == [0, 1, 2]
    assert result.excluded == ["seed=7"]
    assert sorted(aggregate(sweep, every_run=True).runs["seed"]) == [0, 1, 2, 7]


def test_aggregates_are_replaced_together_and_stale_ones_removed(tmp_path: Path, capsys):
    sweep = _sweep(tmp_path / "s", [["borough=small", f"seed={s}"] for s in range(2)])
    aggregate_and_report(sweep, plots=False)
    assert (sweep / "runs.parquet").exists() and (sweep / "summary.csv").exists()
    manifest = json.loads((sweep / AGGREGATE_FILE).read_text())
    assert manifest["runs"] == ["borough=small,seed=0", "borough=small,seed=1"]
    # a re-run that finishes no run: every run now fails
    for d in sweep.glob("borough=*"):
        (d / "metrics.json").write_text("{}")
    (sweep / "figures").mkdir()
    (sweep / "figures" / "outcomes.png").write_bytes(b"old")
    result = aggregate_and_report(sweep, plots=False)
    assert result.runs.empty and len(result.failed) == 2
    for stale in ("runs.parquet", "summary.csv", "daily.parquet", "figures"):
        assert not (sweep / stale).exists(), stale
    assert "0 finished, 2 failed" in (sweep / "report.md").read_text()
    assert json.loads((sweep / AGGREGATE_FILE).read_text())["runs"] == []
    assert not list(sweep.glob(".aggregate-*"))


def test_publish_removes_what_the_new_set_lacks(tmp_path: Path):
    sweep, stage = tmp_path / "s", tmp_path / "s" / ".stage"
    stage.mkdir(parents=True)
    for name in AGGREGATES:
        (sweep / name).write_text("old")
    (stage / "report.md").write_text("new")
    publish(stage, sweep, {"runs": []})
    assert (sweep / "report.md").read_text() == "new"
    assert [n for n in AGGREGATES if (sweep / n).exists()] == ["report.md"]


# --- python -m sim.analyze: one clear line naming the file ------------------------------------------------------
@pytest.mark.parametrize(
    ("damage", "code", "message"),
    [
        (lambda s: (s / "sweep.json").write_text("{not json"), 2, "sweep.json: is not valid JSON"),
        (lambda s: (s / "sweep.json").write_text("[]"), 2, "sweep.json: holds a JSON list"),
        (lambda s: (s / "borough=small,seed=0" / "metrics.json").write_text(""), 1, "metrics.json"),
        (lambda s: (s / "borough=small,seed=0" / "run.json").write_text("{"), 1, "run.json: is not valid JSON"),
        (lambda s: (s / "borough=small,seed=0" / "run.json").write_text("[1, 2]"), 1, "run.json: holds a JSON list"),
    ],
)
def test_analyze_names_a_corrupt_file(tmp_path: Path, capsys, damage, code: int, message: str):
    sweep = _sweep(tmp_path / "s", [["borough=small", f"seed={s}"] for s in range(2)])
    damage(sweep)
    assert analyze([str(sweep), "--no-plots"]) == code
    out = capsys.readouterr()
    assert message in out.out + out.err


def test_analyze_refuses_an_empty_folder(tmp_path: Path, capsys):
    assert analyze([str(tmp_path)]) == 2
    assert "holds no sweep" in capsys.readouterr().err
    assert not (tmp_path / "report.md").exists()


def test_metrics_holding_a_list_is_a_failed_run_named(tmp_path: Path, capsys):
    sweep = _sweep(tmp_path / "s", [["borough=small", "seed=0"]])
    d = sweep / "borough=small,seed=0"
    write_json_atomic(d / "metrics.json", [1, 2])
    record_run(d, {"status": "ok", "overrides": ["borough=small", "seed=0"]}, [d / "metrics.json"])
    assert analyze([str(sweep), "--no-plots"]) == 1
    assert f"{d / 'metrics.json'}: holds a JSON list" in capsys.readouterr().out
    assert len(pd.read_csv(sweep / "failed_runs.csv")) == 1


# --- a killed worker; a killed sweep -------------------------------------------------------------------------------
SLOW = """
import time

from sim.core.agents import Teacher


class SlowTeacher(Teacher):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.model.config.seed == 1:
            time.sleep(120)  # the job with seed 1 runs long enough to be killed
"""


def _slow_sweep(tmp_path: Path, out: Path, seeds: str, pipes: bool = True) -> subprocess.Popen:
    (tmp_path / "mods").mkdir(exist_ok=True)
    (tmp_path / "mods" / "slow_teacher.py").write_text(SLOW)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path / "mods"), str(ROOT)]))
    cmd = [*PY, "-m", *SINGLE, f"seed={seeds}", "agents.teacher=slow_teacher.SlowTeacher"]
    cmd += [f"hydra.sweep.dir={out}", "hydra.launcher.n_jobs=2", "hydra.callbacks.sweep.progress=false"]
    stream = subprocess.PIPE if pipes else subprocess.DEVNULL  # a worker that outlived the sweep would hold a pipe
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=stream, stderr=stream, text=True)


def _running_pid(out: Path, proc: subprocess.Popen) -> int:
    """The process id of the worker running the seed-1 job, once it runs."""
    for _ in range(600):
        for run_file in out.glob("*seed=1/run.json"):
            with contextlib.suppress(RunFileError):
                record = read_json(run_file)
                if record.get("status") == "running":
                    return int(record["pid"])
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    raise AssertionError("the seed-1 job never started")


def test_a_killed_worker_costs_only_its_own_job(tmp_path: Path):
    """A worker SIGKILLed mid-sweep (issue 11, item 2): its job is recorded failed with the cause, the others run."""
    out = tmp_path / "sweep"
    proc = _slow_sweep(tmp_path, out, "0,1,2,3")
    os.kill(_running_pid(out, proc), signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stderr[-3000:]
    assert "Traceback" not in stderr
    assert "seed=1" in stdout and "killed by SIGKILL" in stdout  # the sweep names what failed, and why
    runs = pd.read_parquet(out / "runs.parquet")
    assert sorted(runs["seed"]) == [0, 2, 3]
    failed = pd.read_csv(out / "failed_runs.csv")
    assert len(failed) == 1 and "seed=1" in failed["overrides"][0] and "SIGKILL" in failed["error"][0]
    assert analyze([str(out), "--no-plots"]) == 1  # later, too, the killed job is failed, not "missing"


def test_workers_end_when_the_sweep_is_killed(tmp_path: Path):
    """The sweep's main process SIGKILLed (issue 11, item 3): its workers end within a few seconds."""
    out = tmp_path / "sweep"
    proc = _slow_sweep(tmp_path, out, "1,2", pipes=False)
    worker = _running_pid(out, proc)
    proc.kill()
    proc.wait()

    def alive(pid: int) -> bool:  # a zombie (ended, not yet reaped) counts as ended
        try:
            return process_alive(pid) and " Z " not in Path(f"/proc/{pid}/stat").read_text().split(")")[-1][:4]
        except OSError:
            return False

    for _ in range(100):
        if not alive(worker):
            break
        time.sleep(0.1)
    assert not alive(worker), "the worker outlived its sweep"


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.add(int(stat.parent.name))
    return out


def _running(pid: int) -> bool:
    """Whether a process runs (not gone, not a zombie: ended and not yet reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_worker_that_never_ran_a_job_also_ends_when_the_sweep_is_killed(tmp_path: Path):
    """Two workers, one job: the idle worker watches its parent from its start (a loky initializer)."""
    out = tmp_path / "sweep"
    proc = _slow_sweep(tmp_path, out, "1", pipes=False)
    _running_pid(out, proc)
    for _ in range(100):  # both loky workers up (the second is started with the first, and runs no job)
        workers = _children(proc.pid)
        if len(workers) >= 3:
            break
        time.sleep(0.1)
    proc.kill()
    proc.wait()
    for _ in range(150):
        if not any(_running(p) for p in workers):
            break
        time.sleep(0.1)
    assert not [p for p in workers if _running(p)], "processes of the killed sweep outlived it"

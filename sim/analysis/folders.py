"""The layout of run and sweep folders, and the rules that keep them trustworthy (docs/reliability.md).

A run folder holds ``config.json`` (a sweep job's validated configuration), ``metrics.json``, ``daily.parquet``,
``yearly.parquet`` (a run of more than one school year), ``error.json`` (why it failed) and ``run.json``, written
last: how the run went (overrides, configuration hash, status, seconds) and the size and SHA-256 of every output
file. A run counts as finished only if ``run.json`` says ``ok`` and every file it lists still has that size and
checksum (:func:`verify_run`). Every file is written to a temporary name and renamed into place, so a reader never
sees half a file.

A sweep folder holds ``sweep.json`` (the plan and the environment), one run folder per job, ``.sweep.lock`` (held by
the process that runs or aggregates the sweep) and the aggregates (``runs.parquet``, ``summary.csv``, ``report.md``,
figures...), listed with the runs they describe in ``aggregate.json``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sim.core.paths import ROOT

METRICS_FILE = "metrics.json"
DAILY_FILE = "daily.parquet"
YEARLY_FILE = "yearly.parquet"
RUN_FILE = "run.json"
ERROR_FILE = "error.json"
SWEEP_FILE = "sweep.json"
CONFIG_FILE = "config.json"
LOCK_FILE = ".sweep.lock"
AGGREGATE_FILE = "aggregate.json"
CLAIM_FILE = ".claim"
"""Created exclusively by the process that owns a run folder (single runs): a second run is refused."""


class RunFileError(ValueError):
    """A run or sweep file that cannot be read or does not hold what it should; the message names the file."""


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``path`` whole or not at all: a temporary file in the same folder, flushed, then renamed into place."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_json_atomic(path: Path, obj: Any) -> None:
    """``obj`` as indented JSON (no NaN), written atomically."""
    write_atomic(path, json.dumps(obj, indent=1, allow_nan=False) + "\n")


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path to write ``path`` through (e.g. with ``to_parquet``); renamed into place on success."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_json(path: Path, kind: type = dict) -> Any:
    """Read a JSON file that must hold a ``kind`` (an object by default).

    Raises:
        RunFileError: naming the file and what is wrong (missing, unreadable, not JSON, not the right kind).
    """
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise RunFileError(f"{path}: cannot be read ({err.__class__.__name__}: {err})") from None
    if not text.strip():
        raise RunFileError(f"{path}: is empty (a truncated or interrupted write)")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise RunFileError(f"{path}: is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})") from None
    if not isinstance(value, kind):
        raise RunFileError(f"{path}: holds a JSON {type(value).__name__}, expected a JSON {kind.__name__}")
    return value


def file_digest(path: Path) -> dict[str, Any]:
    """A file's size in bytes and SHA-256, as recorded in ``run.json``."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return {"bytes": Path(path).stat().st_size, "sha256": h.hexdigest()}


def record_run(out_dir: Path, record: dict[str, Any], files: list[Path]) -> dict[str, Any]:
    """Write ``run.json`` last: ``record`` with each output file's size and checksum (``files``)."""
    record = dict(record)
    record["files"] = {p.name: file_digest(p) for p in files}
    write_json_atomic(Path(out_dir) / RUN_FILE, record)
    return record


def verify_run(out_dir: Path) -> tuple[bool, str]:
    """Whether a run folder holds a finished run whose files are intact, and if not, why (naming the file).

    Finished means: ``run.json`` reads, says ``status: ok``, lists ``metrics.json``, and every file it lists has the
    recorded size and SHA-256.
    """
    out_dir = Path(out_dir)
    run_file = out_dir / RUN_FILE
    if not run_file.exists():
        return False, f"{run_file}: not written (the run did not finish)"
    try:
        record = read_json(run_file)
    except RunFileError as err:
        return False, str(err)
    if record.get("status") != "ok":
        return False, f"{run_file}: status is {record.get('status')!r}"
    files = record.get("files")
    if not isinstance(files, dict) or METRICS_FILE not in files:
        return False, f"{run_file}: lists no checksums of the run's files"
    for name, expected in files.items():
        path = out_dir / name
        if not path.is_file():
            return False, f"{path}: missing"
        if not isinstance(expected, dict) or path.stat().st_size != expected.get("bytes"):
            return False, f"{path}: {path.stat().st_size} bytes, run.json recorded {expected.get('bytes')}"
        if file_digest(path)["sha256"] != expected.get("sha256"):
            return False, f"{path}: its checksum differs from the one run.json recorded (the file changed)"
    return True, "ok"


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner_record() -> dict[str, Any]:
    """Who holds a lock or a claim: process id, host, start time and command."""
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": " ".join(sys.argv),
    }


def describe_owner(info: dict[str, Any]) -> str:
    """An owner record as words."""
    return (
        f"process {info.get('pid', '?')} on {info.get('host', '?')}, started {info.get('started', '?')} "
        f"({info.get('command', '?')})"
    )


class FolderInUseError(RuntimeError):
    """A sweep folder locked by another process, or a run folder that already holds a run."""


class SweepLock:
    """An exclusive lock on a sweep folder (``.sweep.lock``, an OS file lock released when the holder dies).

    The lock file names its holder, so that a refused process can say who holds it.
    """

    def __init__(self, sweep_dir: Path) -> None:
        self.path = Path(sweep_dir) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`FolderInUseError` naming the process that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            try:
                holder = describe_owner(json.loads(self.path.read_text() or "{}"))
            except (OSError, ValueError):
                holder = "another process"
            raise FolderInUseError(
                f"the sweep folder {self.path.parent} is in use by {holder}; wait for it to finish, or choose "
                "another hydra.sweep.dir"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, (json.dumps(owner_record()) + "\n").encode())
        self._fd = fd

    def release(self) -> None:
        """Release the lock (it is also released when the process ends)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> SweepLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def claim_run_dir(out_dir: Path) -> None:
    """Make ``out_dir`` this process's run folder, or refuse if it already holds a run or is claimed.

    The folder is created if needed; the claim is a file created exclusively (``O_EXCL``), so of two processes
    given the same folder, exactly one gets it.

    Raises:
        FolderInUseError: naming the folder and, when known, the process that holds it.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in (METRICS_FILE, RUN_FILE, ERROR_FILE):
        if (out_dir / name).exists():
            raise FolderInUseError(
                f"the run folder {out_dir} already holds another run ({name}); choose another hydra.run.dir"
            )
    try:
        fd = os.open(out_dir / CLAIM_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        try:
            holder = describe_owner(json.loads((out_dir / CLAIM_FILE).read_text() or "{}"))
        except (OSError, ValueError):
            holder = "another process"
        raise FolderInUseError(
            f"the run folder {out_dir} is already used by {holder}; choose another hydra.run.dir"
        ) from None
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(owner_record()) + "\n")


def environment_summary() -> dict[str, str]:
    """Versions and commit for reports."""
    import importlib.metadata as md
    import platform
    import subprocess

    versions = {"python": platform.python_version()}
    for pkg in ("mesa", "hydra-core", "numpy", "pandas", "seaborn", "pydantic"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = "not installed"
    try:
        root = ROOT
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        versions["git_commit"] = (commit + ("-dirty" if dirty else "")) or "unknown"
    except (OSError, subprocess.SubprocessError):
        versions["git_commit"] = "unknown"
    versions["host_cpus"] = str(os.cpu_count())
    return versions

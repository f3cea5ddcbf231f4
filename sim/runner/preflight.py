"""Checks of the command line before Hydra sees it: ``-m`` anywhere, no implicit import path, readable YAML.

Hydra prints a traceback for a YAML file it cannot parse (a syntax error, a duplicate key) and takes ``-m`` only
before the overrides; these checks give one line naming the file and line instead, and accept ``-m`` anywhere.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from sim.core.paths import CONF_DIR

MULTIRUN_FLAGS = ("-m", "--multirun")


def flags_first(argv: list[str]) -> list[str]:
    """The arguments with ``-m``/``--multirun`` moved before the overrides (Hydra's parser wants them there)."""
    flags = [a for a in argv if a in MULTIRUN_FLAGS]
    return flags[:1] + [a for a in argv if a not in MULTIRUN_FLAGS]


def drop_implicit_path(path: list[str], cwd: str | None = None) -> list[str]:
    """``sys.path`` without the current folder that Python puts first for ``python -m``.

    A module named in a configuration is imported only from an installed package or ``PYTHONPATH``, never from
    the folder you stand in (a folder given in ``PYTHONPATH`` stays).
    """
    cwd = cwd if cwd is not None else os.getcwd()
    explicit = {os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p}
    if path and path[0] in ("", cwd) and os.path.abspath(path[0] or cwd) not in explicit:
        return path[1:]
    return path


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, Any] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} is given twice (first on line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def yaml_error(path: Path) -> str | None:
    """One line naming the file and line of what is wrong with a YAML file, or None when it reads."""
    try:
        yaml.load(path.read_text(), Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
        return f"{where}: {err.problem or err.context}"
    except yaml.YAMLError as err:
        return f"{path}: {err}"
    except (OSError, UnicodeDecodeError) as err:
        return f"{path}: cannot be read ({err})"
    return None


def config_dirs(argv: list[str]) -> list[Path]:
    """The folders Hydra reads configuration from: the project's, and any given with ``--config-dir``/``-cd``."""
    dirs = [CONF_DIR]
    for i, arg in enumerate(argv):
        if arg in ("--config-dir", "-cd") and i + 1 < len(argv):
            dirs.append(Path(argv[i + 1]))
        elif arg.startswith("--config-dir="):
            dirs.append(Path(arg.split("=", 1)[1]))
    return dirs


def yaml_errors(dirs: Iterable[Path]) -> list[str]:
    """What is wrong with each YAML file in ``dirs`` (recursively, following the experiment link)."""
    errors = []
    for d in dirs:
        for root, _dirs, files in os.walk(d, followlinks=True):
            for name in sorted(files):
                if name.endswith((".yaml", ".yml")) and (error := yaml_error(Path(root) / name)):
                    errors.append(error)
    return errors


def prepare(argv: list[str]) -> list[str]:
    """Check the YAML files and return the arguments for Hydra; exit 2 with one line per broken file."""
    errors = yaml_errors(config_dirs(argv))
    if errors:
        for error in errors:
            print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    return flags_first(argv)

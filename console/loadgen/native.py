"""Which build of the load generator's hot path runs: compiled, or plain Python.

http1.py and core.py are plain Python; setup.py compiles them with Cython (the
augmenting .pxd beside each) into extension modules in place, which Python then
prefers over the .py. This module decides, once, as console.loadgen is imported:

- KUBELAB_PURE=1 in the environment: the .py modules (to compare, or to rule the
  build out);
- a build older than its .py or .pxd (an edit since the last build; scripts/setup,
  which ./test and ./kubelab run, rebuilds it): the .py modules, with a warning,
  never the stale build;
- no build at all (the compile failed, or a checkout without one): the .py, with a
  warning.

Only the standard library here: setup.py loads this file by its path, before
anything of kubelab can be imported.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = "console.loadgen"
COMPILED = ("http1", "core")   # in import order: core's declarations take http1's types
PURE_VAR = "KUBELAB_PURE"


def built(name: str, where: Path = HERE) -> Path | None:
    """The extension module built for `name` in `where`, if any."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        so = where / (name + suffix)
        if so.exists():
            return so
    return None


def why_pure(where: Path = HERE, environ=os.environ) -> str | None:
    """Why the .py modules must run (None: the build is there and fresh)."""
    if environ.get(PURE_VAR, "") not in ("", "0"):
        return f"{PURE_VAR}={environ[PURE_VAR]}"
    for name in COMPILED:
        so = built(name, where)
        if so is None:
            return f"{name}.py is not compiled (no {name}{importlib.machinery.EXTENSION_SUFFIXES[0]})"
        built_at = so.stat().st_mtime
        for src in (where / f"{name}.py", where / f"{name}.pxd"):
            if src.exists() and src.stat().st_mtime > built_at:
                return f"{so.name} is older than {src.name} (scripts/setup rebuilds it)"
    return None


def choose() -> None:
    """Load the .py modules in place of the build when why_pure() says so (console.loadgen's
    __init__ calls this before anything imports them)."""
    why = why_pure()
    if why is None:
        return
    if not why.startswith(PURE_VAR):
        warnings.warn(f"kubelab load generator: running the plain Python hot path (about "
                      f"twice its instructions a request): {why}", RuntimeWarning, stacklevel=2)
    for name in COMPILED:
        full = f"{PACKAGE}.{name}"
        if full in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(full, HERE / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[full] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[full]
            raise


def status() -> str:
    """"compiled" or "pure": what this process runs (once console.loadgen is imported)."""
    mod = sys.modules.get(f"{PACKAGE}.core") or importlib.import_module(f"{PACKAGE}.core")
    return "pure" if mod.__file__.endswith(".py") else "compiled"


def sources() -> list[str]:
    """The modules setup.py compiles, as paths from the project's root."""
    return [f"{PACKAGE.replace('.', '/')}/{name}.py" for name in COMPILED]


if __name__ == "__main__":
    # scripts/setup: exit 0 when the build must be (re)made
    sys.exit(0 if why_pure(environ={}) else 1)

"""The compiled hot path (setup.py, console/loadgen/native.py): built, chosen, never stale."""

from __future__ import annotations

import importlib.machinery
import os
import shutil
import subprocess
import sys
from pathlib import Path

from console.loadgen import native

ROOT = Path(__file__).resolve().parents[2]
SO = importlib.machinery.EXTENSION_SUFFIXES[0]
LOADED = ("from console.loadgen import native, http1, core; "
          "print(native.status(), http1.__file__, core.__file__)")


def _python(code: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != native.PURE_VAR}
    environ.update(env)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=120)


def test_the_projects_venv_runs_the_compiled_build():
    # scripts/setup (./test runs it first) builds it: a failed compile fails here, in CI
    out = _python(LOADED)
    assert out.returncode == 0, out.stderr
    state, http1_file, core_file = out.stdout.split()
    assert state == "compiled", out.stderr
    assert http1_file.endswith(".so") and core_file.endswith(".so")
    assert "plain Python" not in out.stderr


def test_KUBELAB_PURE_runs_the_python_modules_without_a_warning():
    out = _python(LOADED, KUBELAB_PURE="1")
    assert out.returncode == 0, out.stderr
    state, http1_file, core_file = out.stdout.split()
    assert (state, Path(http1_file).name, Path(core_file).name) == ("pure", "http1.py", "core.py")
    assert out.stderr == ""


def _sources(tmp: Path) -> Path:
    """The modules native.py weighs, in a directory of their own, with a build 'made'
    after them (empty files: loading one would fail the import)."""
    for name in native.COMPILED:
        for ext in (".py", ".pxd"):
            (tmp / (name + ext)).write_text("")
        (tmp / (name + SO)).write_bytes(b"")
        os.utime(tmp / (name + SO), (2e9, 2e9))
    return tmp


def test_a_fresh_build_is_chosen_and_a_stale_one_never(tmp_path):
    where = _sources(tmp_path)
    assert native.why_pure(where, environ={}) is None
    os.utime(where / "core.pxd", (2e9 + 5, 2e9 + 5))
    assert native.why_pure(where, environ={}) == (
        f"core{SO} is older than core.pxd (scripts/setup rebuilds it)")
    os.utime(where / "http1.py", (2e9 + 5, 2e9 + 5))
    assert "older than http1.py" in native.why_pure(where, environ={})


def test_no_build_or_the_environment_say_so(tmp_path):
    where = _sources(tmp_path)
    assert native.why_pure(where, environ={"KUBELAB_PURE": "1"}) == "KUBELAB_PURE=1"
    assert native.why_pure(where, environ={"KUBELAB_PURE": "0"}) is None
    (where / ("http1" + SO)).unlink()
    assert native.why_pure(where, environ={}) == f"http1.py is not compiled (no http1{SO})"


def test_an_edit_after_the_build_runs_the_edited_python_and_says_why(tmp_path):
    # a copy of the package whose build is older than an edit of http1.py
    pkg = tmp_path / "console" / "loadgen"
    shutil.copytree(ROOT / "console" / "loadgen", pkg,
                    ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.c"))
    shutil.copy(ROOT / "console" / "__init__.py", tmp_path / "console")
    for name in native.COMPILED:
        (pkg / (name + SO)).write_bytes(b"")     # a 'build' that must not be loaded
        os.utime(pkg / (name + SO), (2e9, 2e9))
        for ext in (".py", ".pxd"):
            os.utime(pkg / (name + ext), (2e9 - 10, 2e9 - 10))
    with open(pkg / "http1.py", "a") as f:
        f.write("\nEDITED = True\n")
    os.utime(pkg / "http1.py", (2e9 + 5, 2e9 + 5))
    out = _python("import console.loadgen.http1 as h; print(h.__file__, h.EDITED)", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(pkg / "http1.py"), "True"]
    assert "running the plain Python hot path (about twice its instructions a request): " \
           f"http1{SO} is older than http1.py (scripts/setup rebuilds it)" in out.stderr


def test_the_python_modules_pass_the_engine_tests():
    # CI runs the compiled build; the plain Python one is the fallback where a compile
    # fails, so its behaviour is held to the same tests
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    env[native.PURE_VAR] = "1"
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                          "-p", "no:xdist", "tests/loadgen/test_http1.py",
                          "tests/loadgen/test_engine.py"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=280)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert " passed" in out.stdout

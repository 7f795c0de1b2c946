"""The compiled hot path of the load generator (everything else is in pyproject.toml).

Cython compiles console/loadgen/http1.py and core.py, with the declarations in the
.pxd beside each, into extension modules (`pip install -e .`, or in place:
`python setup.py build_ext --inplace`, which scripts/setup runs when a source is
newer than its build). The extensions are optional: where the compile fails the
install goes on and the load generator runs the same modules as plain Python,
with a warning (console/loadgen/native.py).
"""

import importlib.util
from pathlib import Path

from setuptools import Extension, setup

here = Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("native", here / "console/loadgen/native.py")
native = importlib.util.module_from_spec(spec)
spec.loader.exec_module(native)  # stdlib only: nothing of kubelab's dependencies here


def extensions() -> list:
    try:
        from Cython.Build import cythonize
    except ImportError:
        print("kubelab: Cython is not installed: the load generator stays plain Python")
        return []
    modules = [Extension(path[:-3].replace("/", "."), [path], optional=True)
               for path in native.sources()]
    # annotation_typing off: the .pxd files alone type the code; the annotations
    # in the .py are for readers and type checkers
    return cythonize(modules, quiet=True, compiler_directives={
        "language_level": 3, "annotation_typing": False})


setup(ext_modules=extensions())

"""XDG directories for state (kubeconfigs, run logs)."""

import os
from pathlib import Path


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(Path.home(), ".local", "state")
    path = Path(base) / "kubelab"
    path.mkdir(parents=True, exist_ok=True)
    return path

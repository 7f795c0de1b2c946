"""XDG directories for state (kubeconfigs, run logs)."""

import os
from pathlib import Path


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(Path.home(), ".local", "state")
    path = Path(base) / "kubelab"
    path.mkdir(parents=True, exist_ok=True)
    return path


ROOT = Path(__file__).resolve().parents[1]


def manifests_dir() -> Path:
    """The labs' manifests (the repository's manifests/)."""
    return ROOT / "manifests"


def scenarios_dir() -> Path:
    """One scenario file per lab (the repository's scenarios/)."""
    return ROOT / "scenarios"

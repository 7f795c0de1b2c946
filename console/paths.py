"""XDG directories for state (kubeconfigs, run logs), private to the user.

The state directory holds kubeconfigs with tokens and run logs: 0700, its files
0600, whatever the umask, and tightened when an older version left them looser
(a shared jump host has other users).
"""

import os
import stat
from pathlib import Path


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(Path.home(), ".local", "state")
    path = Path(base) / "kubelab"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    _tighten(path, 0o700)
    return path


ROOT = Path(__file__).resolve().parents[1]


def manifests_dir() -> Path:
    """The labs' manifests (the repository's manifests/)."""
    return ROOT / "manifests"


def scenarios_dir() -> Path:
    """One scenario file per lab (the repository's scenarios/)."""
    return ROOT / "scenarios"


def open_private(path: Path, flags: int = os.O_WRONLY | os.O_APPEND) -> int:
    """os.open with O_CREAT and mode 0600 (an existing looser file is tightened)."""
    fd = os.open(path, flags | os.O_CREAT, 0o600)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:
            os.fchmod(fd, 0o600)
    except OSError:
        pass  # not ours to change (a file someone else owns): leave it
    return fd


def _tighten(path: Path, mode: int) -> None:
    try:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(mode)
    except OSError:
        pass

"""A container's in-memory file system: paths to bytes, directories implied.

Enough for what lab scripts and exec probes do (touch, rm -rf, cat, mkdir, ls,
echo > file); everything lives in the container instance and is lost on restart,
as a container's writable layer is.
"""

import posixpath


class FsError(Exception):
    """errno-style: .kind is "ENOENT", "EISDIR", "ENOTDIR", "ENOTEMPTY"."""

    def __init__(self, kind: str, path: str):
        super().__init__(f"{kind}: {path}")
        self.kind, self.path = kind, path


MESSAGES = {"ENOENT": "No such file or directory", "EISDIR": "Is a directory",
            "ENOTDIR": "Not a directory", "ENOTEMPTY": "Directory not empty",
            "EEXIST": "File exists"}


class FileSystem:
    BASE_DIRS = ("/", "/bin", "/etc", "/tmp", "/var", "/var/log", "/root", "/home",
                 "/usr", "/usr/bin", "/dev", "/proc", "/sys", "/app")

    def __init__(self, files: dict[str, bytes] | None = None):
        self.dirs: set[str] = set(self.BASE_DIRS)
        self.files: dict[str, bytes] = {"/dev/null": b"", "/etc/hostname": b""}
        for path, data in (files or {}).items():   # mounted volumes
            self.mkdir(posixpath.dirname(path), parents=True)
            self.write(path, data)

    @staticmethod
    def norm(path: str, cwd: str = "/") -> str:
        return posixpath.normpath(posixpath.join(cwd, path)).replace("//", "/")

    def exists(self, path: str) -> bool:
        return path in self.files or path in self.dirs

    def is_dir(self, path: str) -> bool:
        return path in self.dirs

    def read(self, path: str) -> bytes:
        if path in self.dirs:
            raise FsError("EISDIR", path)
        if path not in self.files:
            raise FsError("ENOENT", path)
        return self.files[path]

    def write(self, path: str, data: bytes, append: bool = False) -> None:
        if path == "/dev/null":
            return
        if path in self.dirs:
            raise FsError("EISDIR", path)
        parent = posixpath.dirname(path)
        if parent not in self.dirs:
            raise FsError("ENOENT" if parent not in self.files else "ENOTDIR", path)
        self.files[path] = (self.files.get(path, b"") if append else b"") + data

    def touch(self, path: str) -> None:
        if path not in self.files and path not in self.dirs:
            self.write(path, b"")

    def mkdir(self, path: str, parents: bool = False) -> None:
        if path in self.dirs:
            if parents:
                return
            raise FsError("EEXIST", path)
        parent = posixpath.dirname(path)
        if parent not in self.dirs:
            if not parents:
                raise FsError("ENOENT", path)
            self.mkdir(parent, True)
        if path in self.files:
            raise FsError("EEXIST", path)
        self.dirs.add(path)

    def remove(self, path: str, recursive: bool = False) -> None:
        if path in self.files:
            del self.files[path]
            return
        if path not in self.dirs:
            raise FsError("ENOENT", path)
        inside = [p for p in list(self.files) + list(self.dirs) if p.startswith(path.rstrip("/") + "/")]
        if not recursive:
            raise FsError("EISDIR", path)
        for p in inside:
            self.files.pop(p, None)
            self.dirs.discard(p)
        if path != "/":
            self.dirs.discard(path)

    def listdir(self, path: str) -> list[str]:
        if path in self.files:
            return [posixpath.basename(path)]
        if path not in self.dirs:
            raise FsError("ENOENT", path)
        prefix = path.rstrip("/") + "/"
        names = {p[len(prefix):].split("/", 1)[0] for p in list(self.files) + list(self.dirs)
                 if p.startswith(prefix) and p != path}
        return sorted(n for n in names if n)

"""Errors that reach the user as one clear line and exit code 2."""


class UsageError(Exception):
    """Bad input: a command line, a file, a field. Exit code 2, never a traceback.

    `where` names the file and line (or the option) when there is one.
    """

    def __init__(self, message: str, where: str | None = None):
        super().__init__(message)
        self.where = where

    def __str__(self) -> str:
        msg = super().__str__()
        return f"{self.where}: {msg}" if self.where else msg

"""One entry point: kubelab [tui] | cluster | siege | run | lint | play | replay | serve.

Each subcommand lives in its own module with `main(argv: list[str]) -> int`;
this file only dispatches, so subcommands load nothing they do not need.
"""

import importlib
import sys

from console import __version__
from console.errors import UsageError

COMMANDS = {
    "tui": ("console.ui.main", "the console (default)"),
    "cluster": ("console.embedded.main", "run the embedded cluster"),
    "siege": ("console.loadgen.cli", "a siege-compatible load generator"),
    "run": ("console.scenario.cli", "run scenarios headless (pass/fail, reports)"),
    "lint": ("console.scenario.lint", "check scenario files without a cluster"),
    "replay": ("console.ui.replaymain", "play a tape (--record) with no cluster; --export .cast + SVGs"),
    "play": ("console.ui.play", "play a lab unattended in the console"),
    "serve": ("console.ui.serve", "the console (or play / replay) as a web page on loopback"),
}

USAGE = "usage: kubelab [COMMAND] [OPTIONS]\n\ncommands:\n" + "".join(
    f"  {name:<9} {help_}\n" for name, (_, help_) in COMMANDS.items()
) + "\nkubelab COMMAND --help for a command's options"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    if argv and argv[0] == "--version":
        print(f"kubelab {__version__}")
        return 0
    name = argv[0] if argv and argv[0] in COMMANDS else "tui"
    rest = argv[1:] if argv and argv[0] == name else argv
    if name == "tui" and rest and not rest[0].startswith("-"):
        print(f"kubelab: unknown command {rest[0]!r}\n\n{USAGE}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    try:
        return module.main(rest) or 0
    except UsageError as exc:
        text = str(exc)
        if "\n" in text:   # several problems (a scenario file): one per line, then how many
            print(text, file=sys.stderr)
            print(f"kubelab {name}: {text.count(chr(10)) + 1} problems", file=sys.stderr)
        else:
            print(f"kubelab {name}: {text}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

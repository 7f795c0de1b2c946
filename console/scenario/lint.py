"""`kubelab lint`: check scenario files without a cluster (console.scenario.cli.lint_main)."""

from console.scenario.cli import lint_main as main

__all__ = ["main"]

"""`python -m hemkg` runs the `hem` command."""

from hemkg.cli import run

run()

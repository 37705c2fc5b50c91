"""`python -m clause_tracker …` is the same as the `clause-tracker` command."""

from clause_tracker.cli import main

main(prog_name="clause-tracker")

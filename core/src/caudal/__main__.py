"""`python -m caudal` runs the command line."""

from .cli import main

main()

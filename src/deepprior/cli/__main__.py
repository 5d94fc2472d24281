"""``python -m deepprior.cli``: the command line."""

from . import main

main()

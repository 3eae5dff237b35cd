"""`python -m spc.cli`: the `spc` command (the tests run it so, with the interpreter they run on)."""

from . import main

main()

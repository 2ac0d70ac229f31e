"""python -m esr: the command line (esr.cli)."""

from esr.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

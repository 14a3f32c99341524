"""Command line: ``python -m bench --sizes 100000 1000000 --out DIR``."""

from bench.runner import main

if __name__ == "__main__":
    raise SystemExit(main())

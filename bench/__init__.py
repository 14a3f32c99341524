"""Reproducible benchmark of the full ``dbt build`` on generated demo data of a given size.

Run from the repository root in the project's virtual environment::

    python -m bench --sizes 100000 1000000 --out bench/out

See ``bench/README.md`` for the fields of the JSON lines it prints.
"""

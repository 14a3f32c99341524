"""Customer segmentation engine: the algorithms behind the dbt project's Python models.

The dbt Python models under ``models/`` stay thin: they read their configuration and refs, call a
function of this package and return a table. Everything here is typed, seeded and unit tested with
pytest, with no dbt import, so it can be exercised without a warehouse.
"""

__version__ = "0.1.0"

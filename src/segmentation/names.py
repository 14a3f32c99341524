"""The name rules of the project, shared with the SQL side.

``config_schema.yml`` (section ``names``) holds each rule once: the identifier pattern of the
names that become columns, and the slug of a category level as one DuckDB SQL expression. The
macros ``segments_is_identifier`` and ``segments_mix_levels`` (spend-share column names) read the
same section, so a level gets the same suffix in SQL and in Python.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

import duckdb

from segmentation.config_schema import schema

__all__ = ["IDENTIFIER", "slugs"]

IDENTIFIER = re.compile(schema()["names"]["identifier"])


@cache
def _slug_sql() -> str:
    expression = schema()["names"]["slug"].replace("{value}", "level")
    return f"select list_transform(?, lambda level: {expression})"


def slugs(levels: Sequence[str]) -> list[str]:
    """Each level as a column-name suffix, by the ``names.slug`` rule of ``config_schema.yml``.

    Accents are stripped (DuckDB ``strip_accents``), the text is lower-cased, every run of
    characters other than ``a-z`` and ``0-9`` becomes one underscore, leading and trailing
    underscores go, and an empty result is ``blank``: ``"Café"`` -> ``cafe``, ``"Home & Garden"``
    -> ``home_garden``, ``"---"`` -> ``blank``.

    Parameters
    ----------
    levels : sequence of str, length n
        Category levels as text.

    Returns
    -------
    list of str, length n
        The suffixes, in the order of ``levels`` (not made unique: callers resolve collisions).
    """
    if not levels:
        return []
    with duckdb.connect() as con:
        (result,) = con.execute(_slug_sql(), [list(levels)]).fetchone()
    return list(result)

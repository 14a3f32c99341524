"""Reading the published file: read-only access to its tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import pandas as pd

from segmentation.report.common import PUBLICATION_COLUMNS


class Published:
    """Read-only access to the published database's tables, without the publication columns."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.tables = {
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = 'main'"
            ).fetchall()
        }

    def has(self, table: str) -> bool:
        """Whether the published file has ``table`` (older publications lack some).

        Parameters
        ----------
        table : str
            Table name in schema main.

        Returns
        -------
        bool
            True when the table exists.
        """
        return table in self.tables

    def columns(self, table: str) -> list[str]:
        """The columns of ``table`` in order (publication columns included).

        Parameters
        ----------
        table : str
            Table name in schema main.

        Returns
        -------
        list of str
            Column names by ordinal position; empty when the table does not exist.
        """
        return [
            row[0]
            for row in self.con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'main' and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
        ]

    def frame(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """The result of ``sql`` as a pandas DataFrame.

        Parameters
        ----------
        sql : str
            A DuckDB query on the published database.
        params : sequence or None
            Values of its ``?`` placeholders.

        Returns
        -------
        pandas.DataFrame
            The result rows.

        Raises
        ------
        duckdb.Error
            When the query fails.
        """
        return self.con.execute(sql, params or []).df()

    def table(self, table: str) -> pd.DataFrame:
        """A whole (small) table without run_id / built_at; empty frame when absent.

        Parameters
        ----------
        table : str
            Table name in schema main.

        Returns
        -------
        pandas.DataFrame
            All rows, columns without ``run_id`` and ``built_at``; no rows and no columns when the
            table does not exist.
        """
        if not self.has(table):
            return pd.DataFrame()
        frame = self.frame(f'select * from "{table}"')
        return frame.drop(columns=[c for c in PUBLICATION_COLUMNS if c in frame.columns])

"""The tables of the preprocessing dbt models, over the array functions of ``preprocessing``.

``ml_preprocessing_spec`` is the fitted :class:`~segmentation.preprocessing.PreprocessingSpec` as
a table (:data:`SPEC_SCHEMA`, a published interface: ``marts/preprocessing_spec``): one row per
output column of the matrix, the columns named as the fields of
:class:`~segmentation.preprocessing.OutputColumn` (their meaning: the ``preprocessing`` module
doc). :func:`spec_table` and :func:`spec_from_table` convert between the two.
``ml_feature_matrix`` is ``customer_id`` plus the matrix (:func:`transform_table`).

This module owns the Arrow side of the features: it reads each feature column of
``customer_features`` (:func:`feature_arrays`) and refuses, naming the table, the column and
the value, a missing column, a numeric feature of a non-numeric Arrow type or with NaN /
infinite values (a NaN in the warehouse is an error, not a missing value), and a text feature
whose Arrow type cannot be read as text. SQL nulls become NaN (numeric) or None (text), the
missing values of the array functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmentation.preprocessing import (
    OutputColumn,
    PreprocessingSpec,
    _all_null_error,
    _non_finite_error,
    apply_spec,
    fit_spec,
)
from segmentation.settings import ConfigError, SegmentationSettings

ID_COLUMN = "customer_id"

SPEC_SCHEMA = pa.schema(
    [
        pa.field("feature", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("output_column", pa.string(), nullable=False),
        pa.field("position", pa.int64(), nullable=False),
        pa.field("transform", pa.string(), nullable=False),
        pa.field("impute_strategy", pa.string(), nullable=False),
        pa.field("impute_value_numeric", pa.float64()),
        pa.field("impute_value_text", pa.string()),
        pa.field("level", pa.string()),
        pa.field("ordinal_levels", pa.list_(pa.string())),
        pa.field("center", pa.float64(), nullable=False),
        pa.field("scale", pa.float64(), nullable=False),
        pa.field("weight", pa.float64(), nullable=False),
        pa.field("is_missing_indicator", pa.bool_(), nullable=False),
        pa.field("note", pa.string()),
    ]
)
"""Columns of ml_preprocessing_spec: one row per output column (``OutputColumn``'s fields)."""


# --------------------------------------------------------------------------- column readers


def _column(table: pa.Table, name: str, table_name: str) -> pa.ChunkedArray:
    if name not in table.column_names:
        raise ConfigError(
            f"{table_name}: column {name!r} is missing; "
            f"available columns: {', '.join(table.column_names)}"
        )
    return table.column(name)


def _numeric_column(table: pa.Table, name: str, table_name: str) -> np.ndarray:
    """A numeric feature as float64 (n,), SQL nulls as NaN.

    Integer, floating, decimal and boolean (0/1) columns are accepted; anything else is an error
    naming the Arrow type. Non-finite values (NaN included) are errors naming the column, the
    value and the count; a column of Arrow type null is all null.
    """
    column = _column(table, name, table_name)
    dtype = column.type
    if pa.types.is_null(dtype):
        raise _all_null_error(table_name, name, len(column))
    if not (
        pa.types.is_integer(dtype)
        or pa.types.is_floating(dtype)
        or pa.types.is_decimal(dtype)
        or pa.types.is_boolean(dtype)
    ):
        raise ConfigError(
            f"{table_name}.{name}: a numeric feature needs a numeric column, got Arrow type "
            f"{dtype}; declare it with kind: categorical or ordinal, or cast it upstream"
        )
    nulls = np.asarray(pc.is_null(column).to_numpy(zero_copy_only=False), dtype=bool)
    values = np.asarray(
        pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
    )
    bad = ~np.isfinite(values) & ~nulls
    if bad.any():
        raise _non_finite_error(table_name, name, values[bad])
    return values


def _text_column(table: pa.Table, name: str, table_name: str) -> pa.ChunkedArray:
    """A categorical / ordinal feature as a string array (SQL nulls kept as nulls)."""
    column = _column(table, name, table_name)
    if pa.types.is_null(column.type):
        return pa.chunked_array([pa.nulls(len(column), pa.string())])
    try:
        return pc.cast(column, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise ConfigError(
            f"{table_name}.{name}: cannot read Arrow type {column.type} as text levels ({error})"
        ) from None


def feature_arrays(
    table: pa.Table, features: Sequence[tuple[str, str]], table_name: str = "customer_features"
) -> dict[str, Any]:
    """The 1-D arrays of the feature columns of a table, as ``preprocessing`` takes them.

    Parameters
    ----------
    table : pyarrow.Table, n rows
        ``customer_features`` or any table with the feature columns.
    features : sequence of (name, kind)
        The features to read; kind numeric, categorical or ordinal.
    table_name : str
        Named in the errors.

    Returns
    -------
    dict of str to array, each of length n
        Numeric: ndarray of float64 (SQL nulls as NaN). Categorical / ordinal: a pyarrow string
        array (nulls kept), which the array functions read without a copy.

    Raises
    ------
    ConfigError
        A missing column, a numeric feature of a non-numeric or null Arrow type or with NaN /
        infinite values, a text feature of an Arrow type that cannot be cast to text.
    """
    return {
        name: _numeric_column(table, name, table_name)
        if kind == "numeric"
        else _text_column(table, name, table_name)
        for name, kind in features
    }


# ------------------------------------------------------------------------ spec <-> table


def spec_table(spec: PreprocessingSpec) -> pa.Table:
    """The spec as the ``ml_preprocessing_spec`` table: d rows by position, :data:`SPEC_SCHEMA`."""
    return pa.Table.from_pylist([_row(column) for column in spec.columns], schema=SPEC_SCHEMA)


def _row(column: OutputColumn) -> dict[str, Any]:
    row = {name: getattr(column, name) for name in SPEC_SCHEMA.names}
    if column.ordinal_levels is not None:
        row["ordinal_levels"] = list(column.ordinal_levels)
    return row


def spec_rows(spec: pa.Table) -> list[dict[str, Any]]:
    """Validate a spec table and return its rows (dicts by column name) sorted by position.

    Parameters
    ----------
    spec : pyarrow.Table
        ``ml_preprocessing_spec`` (at least the :data:`SPEC_SCHEMA` columns; any row order).

    Returns
    -------
    list of dict, length d
        ``ordinal_levels`` as a list (or None).

    Raises
    ------
    TypeError
        ``spec`` is not a pyarrow.Table.
    ConfigError
        A :data:`SPEC_SCHEMA` column is missing, or the positions are not ``0..d-1``.
    """
    if not isinstance(spec, pa.Table):
        raise TypeError(f"expected the spec as a pyarrow.Table, got {type(spec).__name__}")
    missing = [name for name in SPEC_SCHEMA.names if name not in spec.column_names]
    if missing:
        raise ConfigError(f"preprocessing spec: missing column(s) {', '.join(missing)}")
    rows = sorted(spec.select(SPEC_SCHEMA.names).to_pylist(), key=lambda r: r["position"])
    positions = [r["position"] for r in rows]
    if positions != list(range(len(rows))) or not rows:
        raise ConfigError(
            f"preprocessing spec: positions must be 0..{len(rows) - 1} without gaps, "
            f"got {positions}"
        )
    return rows


def spec_from_table(spec: pa.Table) -> PreprocessingSpec:
    """The :class:`PreprocessingSpec` of an ``ml_preprocessing_spec`` table (:func:`spec_rows`)."""
    columns = []
    for row in spec_rows(spec):
        levels = row["ordinal_levels"]
        columns.append(
            OutputColumn(**{**row, "ordinal_levels": None if levels is None else tuple(levels)})
        )
    return PreprocessingSpec(tuple(columns))


# ----------------------------------------------------------------------------- the models


def fit_spec_table(
    features: pa.Table, settings: SegmentationSettings, table_name: str = "customer_features"
) -> pa.Table:
    """Fit the preprocessing on a features table: the ``ml_preprocessing_spec`` table.

    Parameters
    ----------
    features : pyarrow.Table, n rows
        ``customer_features`` (one row per customer, input units).
    settings : SegmentationSettings
        Its ``features`` are fitted (``preprocessing.fit_spec``).
    table_name : str
        Named in the errors.

    Returns
    -------
    pyarrow.Table
        :data:`SPEC_SCHEMA`, one row per output column, ordered by ``position``.

    Raises
    ------
    TypeError
        ``features`` is not a pyarrow.Table.
    ConfigError
        Naming the table, the column and the value: a configured column is missing (with the
        configuration key), the table has no rows, a column is unusable (:func:`feature_arrays`,
        ``preprocessing.fit_spec``).
    """
    if not isinstance(features, pa.Table):
        raise TypeError(f"fit_spec: expected a pyarrow.Table, got {type(features).__name__}")
    settings.check_columns(table_name, features.column_names)
    if features.num_rows == 0:
        raise ConfigError(f"{table_name}: the table has no rows; cannot fit the preprocessing")
    kinds = [(feature.name, feature.kind) for feature in settings.features]
    columns = feature_arrays(features, kinds, table_name)
    return spec_table(fit_spec(columns, settings.features, table_name=table_name))


def apply_spec_table(
    features: pa.Table, spec: pa.Table, table_name: str = "customer_features"
) -> np.ndarray:
    """Apply a spec table to a features table: the (n, d) float64 matrix, rows in table order.

    ``preprocessing.apply_spec`` on :func:`feature_arrays`; raises as they do (``ConfigError``
    naming table, column and value) and as :func:`spec_rows`.
    """
    fitted = spec_from_table(spec)
    kinds = [(column.feature, column.kind) for column in fitted.columns]
    columns = feature_arrays(features, list(dict.fromkeys(kinds)), table_name)
    return apply_spec(columns, fitted, table_name=table_name)


def transform_table(
    features: pa.Table, spec: pa.Table, table_name: str = "customer_features"
) -> pa.Table:
    """``customer_id`` plus one float64 column per output column (:func:`apply_spec_table`).

    Parameters
    ----------
    features : pyarrow.Table, n rows
        ``customer_features`` with ``customer_id``.
    spec : pyarrow.Table
        ``ml_preprocessing_spec``.
    table_name : str
        Named in the errors.

    Returns
    -------
    pyarrow.Table, n rows
        ``ml_feature_matrix``: ``customer_id`` and the d output columns (scaled, unitless), in
        the row order of ``features``.
    """
    ids = _column(features, ID_COLUMN, table_name)
    matrix = apply_spec_table(features, spec, table_name)
    names = [row["output_column"] for row in spec_rows(spec)]
    arrays = [ids, *(pa.array(matrix[:, j]) for j in range(len(names)))]
    return pa.table(arrays, names=[ID_COLUMN, *names])

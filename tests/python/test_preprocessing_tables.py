"""The Arrow side of the preprocessing (``segmentation.preprocessing_tables``): reading
``customer_features``, the ``ml_preprocessing_spec`` table and the ``ml_feature_matrix`` table."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_preprocessing import FEATURES, N, make_columns

from segmentation.preprocessing import apply_spec, fit_spec
from segmentation.preprocessing_tables import (
    SPEC_SCHEMA,
    apply_spec_table,
    fit_spec_table,
    spec_from_table,
    spec_rows,
    spec_table,
    transform_table,
)
from segmentation.settings import ConfigError, SegmentationSettings


@pytest.fixture(scope="module")
def columns() -> dict[str, np.ndarray]:
    return make_columns()


@pytest.fixture(scope="module")
def features(columns) -> pa.Table:
    """The columns as the warehouse gives them: SQL nulls, typed Arrow columns."""
    arrays = {"customer_id": pa.array(np.arange(1, N + 1))}
    for name, values in columns.items():
        if values.dtype == object:
            arrays[name] = pa.array(values.tolist(), pa.string())
        else:
            arrays[name] = pa.array(values, from_pandas=True)  # NaN -> null
    return pa.table(arrays)


@pytest.fixture(scope="module")
def settings() -> SegmentationSettings:
    return SegmentationSettings.from_config({"features": FEATURES})


def test_spec_table_is_the_fitted_spec(features, columns, settings):
    table = fit_spec_table(features, settings)
    assert table.schema == SPEC_SCHEMA
    assert table.column("position").to_pylist() == list(range(table.num_rows))
    spec = fit_spec(columns, settings.features)
    assert spec_from_table(table) == spec  # every field, floats bit for bit
    assert spec_table(spec).equals(table)
    tier = next(r for r in spec_rows(table) if r["output_column"] == "tier")
    assert tier["ordinal_levels"] == ["bronze", "silver", "gold"]


def test_round_trip_exact(features, columns, settings):
    spec = fit_spec_table(features, settings)
    matrix = apply_spec_table(features, spec)
    assert np.array_equal(matrix, apply_spec(columns, spec_from_table(spec)))
    # the spec survives storage (Parquet, as the warehouse keeps it) bit for bit, in any order
    buffer = io.BytesIO()
    pq.write_table(spec, buffer)
    stored = pq.read_table(io.BytesIO(buffer.getvalue()))
    assert np.array_equal(apply_spec_table(features, stored), matrix)
    shuffled = spec.take(pa.array(np.arange(spec.num_rows)[::-1]))
    assert np.array_equal(apply_spec_table(features, shuffled), matrix)
    # and so does the table form
    table = transform_table(features, spec)
    assert table.column_names == ["customer_id", *spec.column("output_column").to_pylist()]
    assert np.array_equal(np.column_stack([c.to_numpy() for c in table.columns[1:]]), matrix)
    assert table.column("customer_id").equals(features.column("customer_id"))


def test_spec_table_checks(features, settings):
    spec = fit_spec_table(features, settings)
    with pytest.raises(ConfigError, match="missing column"):
        spec_rows(spec.drop_columns(["weight"]))
    with pytest.raises(ConfigError, match=r"positions must be 0\.\.7 without gaps"):
        spec_rows(spec.slice(1))
    with pytest.raises(TypeError, match=r"expected the spec as a pyarrow\.Table"):
        spec_rows(spec.to_pylist())


def test_all_null_feature(features):
    table = features.set_column(
        features.column_names.index("income"), "income", pa.nulls(N, pa.float64())
    )
    settings = SegmentationSettings.from_config({"features": ["recency_days", "income"]})
    with pytest.raises(ConfigError, match=r"customer_features\.income: every value is null"):
        fit_spec_table(table, settings)
    untyped = table.set_column(table.column_names.index("income"), "income", pa.nulls(N))
    with pytest.raises(ConfigError, match=r"customer_features\.income: every value is null"):
        fit_spec_table(untyped, settings)


def test_unknown_feature_lists_available_columns(features):
    settings = SegmentationSettings.from_config({"features": ["recency", "income"]})
    with pytest.raises(ConfigError, match=r"unknown column 'recency' in customer_features; "):
        fit_spec_table(features, settings)
    with pytest.raises(ConfigError, match="available columns: customer_id, recency_days"):
        fit_spec_table(features, settings)


def test_no_rows(features, settings):
    with pytest.raises(ConfigError, match="customer_features: the table has no rows"):
        fit_spec_table(features.slice(0, 0), settings)


def test_non_numeric_column_names_arrow_type(features):
    settings = SegmentationSettings.from_config({"features": ["gender"]})
    with pytest.raises(ConfigError, match=r"customer_features\.gender: .*Arrow type string"):
        fit_spec_table(features, settings)


def test_non_finite_values_in_the_warehouse(features):
    """A NaN stored in the warehouse is a non-finite value, not a missing one (that is null)."""
    values = np.arange(N, dtype=float)
    values[5] = np.inf
    values[6] = np.nan
    table = features.set_column(features.column_names.index("income"), "income", pa.array(values))
    settings = SegmentationSettings.from_config({"features": ["income"]})
    with pytest.raises(ConfigError, match=r"customer_features\.income: 2 non-finite value"):
        fit_spec_table(table, settings)


def test_apply_reports_missing_column(features, settings):
    spec = fit_spec_table(features, settings)
    with pytest.raises(ConfigError, match=r"customer_features: column 'monetary' is missing"):
        apply_spec_table(features.drop_columns(["monetary"]), spec)

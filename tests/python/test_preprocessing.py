from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation.preprocessing import (
    OTHER_LEVEL,
    SPEC_SCHEMA,
    apply_spec,
    fit_spec,
    fit_transform,
    inverse_numeric,
    outlier_mask,
    output_columns,
    spec_rows,
    transform_table,
)
from segmentation.settings import IDENTIFIER, ConfigError, SegmentationSettings

N = 1000


@pytest.fixture(scope="module")
def features() -> pa.Table:
    rng = np.random.default_rng(7)
    recency = rng.integers(0, 365, N).astype(float)
    monetary = rng.lognormal(4.0, 1.2, N)
    income = rng.normal(50_000, 12_000, N)
    gender = rng.choice(["Female", "Male"], N, p=[0.55, 0.45]).astype(object)
    gender[:6] = "Unknown"  # 0.6 % -> rare
    gender[6:9] = "Other value"  # 0.3 % -> rare
    tier = rng.choice(["bronze", "silver", "gold"], N, p=[0.6, 0.3, 0.1]).astype(object)
    recency_mask = rng.random(N) < 0.05
    monetary_mask = rng.random(N) < 0.1
    income_mask = rng.random(N) < 0.2
    gender_mask = rng.random(N) < 0.03
    tier_mask = rng.random(N) < 0.02
    return pa.table(
        {
            "customer_id": pa.array(np.arange(1, N + 1)),
            "recency_days": pa.array(recency, mask=recency_mask),
            "monetary": pa.array(monetary, mask=monetary_mask),
            "income": pa.array(income, mask=income_mask),
            "orders": pa.array(rng.integers(1, 20, N)),
            "gender": pa.array(list(gender), pa.string(), mask=gender_mask),
            "tier": pa.array(list(tier), pa.string(), mask=tier_mask),
            "country": pa.array(["NL"] * N),
            "constant": pa.array(np.full(N, 3.5)),
        }
    )


@pytest.fixture(scope="module")
def settings() -> SegmentationSettings:
    return SegmentationSettings.from_config(
        {
            "features": [
                "recency_days",
                {"name": "monetary", "transform": "log1p", "weight": 2.0},
                {"name": "income", "impute": "mean", "missing_indicator": True},
                {"name": "orders", "impute": "most_frequent"},
                {"name": "gender", "kind": "categorical", "weight": 1.5},
                {"name": "tier", "kind": "ordinal", "levels": ["bronze", "silver", "gold"]},
            ]
        }
    )


def _row(spec: pa.Table, output_column: str) -> dict:
    return next(r for r in spec_rows(spec) if r["output_column"] == output_column)


def test_spec_layout(features, settings):
    spec = fit_spec(features, settings)
    assert spec.schema == SPEC_SCHEMA
    names = output_columns(spec)
    assert names == [
        "recency_days",
        "monetary",
        "income",
        "income__missing",
        "orders",
        "gender__female",
        "gender__male",
        "gender__other",
        "tier",
    ]
    assert all(IDENTIFIER.match(name) for name in names)
    assert spec.column("position").to_pylist() == list(range(len(names)))
    assert _row(spec, "tier")["ordinal_levels"] == ["bronze", "silver", "gold"]
    assert _row(spec, "income__missing")["is_missing_indicator"]
    assert _row(spec, "gender__other")["level"] == OTHER_LEVEL


def test_round_trip_exact(features, settings):
    spec, fitted = fit_transform(features, settings)
    matrix = apply_spec(features, spec)
    assert matrix.dtype == np.float64 and matrix.flags["C_CONTIGUOUS"]
    assert matrix.shape == (N, spec.num_rows)
    assert np.array_equal(matrix, fitted)
    # the spec survives storage (Parquet, as the warehouse keeps it) bit for bit
    buffer = io.BytesIO()
    pq.write_table(spec, buffer)
    stored = pq.read_table(io.BytesIO(buffer.getvalue()))
    assert np.array_equal(apply_spec(features, stored), matrix)
    # and so does the table form
    table = transform_table(features, spec)
    assert table.column_names == ["customer_id", *output_columns(spec)]
    assert np.array_equal(np.column_stack([c.to_numpy() for c in table.columns[1:]]), matrix)
    assert table.column("customer_id").equals(features.column("customer_id"))


def test_numeric_columns_standardised_before_weights(features, settings):
    spec, matrix = fit_transform(features, settings)
    for name in ("recency_days", "monetary", "income", "orders", "tier"):
        row = _row(spec, name)
        unweighted = matrix[:, row["position"]] / row["weight"]
        assert abs(unweighted.mean()) < 1e-12
        assert unweighted.std() == pytest.approx(1.0, rel=1e-12)
    assert _row(spec, "monetary")["weight"] == 2.0


def test_log1p_then_impute_then_standardise(features, settings):
    spec, matrix = fit_transform(features, settings)
    row = _row(spec, "monetary")
    raw = features.column("monetary").to_numpy(zero_copy_only=False)
    nulls = np.isnan(raw)
    # the median is taken after log1p, stored in original units
    assert np.log1p(row["impute_value_numeric"]) == pytest.approx(np.median(np.log1p(raw[~nulls])))
    logged = np.log1p(np.where(nulls, row["impute_value_numeric"], raw))
    assert row["center"] == pytest.approx(logged.mean(), rel=1e-12)
    assert row["scale"] == pytest.approx(logged.std(), rel=1e-12)
    expected = (logged - logged.mean()) / logged.std() * 2.0
    np.testing.assert_allclose(matrix[:, row["position"]], expected, rtol=1e-10, atol=1e-12)
    # inverse: back to original units (imputed rows to the imputed value)
    back = inverse_numeric(spec, "monetary", matrix[:, row["position"]])
    np.testing.assert_allclose(back, np.where(nulls, row["impute_value_numeric"], raw), rtol=1e-10)


def test_mean_imputation_and_missing_indicator(features, settings):
    spec, matrix = fit_transform(features, settings)
    raw = features.column("income").to_numpy(zero_copy_only=False)
    nulls = np.isnan(raw)
    row = _row(spec, "income")
    assert row["impute_value_numeric"] == pytest.approx(raw[~nulls].mean())
    indicator = _row(spec, "income__missing")
    assert indicator["center"] == pytest.approx(nulls.mean())
    column = matrix[:, indicator["position"]]
    assert np.all(column[nulls] > 0) and np.all(column[~nulls] < 0)


def test_rare_levels_grouped_and_unseen_level_goes_to_other(features, settings):
    spec, matrix = fit_transform(features, settings)
    other = _row(spec, "gender__other")
    assert "'Unknown'" in other["note"] and "'Other value'" in other["note"]
    assert other["center"] == pytest.approx(9 / N)  # 6 Unknown + 3 Other value rows
    # the fitted rare levels are in the other column
    assert np.all(matrix[:9, other["position"]] > 0)
    new = features.slice(0, 3).set_column(
        features.column_names.index("gender"),
        "gender",
        pa.array(["Nonbinary", "Female", None], pa.string()),
    )
    applied = apply_spec(new, spec)
    female, male = _row(spec, "gender__female"), _row(spec, "gender__male")
    weight = other["weight"]
    np.testing.assert_allclose(applied[0, other["position"]], (1 - other["center"]) * weight)
    np.testing.assert_allclose(applied[0, female["position"]], -female["center"] * weight)
    np.testing.assert_allclose(applied[1, female["position"]], (1 - female["center"]) * weight)
    # a null is imputed with the most frequent level (Female)
    assert female["impute_value_text"] == "Female"
    block = [female["position"], male["position"], other["position"]]
    np.testing.assert_array_equal(applied[2, block], applied[1, block])
    np.testing.assert_allclose(applied[2, male["position"]], -male["center"] * weight)


def test_one_hot_block_weight_rule(features, settings):
    """The one-hot block's total variance equals weight**2, like one standardised feature."""
    spec, matrix = fit_transform(features, settings)
    block = [r for r in spec_rows(spec) if r["feature"] == "gender"]
    shares = np.array([r["center"] for r in block])
    assert shares.sum() == pytest.approx(1.0)
    expected_weight = 1.5 / np.sqrt(1.0 - np.sum(shares**2))
    assert all(r["weight"] == pytest.approx(expected_weight) for r in block)
    positions = [r["position"] for r in block]
    total_variance = matrix[:, positions].var(axis=0).sum()
    assert total_variance == pytest.approx(1.5**2, rel=1e-12)


def test_two_level_variable_is_its_standardised_indicator():
    table = pa.table({"customer_id": [1, 2, 3, 4, 5], "flag": ["a", "b", "b", "b", "b"]})
    settings = SegmentationSettings.from_config(
        {"features": [{"name": "flag", "kind": "categorical", "min_level_share": 0}]}
    )
    _, matrix = fit_transform(table, settings)
    p = 0.2
    squared = np.sum((matrix[0] - matrix[1]) ** 2)
    assert squared == pytest.approx(1.0 / (p * (1 - p)))


def test_constant_column_contributes_nothing(features):
    settings = SegmentationSettings.from_config({"features": ["recency_days", "constant"]})
    spec, matrix = fit_transform(features, settings)
    row = _row(spec, "constant")
    assert row["scale"] == 1.0 and row["weight"] == 0.0
    assert "constant" in row["note"]
    assert np.all(matrix[:, row["position"]] == 0.0)
    other = features.set_column(
        features.column_names.index("constant"), "constant", pa.array(np.arange(N, dtype=float))
    )
    assert np.all(apply_spec(other, spec)[:, row["position"]] == 0.0)
    assert np.all(inverse_numeric(spec, "constant", np.array([0.0, 1.0])) == 3.5)


@pytest.mark.parametrize("magnitude", [1e160, 1e200, 1e300])
def test_scale_of_huge_values_is_finite_and_exact(magnitude):
    # Issue 11, 5b: values around 1e160 overflow when squared; np.std gave inf, so the feature
    # was 0 for every customer. The population std of (1, 2, 3, 4) * m is sqrt(1.25) * m.
    values = np.array([1.0, 2.0, 3.0, 4.0]) * magnitude
    table = pa.table({"customer_id": [1, 2, 3, 4], "x": values})
    spec, matrix = fit_transform(table, SegmentationSettings.from_config({"features": ["x"]}))
    row = _row(spec, "x")
    assert row["center"] == pytest.approx(2.5 * magnitude, rel=1e-12)
    assert row["scale"] == pytest.approx(np.sqrt(1.25) * magnitude, rel=1e-12)
    expected = (np.array([1.0, 2.0, 3.0, 4.0]) - 2.5) / np.sqrt(1.25)
    np.testing.assert_allclose(matrix[:, 0], expected, rtol=1e-12)


def test_one_huge_value_is_an_outlier_not_a_silent_zero_feature():
    # Issue 11, 5b: one attribute value near 1e200 among values of 1..59. The scale is finite
    # (sqrt(59) / 60 * 1e200) instead of inf (a column of zeros). Centred at the mean (~1.7e198)
    # the other 59 values would be one and the same float64; the spec centres such a column at
    # its median (30.5), so they stay apart and in order, and the huge value is an outlier by
    # outlier_fence (left out of the K-Means fit), with or without log1p.
    values = np.append(np.arange(1.0, 60.0), 1e200)
    table = pa.table({"customer_id": np.arange(60), "x": values})
    spec, matrix = fit_transform(table, SegmentationSettings.from_config({"features": ["x"]}))
    row = _row(spec, "x")
    scale = np.sqrt(59) / 60 * 1e200
    assert row["scale"] == pytest.approx(scale, rel=1e-12)
    assert row["center"] == 30.5
    assert row["note"].startswith("values span more orders of magnitude than float64 keeps apart")
    np.testing.assert_allclose(matrix[:-1, 0], (np.arange(1.0, 60.0) - 30.5) / scale, rtol=1e-12)
    assert matrix[-1, 0] == pytest.approx(1e200 / scale, rel=1e-12)
    assert outlier_mask(matrix, 3.0).tolist() == [False] * 59 + [True]
    logged = SegmentationSettings.from_config({"features": [{"name": "x", "transform": "log1p"}]})
    spec, matrix = fit_transform(table, logged)
    assert _row(spec, "x")["note"] is None
    assert outlier_mask(matrix, 3.0).tolist() == [False] * 59 + [True]


def test_ordinal_levels_match_ignoring_case_and_blanks():
    # Issue 11, 6d: levels [bronze, silver, gold] with values GOLD / Silver were refused as
    # "outside the configured ordinal levels".
    table = pa.table(
        {
            "customer_id": [1, 2, 3, 4, 5, 6],
            "tier": ["GOLD", "Silver", " bronze ", "gold", None, "Gold"],
        }
    )
    settings = SegmentationSettings.from_config(
        {"features": [{"name": "tier", "kind": "ordinal", "levels": ["bronze", "silver", "gold"]}]}
    )
    spec, matrix = fit_transform(table, settings)
    row = _row(spec, "tier")
    assert row["impute_value_text"] == "gold"  # 3 of 5 values, whatever their case
    codes = matrix[:, 0] / row["weight"] * row["scale"] + row["center"]
    np.testing.assert_allclose(codes, [1.0, 0.5, 0.0, 1.0, 1.0, 1.0], atol=1e-12)
    other = pa.table({"customer_id": [7, 8], "tier": ["SILVER", "Bronze"]})
    applied = apply_spec(other, spec)[:, 0] / row["weight"] * row["scale"] + row["center"]
    np.testing.assert_allclose(applied, [0.5, 0.0], atol=1e-12)
    constant = SegmentationSettings.from_config(
        {
            "features": [
                {
                    "name": "tier",
                    "kind": "ordinal",
                    "levels": ["bronze", "silver", "gold"],
                    "impute": "constant",
                    "impute_value": "Silver",
                }
            ]
        }
    )
    assert _row(fit_spec(table, constant), "tier")["impute_value_text"] == "silver"
    with pytest.raises(ConfigError, match=r"levels must be distinct \(ignoring case"):
        SegmentationSettings.from_config(
            {"features": [{"name": "tier", "kind": "ordinal", "levels": ["gold", "Gold"]}]}
        )


def test_single_non_null_value_is_a_constant():
    table = pa.table({"customer_id": [1, 2, 3], "x": pa.array([None, 4.0, None], pa.float64())})
    spec, matrix = fit_transform(table, SegmentationSettings.from_config({"features": ["x"]}))
    assert "constant" in _row(spec, "x")["note"]
    assert np.all(matrix == 0.0)


def test_single_level_category_is_constant(features):
    settings = SegmentationSettings.from_config(
        {"features": ["recency_days", {"name": "country", "kind": "categorical"}]}
    )
    spec, matrix = fit_transform(features, settings)
    block = [r for r in spec_rows(spec) if r["feature"] == "country"]
    assert all(r["weight"] == 0.0 and "constant" in r["note"] for r in block)
    assert np.all(matrix[:, [r["position"] for r in block]] == 0.0)


def test_ordinal_codes(features, settings):
    spec, matrix = fit_transform(features, settings)
    row = _row(spec, "tier")
    codes = inverse_numeric(spec, "tier", matrix[:, row["position"]])
    tier = features.column("tier").to_pylist()
    expected = {"bronze": 0.0, "silver": 0.5, "gold": 1.0, None: 0.0}  # null -> most frequent
    np.testing.assert_allclose(codes, [expected[t] for t in tier], atol=1e-12)
    assert row["impute_value_text"] == "bronze"
    bad = features.set_column(
        features.column_names.index("tier"), "tier", pa.array(["platinum"] * N, pa.string())
    )
    with pytest.raises(ConfigError, match=r"customer_features\.tier: .*'platinum'.*bronze"):
        apply_spec(bad, spec)


def test_all_null_feature(features):
    table = features.set_column(
        features.column_names.index("income"), "income", pa.nulls(N, pa.float64())
    )
    settings = SegmentationSettings.from_config({"features": ["recency_days", "income"]})
    with pytest.raises(ConfigError, match=r"customer_features\.income: every value is null"):
        fit_spec(table, settings)
    untyped = table.set_column(table.column_names.index("income"), "income", pa.nulls(N))
    with pytest.raises(ConfigError, match=r"customer_features\.income: every value is null"):
        fit_spec(untyped, settings)


def test_negative_values_under_log1p(features):
    values = np.arange(N, dtype=float)
    values[[3, 10]] = [-5.0, -1.5]
    table = features.set_column(
        features.column_names.index("monetary"), "monetary", pa.array(values)
    )
    settings = SegmentationSettings.from_config(
        {"features": [{"name": "monetary", "transform": "log1p"}]}
    )
    with pytest.raises(ConfigError, match=r"customer_features\.monetary: log1p .*-5\.0 \(2 neg"):
        fit_spec(table, settings)


def test_unknown_feature_lists_available_columns(features):
    settings = SegmentationSettings.from_config({"features": ["recency", "income"]})
    with pytest.raises(ConfigError, match=r"unknown column 'recency' in customer_features; "):
        fit_spec(features, settings)
    with pytest.raises(ConfigError, match="available columns: customer_id, recency_days"):
        fit_spec(features, settings)


def test_non_numeric_column_names_arrow_type(features):
    settings = SegmentationSettings.from_config({"features": ["gender"]})
    with pytest.raises(ConfigError, match=r"customer_features\.gender: .*Arrow type string"):
        fit_spec(features, settings)


def test_non_finite_values(features):
    values = np.arange(N, dtype=float)
    values[5] = np.inf
    values[6] = np.nan
    table = features.set_column(features.column_names.index("income"), "income", pa.array(values))
    settings = SegmentationSettings.from_config({"features": ["income"]})
    with pytest.raises(ConfigError, match=r"customer_features\.income: 2 non-finite value"):
        fit_spec(table, settings)


def test_apply_reports_missing_column(features, settings):
    spec = fit_spec(features, settings)
    with pytest.raises(ConfigError, match=r"customer_features: column 'monetary' is missing"):
        apply_spec(features.drop_columns(["monetary"]), spec)


def test_output_column_names_stay_unique():
    table = pa.table(
        {
            "customer_id": [1, 2, 3, 4],
            "segment": ["A b", "a_b", "Other", "other"],
        }
    )
    settings = SegmentationSettings.from_config(
        {"features": [{"name": "segment", "kind": "categorical", "min_level_share": 0}]}
    )
    names = output_columns(fit_spec(table, settings))
    assert len(set(names)) == len(names) == 5
    assert "segment__other" in names
    assert all(IDENTIFIER.match(name) for name in names)


def _jinja_slug():
    """The ``segments_slug`` macro of macros/features.sql, rendered with plain Jinja as dbt does
    (``modules.re`` and ``return``), so its rule can be checked against the Python one."""
    import re
    import types
    from pathlib import Path

    import jinja2

    class ReturnValueError(Exception):
        pass

    def give_back(value):
        raise ReturnValueError(value)

    source = (Path(__file__).parents[2] / "macros" / "features.sql").read_text()
    macro = re.search(r"{% macro segments_slug\(value\) %}.*?{% endmacro %}", source, re.S)
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    module = env.from_string(macro.group(0)).make_module(
        {"modules": types.SimpleNamespace(re=re), "return": give_back}
    )

    def slug(value: str) -> str:
        try:
            module.segments_slug(value)
        except ReturnValueError as returned:
            return returned.args[0]
        raise AssertionError("segments_slug did not return")

    return slug


@pytest.mark.parametrize(
    "level",
    ["Electronics", "Home & Garden", "  web shop ", "B2B/Retail", "---", "", "Kids' toys 3+"],
)
def test_sql_slug_macro_follows_the_python_rule(level: str) -> None:
    """One slug rule: the SQL macro naming the spend-share columns gives the Python rule's
    column-name suffix (preprocessing._slug) for ASCII levels. (Non-ASCII levels differ: dbt's
    Jinja has no unicodedata for the NFKD folding, so "Café" is "caf" in SQL, "cafe" here.)"""
    from segmentation.preprocessing import _slug

    assert _jinja_slug()(level) == _slug(level)

"""The preprocessing algorithm on arrays (``segmentation.preprocessing``); its tables (the Arrow
reading, the spec table and the feature-matrix table) are tested in test_preprocessing_tables."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation.preprocessing import (
    OTHER_LEVEL,
    OutputColumn,
    PreprocessingSpec,
    apply_spec,
    fit_spec,
    fit_transform,
    inverse_numeric,
    outlier_mask,
)
from segmentation.settings import IDENTIFIER, ConfigError, FeatureSpec, SegmentationSettings

N = 1000


def make_columns() -> dict[str, np.ndarray]:
    """Feature columns of N customers: numeric ones with NaN, text ones with None when missing."""
    rng = np.random.default_rng(7)
    recency = rng.integers(0, 365, N).astype(float)
    monetary = rng.lognormal(4.0, 1.2, N)
    income = rng.normal(50_000, 12_000, N)
    gender = rng.choice(["Female", "Male"], N, p=[0.55, 0.45]).astype(object)
    gender[:6] = "Unknown"  # 0.6 % -> rare
    gender[6:9] = "Other value"  # 0.3 % -> rare
    tier = rng.choice(["bronze", "silver", "gold"], N, p=[0.6, 0.3, 0.1]).astype(object)
    recency[rng.random(N) < 0.05] = np.nan
    monetary[rng.random(N) < 0.1] = np.nan
    income[rng.random(N) < 0.2] = np.nan
    gender[rng.random(N) < 0.03] = None
    tier[rng.random(N) < 0.02] = None
    orders = rng.integers(1, 20, N)  # drawn last, as when the fixture was an Arrow table
    return {
        "recency_days": recency,
        "monetary": monetary,
        "income": income,
        "orders": orders,
        "gender": gender,
        "tier": tier,
        "country": np.array(["NL"] * N, dtype=object),
        "constant": np.full(N, 3.5),
    }


FEATURES = [
    "recency_days",
    {"name": "monetary", "transform": "log1p", "weight": 2.0},
    {"name": "income", "impute": "mean", "missing_indicator": True},
    {"name": "orders", "impute": "most_frequent"},
    {"name": "gender", "kind": "categorical", "weight": 1.5},
    {"name": "tier", "kind": "ordinal", "levels": ["bronze", "silver", "gold"]},
]


def features_of(features: list) -> tuple[FeatureSpec, ...]:
    """The per-feature parameters of a ``segmentation.features`` list, as configured."""
    return SegmentationSettings.from_config({"features": features}).features


@pytest.fixture(scope="module")
def columns() -> dict[str, np.ndarray]:
    return make_columns()


@pytest.fixture(scope="module")
def settings() -> tuple[FeatureSpec, ...]:
    return features_of(FEATURES)


def _row(spec: PreprocessingSpec, output_column: str) -> OutputColumn:
    return spec.column(output_column)


def _with(columns: dict[str, np.ndarray], **changed: np.ndarray) -> dict[str, np.ndarray]:
    return {**columns, **changed}


def test_spec_layout(columns, settings):
    spec = fit_spec(columns, settings)
    names = spec.output_columns
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
    assert [c.position for c in spec.columns] == list(range(len(names)))
    assert _row(spec, "tier").ordinal_levels == ("bronze", "silver", "gold")
    assert _row(spec, "income__missing").is_missing_indicator
    assert _row(spec, "gender__other").level == OTHER_LEVEL
    with pytest.raises(ConfigError, match="unknown output column 'gender__unknown'"):
        spec.column("gender__unknown")


def test_round_trip_exact(columns, settings):
    spec, fitted = fit_transform(columns, settings)
    matrix = apply_spec(columns, spec)
    assert matrix.dtype == np.float64 and matrix.flags["C_CONTIGUOUS"]
    assert matrix.shape == (N, len(spec.columns))
    assert np.array_equal(matrix, fitted)
    # plain Python lists (None when missing) give the same matrix as numpy arrays
    as_lists = {
        name: [None if isinstance(v, float) and np.isnan(v) else v for v in values.tolist()]
        for name, values in columns.items()
    }
    assert np.array_equal(apply_spec(as_lists, spec), matrix)


def test_spec_positions_are_checked():
    column = OutputColumn(
        "x", "numeric", "x", 1, "none", "median", 0.0, None, None, None, 0.0, 1.0, 1.0, False, None
    )
    with pytest.raises(ConfigError, match=r"positions must be 0\.\.0 without gaps, got \[1\]"):
        PreprocessingSpec((column,))
    with pytest.raises(ConfigError, match="positions must be"):
        PreprocessingSpec(())


def test_numeric_columns_standardised_before_weights(columns, settings):
    spec, matrix = fit_transform(columns, settings)
    for name in ("recency_days", "monetary", "income", "orders", "tier"):
        row = _row(spec, name)
        unweighted = matrix[:, row.position] / row.weight
        assert abs(unweighted.mean()) < 1e-12
        assert unweighted.std() == pytest.approx(1.0, rel=1e-12)
    assert _row(spec, "monetary").weight == 2.0


def test_log1p_then_impute_then_standardise(columns, settings):
    spec, matrix = fit_transform(columns, settings)
    row = _row(spec, "monetary")
    raw = columns["monetary"]
    nulls = np.isnan(raw)
    # the median is taken after log1p, stored in original units
    assert np.log1p(row.impute_value_numeric) == pytest.approx(np.median(np.log1p(raw[~nulls])))
    logged = np.log1p(np.where(nulls, row.impute_value_numeric, raw))
    assert row.center == pytest.approx(logged.mean(), rel=1e-12)
    assert row.scale == pytest.approx(logged.std(), rel=1e-12)
    expected = (logged - logged.mean()) / logged.std() * 2.0
    np.testing.assert_allclose(matrix[:, row.position], expected, rtol=1e-10, atol=1e-12)
    # inverse: back to original units (imputed rows to the imputed value)
    back = inverse_numeric(spec, "monetary", matrix[:, row.position])
    np.testing.assert_allclose(back, np.where(nulls, row.impute_value_numeric, raw), rtol=1e-10)
    with pytest.raises(ConfigError, match="'gender' is not a numeric or ordinal feature"):
        inverse_numeric(spec, "gender", matrix[:, 0])


def test_mean_imputation_and_missing_indicator(columns, settings):
    spec, matrix = fit_transform(columns, settings)
    raw = columns["income"]
    nulls = np.isnan(raw)
    row = _row(spec, "income")
    assert row.impute_value_numeric == pytest.approx(raw[~nulls].mean())
    indicator = _row(spec, "income__missing")
    assert indicator.center == pytest.approx(nulls.mean())
    column = matrix[:, indicator.position]
    assert np.all(column[nulls] > 0) and np.all(column[~nulls] < 0)


def test_rare_levels_grouped_and_unseen_level_goes_to_other(columns, settings):
    spec, matrix = fit_transform(columns, settings)
    other = _row(spec, "gender__other")
    assert "'Unknown'" in other.note and "'Other value'" in other.note
    assert other.center == pytest.approx(9 / N)  # 6 Unknown + 3 Other value rows
    # the fitted rare levels are in the other column
    assert np.all(matrix[:9, other.position] > 0)
    new = {name: values[:3] for name, values in columns.items()}
    new["gender"] = np.array(["Nonbinary", "Female", None], dtype=object)
    applied = apply_spec(new, spec)
    female, male = _row(spec, "gender__female"), _row(spec, "gender__male")
    weight = other.weight
    np.testing.assert_allclose(applied[0, other.position], (1 - other.center) * weight)
    np.testing.assert_allclose(applied[0, female.position], -female.center * weight)
    np.testing.assert_allclose(applied[1, female.position], (1 - female.center) * weight)
    # a null is imputed with the most frequent level (Female)
    assert female.impute_value_text == "Female"
    block = [female.position, male.position, other.position]
    np.testing.assert_array_equal(applied[2, block], applied[1, block])
    np.testing.assert_allclose(applied[2, male.position], -male.center * weight)


def test_one_hot_block_weight_rule(columns, settings):
    """The one-hot block's total variance equals weight**2, like one standardised feature."""
    spec, matrix = fit_transform(columns, settings)
    block = [r for r in spec.columns if r.feature == "gender"]
    shares = np.array([r.center for r in block])
    assert shares.sum() == pytest.approx(1.0)
    expected_weight = 1.5 / np.sqrt(1.0 - np.sum(shares**2))
    assert all(r.weight == pytest.approx(expected_weight) for r in block)
    positions = [r.position for r in block]
    total_variance = matrix[:, positions].var(axis=0).sum()
    assert total_variance == pytest.approx(1.5**2, rel=1e-12)


def test_two_level_variable_is_its_standardised_indicator():
    features = features_of([{"name": "flag", "kind": "categorical", "min_level_share": 0}])
    _, matrix = fit_transform({"flag": ["a", "b", "b", "b", "b"]}, features)
    p = 0.2
    squared = np.sum((matrix[0] - matrix[1]) ** 2)
    assert squared == pytest.approx(1.0 / (p * (1 - p)))


def test_constant_column_contributes_nothing(columns):
    spec, matrix = fit_transform(columns, features_of(["recency_days", "constant"]))
    row = _row(spec, "constant")
    assert row.scale == 1.0 and row.weight == 0.0
    assert "constant" in row.note
    assert np.all(matrix[:, row.position] == 0.0)
    other = _with(columns, constant=np.arange(N, dtype=float))
    assert np.all(apply_spec(other, spec)[:, row.position] == 0.0)
    assert np.all(inverse_numeric(spec, "constant", np.array([0.0, 1.0])) == 3.5)


@pytest.mark.parametrize("magnitude", [1e160, 1e200, 1e300])
def test_scale_of_huge_values_is_finite_and_exact(magnitude):
    # Issue 11, 5b: values around 1e160 overflow when squared; np.std gave inf, so the feature
    # was 0 for every customer. The population std of (1, 2, 3, 4) * m is sqrt(1.25) * m.
    values = np.array([1.0, 2.0, 3.0, 4.0]) * magnitude
    spec, matrix = fit_transform({"x": values}, features_of(["x"]))
    row = _row(spec, "x")
    assert row.center == pytest.approx(2.5 * magnitude, rel=1e-12)
    assert row.scale == pytest.approx(np.sqrt(1.25) * magnitude, rel=1e-12)
    expected = (np.array([1.0, 2.0, 3.0, 4.0]) - 2.5) / np.sqrt(1.25)
    np.testing.assert_allclose(matrix[:, 0], expected, rtol=1e-12)


def test_one_huge_value_is_an_outlier_not_a_silent_zero_feature():
    # Issue 11, 5b: one attribute value near 1e200 among values of 1..59. The scale is finite
    # (sqrt(59) / 60 * 1e200) instead of inf (a column of zeros). Centred at the mean (~1.7e198)
    # the other 59 values would be one and the same float64; the spec centres such a column at
    # its median (30.5), so they stay apart and in order, and the huge value is an outlier by
    # outlier_fence (left out of the K-Means fit), with or without log1p.
    values = {"x": np.append(np.arange(1.0, 60.0), 1e200)}
    spec, matrix = fit_transform(values, features_of(["x"]))
    row = _row(spec, "x")
    scale = np.sqrt(59) / 60 * 1e200
    assert row.scale == pytest.approx(scale, rel=1e-12)
    assert row.center == 30.5
    assert row.note.startswith("values span more orders of magnitude than float64 keeps apart")
    np.testing.assert_allclose(matrix[:-1, 0], (np.arange(1.0, 60.0) - 30.5) / scale, rtol=1e-12)
    assert matrix[-1, 0] == pytest.approx(1e200 / scale, rel=1e-12)
    assert outlier_mask(matrix, 3.0).tolist() == [False] * 59 + [True]
    spec, matrix = fit_transform(values, features_of([{"name": "x", "transform": "log1p"}]))
    assert _row(spec, "x").note is None
    assert outlier_mask(matrix, 3.0).tolist() == [False] * 59 + [True]


def test_ordinal_levels_match_ignoring_case_and_blanks():
    # Issue 11, 6d: levels [bronze, silver, gold] with values GOLD / Silver were refused as
    # "outside the configured ordinal levels".
    values = {"tier": ["GOLD", "Silver", " bronze ", "gold", None, "Gold"]}
    levels = ["bronze", "silver", "gold"]
    spec, matrix = fit_transform(
        values, features_of([{"name": "tier", "kind": "ordinal", "levels": levels}])
    )
    row = _row(spec, "tier")
    assert row.impute_value_text == "gold"  # 3 of 5 values, whatever their case
    codes = matrix[:, 0] / row.weight * row.scale + row.center
    np.testing.assert_allclose(codes, [1.0, 0.5, 0.0, 1.0, 1.0, 1.0], atol=1e-12)
    applied = apply_spec({"tier": ["SILVER", "Bronze"]}, spec)[:, 0]
    np.testing.assert_allclose(
        applied / row.weight * row.scale + row.center, [0.5, 0.0], atol=1e-12
    )
    constant = features_of(
        [
            {
                "name": "tier",
                "kind": "ordinal",
                "levels": levels,
                "impute": "constant",
                "impute_value": "Silver",
            }
        ]
    )
    assert _row(fit_spec(values, constant), "tier").impute_value_text == "silver"
    with pytest.raises(ConfigError, match=r"levels must be distinct \(ignoring case"):
        features_of([{"name": "tier", "kind": "ordinal", "levels": ["gold", "Gold"]}])


def test_single_non_null_value_is_a_constant():
    spec, matrix = fit_transform({"x": [None, 4.0, None]}, features_of(["x"]))
    assert "constant" in _row(spec, "x").note
    assert np.all(matrix == 0.0)


def test_single_level_category_is_constant(columns):
    features = features_of(["recency_days", {"name": "country", "kind": "categorical"}])
    spec, matrix = fit_transform(columns, features)
    block = [r for r in spec.columns if r.feature == "country"]
    assert all(r.weight == 0.0 and "constant" in r.note for r in block)
    assert np.all(matrix[:, [r.position for r in block]] == 0.0)


def test_ordinal_codes(columns, settings):
    spec, matrix = fit_transform(columns, settings)
    row = _row(spec, "tier")
    codes = inverse_numeric(spec, "tier", matrix[:, row.position])
    tier = columns["tier"].tolist()
    expected = {"bronze": 0.0, "silver": 0.5, "gold": 1.0, None: 0.0}  # null -> most frequent
    np.testing.assert_allclose(codes, [expected[t] for t in tier], atol=1e-12)
    assert row.impute_value_text == "bronze"
    bad = _with(columns, tier=np.array(["platinum"] * N, dtype=object))
    with pytest.raises(ConfigError, match=r"customer_features\.tier: .*'platinum'.*bronze"):
        apply_spec(bad, spec)


def test_all_null_feature(columns):
    features = features_of(["recency_days", "income"])
    with pytest.raises(ConfigError, match=r"customer_features\.income: every value is null"):
        fit_spec(_with(columns, income=np.full(N, np.nan)), features)
    with pytest.raises(ConfigError, match=r"customers\.gender: every value is null \(3 rows\)"):
        fit_spec(
            {"gender": [None, None, None]},
            features_of([{"name": "gender", "kind": "categorical"}]),
            table_name="customers",
        )


def test_negative_values_under_log1p(columns):
    values = np.arange(N, dtype=float)
    values[[3, 10]] = [-5.0, -1.5]
    features = features_of([{"name": "monetary", "transform": "log1p"}])
    with pytest.raises(ConfigError, match=r"customer_features\.monetary: log1p .*-5\.0 \(2 neg"):
        fit_spec(_with(columns, monetary=values), features)


def test_text_where_numbers_are_needed(columns):
    with pytest.raises(ConfigError, match=r"customer_features\.gender: a numeric feature needs"):
        fit_spec(columns, features_of(["gender"]))
    with pytest.raises(ConfigError, match=r"customer_features\.gender: .* needs text values"):
        fit_spec(
            _with(columns, gender=np.arange(N)),
            features_of([{"name": "gender", "kind": "categorical"}]),
        )


def test_infinite_values_refused_and_nan_is_missing(columns):
    values = np.arange(N, dtype=float)
    values[5] = np.inf
    values[6] = np.nan
    features = features_of(["income"])
    with pytest.raises(ConfigError, match=r"customer_features\.income: 1 non-finite value"):
        fit_spec(_with(columns, income=values), features)
    values[5] = 5.0
    spec = fit_spec(_with(columns, income=values), features)
    assert _row(spec, "income").impute_value_numeric == np.median(np.delete(values, 6))


def test_missing_column_and_lengths(columns, settings):
    spec = fit_spec(columns, settings)
    without = {name: values for name, values in columns.items() if name != "monetary"}
    with pytest.raises(ConfigError, match=r"customer_features: column 'monetary' is missing"):
        apply_spec(without, spec)
    with pytest.raises(ConfigError, match=r"available columns: recency_days, income"):
        fit_spec(without, settings)
    with pytest.raises(ValueError, match="the columns differ in length"):
        apply_spec(_with(columns, monetary=columns["monetary"][:-1]), spec)
    with pytest.raises(ConfigError, match="customer_features: the table has no rows"):
        fit_spec({name: values[:0] for name, values in columns.items()}, settings)


def test_output_column_names_stay_unique():
    features = features_of([{"name": "segment", "kind": "categorical", "min_level_share": 0}])
    names = fit_spec({"segment": ["A b", "a_b", "Other", "other"]}, features).output_columns
    assert len(set(names)) == len(names) == 5
    assert "segment__other" in names
    assert all(IDENTIFIER.match(name) for name in names)


def _jinja_slug_sql(expression: str) -> str:
    """The ``segments_slug_sql`` macro of macros/features.sql, rendered with plain Jinja as dbt
    does (``return``; ``segments_config_schema`` gives the schema the generated macro holds)."""
    import re
    from pathlib import Path

    import jinja2

    from segmentation.config_schema import schema

    class ReturnValueError(Exception):
        pass

    def give_back(value):
        raise ReturnValueError(value)

    source = (Path(__file__).parents[2] / "macros" / "features.sql").read_text()
    macro = re.search(r"{% macro segments_slug_sql\(expression\) %}.*?{% endmacro %}", source, re.S)
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    module = env.from_string(macro.group(0)).make_module(
        {"segments_config_schema": schema, "return": give_back}
    )
    try:
        module.segments_slug_sql(expression)
    except ReturnValueError as returned:
        return returned.args[0]
    raise AssertionError("segments_slug_sql did not return")


SLUG_CASES = {
    "Electronics": "electronics",
    "Home & Garden": "home_garden",
    "  web shop ": "web_shop",
    "B2B/Retail": "b2b_retail",
    "---": "blank",
    "": "blank",
    "Kids' toys 3+": "kids_toys_3",
    "Café": "cafe",
    "Ärger/Öl": "arger_ol",
    "Crème brûlée": "creme_brulee",
}


def test_one_slug_rule_names_levels_in_sql_and_python() -> None:
    """One slug rule (names.slug of config_schema.yml): Python (names.slugs, the one-hot column
    suffixes) and the SQL macro naming the spend-share columns give the same suffix, accents
    stripped ("Café" was "caf" in SQL and "cafe" in Python when each side had its own rule)."""
    import duckdb

    from segmentation.names import slugs

    levels = list(SLUG_CASES)
    assert slugs(levels) == list(SLUG_CASES.values())
    sql = f"select list_transform(?, lambda level: {_jinja_slug_sql('level')})"
    with duckdb.connect() as con:
        (in_sql,) = con.execute(sql, [levels]).fetchone()
    assert in_sql == list(SLUG_CASES.values())


def test_one_hot_columns_use_the_slug_rule() -> None:
    """A non-ASCII level's one-hot column is named by the shared rule."""
    features = features_of([{"name": "region", "kind": "categorical", "min_level_share": 0}])
    levels = ["Café", "Café", "Zürich", "Zürich", None]
    names = fit_spec({"region": levels}, features).output_columns
    assert {"region__cafe", "region__zurich"} <= set(names)

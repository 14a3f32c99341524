"""Segment names and descriptions on synthetic customers that reproduce what went wrong on real
data: one trait named three times through correlated features, a large segment called "Average",
"High spender" from a mean pulled up by a few customers, categorical traits that are not
over-represented."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation.naming import (
    AVERAGE,
    NAME_EFFECT,
    cliffs_delta,
    describe_segments,
)
from segmentation.preprocessing import fit_transform
from segmentation.settings import ConfigError, SegmentationSettings


def _settings(features: list[dict]) -> SegmentationSettings:
    return SegmentationSettings.from_config(
        {"features": features, "clustering": {"methods": ["kmeans"], "k_min": 2, "k_max": 4}}
    )


def _describe(columns: dict[str, np.ndarray], labels: np.ndarray, features: list[dict]):
    settings = _settings(features)
    spec, X = fit_transform(columns, settings.features)
    return describe_segments(X, labels, spec, settings), X, spec, settings


def test_cliffs_delta_matches_its_definition() -> None:
    rng = np.random.default_rng(0)
    values = rng.integers(0, 5, 60).astype(float)  # many ties
    labels = rng.integers(1, 4, 60)
    deltas = cliffs_delta(values, labels, 3)
    for s in (1, 2, 3):
        inside, outside = values[labels == s], values[labels != s]
        diff = np.sign(inside[:, None] - outside[None, :])
        assert deltas[s - 1] == pytest.approx(diff.mean(), abs=1e-12)
    # Invariant under monotone transforms (log1p, scaling): it only sees the order.
    np.testing.assert_allclose(cliffs_delta(np.log1p(values) * 3 - 7, labels, 3), deltas)
    assert cliffs_delta(values, np.ones(60, dtype=int), 1).tolist() == [0.0]


def test_correlated_features_count_once_and_the_real_difference_is_named() -> None:
    """A credit-card-like set: three near-duplicate purchase measures and cash advances. The
    segment differs in purchases (strongly) and cash advances (mean about 2,150 vs 335)."""
    rng = np.random.default_rng(1)
    n, m = 1000, 300
    labels = np.where(np.arange(n) < m, 1, 2)
    activity = np.where(labels == 1, rng.normal(-1.2, 0.5, n), rng.normal(0.6, 0.5, n))
    cash = np.where(labels == 1, rng.gamma(4.0, 540.0, n), rng.gamma(2.0, 167.0, n))
    columns = {
        "purchases": np.exp(activity + 6 + rng.normal(0, 0.1, n)),
        "purchases_trx": np.round(np.exp(activity + 2.5 + rng.normal(0, 0.1, n))),
        "purchases_frequency": 1 / (1 + np.exp(-(activity + rng.normal(0, 0.1, n)))),
        "cash_advance": cash,
    }
    assert np.corrcoef(columns["purchases"], columns["purchases_frequency"])[0, 1] > 0.8
    features = [
        {"name": "purchases", "transform": "log1p", "low_label": "Few purchases"},
        {"name": "purchases_trx", "transform": "log1p"},
        {"name": "purchases_frequency"},
        {"name": "cash_advance", "transform": "log1p"},
    ]
    described, *_ = _describe(columns, labels, features)
    first = described[0]
    purchase_terms = [t for t in first.name.split(" · ") if "purchase" in t.lower()]
    assert len(purchase_terms) == 1, first.name
    assert "High cash advance" in first.name.split(" · ")
    assert "higher cash advance" in first.description
    assert first.description.startswith("30% of customers; set apart by ")
    # The named traits keep the strongest of the correlated triple only.
    assert sum(t.feature.startswith("purchases") for t in first.named) == 1
    assert sum(t.feature.startswith("purchases") for t in first.traits) == 3


def test_a_large_segment_with_a_real_difference_is_not_average() -> None:
    """75 % of the customers, all with a low balance: named after it, not 'Average' (the old
    rule compared the segment with a population it dominates: z = -0.58 -> borderline)."""
    rng = np.random.default_rng(2)
    n = 1000
    labels = np.where(np.arange(n) < 750, 1, 2)
    balance = np.where(labels == 1, rng.normal(100, 20, n), rng.normal(400, 60, n))
    tenure = rng.normal(50, 10, n)
    described, *_ = _describe(
        {"balance": balance, "tenure": tenure},
        labels,
        [{"name": "balance"}, {"name": "tenure"}],
    )
    assert [d.name for d in described] == ["Low balance", "High balance"]
    assert described[0].description.startswith("75% of customers; set apart by lower balance")


def test_a_few_extreme_customers_do_not_make_a_high_spender() -> None:
    """The segment's spending mean is high (z-score > 0.5) because 20 % of its customers spend
    a lot; its median is the others' median: spending is no trait of it (Cliff's delta 0.2)."""
    rng = np.random.default_rng(3)
    n, m = 1000, 200
    labels = np.where(np.arange(n) < m, 1, 2)
    spending = rng.normal(50, 5, n)
    spending[: m // 5] = 500.0
    income = np.where(labels == 1, rng.normal(90, 8, n), rng.normal(40, 8, n))
    described, *_ = _describe(
        {"income": income, "spending": spending},
        labels,
        [{"name": "income"}, {"name": "spending", "high_label": "High spender"}],
    )
    z = (spending[:m].mean() - spending.mean()) / spending.std()
    assert z > 0.5  # what a mean-based rule would have called "High spender"
    assert described[0].name == "High income"
    spend = next(t for t in described[0].traits if t.feature == "spending")
    assert spend.delta == pytest.approx(0.2, abs=0.05) and spend.delta < NAME_EFFECT


def test_categorical_levels_only_when_over_represented() -> None:
    rng = np.random.default_rng(4)
    n = 900
    labels = np.repeat([1, 2, 3], n // 3)
    income = np.select(
        [labels == 1, labels == 2], [rng.normal(90, 5, n), rng.normal(20, 5, n)], 50.0
    ) + rng.normal(0, 5, n)
    female = np.where(labels == 1, rng.random(n) < 0.95, rng.random(n) < 0.55)
    gender = np.where(female, "female", "male")
    described, *_ = _describe(
        {"income": income, "gender": gender},
        labels,
        [{"name": "income"}, {"name": "gender", "kind": "categorical"}],
    )
    # 95 % female vs 55 % among the others: a trait.
    assert described[0].name == "High income · Female"
    assert "more often female (9" in described[0].description
    # 45 % male vs 25 % among the others (delta 0.2): over-represented, but not enough to name.
    assert described[1].name == "Low income"
    assert described[2].name == AVERAGE  # a middle group
    assert "no feature sets them apart" in described[2].description
    male = next(t for t in described[1].traits if t.level == "male")
    assert 0.1 < male.delta < NAME_EFFECT


def test_names_are_unique_deterministic_and_checked() -> None:
    rng = np.random.default_rng(5)
    n = 800
    labels = np.repeat([1, 2, 3, 4], n // 4)
    value = np.where(labels <= 2, rng.normal(100, 5, n), rng.normal(10, 5, n))
    age = np.where(labels == 1, rng.normal(60, 2, n), rng.normal(40, 2, n))
    described, X, spec, settings = _describe(
        {"value": value, "age": age},
        labels,
        [{"name": "value", "high_label": "High value"}, {"name": "age", "label": "age"}],
    )
    names = [d.name for d in described]
    assert names[0] == "High age · High value"  # age separates it from everyone, value not
    assert len(set(names)) == 4
    assert describe_segments(X, labels, spec, settings, max_terms=1)[0].name == "High age"
    with pytest.raises(ConfigError, match="expected"):
        describe_segments(X[:, :1], labels, spec, settings)
    with pytest.raises(ValueError, match="labels"):
        describe_segments(X, labels[:-1], spec, settings)


def test_two_typical_segments_keep_average_and_one_segment_says_so() -> None:
    """Two segments without a trait at 0.33: both stay 'Average', told apart by their next
    small trait (0.147 <= |delta| < 0.33), never renamed after it alone. One segment of every
    customer is described as such."""
    rng = np.random.default_rng(6)
    n = 1200
    labels = np.repeat([1, 2, 3, 4], n // 4)
    spend = np.select([labels == 1, labels == 2], [200.0, 10.0], 100.0) + rng.normal(0, 10, n)
    # The two middle segments: one leans older than the rest (delta about 0.2), one younger.
    age = rng.normal(40, 10, n) + np.select([labels == 3, labels == 4], [3.0, -3.0], 0.0)
    described, X, spec, settings = _describe(
        {"spend": spend, "age": age},
        labels,
        [{"name": "spend"}, {"name": "age", "high_label": "Older", "low_label": "Younger"}],
    )
    names = [d.name for d in described]
    assert names == ["High spend", "Low spend", "Average · Older", "Average · Younger"]
    older = next(t for t in described[2].traits if t.feature == "age")
    assert 0.147 <= older.delta < NAME_EFFECT
    assert "no feature sets them apart" in described[2].description
    (single,) = describe_segments(X, np.ones(n, dtype=int), spec, settings)
    assert single.name == AVERAGE
    assert single.description == "All customers: the only segment."


def test_traits_from_one_sort_match_the_per_segment_definitions() -> None:
    """Medians, shares and deltas (found from one sort per column) are those of the definition.

    The definition: per segment, Cliff's delta from ``scipy.stats.rankdata``, the median of the
    segment's and of the other rows' values as ``np.quantile(..., method="inverted_cdf")`` (an
    element of the column) and a level's share as the mean of its indicator; with ties, an even
    and an odd segment size, and a segment without customers.
    """
    from scipy.stats import rankdata

    from segmentation.preprocessing import inverse_numeric

    rng = np.random.default_rng(7)
    n = 301
    columns = {
        "visits": rng.integers(0, 12, n).astype(float),  # many ties
        "spend": rng.lognormal(3, 1, n),
        "gender": np.array(rng.choice(["female", "male"], n), dtype=object),
    }
    features = [
        {"name": "visits", "kind": "numeric"},
        {"name": "spend", "kind": "numeric", "transform": "log1p"},
        {"name": "gender", "kind": "categorical"},
    ]
    labels = rng.integers(1, 4, n)
    labels[:2] = [1, 2]
    settings = _settings(features)
    spec, X = fit_transform(columns, settings.features)
    described = describe_segments(X, labels, spec, settings, n_segments=4)
    for s in range(1, 5):
        traits = {(t.feature, t.level): t for t in described[s - 1].traits}
        inside = labels == s
        for column in spec.columns:
            values = X[:, column.position]
            if column.is_value_column:
                trait = traits[(column.feature, None)]
                expected = []
                for part in (values[inside], values[~inside]):
                    median = np.quantile(part, 0.5, method="inverted_cdf") if part.size else np.nan
                    expected.append(inverse_numeric(spec, column.feature, np.array([median]))[0])
                np.testing.assert_array_equal([trait.segment_value, trait.other_value], expected)
                ranks = rankdata(values)
                size = inside.sum()
                u = ranks[inside].sum() - size * (size + 1) / 2
                delta = 2 * u / (size * (n - size)) - 1 if size else 0.0
                assert trait.delta == pytest.approx(delta, abs=1e-12)
            elif column.level in ("female", "male"):
                trait = traits[(column.feature, column.level)]
                is_level = columns["gender"] == column.level
                share_in = is_level[inside].mean() if inside.any() else 0.0
                assert (trait.segment_value, trait.other_value) == (
                    share_in,
                    is_level[~inside].mean(),
                )

"""The table-level chain the dbt Python models call, run without dbt on a small table."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from segmentation import pipeline


def _features(n: int = 300, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [8.0, 8.0], [0.0, 8.0]])
    labels = rng.integers(0, 3, n)
    points = centres[labels] + rng.normal(0, 1, (n, 2))
    return pa.table(
        {
            "customer_id": [f"c{i:04d}" for i in range(n)],
            "a": points[:, 0],
            "b": points[:, 1],
        }
    )


def _chain(config: dict) -> dict[str, pa.Table]:
    features = _features()
    spec = pipeline.preprocessing_spec(features, config)
    matrix = pipeline.feature_matrix(features, spec)
    sweep = pipeline.kmeans_sweep(matrix, config)
    leaves = pipeline.hierarchical_leaves(matrix, config)
    linkage = pipeline.hierarchical_linkage(matrix, leaves, config)
    return {
        "centroids": pipeline.kmeans_centroids(sweep, spec, config, matrix),
        "sweep": sweep,
        "assignments": pipeline.hierarchical_assignments(
            matrix, leaves, linkage, sweep, spec, config
        ),
        "metrics": pipeline.hierarchical_metrics(matrix, leaves, linkage, sweep, config),
        "leaves": leaves,
        "linkage": linkage,
    }


@pytest.fixture(scope="module")
def both() -> dict[str, pa.Table]:
    return _chain({"features": ["a", "b"], "clustering": {"k_max": 5, "n_init": 3}})


def test_both_methods_find_the_three_blobs(both: dict[str, pa.Table]) -> None:
    selected = [r for r in both["sweep"].to_pylist() if r["is_selected"]]
    assert [r["k"] for r in selected] == [3]
    assert both["assignments"].num_rows == 300
    assert set(both["assignments"].column("hierarchical_segment_id").to_pylist()) == {1, 2, 3}


def test_kmeans_only_publishes_empty_hierarchical_tables_of_the_same_shape(
    both: dict[str, pa.Table],
) -> None:
    only = _chain(
        {"features": ["a", "b"], "clustering": {"k_max": 5, "n_init": 3, "methods": ["kmeans"]}}
    )
    for name in ("leaves", "linkage", "assignments", "metrics"):
        assert only[name].num_rows == 0, name
        assert only[name].schema.names == both[name].schema.names, name
    assert only["centroids"].equals(both["centroids"])


def test_feature_columns_reads_only_the_features_unless_one_is_missing() -> None:
    """customer_features is read narrowed to customer_id and the features; with a feature
    missing it is read whole, so the error names every available column."""
    import duckdb

    con = duckdb.connect()
    relation = con.sql(
        'select \'c1\' as customer_id, 1.0 as spend, 2 as "odd ""name""", \'x\' as country'
    )
    narrowed = pipeline.feature_columns(relation, ['odd "name"', "spend", "spend"])
    assert narrowed.columns == ["customer_id", 'odd "name"', "spend"]
    assert narrowed.fetchall() == [("c1", 2, 1.0)]
    assert pipeline.feature_columns(relation, ["spend", "visits"]) is relation
    assert pipeline.configured_features(
        {"features": [{"name": "spend"}, {"name": "country", "kind": "categorical"}]}
    ) == ["spend", "country"]
    spec = pa.table({"feature": ["gender", "gender", "spend"]})
    assert pipeline.spec_features(spec) == ["gender", "spend"]

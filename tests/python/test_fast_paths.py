"""The faster O(n) passes of the Python models give what the plain numpy forms give.

Functions rewritten for speed at a million customers (row blocks, one column at a time, a sort
instead of a hash set, fewer temporaries) are compared with the plain form they replaced,
written out here: equal bit for bit where the floating-point operations are the same
(quantiles, the matrix fill, nearest centroid and its distance), within a stated tolerance
where the reference computes the same quantity another way (second-nearest distances, the
within-leaf sum of squares).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from scipy.cluster.hierarchy import linkage

from segmentation import hierarchical, kmeans, metrics, preprocessing
from segmentation.checks import _FILL_BLOCK_ROWS, table_matrix
from segmentation.preprocessing import OUTLIER_RANGE


def _matrix(n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    X[::7, 0] = -0.0  # must hash as 0.0
    X[::5, 1] = 0.0
    X[: n // 3, 2] = np.round(X[: n // 3, 2])  # ties
    X[n // 2 :] = X[: n - n // 2]  # duplicate rows
    return X


def test_row_keys_fold_negative_zero_and_ignore_memory_layout() -> None:
    X = _matrix(2_000, 4)
    keys = metrics.row_keys(X, 42)
    assert np.array_equal(metrics.row_keys(np.asfortranarray(X), 42), keys)
    assert metrics.row_keys(np.array([[-0.0]]), 42)[0] == metrics.row_keys(np.array([[0.0]]), 42)[0]


def test_distinct_rows_counts_distinct_hashes() -> None:
    X = _matrix(4_000, 5)
    assert kmeans.distinct_rows(X, 42) == len(np.unique(metrics.row_keys(X, 42)))
    assert kmeans.distinct_rows(X, 42) == len(np.unique(X, axis=0))
    assert kmeans.distinct_rows(np.ones((10, 3)), 42) == 1
    assert kmeans.distinct_rows(X[:1], 42) == 1
    assert kmeans.distinct_rows(X[:0], 42) == 0


def test_outlier_mask_uses_the_quantiles_of_each_column() -> None:
    rng = np.random.default_rng(3)
    values = rng.standard_normal((2_001, 4))
    values[17, 2] = 40.0
    values[99, 0] = -35.0
    low, high = np.quantile(values, OUTLIER_RANGE, axis=0)
    spread = high - low
    lower, upper = low - 3.0 * spread, high + 3.0 * spread
    expected = ((values < lower) | (values > upper)).any(axis=1)
    mask = preprocessing.outlier_mask(values, 3.0)
    assert np.array_equal(mask, expected)
    assert np.flatnonzero(mask).tolist() == [17, 99]


def test_table_matrix_fills_across_row_blocks() -> None:
    n = _FILL_BLOCK_ROWS * 2 + 17  # two full blocks and a partial one
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal(n), rng.integers(-9, 9, n)
    table = pa.table({"customer_id": [f"C{i}" for i in range(n)], "a": a, "b": b})
    X, columns = table_matrix(table, "t")
    assert columns == ["a", "b"]
    assert X.flags.c_contiguous and X.dtype == np.float64
    assert np.array_equal(X, np.column_stack([a, b.astype(np.float64)]))
    chunked = pa.Table.from_batches(table.to_batches(max_chunksize=1_000))
    assert np.array_equal(table_matrix(chunked, "t")[0], X)
    # Columns chunked differently from each other, and a float32 column.
    mixed = pa.table(
        {
            "customer_id": table.column("customer_id"),
            "a": pa.chunked_array([a[:100], a[100:]]),
            "b": pa.chunked_array([b[:5_000], b[5_000:]]),
            "c": a.astype(np.float32),
        }
    )
    expected = np.column_stack([a, b, a.astype(np.float32).astype(np.float64)])
    assert np.array_equal(table_matrix(mixed, "t")[0], expected)


@pytest.mark.parametrize("k", [1, 2, 7])
def test_nearest_two_matches_the_direct_distances(k: int) -> None:
    X = _matrix(3_001, 4, seed=k)
    C = np.random.default_rng(k).standard_normal((k, 4))
    nearest, own, second = kmeans._nearest_two(X, C, 500)
    d2 = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)
    assert np.array_equal(nearest, d2.argmin(axis=1))
    # own: computed as |x - c| directly, so the same expression gives the same bits.
    assert np.array_equal(own, np.sqrt(((X - C[nearest]) ** 2).sum(axis=1)))
    if k == 1:
        assert np.isinf(second).all()
    else:
        d2[np.arange(len(X)), nearest] = np.inf
        np.testing.assert_allclose(second, np.sqrt(d2.min(axis=1)), rtol=1e-9, atol=1e-9)


def test_tree_metrics_with_given_leaf_means_is_the_same() -> None:
    X = _matrix(1_500, 3, seed=8)
    leaf = hierarchical.micro_cluster_labels(X, 40, seed=1)
    m = int(leaf.max()) + 1
    Z = linkage(hierarchical._group_means(X, leaf, m)[1], "ward")
    common = {
        "k_values": [2, 3, 5],
        "exact_silhouette_max_rows": 500,
        "silhouette_sample_size": 300,
    }
    plain = hierarchical.tree_metrics(X, leaf, Z, **common)
    given = hierarchical.tree_metrics(
        X, leaf, Z, **common, leaf_means=hierarchical._group_means(X, leaf, m)
    )
    assert [cut.inertia for cut in plain] == [cut.inertia for cut in given]
    # The within-segment sum of squares over all rows, through the leaf decomposition.
    for cut in plain:
        segments = hierarchical.cut_tree(Z, leaf, cut.k)[0]
        means = np.array([X[segments == s].mean(axis=0) for s in range(1, segments.max() + 1)])
        inertia = float(((X - means[segments - 1]) ** 2).sum())
        assert cut.inertia == pytest.approx(inertia, rel=1e-9)

"""Hierarchical clustering: exact and two-stage schemes, weighted linkage, tables and metrics."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from scipy.cluster.hierarchy import cophenet, fcluster, linkage
from scipy.spatial.distance import pdist
from sklearn.metrics import adjusted_rand_score, silhouette_score

from segmentation import hierarchical as h
from segmentation import hierarchical_tables as ht
from segmentation.settings import ClusteringSettings

METHODS = ("ward", "average", "complete")


def matrix_table(X: np.ndarray, ids: list[str] | None = None) -> pa.Table:
    """An Arrow matrix like the dbt model hands over: customer_id + float64 feature columns."""
    ids = ids if ids is not None else [f"c{i:06d}" for i in range(len(X))]
    columns = {"customer_id": pa.array(ids, type=pa.string())}
    for j in range(X.shape[1]):
        columns[f"f{j}"] = pa.array(X[:, j], type=pa.float64())
    return pa.table(columns)


def shuffled(table: pa.Table, seed: int) -> pa.Table:
    order = np.random.default_rng(seed).permutation(table.num_rows)
    return table.take(pa.array(order))


def blobs(n: int, centers: int, d: int, seed: int, spread: float = 10.0):
    rng = np.random.default_rng(seed)
    means = rng.uniform(-spread, spread, size=(centers, d))
    truth = rng.integers(0, centers, size=n)
    return means[truth] + rng.normal(size=(n, d)), truth


def linkage_z(table: pa.Table) -> np.ndarray:
    t = table.sort_by("step")
    return np.column_stack(
        [t[c].to_numpy().astype(float) for c in ("left_node", "right_node", "distance", "size")]
    )


def leaf_counted(Z: np.ndarray) -> np.ndarray:
    """Z with column 3 recounted in leaves (scipy's fcluster rejects weighted sizes)."""
    m = len(Z) + 1
    counts = np.ones(2 * m - 1)
    for i, (a, b) in enumerate(Z[:, :2].astype(int)):
        counts[m + i] = counts[a] + counts[b]
    out = Z.copy()
    out[:, 3] = counts[m:]
    return out


# ---------------------------------------------------------------------------------------------
# Linkage against scipy
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_exact_linkage_table_equals_scipy(method: str) -> None:
    rng = np.random.default_rng(7)
    settings = ClusteringSettings(linkage=method)
    for n in (5, 40, 150):
        X = rng.normal(size=(n, 4))
        # ids whose sort order differs from the row order, on a shuffled table
        ids = [f"id{(i * 37) % n:05d}" for i in range(n)]
        matrix = shuffled(matrix_table(X, ids), seed=n)
        leaves = ht.leaves_table(matrix, settings)
        assert leaves["scheme"].to_pylist() == ["exact"] * n
        assert leaves["customer_id"].to_pylist() == sorted(ids)
        assert leaves["leaf_id"].to_pylist() == list(range(n))
        table = ht.linkage_table(matrix, leaves, settings)
        expected = linkage(X[np.argsort(ids)], method)
        Z = linkage_z(table)
        np.testing.assert_array_equal(Z[:, :2], expected[:, :2])
        np.testing.assert_allclose(Z[:, 2], expected[:, 2], rtol=0, atol=1e-9)
        np.testing.assert_array_equal(Z[:, 3], expected[:, 3])
        assert table["step"].to_pylist() == list(range(1, n))
        assert set(table["scheme"].to_pylist()) == {"exact"}
        assert set(table["linkage_method"].to_pylist()) == {method}
        assert set(table["n_leaves"].to_pylist()) == {n}
        assert set(table["n_customers"].to_pylist()) == {n}


@pytest.mark.parametrize("method", METHODS)
def test_weighted_linkage_with_unit_weights_equals_scipy(method: str) -> None:
    rng = np.random.default_rng(11)
    for trial in range(15):
        X = rng.normal(size=(int(rng.integers(2, 120)), int(rng.integers(1, 6))))
        Z = h.weighted_linkage(X, np.ones(len(X)), method)
        expected = linkage(X, method)
        np.testing.assert_array_equal(Z[:, :2], expected[:, :2], err_msg=f"trial {trial}")
        np.testing.assert_allclose(Z[:, 2], expected[:, 2], rtol=0, atol=1e-9)
        np.testing.assert_allclose(Z[:, 3], expected[:, 3])


@pytest.mark.parametrize("method", METHODS)
def test_weighted_linkage_equals_linkage_of_duplicated_points(method: str) -> None:
    """A point of weight w must behave exactly like w identical customers."""
    rng = np.random.default_rng(3)
    for _ in range(5):
        points = rng.normal(size=(25, 3))
        weights = rng.integers(1, 7, size=len(points))
        expanded = np.repeat(points, weights, axis=0)
        owner = np.repeat(np.arange(len(points)), weights)
        full = linkage(expanded, method)
        duplicates = int(weights.sum()) - len(points)
        np.testing.assert_allclose(full[:duplicates, 2], 0.0, atol=1e-12)
        weighted = h.weighted_linkage(points, weights, method)
        # above the zero-height duplicate merges the heights and sizes coincide
        np.testing.assert_allclose(weighted[:, 2], full[duplicates:, 2], rtol=0, atol=1e-9)
        np.testing.assert_allclose(weighted[:, 3], full[duplicates:, 3])
        # scipy wants Z[:, 3] to count leaves, not weights
        unit = leaf_counted(weighted)
        for k in (2, 4, 7):
            ours = fcluster(unit, k, criterion="maxclust")
            theirs = fcluster(full, k, criterion="maxclust")
            assert adjusted_rand_score(ours[owner], theirs) == 1.0


def test_weighted_ward_differs_from_unweighted_ward_on_centroids() -> None:
    """Weights matter: a heavy point changes the merge order of plain centroid Ward."""
    points = np.array([[0.0], [1.0], [2.1]])
    unweighted = h.weighted_linkage(points, np.ones(3), "ward")
    weighted = h.weighted_linkage(points, np.array([100.0, 1.0, 1.0]), "ward")
    assert unweighted[0, :2].tolist() == [0, 1]
    # Ward distance of groups of 100 and 1 at distance 1: sqrt(2 * 100 / 101) = 1.41 > 1.1
    assert weighted[0, :2].tolist() == [1, 2]
    assert weighted[0, 2] == pytest.approx(1.1)
    assert weighted[1, :].tolist() == [0, 3, pytest.approx(np.sqrt(2 * 100 * 2 / 102) * 1.55), 102]


def test_weighted_linkage_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="median"):
        h.weighted_linkage(np.zeros((3, 2)), np.ones(3), "median")
    with pytest.raises(ValueError, match="positive"):
        h.weighted_linkage(np.zeros((3, 2)), np.array([1.0, 0.0, 1.0]))


def test_sampled_cophenetic_over_all_leaves_equals_scipy() -> None:
    X = np.random.default_rng(5).normal(size=(120, 3))
    Z = linkage(X, "ward")
    expected = cophenet(Z, pdist(X))[0]
    assert h._sampled_cophenetic(Z, X, np.arange(len(X))) == pytest.approx(expected, abs=1e-12)
    settings = ClusteringSettings(exact_silhouette_max_rows=100, silhouette_sample_size=100)
    value, method = h.cophenetic_correlation(
        Z, X, exact_max_rows=100, sample_size=100, seed=settings.seed
    )
    assert method == "sampled"
    assert value == pytest.approx(expected, abs=0.05)


# ---------------------------------------------------------------------------------------------
# Two-stage scheme
# ---------------------------------------------------------------------------------------------


TWO_STAGE = ClusteringSettings(exact_hierarchical_max_rows=1_000, micro_clusters=60, seed=1)


@pytest.fixture(scope="module")
def five_blobs() -> tuple[pa.Table, np.ndarray]:
    X, truth = blobs(30_000, centers=5, d=4, seed=21)
    return matrix_table(X), truth


def test_two_stage_recovers_blobs(five_blobs: tuple[pa.Table, np.ndarray]) -> None:
    matrix, truth = five_blobs
    leaves = ht.leaves_table(matrix, TWO_STAGE)
    assert set(leaves["scheme"].to_pylist()) == {"two_stage"}
    leaf = leaves["leaf_id"].to_numpy()
    sizes = np.bincount(leaf)
    assert len(sizes) == 60 and (sizes > 0).all()
    assert (np.diff(sizes) <= 0).all(), "leaf ids are ordered by size descending"
    table = ht.linkage_table(matrix, leaves, TWO_STAGE)
    assert table.num_rows == 59
    assert set(table["n_leaves"].to_pylist()) == {60}
    assert set(table["scheme"].to_pylist()) == {"two_stage"}
    assert table.sort_by("step")["size"].to_pylist()[-1] == 30_000
    assignments = ht.assignments_table(table, leaves, 5)
    assert assignments["customer_id"] == matrix["customer_id"]
    segment = assignments["hierarchical_segment_id"].to_numpy()
    assert adjusted_rand_score(truth, segment) >= 0.95


@pytest.mark.parametrize("method", ["average", "complete"])
def test_two_stage_average_and_complete_recover_blobs(
    five_blobs: tuple[pa.Table, np.ndarray], method: str
) -> None:
    matrix, truth = five_blobs
    settings = ClusteringSettings(
        exact_hierarchical_max_rows=1_000, micro_clusters=60, seed=1, linkage=method
    )
    leaves = ht.leaves_table(matrix, settings)
    table = ht.linkage_table(matrix, leaves, settings)
    assert set(table["linkage_method"].to_pylist()) == {method}
    segment = ht.assignments_table(table, leaves, 5)["hierarchical_segment_id"].to_numpy()
    assert adjusted_rand_score(truth, segment) >= 0.95


def test_two_stage_linkage_is_weighted_ward_of_micro_centroids() -> None:
    X, _ = blobs(3_000, centers=4, d=3, seed=8)
    matrix = matrix_table(X)
    settings = ClusteringSettings(exact_hierarchical_max_rows=500, micro_clusters=40, seed=2)
    leaves = ht.leaves_table(matrix, settings)
    leaf = leaves["leaf_id"].to_numpy()
    counts = np.bincount(leaf)
    centroids = np.vstack([X[leaf == i].mean(axis=0) for i in range(len(counts))])
    expected = h.weighted_linkage(centroids, counts, "ward")
    Z = linkage_z(ht.linkage_table(matrix, leaves, settings))
    np.testing.assert_array_equal(Z[:, :2], expected[:, :2])
    np.testing.assert_allclose(Z[:, 2], expected[:, 2], rtol=1e-12)
    np.testing.assert_array_equal(Z[:, 3], expected[:, 3])


# ---------------------------------------------------------------------------------------------
# Assignments
# ---------------------------------------------------------------------------------------------


def run_pipeline(matrix: pa.Table, settings: ClusteringSettings, k: int) -> pa.Table:
    leaves = ht.leaves_table(matrix, settings)
    return ht.assignments_table(ht.linkage_table(matrix, leaves, settings), leaves, k)


@pytest.mark.parametrize(
    "settings",
    [
        ClusteringSettings(),
        ClusteringSettings(linkage="average"),
        ClusteringSettings(exact_hierarchical_max_rows=300, micro_clusters=50, seed=4),
    ],
    ids=["exact-ward", "exact-average", "two-stage-ward"],
)
def test_assignments_sizes_order_and_determinism(settings: ClusteringSettings) -> None:
    X, _ = blobs(1_200, centers=6, d=3, seed=13, spread=6.0)
    matrix = matrix_table(X)
    k = 4
    first = run_pipeline(matrix, settings, k)
    assert first.column_names == ["customer_id", "hierarchical_segment_id", "k", "n_segments"]
    assert first.schema.field("hierarchical_segment_id").type == pa.int64()
    assert set(first["k"].to_pylist()) == {k}
    assert set(first["n_segments"].to_pylist()) == {k}
    segment = first["hierarchical_segment_id"].to_numpy()
    sizes = np.bincount(segment)[1:]
    assert sizes.sum() == 1_200
    assert sorted(set(segment.tolist())) == list(range(1, k + 1))
    assert (np.diff(sizes) <= 0).all()
    assert first.equals(run_pipeline(matrix, settings, k))
    assert first.equals(run_pipeline(shuffled(matrix, seed=99), settings, k))


def test_assignments_record_fewer_segments_on_tied_merges() -> None:
    """Four corners of a square: two merges tie at height 1, so maxclust 3 yields 2 segments."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [5.0, 0.0], [5.0, 1.0]])
    matrix = matrix_table(X)
    result = run_pipeline(matrix, ClusteringSettings(), 3)
    assert set(result["k"].to_pylist()) == {3}
    assert set(result["n_segments"].to_pylist()) == {2}
    assert result["hierarchical_segment_id"].to_pylist() == [1, 1, 2, 2]


def test_assignments_ties_between_equal_sizes_go_to_smallest_leaf() -> None:
    X = np.array([[10.0], [10.1], [0.0], [0.1]])
    result = run_pipeline(matrix_table(X, ["a", "b", "c", "d"]), ClusteringSettings(), 2)
    assert result["hierarchical_segment_id"].to_pylist() == [1, 1, 2, 2]


# ---------------------------------------------------------------------------------------------
# Validation errors name the table, the column and the value
# ---------------------------------------------------------------------------------------------


def test_errors_name_table_column_and_value() -> None:
    X = np.random.default_rng(0).normal(size=(5, 2))
    settings = ClusteringSettings()
    with pytest.raises(ValueError, match=r"matrix: missing column\(s\) 'customer_id'"):
        ht.leaves_table(pa.table({"f0": X[:, 0]}), settings)
    with pytest.raises(ValueError, match=r"matrix.customer_id: 1 duplicate value\(s\), e.g. 'a'"):
        ht.leaves_table(matrix_table(X, ["a", "a", "b", "c", "d"]), settings)
    bad = X.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"matrix.f1: 1 NaN or infinite"):
        ht.leaves_table(matrix_table(bad), settings)
    text = matrix_table(X).append_column("segment", pa.array(list("abcde")))
    with pytest.raises(ValueError, match=r"matrix.segment: expected a float64 feature column"):
        ht.leaves_table(text, settings)
    matrix = matrix_table(X)
    leaves = ht.leaves_table(matrix, settings)
    with pytest.raises(ValueError, match=r"leaves.customer_id: does not match.*'c000004'"):
        ht.linkage_table(matrix, leaves.slice(0, 4), settings)
    with pytest.raises(ValueError, match=r"exact_hierarchical_max_rows=100"):
        big = matrix_table(np.random.default_rng(1).normal(size=(150, 2)))
        big_leaves = ht.leaves_table(big, ClusteringSettings(exact_hierarchical_max_rows=200))
        ht.linkage_table(big, big_leaves, ClusteringSettings(exact_hierarchical_max_rows=100))
    with pytest.raises(ValueError, match=r"k: expected an integer >= 1, got 0"):
        ht.assignments_table(ht.linkage_table(matrix, leaves, settings), leaves, 0)


# ---------------------------------------------------------------------------------------------
# k and metrics
# ---------------------------------------------------------------------------------------------


def test_resolve_k() -> None:
    assert h.resolve_k(ClusteringSettings().hierarchical_k, 5) == (5, "same k as K-Means (k=5)")
    fixed = ClusteringSettings(hierarchical_k=4)
    assert h.resolve_k(fixed.hierarchical_k, 5) == (4, "fixed by configuration (hierarchical_k=4)")


@pytest.mark.parametrize(
    ("settings", "n", "silhouette_method", "scheme"),
    [
        (ClusteringSettings(), 400, "exact", "exact"),
        (ClusteringSettings(hierarchical_k=3), 400, "exact", "exact"),
        (
            ClusteringSettings(
                exact_hierarchical_max_rows=500,
                micro_clusters=40,
                exact_silhouette_max_rows=1_000,
                silhouette_sample_size=500,
            ),
            3_000,
            "sampled",
            "two_stage",
        ),
    ],
    ids=["exact-same", "exact-fixed", "two-stage-sampled"],
)
def test_metrics_table(
    settings: ClusteringSettings, n: int, silhouette_method: str, scheme: str
) -> None:
    X, _ = blobs(n, centers=4, d=3, seed=17)
    matrix = matrix_table(X)
    leaves = ht.leaves_table(matrix, settings)
    table = ht.linkage_table(matrix, leaves, settings)
    selected_k, reason = h.resolve_k(settings.hierarchical_k, 4)
    metrics = ht.metrics_table(matrix, table, leaves, settings, [2, 3, 4, 5, 6], selected_k)
    rows = metrics.to_pylist()
    assert [row["k"] for row in rows] == [2, 3, 4, 5, 6]
    assert sum(row["is_selected"] for row in rows) == 1
    chosen = next(row for row in rows if row["is_selected"])
    assert chosen["k"] == selected_k and chosen["selection_reason"] == reason
    for row in rows:
        assert row["method"] == "hierarchical"
        assert row["scheme"] == scheme
        assert row["n_segments"] == row["k"]
        assert -1.0 <= row["silhouette"] <= 1.0
        assert row["silhouette_method"] == silhouette_method
        assert -1.0 <= row["cophenetic_correlation"] <= 1.0
        assert row["inertia"] > 0 and row["calinski_harabasz"] > 0 and row["davies_bouldin"] > 0
    inertia = [row["inertia"] for row in rows]
    assert inertia == sorted(inertia, reverse=True)
    for row in rows:  # exact on all customers, also when the other metrics are sampled
        labels = ht.assignments_table(table, leaves, row["k"])["hierarchical_segment_id"]
        labels = labels.to_numpy()
        means = np.vstack([X[labels == s].mean(axis=0) for s in range(1, row["k"] + 1)])
        expected = float(((X - means[labels - 1]) ** 2).sum())
        assert row["inertia"] == pytest.approx(expected, rel=1e-9)
    if silhouette_method == "exact":
        for row in rows:
            segments = ht.assignments_table(table, leaves, row["k"])
            labels = segments["hierarchical_segment_id"].to_numpy()
            assert row["silhouette"] == pytest.approx(silhouette_score(X, labels), abs=1e-9)
            assert row["silhouette_rows"] == n
    # deterministic
    assert metrics.equals(
        ht.metrics_table(matrix, table, leaves, settings, [2, 3, 4, 5, 6], selected_k)
    )


def test_metrics_table_adds_a_selected_k_outside_the_range() -> None:
    X, _ = blobs(200, centers=3, d=2, seed=2)
    matrix = matrix_table(X)
    settings = ClusteringSettings(hierarchical_k=7)
    leaves = ht.leaves_table(matrix, settings)
    table = ht.linkage_table(matrix, leaves, settings)
    metrics = ht.metrics_table(matrix, table, leaves, settings, [2, 3], 7)
    assert metrics["k"].to_pylist() == [2, 3, 7]
    assert metrics["is_selected"].to_pylist() == [False, False, True]
    with pytest.raises(ValueError, match="hierarchical_k=7"):
        ht.metrics_table(matrix, table, leaves, settings, [2, 3], 3)


# ---------------------------------------------------------------------------------------------
# Real data: Mall Customers
# ---------------------------------------------------------------------------------------------


def test_mall_customers_ward_k5_silhouette(shared_data) -> None:
    path = shared_data / "mall_customers" / "Mall_Customers.csv"
    if not path.is_file():
        pytest.skip(f"real data set not found: {path} is missing")
    import pyarrow.csv as pacsv

    raw = pacsv.read_csv(path)
    X = np.column_stack(
        [raw["Annual Income (k$)"].to_numpy(), raw["Spending Score (1-100)"].to_numpy()]
    ).astype(float)
    X = (X - X.mean(axis=0)) / X.std(axis=0)  # population std (ddof=0)
    ids = [str(v) for v in raw["CustomerID"].to_pylist()]
    matrix = matrix_table(X, ids)
    settings = ClusteringSettings(linkage="ward")
    leaves = ht.leaves_table(matrix, settings)
    table = ht.linkage_table(matrix, leaves, settings)
    assignments = ht.assignments_table(table, leaves, 5)
    sizes = np.bincount(assignments["hierarchical_segment_id"].to_numpy())[1:]
    assert sizes.tolist() == [85, 39, 32, 23, 21]
    metrics = ht.metrics_table(matrix, table, leaves, settings, [3, 4, 5, 6], 5)
    row = next(r for r in metrics.to_pylist() if r["k"] == 5)
    assert row["silhouette_method"] == "exact"
    assert row["silhouette"] == pytest.approx(0.5538, abs=0.001)
    assert row["is_selected"] and row["selection_reason"] == "same k as K-Means (k=5)"


def test_degenerate_inputs_do_not_crash() -> None:
    """All customers identical: one leaf, an empty tree, one segment, undefined metrics."""
    settings = ClusteringSettings(exact_hierarchical_max_rows=100, micro_clusters=10)
    matrix = matrix_table(np.tile([1.0, 0.0], (150, 1)))
    leaves = ht.leaves_table(matrix, settings)
    assert set(leaves["leaf_id"].to_pylist()) == {0}
    table = ht.linkage_table(matrix, leaves, settings)
    assert table.num_rows == 0
    result = ht.assignments_table(table, leaves, 3)
    assert set(result["hierarchical_segment_id"].to_pylist()) == {1}
    assert set(result["n_segments"].to_pylist()) == {1}
    row = ht.metrics_table(matrix, table, leaves, settings, [2, 3], 3).to_pylist()[1]
    assert row["silhouette_method"] == "undefined" and row["silhouette"] is None
    assert row["inertia"] == 0.0 and row["is_selected"]


def test_metrics_record_fewer_segments_than_k() -> None:
    """Five equally spaced values, 40 customers each: k = 4 ties and yields 3 segments."""
    settings = ClusteringSettings(exact_hierarchical_max_rows=100, micro_clusters=10)
    matrix = matrix_table(np.repeat(np.arange(5.0), 40)[:, None])
    leaves = ht.leaves_table(matrix, settings)
    assert np.bincount(leaves["leaf_id"].to_numpy()).tolist() == [40] * 5
    table = ht.linkage_table(matrix, leaves, settings)
    metrics = ht.metrics_table(matrix, table, leaves, settings, [2, 3, 4, 5], 3)
    assert metrics["n_segments"].to_pylist() == [2, 3, 3, 5]
    assert metrics["silhouette"].to_pylist()[3] == pytest.approx(1.0)

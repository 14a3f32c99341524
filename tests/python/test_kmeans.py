from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_info, threadpool_limits

from segmentation.kmeans import assign_nearest, canonical_fit_rows, kmeans_sweep, kneedle, select_k
from segmentation.metrics import cluster_metrics
from segmentation.pipeline import (
    SWEEP_SCHEMA,
    kmeans_centroids_table,
    kmeans_parameters,
    kmeans_sweep_table,
    selected_row,
    sweep_table,
)
from segmentation.preprocessing_tables import fit_spec_table, transform_table
from segmentation.settings import ClusteringSettings, ConfigError, SegmentationSettings

CLUSTERING = {"methods": ["kmeans"], "k_min": 2, "k_max": 6, "n_init": 4, "seed": 0}


@pytest.fixture(scope="module")
def matrix() -> pa.Table:
    X, _ = make_blobs(
        n_samples=600, n_features=3, centers=[[0, 0, 0], [6, 0, 0], [0, 6, 0], [6, 6, 6]],
        cluster_std=[1.0, 1.2, 0.8, 1.5], random_state=2,
    )  # fmt: skip
    X = X[:540]  # unequal cluster sizes
    return pa.table({"customer_id": np.arange(len(X))} | {f"x{j}": X[:, j] for j in range(3)})


@pytest.fixture(scope="module")
def settings() -> ClusteringSettings:
    return ClusteringSettings.from_dict(CLUSTERING)


@pytest.fixture(scope="module")
def sweep(matrix, settings) -> pa.Table:
    return kmeans_sweep_table(matrix, settings)


def _sweep(X: np.ndarray, settings: ClusteringSettings) -> pa.Table:
    """The array-level sweep, as the ml_kmeans_sweep table."""
    return sweep_table(kmeans_sweep(X, **kmeans_parameters(settings, len(X))))


def _matrix(matrix: pa.Table) -> np.ndarray:
    return np.column_stack([matrix.column(n).to_numpy() for n in matrix.column_names[1:]])


def test_schema_and_selection(sweep):
    assert sweep.schema == SWEEP_SCHEMA
    assert sweep.column("k").to_pylist() == [2, 3, 4, 5, 6]
    selected = [r for r in sweep.to_pylist() if r["is_selected"]]
    assert [r["k"] for r in selected] == [4]
    assert selected[0]["selection_reason"].startswith("best silhouette ")
    assert "kneedle" in selected[0]["selection_reason"]
    assert sweep.column("selection_reason").null_count == 4


def test_parity_with_scikit_learn(matrix, sweep, settings):
    X = _matrix(matrix)
    ordered = X[canonical_fit_rows(X, settings.fit_sample_max_rows, settings.seed)]
    for row in sweep.to_pylist():
        with threadpool_limits(1, user_api="openmp"):
            model = KMeans(
                row["k"], init="k-means++", n_init=4, random_state=0, algorithm="lloyd"
            ).fit(ordered)
        assert row["inertia"] == pytest.approx(model.inertia_, rel=1e-9)
        assert row["silhouette"] == pytest.approx(
            silhouette_score(ordered, model.labels_), rel=1e-9
        )
        assert row["silhouette_method"] == "exact" and row["silhouette_rows"] == len(X)
        assert sorted(row["cluster_sizes"], reverse=True) == sorted(
            np.bincount(model.labels_), reverse=True
        )
        labels, _ = assign_nearest(X, np.array(row["centroids"]))
        metrics = cluster_metrics(X, labels)
        assert metrics.inertia == pytest.approx(row["inertia"], rel=1e-9)
        assert metrics.calinski_harabasz == pytest.approx(row["calinski_harabasz"])


def test_inertia_non_increasing(sweep):
    inertia = np.array(sweep.column("inertia").to_pylist())
    assert np.all(np.diff(inertia) <= 1e-9 * inertia[:-1])


def test_segment_ids_ordered_by_size(matrix, sweep):
    X = _matrix(matrix)
    for row in sweep.to_pylist():
        sizes = row["cluster_sizes"]
        assert sizes == sorted(sizes, reverse=True) and sum(sizes) == len(X)
        labels, _ = assign_nearest(X, np.array(row["centroids"]))
        assert set(labels) == set(range(1, row["k"] + 1))
        assert np.bincount(labels, minlength=row["k"] + 1)[1:].tolist() == sizes


def test_tied_sizes_broken_by_centroid_coordinates():
    X = np.array([[5.0, 0], [5.2, 0], [0, 1.0], [0, 1.2], [0, -3.0], [0, -3.2]])
    settings = ClusteringSettings.from_dict({"k": 3, "n_init": 3, "seed": 1})
    row = _sweep(X, settings).to_pylist()[0]
    np.testing.assert_allclose(row["centroids"], [[0, -3.1], [0, 1.1], [5.1, 0]])
    assert row["cluster_sizes"] == [2, 2, 2]


def test_process_thread_settings_untouched(matrix, settings):
    """The sweep limits BLAS / OpenMP threads only while it runs, from several threads."""
    before = [(i["user_api"], i["prefix"], i["num_threads"]) for i in threadpool_info()]
    kmeans_sweep_table(matrix, settings)
    assert [(i["user_api"], i["prefix"], i["num_threads"]) for i in threadpool_info()] == before


def test_deterministic(matrix, sweep, settings):
    assert kmeans_sweep_table(matrix, settings).equals(sweep)


def test_shuffled_rows_same_segments(matrix, sweep, settings):
    order = np.random.default_rng(5).permutation(matrix.num_rows)
    shuffled = kmeans_sweep_table(matrix.take(order), settings)
    for a, b in zip(sweep.to_pylist(), shuffled.to_pylist(), strict=True):
        assert a["cluster_sizes"] == b["cluster_sizes"]
        np.testing.assert_allclose(a["centroids"], b["centroids"], rtol=1e-9, atol=1e-9)
        assert a["inertia"] == pytest.approx(b["inertia"], rel=1e-9)
    assert shuffled.column("is_selected").equals(sweep.column("is_selected"))


def test_sampled_fit_assigns_every_row():
    X, _ = make_blobs(n_samples=3000, n_features=4, centers=3, random_state=4)
    settings = ClusteringSettings.from_dict(
        {
            "k_min": 2,
            "k_max": 4,
            "seed": 3,
            "fit_sample_max_rows": 1000,
            "exact_silhouette_max_rows": 500,
            "silhouette_sample_size": 400,
        }
    )
    sweep = _sweep(X, settings)
    for row in sweep.to_pylist():
        assert row["fit_rows"] == 1000 and row["n_rows"] == 3000
        assert row["silhouette_method"] == "sampled" and row["silhouette_rows"] == 400
        assert row["silhouette_ci_low"] < row["silhouette"] < row["silhouette_ci_high"]
        labels, distances = assign_nearest(X, np.array(row["centroids"]), chunk_rows=333)
        assert np.bincount(labels)[1:].tolist() == row["cluster_sizes"]
        assert row["inertia"] == pytest.approx(float(np.sum(distances**2)), rel=1e-12)
    assert _sweep(X, settings).equals(sweep)
    assert [r["k"] for r in sweep.to_pylist() if r["is_selected"]] == [3]


def test_assign_nearest_matches_brute_force():
    rng = np.random.default_rng(0)
    X, C = rng.normal(size=(1000, 5)), rng.normal(size=(7, 5))
    labels, distances = assign_nearest(X, C, chunk_rows=64)
    brute = np.sqrt(((X[:, None, :] - C[None]) ** 2).sum(axis=2))
    np.testing.assert_array_equal(labels, brute.argmin(axis=1) + 1)
    np.testing.assert_allclose(distances, brute.min(axis=1), rtol=1e-12)


def test_kneedle_finds_the_elbow():
    k = np.arange(1, 11)
    inertia = np.array([1000, 420, 180, 150, 130, 115, 105, 98, 93, 90])
    assert kneedle(k, inertia) == 3
    assert kneedle(k[::-1], inertia[::-1]) == 3  # order does not matter
    assert kneedle(k, 1000.0 / k) == 3  # 1/k: normalised-distance maximum at k=3
    assert kneedle(k, 1000.0 - 100.0 * k) is None  # a straight line has no elbow
    assert kneedle([2, 3], [10.0, 5.0]) is None


def test_select_k_rules():
    rows = [
        {"k": 2, "silhouette": 0.40, "inertia": 100.0, "cluster_sizes": [60, 40], "n_rows": 100},
        {"k": 3, "silhouette": 0.55, "inertia": 40.0, "cluster_sizes": [40, 30, 30], "n_rows": 100},
        {"k": 4, "silhouette": 0.55, "inertia": 30.0, "cluster_sizes": [40, 30, 20, 10],
         "n_rows": 100},
        {"k": 5, "silhouette": 0.60, "inertia": 25.0, "cluster_sizes": [40, 30, 20, 9, 1],
         "n_rows": 100},
    ]  # fmt: skip
    k, reason = select_k(rows, min_segment_share=0.02)
    assert k == 3  # k=5 has a 1 % segment; 3 and 4 tie -> the smaller k
    assert reason.startswith("best silhouette 0.550 at k=3; inertia elbow (kneedle) also at k=3")
    assert "k=5 excluded" in reason
    k, reason = select_k(rows, min_segment_share=0)
    assert k == 5 and "inertia elbow (kneedle) at k=3, silhouette preferred" in reason
    assert select_k(rows, k=4) == (
        4,
        "fixed by configuration (segmentation.clustering.k = 4)",
    )
    undefined = [dict(r, silhouette=None) for r in rows]
    assert select_k(undefined, min_segment_share=0.02)[0] == 3
    with pytest.raises(ConfigError, match="was not fitted"):
        select_k(rows, k=7)


def test_fixed_k_sweep(matrix):
    sweep = kmeans_sweep_table(matrix, ClusteringSettings.from_dict({"k": 3, "seed": 0}))
    assert sweep.column("k").to_pylist() == [3]
    assert sweep.column("selection_reason").to_pylist() == [
        "fixed by configuration (segmentation.clustering.k = 3)"
    ]


# ------------------------------------------------------------------ centroids and naming


@pytest.fixture(scope="module")
def customers() -> pa.Table:
    rng = np.random.default_rng(11)
    groups = [  # (size, recency mean, frequency mean, monetary mean)
        (300, 30.0, 12.0, 800.0),
        (200, 200.0, 2.0, 80.0),
        (150, 100.0, 6.0, 300.0),
    ]
    columns: dict[str, list] = {"recency_days": [], "frequency": [], "monetary": []}
    for size, recency, frequency, monetary in groups:
        columns["recency_days"].append(rng.normal(recency, recency * 0.1, size))
        columns["frequency"].append(rng.normal(frequency, 0.5, size))
        columns["monetary"].append(rng.normal(monetary, monetary * 0.1, size))
    n = sum(g[0] for g in groups)
    plan = rng.choice(["basic", "premium"], n, p=[0.7, 0.3])
    return pa.table(
        {"customer_id": np.arange(n), "plan": plan}
        | {name: np.concatenate(parts) for name, parts in columns.items()}
    )


@pytest.fixture(scope="module")
def segmentation() -> SegmentationSettings:
    return SegmentationSettings.from_config(
        {
            "features": [
                {"name": "recency_days", "high_label": "Lapsed", "low_label": "Recent"},
                {"name": "frequency", "high_label": "Frequent", "low_label": "Occasional"},
                {"name": "monetary", "label": "value"},
                {"name": "plan", "kind": "categorical", "weight": 0.2},
            ],
            "clustering": {"methods": ["kmeans"], "k_min": 2, "k_max": 5, "seed": 42},
        }
    )


def test_centroids_table_in_original_units(customers, segmentation):
    spec = fit_spec_table(customers, segmentation)
    matrix = transform_table(customers, spec)
    sweep = kmeans_sweep_table(matrix, segmentation.clustering)
    X = _matrix(matrix)
    table = kmeans_centroids_table(sweep, spec, segmentation, X)
    k = next(r for r in sweep.to_pylist() if r["is_selected"])["k"]
    assert k == 3
    assert table.num_rows == k * spec.num_rows
    segment, _ = assign_nearest(X, np.asarray(selected_row(sweep)["centroids"]))
    names = {}
    for row in table.to_pylist():
        members = segment == row["segment_id"]
        assert row["size"] == members.sum()
        if row["output_column"] in ("recency_days", "frequency", "monetary"):
            expected = customers.column(row["output_column"]).to_numpy()[members].mean()
            assert row["value_original"] == pytest.approx(expected, rel=1e-9)
        elif row["output_column"].startswith("plan__"):
            level = {"plan__basic": "basic", "plan__premium": "premium"}.get(row["output_column"])
            plan = customers.column("plan").to_numpy(zero_copy_only=False)[members]
            expected = np.mean(plan == level) if level else 0.0
            assert row["value_original"] == pytest.approx(expected, abs=1e-12)
        names[row["segment_id"]] = row["segment_name"]
    # Recency, frequency and value correlate over all customers only because the segments
    # differ on all three (independent within each group): they are three traits, not one.
    overall = np.corrcoef([customers.column(c).to_numpy() for c in ("frequency", "monetary")])
    assert overall[0, 1] > 0.8
    assert names == {
        1: "Recent · Frequent · High value",  # Cliff's delta 1 on all three: configured order
        2: "Lapsed · Occasional · Low value",
        3: "Average",
    }
    assert kmeans_centroids_table(sweep, spec, segmentation, X).equals(table)

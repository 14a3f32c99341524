from __future__ import annotations

import math
import time

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import (
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_samples,
    silhouette_score,
)

from segmentation.metrics import (
    cluster_metrics,
    silhouette,
    silhouette_many,
    simplified_silhouette,
)


@pytest.fixture(scope="module")
def blobs():
    X, _ = make_blobs(n_samples=1500, n_features=4, centers=4, cluster_std=2.0, random_state=3)
    model = KMeans(4, n_init=4, random_state=0).fit(X)
    return X, model


def test_silhouette_equals_scikit_learn(blobs):
    X, model = blobs
    estimate = silhouette(X, model.labels_, exact_max_rows=5000, sample_size=100, seed=0)
    assert estimate.method == "exact" and estimate.n_rows == len(X)
    expected = silhouette_score(X, model.labels_)
    assert estimate.value == pytest.approx(expected, rel=1e-9)
    np.testing.assert_allclose(
        estimate.per_row, silhouette_samples(X, model.labels_), rtol=1e-9, atol=1e-12
    )
    assert estimate.ci_low == estimate.ci_high == estimate.value
    np.testing.assert_array_equal(estimate.sample_index, np.arange(len(X)))


def test_silhouette_with_singleton_and_arbitrary_labels():
    X, labels = make_blobs(n_samples=300, n_features=3, centers=3, random_state=1)
    labels = np.array(["a", "b", "c"])[labels]
    labels[0] = "z"  # a singleton cluster: silhouette 0 for that row
    estimate = silhouette(X, labels, exact_max_rows=1000, sample_size=100, seed=0)
    assert estimate.per_row[0] == 0.0
    assert estimate.value == pytest.approx(silhouette_score(X, labels), rel=1e-9)


def test_inertia_and_indices_equal_scikit_learn(blobs):
    X, model = blobs
    by_means = cluster_metrics(X, model.labels_)
    by_centroids = cluster_metrics(X, model.labels_, model.cluster_centers_)
    assert by_means.inertia == pytest.approx(model.inertia_, rel=1e-9)
    assert by_centroids.inertia == pytest.approx(model.inertia_, rel=1e-9)
    assert by_means.calinski_harabasz == pytest.approx(
        calinski_harabasz_score(X, model.labels_), rel=1e-12
    )
    assert by_means.davies_bouldin == pytest.approx(
        davies_bouldin_score(X, model.labels_), rel=1e-12
    )
    assert by_means.reason is None and by_means.n_clusters == 4


def test_undefined_cases_never_raise():
    X = np.random.default_rng(0).normal(size=(20, 2))
    one = silhouette(X, np.zeros(20, int), exact_max_rows=100, sample_size=10, seed=0)
    assert one.method == "undefined" and math.isnan(one.value) and "fewer than 2" in one.reason
    each = silhouette(X, np.arange(20), exact_max_rows=100, sample_size=10, seed=0)
    assert each.method == "undefined" and "k <= n - 1" in each.reason
    same = np.ones((20, 2))
    flat = silhouette(same, np.arange(20) % 2, exact_max_rows=100, sample_size=10, seed=0)
    assert flat.method == "undefined" and "identical" in flat.reason
    metrics = cluster_metrics(X, np.zeros(20, int))
    assert metrics.calinski_harabasz is None and metrics.davies_bouldin is None
    assert "needs at least 2" in metrics.reason
    assert metrics.inertia == pytest.approx(((X - X.mean(axis=0)) ** 2).sum())
    assert math.isnan(simplified_silhouette(X, np.zeros(20, int), X[:1]))


def test_sampled_silhouette_ci_contains_exact_value():
    # A 95 % interval misses for about 1 seed in 20; the project's seed is used here and the
    # coverage itself is checked in the next test.
    X, labels = make_blobs(n_samples=20_000, n_features=6, centers=5, cluster_std=2.5,
                           random_state=3)  # fmt: skip
    started = time.perf_counter()
    exact = silhouette(X, labels, exact_max_rows=20_000, sample_size=2000, seed=0)
    sampled = silhouette(X, labels, exact_max_rows=2000, sample_size=2000, seed=42)
    assert time.perf_counter() - started < 30
    assert exact.method == "exact" and sampled.method == "sampled"
    assert sampled.n_rows == 2000 and len(sampled.per_row) == 2000
    assert np.all(np.diff(sampled.sample_index) > 0)
    assert sampled.ci_low < exact.value < sampled.ci_high
    assert 0.002 < sampled.ci_high - sampled.ci_low < 0.05
    assert "sample" in sampled.reason
    again = silhouette(X, labels, exact_max_rows=2000, sample_size=2000, seed=42)
    assert again.value == sampled.value  # seeded


def test_sampled_interval_accounts_for_reference_noise():
    """Over many seeds the 95 % interval covers the exact value about 95 % of the time.

    The naive interval on the per-row values alone covers it only about 2/3 of the time here,
    because each row's a and b are measured against the sample too (see metrics.py).
    """
    X, labels = make_blobs(n_samples=4000, n_features=4, centers=4, cluster_std=2.5,
                           random_state=5)  # fmt: skip
    exact = silhouette(X, labels, exact_max_rows=4000, sample_size=400, seed=0).value
    covered = [
        (e.ci_low <= exact <= e.ci_high)
        for e in (
            silhouette(X, labels, exact_max_rows=400, sample_size=400, seed=s) for s in range(60)
        )
    ]
    assert np.mean(covered) >= 0.85


def test_silhouette_many_matches_single_calls(blobs):
    X, model = blobs
    other = KMeans(3, n_init=2, random_state=0).fit(X).labels_
    many = silhouette_many(X, [model.labels_, other], exact_max_rows=500, sample_size=400, seed=4)
    for labels, estimate in zip([model.labels_, other], many, strict=True):
        single = silhouette(X, labels, exact_max_rows=500, sample_size=400, seed=4)
        assert estimate.value == pytest.approx(single.value, rel=1e-12)
        np.testing.assert_array_equal(estimate.sample_index, single.sample_index)


def test_simplified_silhouette_matches_definition(blobs):
    X, model = blobs
    C, labels = model.cluster_centers_, model.labels_
    distances = np.sqrt(((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2))
    a = distances[np.arange(len(X)), labels]
    distances[np.arange(len(X)), labels] = np.inf
    b = distances.min(axis=1)
    expected = np.mean((b - a) / np.maximum(a, b))
    assert simplified_silhouette(X, labels, C, chunk_rows=97) == pytest.approx(expected, rel=1e-9)
    with pytest.raises(ValueError, match=r"indices 0\.\.3"):
        simplified_silhouette(X, labels + 1, C)


def test_numerics_run_on_one_thread_per_process() -> None:
    """dbt runs two Python models in threads of one process; thread-pool limits are
    process-wide, so the package fixes them at one thread when it is imported: a model's own
    limit context then restores one thread, never the machine's default under a model running
    beside it (which made a silhouette differ in its last digits between two builds)."""
    from threadpoolctl import threadpool_info, threadpool_limits

    import segmentation  # noqa: F401

    def threads() -> set[int]:
        return {pool["num_threads"] for pool in threadpool_info()}

    assert threads() == {1}
    with threadpool_limits(limits=1, user_api="blas"):
        pass
    assert threads() == {1}

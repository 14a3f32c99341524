"""K-Means over a range of k: fits, quality metrics, the choice of k and deterministic ids.

``kmeans_sweep_table`` fits scikit-learn's K-Means (k-means++, Lloyd) for every k of
``ClusteringSettings.k_values`` on the preprocessed matrix (``preprocessing.transform_table``)
and returns one row per k with its metrics, centroids and cluster sizes; ``select_k`` marks the
chosen k; ``kmeans_centroids_table`` describes the selected segments column by column in scaled
and original units, with generated names; ``kmeans_assignments_table`` gives every customer's
segment.

Row order. K-Means is fitted on the rows in a canonical order (a seeded hash of the row values,
``canonical_fit_rows``) and samples are drawn by that hash, so the result does not depend on the
order in which the warehouse returns the customers: shuffled rows give the same segments.

Large inputs. Up to ``fit_sample_max_rows`` rows K-Means runs on all rows with
``n_init = settings.n_init``. Above it, K-Means is fitted on a seeded uniform sample of
``fit_sample_max_rows`` rows (default 50,000) with ``n_init = min(settings.n_init,
SAMPLED_N_INIT)`` (= 3) restarts, and then every row is assigned to its nearest centroid
(chunked, vectorised), so inertia, cluster sizes and the simplified silhouette are computed on
all rows. Why a sample and fewer restarts: on 50,000 x 12 rows one k-means++ restart already
sees plenty of data; measured on the 100,000-customer demo data (bench), fitting all rows with
ten restarts took 6.5 s for k = 2..10, the 50,000-row sample with three restarts 2.0 s, with
the same k = 6, the same silhouette (0.3947) and the same agreement with the planted personas
(ARI 0.957). Three restarts keep a guard against one unlucky start. The silhouette is exact up to
``exact_silhouette_max_rows`` rows and estimated on a seeded sample of ``silhouette_sample_size``
rows above (``metrics.silhouette_many``, one pass for all k); Calinski-Harabasz and
Davies-Bouldin are computed on the same rows as the silhouette (all rows, or the silhouette
sample). The k are fitted two at a time in threads (one OpenMP thread each). Measured at
1,000,000 x 12, k = 2..10, default settings: 13-15 s of CPU time in total, spread over two
threads.

Segment ids. K-Means label numbers are arbitrary; here segments are renumbered 1..k by cluster
size descending, ties broken by the centroid coordinates (lexicographic, ascending), so the same
data and settings always give the same ids, and the ``centroids`` / ``cluster_sizes`` lists of
the sweep are in segment-id order.

Choice of k (``select_k``): a fixed ``settings.k`` wins ("fixed by configuration"). Otherwise,
among the k whose silhouette is defined and whose smallest segment holds at least
``min_segment_share`` of the rows, the k with the best silhouette (ties towards the smaller k);
the inertia elbow found by ``kneedle`` is reported alongside as a cross-check. If no k passes the
size rule, the rule is dropped (and the reason says so); if no silhouette is defined, the elbow
is used, and failing that the smallest k.

Degenerate inputs. K-Means cannot make k non-empty segments out of fewer than k distinct rows:
k values above the number of distinct rows of the fitted matrix are not fitted (the reason says
so). When even the smallest k asked (a fixed ``k``, or ``k_min``) is above it but there are at
least 2 distinct rows, k = min(k, distinct rows) is fitted instead, with a note in the reason
(``k: 4`` on 3 distinct rows gives the 3 groups, as the automatic sweep does). With a single
distinct row (e.g. every customer has the same features) the sweep falls back to ONE segment
(``one_segment_sweep``): a single row with k = 1, everyone in segment 1, the silhouette
undefined (null) and the reason in ``selection_reason``. Outliers
(``preprocessing.outlier_mask`` with ``settings.outlier_fence``) are left out of the fit, so an
extreme customer cannot claim a segment of its own; they are assigned to the nearest centroid
like every customer, counted in ``outlier_rows`` and named in the selection reason.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from segmentation.metrics import (
    cluster_metrics,
    row_keys,
    silhouette_many,
    simplified_from_distances,
    simplified_silhouette,
)
from segmentation.naming import describe_segments
from segmentation.preprocessing import (
    ID_COLUMN,
    inverse_numeric,
    matrix_from_table,
    outlier_mask,
    spec_rows,
    unscale_column,
)
from segmentation.settings import ClusteringSettings, ConfigError, SegmentationSettings

SAMPLED_N_INIT = 3
MAX_WORKERS = 4
TIE_TOLERANCE = 1e-12

SWEEP_SCHEMA = pa.schema(
    [
        pa.field("k", pa.int64(), nullable=False),
        pa.field("inertia", pa.float64(), nullable=False),
        pa.field("silhouette", pa.float64()),
        pa.field("silhouette_method", pa.string(), nullable=False),
        pa.field("silhouette_rows", pa.int64(), nullable=False),
        pa.field("silhouette_ci_low", pa.float64()),
        pa.field("silhouette_ci_high", pa.float64()),
        pa.field("simplified_silhouette", pa.float64()),
        pa.field("calinski_harabasz", pa.float64()),
        pa.field("davies_bouldin", pa.float64()),
        pa.field("fit_rows", pa.int64(), nullable=False),
        pa.field("n_rows", pa.int64(), nullable=False),
        pa.field("outlier_rows", pa.int64(), nullable=False),
        pa.field("n_iter", pa.int64(), nullable=False),
        pa.field("is_selected", pa.bool_(), nullable=False),
        pa.field("selection_reason", pa.string()),
        pa.field("centroids", pa.list_(pa.list_(pa.float64())), nullable=False),
        pa.field("cluster_sizes", pa.list_(pa.int64()), nullable=False),
    ]
)

CENTROIDS_SCHEMA = pa.schema(
    [
        pa.field("k", pa.int64(), nullable=False),
        pa.field("segment_id", pa.int64(), nullable=False),
        pa.field("segment_name", pa.string(), nullable=False),
        pa.field("segment_description", pa.string(), nullable=False),
        pa.field("size", pa.int64(), nullable=False),
        pa.field("output_column", pa.string(), nullable=False),
        pa.field("feature", pa.string(), nullable=False),
        pa.field("value_scaled", pa.float64(), nullable=False),
        pa.field("value_original", pa.float64()),
    ]
)


# ------------------------------------------------------------------------- assignment, ids


def _nearest_two(
    X: np.ndarray, C: np.ndarray, chunk_rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """0-based nearest centroid (n,), distance to it (n,) and to the second nearest (n,).

    The second distance is inf when k = 1. Chunk by chunk on one BLAS thread (the products are
    thin and memory-bound; small chunks stay in cache).
    """
    n, k = X.shape[0], C.shape[0]
    nearest = np.empty(n, dtype=np.int64)
    own = np.empty(n, dtype=np.float64)
    second = np.full(n, np.inf, dtype=np.float64)
    c_norms = np.einsum("ij,ij->i", C, C)
    with threadpool_limits(limits=1, user_api="blas"):
        for start in range(0, n, chunk_rows):
            stop = min(n, start + chunk_rows)
            chunk = X[start:stop]
            rows = np.arange(stop - start)
            d2 = chunk @ C.T
            d2 *= -2.0
            d2 += c_norms[None, :]  # + |x|^2 below; it does not change the argmin
            best = d2.argmin(axis=1)
            nearest[start:stop] = best
            own[start:stop] = np.sqrt(((chunk - C[best]) ** 2).sum(axis=1))
            if k > 1:
                d2[rows, best] = np.inf
                d2 += np.einsum("ij,ij->i", chunk, chunk)[:, None]
                second[start:stop] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    return nearest, own, second


def assign_nearest(
    X: np.ndarray, centroids: np.ndarray, chunk_rows: int = 8_192
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid of every row: 1-based labels (n,) int64 and Euclidean distances (n,).

    Row ``j`` of ``centroids`` (k, d) is segment ``j + 1``. The argmin uses the expansion
    ``|x|^2 - 2 x.c + |c|^2`` (one matrix product per chunk of ``chunk_rows`` rows, so memory
    stays O(chunk_rows * (k + d)); the default keeps a chunk in cache, which measured 4x faster
    than 200,000-row chunks at 1,000,000 x 12); the returned distance is then recomputed
    directly as ``|x - c|`` for the chosen centroid, so it has no cancellation error. Ties go
    to the lower segment id.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    C = np.ascontiguousarray(centroids, dtype=np.float64)
    if X.ndim != 2 or C.ndim != 2 or C.shape[1] != X.shape[1] or C.shape[0] < 1:
        raise ValueError(f"shapes do not match: X {X.shape}, centroids {C.shape}")
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
    nearest, own, _ = _nearest_two(X, C, chunk_rows)
    return nearest + 1, own


def order_segments(centroids: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The permutation putting clusters in segment-id order.

    Size descending, then centroid coordinates ascending (lexicographic); ``order[i]`` is the
    old index of segment ``i + 1``.
    """
    C = np.asarray(centroids, dtype=np.float64)
    keys = (*(C[:, j] for j in reversed(range(C.shape[1]))), -np.asarray(sizes))
    return np.lexsort(keys)


def _relabel(
    centroids: np.ndarray, labels0: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centroids (k, d), 1-based labels (n,) and sizes (k,) in segment-id order.

    ``labels0`` are arbitrary 0-based cluster labels (n,) indexing the rows of ``centroids``.
    """
    k = centroids.shape[0]
    sizes = np.bincount(labels0, minlength=k)
    order = order_segments(centroids, sizes)
    new_id = np.empty(k, dtype=np.int64)
    new_id[order] = np.arange(1, k + 1)
    return np.ascontiguousarray(centroids[order]), new_id[labels0], sizes[order]


# --------------------------------------------------------------------------- choice of k


def kneedle(x: np.ndarray, y: np.ndarray) -> float | None:
    """Elbow of a decreasing convex curve (e.g. inertia against k) by the Kneedle method.

    Offline Kneedle (Satopaa et al. 2011) without the sensitivity threshold: both axes are
    normalised to [0, 1]; the elbow is the point furthest below the chord from the first to the
    last point, i.e. the maximum of ``(1 - x_n) - y_n``. Returns that ``x`` (ties: the smaller
    x), or None with fewer than 3 points, a flat curve, or no point below the chord.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    if len(x) < 3 or x[-1] == x[0] or y.max() == y.min():
        return None
    xn = (x - x[0]) / (x[-1] - x[0])
    yn = (y - y.min()) / (y.max() - y.min())
    gap = (1.0 - xn) - yn
    best = int(np.argmax(gap))
    return float(x[best]) if gap[best] > TIE_TOLERANCE else None


def _as_rows(metrics: pa.Table | list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = metrics.to_pylist() if isinstance(metrics, pa.Table) else list(metrics)
    if not rows:
        raise ConfigError("select_k: the sweep has no rows")
    return sorted(rows, key=lambda r: r["k"])


def select_k(
    metrics: pa.Table | list[dict[str, Any]],
    settings: ClusteringSettings | SegmentationSettings,
) -> tuple[int, str]:
    """The chosen k and the reason, from the sweep metrics (one row per k).

    Needs ``k``, ``silhouette`` (None / NaN when undefined) and ``inertia``; ``cluster_sizes``
    and ``n_rows`` enable the ``min_segment_share`` rule. See the module docstring for the rule.
    """
    rows = _as_rows(metrics)
    settings = _clustering(settings)
    if settings.k != "auto":
        k = int(settings.k)
        fitted = [r["k"] for r in rows]
        if k in fitted:
            return k, f"fixed by configuration (segmentation.clustering.k = {k})"
        if len(fitted) == 1 and fitted[0] < k:  # capped at the distinct rows (kmeans_sweep)
            return fitted[0], (
                f"segmentation.clustering.k = {k} capped at {fitted[0]}, the largest k fitted"
            )
        raise ConfigError(f"segmentation.clustering.k: {k} was not fitted by the sweep")

    elbow = kneedle([r["k"] for r in rows], [r["inertia"] for r in rows])
    elbow_k = None if elbow is None else round(elbow)

    def defined(row: dict[str, Any]) -> bool:
        value = row.get("silhouette")
        return value is not None and bool(np.isfinite(value))

    def big_enough(row: dict[str, Any]) -> bool:
        sizes, n = row.get("cluster_sizes"), row.get("n_rows")
        return sizes is None or not n or min(sizes) / n >= settings.min_segment_share

    candidates = [r for r in rows if defined(r)]
    notes = []
    if not candidates:
        if elbow_k is not None:
            return (
                elbow_k,
                f"silhouette undefined for every k; inertia elbow (kneedle) at k={elbow_k}",
            )
        return rows[0]["k"], "silhouette undefined for every k and no inertia elbow; smallest k"
    eligible = [r for r in candidates if big_enough(r)]
    excluded = [r["k"] for r in candidates if not big_enough(r)]
    if excluded and eligible:
        notes.append(
            f"k={', '.join(map(str, excluded))} excluded: smallest segment below "
            f"min_segment_share {settings.min_segment_share:g}"
        )
    elif excluded:
        notes.append(
            f"every k has a segment below min_segment_share {settings.min_segment_share:g}; "
            "rule ignored"
        )
        eligible = candidates
    best_value = max(r["silhouette"] for r in eligible)
    best = next(r for r in eligible if r["silhouette"] >= best_value - TIE_TOLERANCE)
    k = best["k"]
    reason = f"best silhouette {best['silhouette']:.3f} at k={k}"
    if elbow_k is None:
        reason += "; no inertia elbow (kneedle needs >= 3 k values on a convex curve)"
    elif elbow_k == k:
        reason += f"; inertia elbow (kneedle) also at k={k}"
    else:
        reason += f"; inertia elbow (kneedle) at k={elbow_k}, silhouette preferred"
    return k, "; ".join([reason, *notes])


# --------------------------------------------------------------------------------- sweep


def _workers() -> int:
    """Worker threads for the k sweep: the CPUs this process may use, at most MAX_WORKERS."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS))


def canonical_fit_rows(X: np.ndarray, max_rows: int, seed: int) -> np.ndarray:
    """The rows K-Means is fitted on, in the order it sees them.

    All rows (n <= ``max_rows``) or a seeded uniform sample of ``max_rows`` rows, ordered by a
    seeded hash of the row values (``metrics.row_keys``; salt 1, independent of the silhouette
    sample). k-means++ picks rows by position, so fitting on this canonical order makes the
    result independent of the order the warehouse returned the customers in (identical rows
    are interchangeable).
    """
    keys = row_keys(X, seed, salt=1)
    n = X.shape[0]
    if n > max_rows:
        index = np.argpartition(keys, max_rows - 1)[:max_rows]
        return index[np.argsort(keys[index], kind="stable")]
    return np.argsort(keys, kind="stable")


def _fit_one(
    X: np.ndarray,
    fit_matrix: np.ndarray,
    fit_index: np.ndarray,
    sampled: bool,
    k: int,
    n_init: int,
    seed: int,
) -> dict[str, Any]:
    """Fit one k on ``fit_matrix`` with ONE OpenMP thread, then label all rows of ``X``.

    The sweep runs several k at once in threads instead (scikit-learn's Cython releases the
    GIL): no per-iteration thread barrier, which measured 2x faster on a loaded 2-core machine,
    and results that do not depend on the thread count.
    """
    with threadpool_limits(limits=1, user_api="openmp"):
        model = KMeans(
            n_clusters=k, init="k-means++", n_init=n_init, random_state=seed, algorithm="lloyd"
        ).fit(fit_matrix)
    centers = model.cluster_centers_
    if not sampled:  # fit_index is a permutation of all rows
        labels0 = np.empty(X.shape[0], dtype=np.int64)
        labels0[fit_index] = model.labels_
        inertia = float(model.inertia_)
    else:
        labels0, own, second = _nearest_two(X, centers, 8_192)
        inertia = float(np.dot(own, own))
    centroids, labels, sizes = _relabel(centers, labels0)
    if not sampled:
        simplified = simplified_silhouette(X, labels - 1, centroids)
    else:  # the labels are the nearest centroids: a and b come from the assignment pass
        simplified = simplified_from_distances(own, second, sizes[labels - 1] <= 1)
    return {
        "simplified_silhouette": simplified,
        "k": k,
        "centroids": centroids,
        "labels": labels,
        "sizes": sizes,
        "inertia": inertia,
        "n_iter": int(model.n_iter_),
        "fit_rows": fit_matrix.shape[0],
    }


def _clustering(settings: ClusteringSettings | SegmentationSettings) -> ClusteringSettings:
    if isinstance(settings, SegmentationSettings):
        return settings.clustering
    if not isinstance(settings, ClusteringSettings):
        raise TypeError(f"expected ClusteringSettings, got {type(settings).__name__}")
    return settings


def distinct_rows(X: np.ndarray, seed: int) -> int:
    """The number of distinct rows of the (n, d) matrix (equal seeded 64-bit row hashes)."""
    if X.shape[0] == 0:
        return 0
    return len(np.unique(row_keys(X, seed)))


def one_segment_sweep(
    X: np.ndarray, ks: list[int], distinct: int, outliers: np.ndarray
) -> pa.Table:
    """The fallback sweep when the matrix has fewer distinct rows than the smallest k.

    One row, k = 1: every customer in segment 1 (centroid: the column means), inertia the total
    sum of squares, silhouette and the other separation metrics undefined (null), and the reason
    on the selected row.
    """
    n = X.shape[0]
    centroid = X.mean(axis=0)
    asked = f"k = {ks[0]}" if len(ks) == 1 else f"k = {ks[0]}..{ks[-1]}"
    rows = "row" if distinct == 1 else "rows"
    reason = (
        f"one segment: the feature matrix has {distinct} distinct {rows} among {n} customers "
        f"({'identical features' if distinct == 1 else 'too few distinct feature values'}), "
        f"fewer than the smallest k of {asked}; every customer is in segment 1 and the "
        "silhouette is undefined"
    )
    row = {
        "k": 1,
        "inertia": float(((X - centroid) ** 2).sum()),
        "silhouette": None,
        "silhouette_method": "undefined",
        "silhouette_rows": n,
        "silhouette_ci_low": None,
        "silhouette_ci_high": None,
        "simplified_silhouette": None,
        "calinski_harabasz": None,
        "davies_bouldin": None,
        "fit_rows": n - int(outliers.sum()),
        "n_rows": n,
        "outlier_rows": int(outliers.sum()),
        "n_iter": 0,
        "is_selected": True,
        "selection_reason": reason,
        "centroids": [centroid.tolist()],
        "cluster_sizes": [n],
    }
    return pa.Table.from_pylist([row], schema=SWEEP_SCHEMA)


def kmeans_sweep(X: np.ndarray, settings: ClusteringSettings | SegmentationSettings) -> pa.Table:
    """The sweep of ``kmeans_sweep_table`` on an (n, d) float64 matrix (``SWEEP_SCHEMA``)."""
    settings = _clustering(settings)
    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] < 1:
        raise ConfigError(f"kmeans: expected an (n, d) matrix with d >= 1, got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ConfigError("kmeans: the matrix contains non-finite values")
    n = X.shape[0]
    ks = settings.k_values(n)
    seed = settings.seed
    outliers = outlier_mask(X, settings.outlier_fence)
    inliers = np.flatnonzero(~outliers) if outliers.any() else None
    distinct = distinct_rows(X if inliers is None else X[inliers], seed)
    notes = []
    if distinct < 2:
        return one_segment_sweep(X, ks, distinct, outliers)
    if distinct < ks[0]:
        asked = f"k = {ks[0]}" if len(ks) == 1 else f"k = {ks[0]}..{ks[-1]}"
        notes.append(
            f"{asked} asked but the feature matrix has only {distinct} distinct rows: fitted "
            f"k = {distinct} (min(k, distinct rows)) instead"
        )
        ks = [distinct]
    elif distinct < ks[-1]:
        notes.append(
            f"k above {distinct} not fitted: the feature matrix has only {distinct} distinct rows"
        )
        ks = [k for k in ks if k <= distinct]
    if inliers is not None:
        notes.append(
            f"{len(outliers) - len(inliers)} outlier(s) (beyond outlier_fence "
            f"{settings.outlier_fence:g} x the 5-95 % range of a feature) left out of the fit "
            "and assigned to the nearest segment"
        )
    sampled = n > settings.fit_sample_max_rows
    if inliers is None:
        fit_index = canonical_fit_rows(X, settings.fit_sample_max_rows, seed)
    else:  # positions among the inliers, mapped back to rows of X
        fit_index = inliers[canonical_fit_rows(X[inliers], settings.fit_sample_max_rows, seed)]
    # A fit on a subset of the rows assigns every row to its nearest centroid afterwards.
    subset = sampled or inliers is not None
    n_init = min(settings.n_init, SAMPLED_N_INIT) if sampled else settings.n_init
    fit_matrix = np.ascontiguousarray(X[fit_index])
    # One BLAS thread for the whole parallel section, set in this thread: the BLAS limit is
    # process-wide, and scikit-learn's own nested limits in the workers then save and restore
    # the same value, so the process's setting is intact afterwards.
    with (
        threadpool_limits(limits=1, user_api="blas"),
        ThreadPoolExecutor(max_workers=_workers()) as pool,
    ):
        futures = {  # larger (slower) k first
            k: pool.submit(_fit_one, X, fit_matrix, fit_index, subset, k, n_init, seed)
            for k in sorted(ks, reverse=True)
        }
        fits = [futures[k].result() for k in ks]

    estimates = silhouette_many(
        X,
        [fit["labels"] for fit in fits],
        exact_max_rows=settings.exact_silhouette_max_rows,
        sample_size=settings.silhouette_sample_size,
        seed=seed,
    )
    rows = []
    for fit, estimate in zip(fits, estimates, strict=True):
        index = estimate.sample_index  # all rows, or the silhouette sample
        quality = cluster_metrics(X[index], fit["labels"][index])
        undefined = estimate.method == "undefined"
        rows.append(
            {
                "k": fit["k"],
                "inertia": fit["inertia"],
                "silhouette": None if undefined else estimate.value,
                "silhouette_method": estimate.method,
                "silhouette_rows": estimate.n_rows,
                "silhouette_ci_low": None if undefined else estimate.ci_low,
                "silhouette_ci_high": None if undefined else estimate.ci_high,
                "simplified_silhouette": _none_if_nan(fit["simplified_silhouette"]),
                "calinski_harabasz": quality["calinski_harabasz"],
                "davies_bouldin": quality["davies_bouldin"],
                "fit_rows": fit["fit_rows"],
                "n_rows": n,
                "outlier_rows": int(outliers.sum()),
                "n_iter": fit["n_iter"],
                "is_selected": False,
                "selection_reason": None,
                "centroids": fit["centroids"].tolist(),
                "cluster_sizes": fit["sizes"].tolist(),
            }
        )
    chosen, reason = select_k(rows, settings)
    reason = "; ".join([reason, *notes])
    for row in rows:
        if row["k"] == chosen:
            row["is_selected"], row["selection_reason"] = True, reason
    return pa.Table.from_pylist(rows, schema=SWEEP_SCHEMA)


def _none_if_nan(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)


def kmeans_sweep_table(
    matrix: pa.Table, settings: ClusteringSettings | SegmentationSettings
) -> pa.Table:
    """Fit K-Means for every k of ``settings.k_values(n)`` and pick one; one row per k.

    ``matrix`` is ``preprocessing.transform_table``'s output: ``customer_id`` plus the float64
    matrix columns (every column other than ``customer_id`` is used, in table order). Returns a
    table with ``SWEEP_SCHEMA``: metrics, ``centroids`` (k lists of d floats, scaled space) and
    ``cluster_sizes`` in segment-id order, and ``is_selected`` / ``selection_reason`` on the
    chosen k. Same data and settings give an identical table. See the module docstring.
    ``settings`` may also be the whole ``SegmentationSettings`` (its ``clustering`` is used).
    """
    X, _ = matrix_from_table(matrix)
    return kmeans_sweep(X, settings)


# ------------------------------------------------------------------------- selected result


def selected_row(sweep: pa.Table) -> dict[str, Any]:
    """The sweep row with ``is_selected`` (exactly one is expected)."""
    rows = [r for r in sweep.to_pylist() if r["is_selected"]]
    if len(rows) != 1:
        raise ConfigError(f"kmeans sweep: expected exactly one selected k, found {len(rows)}")
    return rows[0]


def kmeans_centroids_table(
    sweep: pa.Table, spec: pa.Table, settings: SegmentationSettings, X: np.ndarray
) -> pa.Table:
    """The selected segments, one row per (segment_id, output_column) (``CENTROIDS_SCHEMA``).

    ``value_scaled`` is the centroid coordinate in the matrix space; ``value_original`` is, for
    numeric features, the value in original units (``inverse_numeric``: weight, scaling and
    log1p undone); for ordinal features the mean ordinal code in [0, 1]; for one-hot columns
    the level's share in the segment and for missing indicators the share of missing values
    (un-weighted 0..1 values, clipped to [0, 1] against rounding noise). ``segment_name`` and
    ``segment_description`` describe the customers of ``X`` (the scaled feature matrix, (n, d)
    in the spec's column order) nearest to each centroid (``naming.describe_segments``).
    """
    row = selected_row(sweep)
    centroids = np.asarray(row["centroids"], dtype=np.float64)
    sizes = row["cluster_sizes"]
    k = len(sizes)
    columns = spec_rows(spec)
    if centroids.shape != (k, len(columns)):
        raise ConfigError(
            f"kmeans centroids: shape {centroids.shape} does not match the spec's "
            f"{len(columns)} output columns"
        )
    labels, _ = assign_nearest(X, centroids)
    described = describe_segments(X, labels, spec, settings, n_segments=k)
    original = np.empty_like(centroids)
    for column in columns:
        values = centroids[:, column["position"]]
        if column["kind"] in ("numeric", "ordinal") and not column["is_missing_indicator"]:
            original[:, column["position"]] = inverse_numeric(spec, column["feature"], values)
        else:
            shares = unscale_column(spec, column["output_column"], values)
            original[:, column["position"]] = np.clip(shares, 0.0, 1.0)
    data: dict[str, list[Any]] = {name: [] for name in CENTROIDS_SCHEMA.names}
    for s in range(k):
        for column in columns:
            j = column["position"]
            data["k"].append(k)
            data["segment_id"].append(s + 1)
            data["segment_name"].append(described[s].name)
            data["segment_description"].append(described[s].description)
            data["size"].append(sizes[s])
            data["output_column"].append(column["output_column"])
            data["feature"].append(column["feature"])
            data["value_scaled"].append(float(centroids[s, j]))
            data["value_original"].append(float(original[s, j]))
    return pa.table(data, schema=CENTROIDS_SCHEMA)


def kmeans_assignments_table(matrix: pa.Table, sweep: pa.Table) -> pa.Table:
    """Every customer's segment under the selected k.

    Columns ``customer_id``, ``k``, ``segment_id`` (1-based, as in the sweep) and ``distance``
    (Euclidean, scaled space) to the segment's centroid.
    """
    X, _ = matrix_from_table(matrix)
    row = selected_row(sweep)
    centroids = np.asarray(row["centroids"], dtype=np.float64)
    if centroids.shape[1] != X.shape[1]:
        raise ConfigError(
            f"kmeans assignments: the matrix has {X.shape[1]} columns, the centroids "
            f"{centroids.shape[1]}"
        )
    labels, distances = assign_nearest(X, centroids)
    return pa.table(
        {
            ID_COLUMN: matrix.column(ID_COLUMN),
            "k": pa.array(np.full(X.shape[0], centroids.shape[0], dtype=np.int64)),
            "segment_id": pa.array(labels),
            "distance": pa.array(distances),
        }
    )


__all__ = [
    "CENTROIDS_SCHEMA",
    "SAMPLED_N_INIT",
    "SWEEP_SCHEMA",
    "assign_nearest",
    "distinct_rows",
    "kmeans_assignments_table",
    "kmeans_centroids_table",
    "kmeans_sweep",
    "kmeans_sweep_table",
    "kneedle",
    "one_segment_sweep",
    "order_segments",
    "select_k",
    "selected_row",
]

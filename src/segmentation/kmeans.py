"""K-Means over a range of k: fits, quality metrics, the choice of k and deterministic ids.

``kmeans_sweep`` fits scikit-learn's K-Means (k-means++, Lloyd) for every k asked on the
preprocessed (n, d) matrix (``preprocessing.apply_spec``) and returns a ``KMeansSweep``: one
``KMeansFit`` per k with its metrics, centroids and cluster sizes, and the k ``select_k`` chose;
``assign_nearest`` gives every row's segment. Arrays in, arrays and dataclasses out: the Arrow
tables of the dbt models (``ml_kmeans_sweep``, ``ml_kmeans_centroids``) are built in
``segmentation.pipeline``.

Row order. K-Means is fitted on the rows in a canonical order (a seeded hash of the row values,
``canonical_fit_rows``) and samples are drawn by that hash, so the result does not depend on the
order in which the warehouse returns the customers: shuffled rows give the same segments.

Large inputs. Up to ``fit_sample_max_rows`` rows K-Means runs on all rows with
``n_init`` restarts. Above it, K-Means is fitted on a seeded uniform sample of
``fit_sample_max_rows`` rows (default 50,000) with ``n_init = min(n_init,
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

Choice of k (``select_k``): a fixed ``k`` wins ("fixed by configuration"). Otherwise,
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
(``preprocessing.outlier_mask`` with ``outlier_fence``) are left out of the fit, so an
extreme customer cannot claim a segment of its own; they are assigned to the nearest centroid
like every customer, counted in ``outlier_rows`` and named in the selection reason.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from segmentation.checks import check_array
from segmentation.metrics import (
    SilhouetteEstimate,
    cluster_metrics,
    row_keys,
    silhouette_many,
    simplified_from_distances,
    simplified_silhouette,
    undefined_silhouette,
)
from segmentation.preprocessing import outlier_mask
from segmentation.settings import ConfigError

SAMPLED_N_INIT = 3
MAX_WORKERS = 4
TIE_TOLERANCE = 1e-12

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
            # sqrt(((chunk - C[best]) ** 2).sum(axis=1)) in one temporary, not three.
            residual = C[best]
            np.subtract(chunk, residual, out=residual)
            np.square(residual, out=residual)
            np.sqrt(residual.sum(axis=1), out=own[start:stop])
            if k > 1:
                d2[rows, best] = np.inf
                d2 += np.einsum("ij,ij->i", chunk, chunk)[:, None]
                closest = d2.min(axis=1)
                np.maximum(closest, 0.0, out=closest)
                np.sqrt(closest, out=second[start:stop])
    return nearest, own, second


def assign_nearest(
    X: np.ndarray, centroids: np.ndarray, chunk_rows: int = 8_192
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid of every row.

    The argmin uses the expansion ``|x|^2 - 2 x.c + |c|^2`` (one matrix product per chunk, so
    memory stays O(chunk_rows * (k + d)); the default keeps a chunk in cache, measured 4x faster
    than 200,000-row chunks at 1,000,000 x 12); the returned distance is then recomputed directly
    as ``|x - c|`` for the chosen centroid, so it has no cancellation error. Ties go to the lower
    segment id.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The feature matrix.
    centroids : ndarray of shape (k, d)
        Row ``j`` is segment ``j + 1``.
    chunk_rows : int
        Rows per chunk, >= 1.

    Returns
    -------
    labels : ndarray of int64, shape (n,)
        1-based segment of every row.
    distances : ndarray of float64, shape (n,)
        Euclidean distance to that centroid (scaled units).

    Raises
    ------
    ValueError
        Shapes that do not match, no centroid, or ``chunk_rows`` < 1.
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
    last point, i.e. the maximum of ``(1 - x_n) - y_n``.

    Parameters
    ----------
    x, y : array-like of shape (m,)
        The curve, in any order of ``x``.

    Returns
    -------
    float or None
        The ``x`` of the elbow (ties: the smaller x), or None with fewer than 3 points, a flat
        curve, or no point below the chord.
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


def select_k(
    rows: Sequence[Mapping[str, Any]],
    *,
    k: int | str = "auto",
    min_segment_share: float = 0.02,
) -> tuple[int, str]:
    """The chosen k and the reason, from the sweep metrics (one mapping per k).

    Parameters
    ----------
    rows : sequence of mappings
        One per fitted k, with ``k``, ``silhouette`` (None or NaN when undefined) and
        ``inertia``; ``cluster_sizes`` and ``n_rows`` enable the ``min_segment_share`` rule.
    k : int or "auto"
        ``segmentation.clustering.k``: a fixed k wins when it was fitted (or the single k the
        sweep capped it to).
    min_segment_share : float
        Smallest share of the rows a segment must hold for its k to be eligible.

    Returns
    -------
    (k, reason) : tuple of int and str
        See the module docstring for the rule; the reason names the rule that decided.

    Raises
    ------
    ConfigError
        ``rows`` is empty, or a fixed ``k`` was not fitted.
    """
    rows = sorted(rows, key=lambda r: r["k"])
    if not rows:
        raise ConfigError("select_k: the sweep has no rows")
    if k != "auto":
        return _fixed_k(rows, int(k))
    elbow = kneedle([r["k"] for r in rows], [r["inertia"] for r in rows])
    elbow_k = None if elbow is None else round(elbow)
    candidates = [
        r for r in rows if r.get("silhouette") is not None and bool(np.isfinite(r["silhouette"]))
    ]
    if not candidates:
        if elbow_k is not None:
            return (
                elbow_k,
                f"silhouette undefined for every k; inertia elbow (kneedle) at k={elbow_k}",
            )
        return rows[0]["k"], "silhouette undefined for every k and no inertia elbow; smallest k"
    eligible, notes = _big_enough(candidates, min_segment_share)
    best_value = max(r["silhouette"] for r in eligible)
    best = next(r for r in eligible if r["silhouette"] >= best_value - TIE_TOLERANCE)
    chosen = best["k"]
    reason = f"best silhouette {best['silhouette']:.3f} at k={chosen}"
    if elbow_k is None:
        reason += "; no inertia elbow (kneedle needs >= 3 k values on a convex curve)"
    elif elbow_k == chosen:
        reason += f"; inertia elbow (kneedle) also at k={chosen}"
    else:
        reason += f"; inertia elbow (kneedle) at k={elbow_k}, silhouette preferred"
    return chosen, "; ".join([reason, *notes])


def _fixed_k(rows: Sequence[Mapping[str, Any]], k: int) -> tuple[int, str]:
    """A configured k and the reason (:func:`select_k`); ``ConfigError`` when it was not fitted."""
    fitted = [r["k"] for r in rows]
    if k in fitted:
        return k, f"fixed by configuration (segmentation.clustering.k = {k})"
    if len(fitted) == 1 and fitted[0] < k:  # capped at the distinct rows (kmeans_sweep)
        return fitted[0], (
            f"segmentation.clustering.k = {k} capped at {fitted[0]}, the largest k fitted"
        )
    raise ConfigError(f"segmentation.clustering.k: {k} was not fitted by the sweep")


def _big_enough(
    candidates: list[Mapping[str, Any]], min_segment_share: float
) -> tuple[list[Mapping[str, Any]], list[str]]:
    """The sweep rows whose smallest segment holds ``min_segment_share`` of the rows, and notes.

    A row without ``cluster_sizes`` or ``n_rows`` counts as big enough; when no row is, the rule
    is ignored (every candidate returned, with a note saying so).
    """

    def big_enough(row: Mapping[str, Any]) -> bool:
        sizes, n = row.get("cluster_sizes"), row.get("n_rows")
        return sizes is None or not n or min(sizes) / n >= min_segment_share

    eligible = [r for r in candidates if big_enough(r)]
    excluded = [r["k"] for r in candidates if not big_enough(r)]
    if excluded and eligible:
        return eligible, [
            f"k={', '.join(map(str, excluded))} excluded: smallest segment below "
            f"min_segment_share {min_segment_share:g}"
        ]
    if excluded:
        return candidates, [
            f"every k has a segment below min_segment_share {min_segment_share:g}; rule ignored"
        ]
    return eligible, []


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

    k-means++ picks rows by position, so fitting on this canonical order makes the result
    independent of the order the warehouse returned the customers in (identical rows are
    interchangeable).

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The feature matrix.
    max_rows : int
        All rows when n <= max_rows, else a seeded uniform sample of ``max_rows`` rows.
    seed : int
        Seeds the row hash (``metrics.row_keys``, salt 1: independent of the silhouette sample).

    Returns
    -------
    ndarray of int, shape (min(n, max_rows),)
        Row indices ordered by the seeded hash of the row values.
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


def distinct_rows(X: np.ndarray, seed: int) -> int:
    """The number of distinct rows of the (n, d) matrix (equal seeded 64-bit row hashes)."""
    if X.shape[0] == 0:
        return 0
    # Counting changes in the sorted keys: the count of np.unique, which hashes (0.8 CPU-s at
    # 1,000,000 rows against 0.01 for the sort).
    keys = np.sort(row_keys(X, seed))
    return 1 + int(np.count_nonzero(keys[1:] != keys[:-1]))


@dataclass(frozen=True)
class KMeansFit:
    """One k of the sweep, in segment-id order (segments 1..k by size descending).

    Attributes
    ----------
    k : int
    centroids : ndarray of shape (k, d)
        Scaled feature space; row ``j`` is segment ``j + 1``.
    labels : ndarray of shape (n,)
        1-based segment of every row (the nearest centroid when the fit used a subset).
    cluster_sizes : ndarray of shape (k,)
    inertia : float
        Within-segment sum of squared Euclidean distances over all n rows.
    n_iter : int
        Lloyd iterations of the best restart.
    fit_rows : int
        Rows K-Means was fitted on (outliers and rows beyond the fit sample left out).
    silhouette : SilhouetteEstimate
        Exact or sampled mean silhouette (``metrics.silhouette_many``).
    simplified_silhouette : float
        Centroid-based silhouette over all rows; NaN when undefined.
    calinski_harabasz, davies_bouldin : float or None
        On the silhouette's rows; None when undefined.
    """

    k: int
    centroids: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)
    cluster_sizes: np.ndarray
    inertia: float
    n_iter: int
    fit_rows: int
    silhouette: SilhouetteEstimate = field(repr=False)
    simplified_silhouette: float
    calinski_harabasz: float | None
    davies_bouldin: float | None


@dataclass(frozen=True)
class KMeansSweep:
    """The result of :func:`kmeans_sweep`: one fit per k, and the chosen k with its reason.

    ``fits`` are in ascending k; ``n_rows`` counts all rows, ``outlier_rows`` those left out of
    the fit (``preprocessing.outlier_mask``).
    """

    fits: tuple[KMeansFit, ...]
    n_rows: int
    outlier_rows: int
    selected_k: int
    selection_reason: str


def one_segment_sweep(
    X: np.ndarray, ks: list[int], distinct: int, outliers: np.ndarray
) -> KMeansSweep:
    """The fallback sweep when the matrix has fewer than 2 distinct rows.

    One fit, k = 1: every row in segment 1 (centroid: the column means), inertia the total sum
    of squares, silhouette and the other separation metrics undefined, and the reason.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The feature matrix.
    ks : list of int
        The k asked (for the reason).
    distinct : int
        Distinct rows of the fitted matrix (0 or 1).
    outliers : ndarray of bool, shape (n,)
        Rows left out of the fit (counted in ``outlier_rows``).
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
    fit = KMeansFit(
        k=1,
        centroids=centroid[None, :],
        labels=np.ones(n, dtype=np.int64),
        cluster_sizes=np.array([n], dtype=np.int64),
        inertia=float(((X - centroid) ** 2).sum()),
        n_iter=0,
        fit_rows=n - int(outliers.sum()),
        silhouette=undefined_silhouette("one segment", n, np.arange(n)),
        simplified_silhouette=float("nan"),
        calinski_harabasz=None,
        davies_bouldin=None,
    )
    return KMeansSweep((fit,), n, int(outliers.sum()), 1, reason)


def _fitted_ks(ks: list[int], distinct: int) -> tuple[list[int], list[str]]:
    """The k that can be fitted on ``distinct`` (>= 2) distinct rows, and notes saying why not."""
    if distinct < ks[0]:
        asked = f"k = {ks[0]}" if len(ks) == 1 else f"k = {ks[0]}..{ks[-1]}"
        return [distinct], [
            f"{asked} asked but the feature matrix has only {distinct} distinct rows: fitted "
            f"k = {distinct} (min(k, distinct rows)) instead"
        ]
    if distinct < ks[-1]:
        return [k for k in ks if k <= distinct], [
            f"k above {distinct} not fitted: the feature matrix has only {distinct} distinct rows"
        ]
    return ks, []


def _fit_all(
    X: np.ndarray, fit_index: np.ndarray, subset: bool, ks: list[int], n_init: int, seed: int
) -> list[dict[str, Any]]:
    """:func:`_fit_one` for every k, two (up to MAX_WORKERS) at a time; results in ``ks`` order."""
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
        return [futures[k].result() for k in ks]


def _with_metrics(X: np.ndarray, fit: dict[str, Any], estimate: SilhouetteEstimate) -> KMeansFit:
    """A fit of :func:`_fit_one` with its silhouette and separation metrics.

    Calinski-Harabasz and Davies-Bouldin are on the silhouette's rows (all rows, or the
    silhouette sample).
    """
    index = estimate.sample_index
    quality = cluster_metrics(X[index], fit["labels"][index])
    return KMeansFit(
        k=fit["k"],
        centroids=fit["centroids"],
        labels=fit["labels"],
        cluster_sizes=fit["sizes"],
        inertia=fit["inertia"],
        n_iter=fit["n_iter"],
        fit_rows=fit["fit_rows"],
        silhouette=estimate,
        simplified_silhouette=fit["simplified_silhouette"],
        calinski_harabasz=quality.calinski_harabasz,
        davies_bouldin=quality.davies_bouldin,
    )


def kmeans_sweep(
    X: np.ndarray,
    *,
    k_values: Sequence[int],
    k: int | str = "auto",
    n_init: int = 10,
    seed: int = 42,
    fit_sample_max_rows: int = 50_000,
    outlier_fence: float | None = 3.0,
    exact_silhouette_max_rows: int = 10_000,
    silhouette_sample_size: int = 10_000,
    min_segment_share: float = 0.02,
) -> KMeansSweep:
    """Fit K-Means (k-means++, Lloyd) for every k of ``k_values`` and choose one.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The scaled feature matrix (``preprocessing.apply_spec``), finite float64.
    k_values : sequence of int
        The k to fit, ascending (``ClusteringSettings.k_values(n)``).
    k : int or "auto"
        A fixed k, or "auto" for the rule of :func:`select_k`.
    n_init : int
        K-Means restarts (at most ``SAMPLED_N_INIT`` on a sampled fit).
    seed : int
        Seeds the restarts, the fit sample and the silhouette sample.
    fit_sample_max_rows : int
        Above it K-Means is fitted on a seeded sample and every row is assigned after.
    outlier_fence : float or None
        Rows beyond it (``preprocessing.outlier_mask``) are left out of the fit; None: none.
    exact_silhouette_max_rows, silhouette_sample_size : int
        Exact silhouette up to that many rows, else on a seeded sample of that size.
    min_segment_share : float
        Smallest segment share for a k to be eligible (:func:`select_k`).

    Returns
    -------
    KMeansSweep
        Same data and parameters give the same result, whatever the row order (see the module
        docstring for sampling, degenerate inputs and the segment ids).

    Raises
    ------
    ValueError
        ``X`` is not a finite, non-empty 2-D matrix (:func:`segmentation.checks.check_array`).
    """
    X = check_array(X, name="kmeans: the feature matrix")
    n = X.shape[0]
    ks = list(k_values)
    outliers = outlier_mask(X, outlier_fence)
    inliers = np.flatnonzero(~outliers) if outliers.any() else None
    distinct = distinct_rows(X if inliers is None else X[inliers], seed)
    if distinct < 2:
        return one_segment_sweep(X, ks, distinct, outliers)
    ks, notes = _fitted_ks(ks, distinct)
    if inliers is not None:
        notes.append(
            f"{len(outliers) - len(inliers)} outlier(s) (beyond outlier_fence "
            f"{outlier_fence:g} x the 5-95 % range of a feature) left out of the fit "
            "and assigned to the nearest segment"
        )
    sampled = n > fit_sample_max_rows
    if inliers is None:
        fit_index = canonical_fit_rows(X, fit_sample_max_rows, seed)
    else:  # positions among the inliers, mapped back to rows of X
        fit_index = inliers[canonical_fit_rows(X[inliers], fit_sample_max_rows, seed)]
    # A fit on a subset of the rows assigns every row to its nearest centroid afterwards.
    subset = sampled or inliers is not None
    n_init = min(n_init, SAMPLED_N_INIT) if sampled else n_init
    raw = _fit_all(X, fit_index, subset, ks, n_init, seed)
    estimates = silhouette_many(
        X,
        [fit["labels"] for fit in raw],
        exact_max_rows=exact_silhouette_max_rows,
        sample_size=silhouette_sample_size,
        seed=seed,
    )
    fits = [_with_metrics(X, fit, estimate) for fit, estimate in zip(raw, estimates, strict=True)]
    summary = [
        {
            "k": fit.k,
            "inertia": fit.inertia,
            "silhouette": None if fit.silhouette.method == "undefined" else fit.silhouette.value,
            "cluster_sizes": fit.cluster_sizes.tolist(),
            "n_rows": n,
        }
        for fit in fits
    ]
    chosen, reason = select_k(summary, k=k, min_segment_share=min_segment_share)
    return KMeansSweep(tuple(fits), n, int(outliers.sum()), chosen, "; ".join([reason, *notes]))


__all__ = [
    "SAMPLED_N_INIT",
    "KMeansFit",
    "KMeansSweep",
    "assign_nearest",
    "canonical_fit_rows",
    "distinct_rows",
    "kmeans_sweep",
    "kneedle",
    "one_segment_sweep",
    "order_segments",
    "select_k",
]

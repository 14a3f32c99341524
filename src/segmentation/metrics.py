"""Cluster quality metrics: silhouette, simplified silhouette, inertia, CH and DB indices.

Silhouette is exact or sampled with a CI; CH is Calinski-Harabasz, DB Davies-Bouldin.

All functions take the (n, d) float64 matrix the clustering ran on (scaled space, Euclidean
distance) and never raise on a degenerate clustering: a metric that is undefined (one cluster,
as many clusters as rows, all points identical) is reported as NaN / None with a reason.

Silhouette. ``sklearn.metrics.silhouette_samples`` reduces its distance chunks row by row in
Python (about 3.6 s for 10,000 rows on 2 cores, per k), which would dominate a k sweep. The
per-row silhouette here is the same definition (Rousseeuw 1987, as in ``silhouette_samples``:
Euclidean distances by the ``|x|^2 - 2 x.y + |y|^2`` expansion with the diagonal zeroed,
``a`` = mean distance to the other members of the own cluster, ``b`` = smallest mean distance
to another cluster, ``s = (b - a) / max(a, b)``, 0 for singleton clusters) but reduces each
cache-sized distance block with one matrix product against the cluster-indicator matrix, uses
each block twice (symmetry), and ``silhouette_many`` shares every block across several
labellings (all k of a sweep). The tests check equality with scikit-learn to 1e-9 relative.

Sampling. Above ``exact_max_rows`` rows the silhouette is estimated on a seeded uniform random
sample of ``sample_size`` rows, without replacement, the same rows for every labelling (so the
k are compared on the same customers), drawn by a seeded hash of the row values
(``sample_rows``) so the same customers are drawn whatever the input row order. As
``silhouette_score(..., sample_size=...)`` does, ``a`` and ``b`` are measured within the sample.
A uniform sample (not stratified by cluster) keeps clusters weighted by their size, like the
exact value.

Confidence interval. ``mean +- 1.96 * se`` (normal approximation), with ``se`` from the
per-row *influence values* rather than from the per-row silhouettes alone: each sampled row is
both a point whose silhouette is averaged and a reference point in the other rows' ``a`` and
``b``, so the estimate is a V-statistic of order 2 and its variance is about four times the
naive ``var(s) / m`` on clustered data (the naive interval covered the exact value only about
2/3 of the time in our tests). The influence value of row j is
``s_j - mean + sum_i [ds_i/da_i (d_ij - a_i) / (n_c(i) - 1) [c(j) = c(i)]
+ ds_i/db_i (d_ij - b_i) / n_c*(i) [c(j) = c*(i)]]`` (delta method; ``c*`` is the nearest other
cluster, derivatives of ``(b - a) / max(a, b)``), computed with a second pass over the distance
blocks; ``se = sd(influence) / sqrt(m) * sqrt(1 - m / n)`` (finite-population correction).
Coverage is checked empirically in the tests (about 95 %).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score
from threadpoolctl import threadpool_limits

Z_95 = 1.959963984540054  # two-sided 95 % normal quantile
_BLOCK = 512  # distance block edge: 512 x 512 float64 = 2 MB, cache-sized


@dataclass(frozen=True)
class SilhouetteEstimate:
    """The mean silhouette of a clustering, exact or estimated on a sample.

    ``value`` is NaN when ``method`` is "undefined" (``reason`` says why). ``n_rows`` is the
    number of rows the value was computed on; ``sample_index`` (shape (n_rows,), sorted) their row
    indices and ``per_row`` (same shape) their silhouette values. For an exact value the interval
    is degenerate (``ci_low == ci_high == value``).
    """

    value: float
    method: str
    n_rows: int
    ci_low: float
    ci_high: float
    sample_index: np.ndarray = field(repr=False)
    per_row: np.ndarray = field(repr=False)
    reason: str | None = None


def _check_matrix(X: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    X = np.ascontiguousarray(X, dtype=np.float64)
    labels = np.asarray(labels)
    if X.ndim != 2:
        raise ValueError(f"expected a 2-D matrix (n, d), got shape {X.shape}")
    if labels.shape != (X.shape[0],):
        raise ValueError(f"labels must have shape ({X.shape[0]},), got {labels.shape}")
    if not np.isfinite(X).all():
        raise ValueError("the matrix contains non-finite values")
    return X, labels


def _row_norms(X: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", X, X)


def _distance_products(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``D @ W`` (m, p) for the (m, m) Euclidean distance matrix D of the rows of X.

    D is never materialised: it is computed block by block (``_BLOCK`` x ``_BLOCK``, cache
    sized) by the expansion ``|x|^2 - 2 x.y + |y|^2``, clipped at 0, with the diagonal zeroed,
    as scikit-learn's ``euclidean_distances`` does; each off-diagonal block is used twice (D is
    symmetric), so about m^2 / 2 distances are computed. Block rows are split between two
    accumulators (even and odd block rows) run in two threads (numpy releases the GIL), on one
    BLAS thread: the products are thin and memory-bound. The split is fixed, so the
    floating-point result does not depend on the number of CPUs.
    """
    m = X.shape[0]
    norms = _row_norms(X)
    starts = list(range(0, m, _BLOCK))

    def accumulate(parity: int) -> np.ndarray:
        out = np.zeros((m, W.shape[1]), dtype=np.float64)
        for bi in range(parity, len(starts), 2):
            i0 = starts[bi]
            i1 = min(m, i0 + _BLOCK)
            for j0 in starts[bi:]:
                j1 = min(m, j0 + _BLOCK)
                d = X[i0:i1] @ X[j0:j1].T
                d *= -2.0
                d += norms[i0:i1, None]
                d += norms[None, j0:j1]
                np.maximum(d, 0.0, out=d)
                np.sqrt(d, out=d)
                if i0 == j0:
                    np.fill_diagonal(d, 0.0)
                    out[i0:i1] += d @ W[j0:j1]
                else:
                    out[i0:i1] += d @ W[j0:j1]
                    out[j0:j1] += d.T @ W[i0:i1]
        return out

    # The BLAS limit is process-wide: set it here, in the calling thread, never in the workers
    # (concurrent save / restore from two threads would leave it changed after the call).
    with threadpool_limits(limits=1, user_api="blas"):
        if len(starts) == 1:
            return accumulate(0)
        with ThreadPoolExecutor(max_workers=2) as pool:
            even, odd = pool.map(accumulate, (0, 1))
    return even + odd


def _indicator(
    codes: Sequence[np.ndarray], ks: Sequence[int], values: Sequence[np.ndarray]
) -> np.ndarray:
    """(m, sum(ks)) matrix with ``values[l][i]`` at row i, column ``offset_l + codes[l][i]``."""
    m = len(codes[0])
    out = np.zeros((m, int(sum(ks))), dtype=np.float64)
    offset = 0
    for c, k, v in zip(codes, ks, values, strict=True):
        out[np.arange(m), offset + c] = v
        offset += k
    return out


def _per_row_silhouettes(
    X: np.ndarray, codes: Sequence[np.ndarray], *, influence: bool
) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """Per-row silhouettes (m,) of each labelling of the (m, d) matrix ``X``.

    ``codes`` are 0..k-1 cluster codes of shape (m,), each with >= 2 clusters. With
    ``influence``, also the empirical influence values (m,) of each row on the mean silhouette
    (delta method, see ``silhouette_many``), which costs a second pass over the distances.
    """
    m = X.shape[0]
    ks = [int(c.max()) + 1 for c in codes]
    offsets = np.concatenate([[0], np.cumsum(ks)]).astype(int)
    ones = [np.ones(m)] * len(codes)
    sums = _distance_products(X, _indicator(codes, ks, ones))
    rows = np.arange(m)
    per_rows: list[np.ndarray] = []
    parts = []
    for c, k, offset in zip(codes, ks, offsets[:-1], strict=True):
        block = sums[:, offset : offset + k]
        counts = np.bincount(c, minlength=k).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            intra = block[rows, c] / (counts[c] - 1.0)
            mean_other = block / counts[None, :]
            mean_other[rows, c] = np.inf
            nearest = mean_other.argmin(axis=1)
            inter = mean_other[rows, nearest]
            values = np.nan_to_num((inter - intra) / np.maximum(intra, inter))
        per_rows.append(values)
        parts.append((c, k, counts, intra, inter, nearest))
    if not influence:
        return per_rows, [None] * len(codes)

    # d s / d a and d s / d b: s = 1 - a/b when a <= b, s = b/a - 1 when a > b; 0 for singletons
    weights_a, weights_b, const = [], [], []
    for c, k, counts, intra, inter, nearest in parts:
        singleton = counts[c] <= 1
        a = np.where(singleton, 0.0, intra)
        b = inter
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = np.where(a <= b, -1.0 / b, -b / a**2)
            beta = np.where(a <= b, a / b**2, 1.0 / a)
        alpha = np.where(singleton | ~np.isfinite(alpha), 0.0, alpha)
        beta = np.where(singleton | ~np.isfinite(beta), 0.0, beta)
        own_denominator = np.maximum(counts[c] - 1.0, 1.0)
        wa = alpha / own_denominator
        wb = beta / counts[nearest]
        weights_a.append(wa)
        weights_b.append(wb)
        # sum over i of wa_i a_i per own cluster, and of wb_i b_i per nearest-other cluster
        sa = np.bincount(c, weights=wa * a, minlength=k)
        sb = np.bincount(nearest, weights=wb * b, minlength=k)
        const.append((sa, sb, wa * a))
    w_own = _indicator(codes, ks, weights_a)
    w_other = _indicator([p[5] for p in parts], ks, weights_b)
    both = np.hstack([w_own, w_other])
    total = int(offsets[-1])
    projected = _distance_products(X, both)
    influences: list[np.ndarray | None] = []
    for (c, *_), offset, values, (sa, sb, own_term) in zip(
        parts, offsets[:-1], per_rows, const, strict=True
    ):
        to_own = projected[rows, offset + c] - (sa[c] - own_term)
        to_other = projected[rows, total + offset + c] - sb[c]
        influences.append(values - values.mean() + to_own + to_other)
    return per_rows, influences


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on uint64 values (wrapping arithmetic), vectorised."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def row_keys(X: np.ndarray, seed: int, salt: int = 0) -> np.ndarray:
    """A seeded 64-bit hash (n,) uint64 of each row's values of the (n, d) matrix.

    Rows with equal values get equal keys whatever their position, so ordering or sampling
    rows by key does not depend on the order the warehouse returned them in; distinct rows get
    independent, uniformly distributed keys (SplitMix64 over the float64 bit patterns, -0.0
    folded into 0.0). ``salt`` derives independent key sets from the same seed.
    """
    X = np.ascontiguousarray(X, dtype=np.float64) + 0.0  # -0.0 -> 0.0
    bits = X.view(np.uint64)
    start = _mix(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0]
    start = _mix(np.array([start ^ np.uint64(salt & 0xFFFFFFFFFFFFFFFF)], dtype=np.uint64))[0]
    keys = np.full(X.shape[0], start, dtype=np.uint64)
    for j in range(X.shape[1]):
        keys = _mix((keys + _GOLDEN) ^ bits[:, j])
    return keys


def sample_rows(X: np.ndarray, size: int, seed: int, salt: int = 0) -> np.ndarray:
    """A seeded uniform random sample of ``size`` row indices (sorted) of the (n, d) matrix.

    The rows with the ``size`` smallest ``row_keys``: the same customers are drawn whatever the
    input row order (equal rows are interchangeable), which keeps results invariant to
    shuffling. O(n) (``argpartition``).
    """
    n = X.shape[0]
    if size >= n:
        return np.arange(n)
    keys = row_keys(X, seed, salt)
    return np.sort(np.argpartition(keys, size - 1)[:size])


def undefined_silhouette(reason: str, n_rows: int, index: np.ndarray) -> SilhouetteEstimate:
    """An undefined estimate (value and interval NaN, method "undefined") over ``index`` rows."""
    nan = float("nan")
    return SilhouetteEstimate(nan, "undefined", n_rows, nan, nan, index, np.empty(0), reason)


def silhouette_many(
    X: np.ndarray,
    labelings: Sequence[np.ndarray],
    *,
    exact_max_rows: int,
    sample_size: int,
    seed: int,
) -> list[SilhouetteEstimate]:
    """:func:`silhouette` for several labellings of the same matrix, sharing the distances.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The matrix, finite.
    labelings : sequence of ndarray of shape (n,)
        E.g. the labels of every k of a sweep.
    exact_max_rows, sample_size, seed : int
        As in :func:`silhouette`; one sample (drawn once from ``seed``) serves every labelling,
        so the k are compared on the same customers.

    Returns
    -------
    list of SilhouetteEstimate
        One per labelling, in order.

    Raises
    ------
    ValueError
        As :func:`silhouette`.
    """
    if not labelings:
        return []
    X, _ = _check_matrix(X, labelings[0])
    n = X.shape[0]
    if exact_max_rows < 1 or sample_size < 2:
        raise ValueError("exact_max_rows must be >= 1 and sample_size >= 2")
    if n <= exact_max_rows or sample_size >= n:
        index = np.arange(n)
        method, note = "exact", None
    else:
        index = sample_rows(X, sample_size, seed)
        method = "sampled"
        note = (
            f"{n} rows > exact_max_rows {exact_max_rows}: estimated on a seeded uniform sample "
            f"of {sample_size} rows (seed {seed}); 95 % CI by normal approximation"
        )
    sample = X[index]
    m = len(index)
    identical = bool(m) and bool(np.all(sample == sample[0]))
    results: list[SilhouetteEstimate | None] = []
    todo: list[tuple[int, np.ndarray]] = []
    for i, raw in enumerate(labelings):
        labels = np.asarray(raw)
        if labels.shape != (n,):
            raise ValueError(f"labels must have shape ({n},), got {labels.shape}")
        _, codes = np.unique(labels[index], return_inverse=True)
        n_labels = int(codes.max()) + 1 if m else 0
        where = " in the sample" if method == "sampled" else ""
        if n_labels < 2:
            results.append(undefined_silhouette(f"fewer than 2 distinct labels{where}", m, index))
        elif n_labels >= m:
            reason = f"{n_labels} labels for {m} rows{where}: needs k <= n - 1"
            results.append(undefined_silhouette(reason, m, index))
        elif identical:
            results.append(undefined_silhouette(f"all {m} points{where} are identical", m, index))
        else:
            results.append(None)
            todo.append((i, codes.reshape(-1)))
    if todo:
        per_rows, influences = _per_row_silhouettes(
            sample, [codes for _, codes in todo], influence=method == "sampled"
        )
        for (i, _), per_row, infl in zip(todo, per_rows, influences, strict=True):
            value = float(per_row.mean())
            if infl is None:
                low = high = value
            else:
                se = float(infl.std(ddof=1)) / math.sqrt(m) * math.sqrt(1.0 - m / n)
                low, high = value - Z_95 * se, value + Z_95 * se
            results[i] = SilhouetteEstimate(value, method, m, low, high, index, per_row, note)
    return [r for r in results if r is not None]


def silhouette(
    X: np.ndarray, labels: np.ndarray, *, exact_max_rows: int, sample_size: int, seed: int
) -> SilhouetteEstimate:
    """Mean silhouette of a clustering, exact or estimated on a seeded sample.

    Definition of Rousseeuw (1987), as ``sklearn.metrics.silhouette_score``: per row
    ``s = (b - a) / max(a, b)`` with ``a`` the mean Euclidean distance to the other members of
    its cluster and ``b`` the smallest mean distance to another cluster (0 for singletons).

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The matrix the clustering ran on (scaled space), finite.
    labels : ndarray of shape (n,)
        Cluster labels (any values).
    exact_max_rows : int
        Exact on all rows when ``n <= exact_max_rows``.
    sample_size : int
        Otherwise estimated on a seeded uniform sample of that many rows (``sample_rows``),
        with a 95 % normal-approximation interval (influence values; see the module docstring).
    seed : int
        Seeds the sample.

    Returns
    -------
    SilhouetteEstimate
        ``method`` "exact", "sampled" or "undefined" (fewer than 2 distinct labels, as many
        labels as rows, or all points identical: ``value`` NaN and a ``reason``).

    Raises
    ------
    ValueError
        ``X`` is not a finite 2-D matrix, ``labels`` has the wrong shape, or ``exact_max_rows``
        < 1 or ``sample_size`` < 2.
    """
    return silhouette_many(
        X, [labels], exact_max_rows=exact_max_rows, sample_size=sample_size, seed=seed
    )[0]


def _check_centroids(
    X: np.ndarray, labels: np.ndarray, centroids: Any
) -> tuple[np.ndarray, np.ndarray]:
    C = np.ascontiguousarray(centroids, dtype=np.float64)
    if C.ndim != 2 or C.shape[1] != X.shape[1] or C.shape[0] < 1:
        raise ValueError(f"centroids must have shape (k, {X.shape[1]}), got {C.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError("with centroids, labels must be integer indices 0..k-1 into centroids")
    if labels.size and (labels.min() < 0 or labels.max() >= C.shape[0]):
        raise ValueError(
            f"with centroids, labels must be indices 0..{C.shape[0] - 1} into centroids "
            f"(pass segment_id - 1 for 1-based segment ids), got {labels.min()}..{labels.max()}"
        )
    return C, labels.astype(np.intp)


def simplified_from_distances(a: np.ndarray, b: np.ndarray, singleton: np.ndarray) -> float:
    """Mean of ``(b - a) / max(a, b)`` over rows (0 where both are 0 or ``singleton``).

    ``a`` (n,) is each row's distance to its own centroid, ``b`` (n,) to the nearest other one,
    ``singleton`` (n,) marks rows alone in their cluster. NaN for no rows or infinite ``b``
    (a single centroid).
    """
    if a.size == 0 or not np.isfinite(b).all():
        return float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.nan_to_num((b - a) / np.maximum(a, b))
    s[singleton] = 0.0
    return float(s.mean())


def simplified_silhouette(
    X: np.ndarray, labels: np.ndarray, centroids: np.ndarray, chunk_rows: int = 8_192
) -> float:
    """Simplified silhouette in O(n k d): centroid distances instead of all pairwise distances.

    Per row ``a`` = distance to its own centroid, ``b`` = distance to the nearest other centroid,
    ``s = (b - a) / max(a, b)`` (0 when both are 0 and for rows of singleton clusters, as in the
    silhouette); Hruschka et al. (2004).

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The matrix, finite.
    labels : ndarray of int, shape (n,)
        0-based indices into ``centroids``.
    centroids : ndarray of shape (k, d)
        The cluster centres.
    chunk_rows : int
        Rows per distance chunk (memory O(chunk_rows * k)).

    Returns
    -------
    float
        The mean of ``s``; NaN for fewer than 2 centroids or no rows.

    Raises
    ------
    ValueError
        Shapes that do not match, or labels that are not indices into ``centroids``.
    """
    X, labels = _check_matrix(X, labels)
    C, labels = _check_centroids(X, labels, centroids)
    n, k = X.shape[0], C.shape[0]
    if k < 2 or n == 0:
        return float("nan")
    sizes = np.bincount(labels, minlength=k)
    c_norms = _row_norms(C)
    a = np.empty(n)
    b = np.empty(n)
    with threadpool_limits(limits=1, user_api="blas"):
        for start in range(0, n, chunk_rows):
            stop = min(n, start + chunk_rows)
            chunk, own = X[start:stop], labels[start:stop]
            d2 = chunk @ C.T
            d2 *= -2.0
            d2 += _row_norms(chunk)[:, None]
            d2 += c_norms[None, :]
            a[start:stop] = np.sqrt(((chunk - C[own]) ** 2).sum(axis=1))
            d2[np.arange(stop - start), own] = np.inf
            b[start:stop] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    return simplified_from_distances(a, b, sizes[labels] <= 1)


@dataclass(frozen=True)
class ClusterMetrics:
    """Inertia and the separation indices of one clustering (:func:`cluster_metrics`).

    ``inertia``: within-cluster sum of squared Euclidean distances; ``calinski_harabasz`` and
    ``davies_bouldin``: scikit-learn's indices, None when undefined (``reason`` says why);
    ``n_rows`` and ``n_clusters``: what they were computed on.
    """

    inertia: float
    calinski_harabasz: float | None
    davies_bouldin: float | None
    n_rows: int
    n_clusters: int
    reason: str | None


def cluster_metrics(
    X: np.ndarray, labels: np.ndarray, centroids: np.ndarray | None = None
) -> ClusterMetrics:
    """Inertia, Calinski-Harabasz and Davies-Bouldin of a clustering.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The matrix the clustering ran on, finite.
    labels : ndarray of shape (n,)
        Cluster labels; with ``centroids``, 0-based indices into it.
    centroids : ndarray of shape (k, d), optional
        When given, the inertia is measured to these centres (for K-Means labels and centres it
        equals ``KMeans.inertia_``); otherwise to each cluster's mean.

    Returns
    -------
    ClusterMetrics
        ``inertia``: sum of squared Euclidean distances to the centres (squared scaled units);
        ``calinski_harabasz`` and ``davies_bouldin``: scikit-learn's functions (Calinski and
        Harabasz 1974; Davies and Bouldin 1979), None with a ``reason`` when undefined (fewer
        than 2 clusters, or as many clusters as rows).

    Raises
    ------
    ValueError
        ``X`` not a finite 2-D matrix, ``labels`` of the wrong shape, or labels that are not
        indices into ``centroids``.
    """
    X, labels = _check_matrix(X, labels)
    n = X.shape[0]
    if centroids is not None:
        C, codes = _check_centroids(X, labels, centroids)
        n_clusters = len(np.unique(codes))
    else:
        _, codes = np.unique(labels, return_inverse=True)
        codes = codes.reshape(-1)
        n_clusters = int(codes.max()) + 1 if n else 0
        counts = np.bincount(codes, minlength=n_clusters)
        C = (
            np.column_stack(
                [
                    np.bincount(codes, weights=X[:, j], minlength=n_clusters)
                    for j in range(X.shape[1])
                ]
            )
            / np.maximum(counts, 1)[:, None]
        )
    inertia = float(((X - C[codes]) ** 2).sum()) if n else 0.0
    if n_clusters < 2:
        return ClusterMetrics(
            inertia, None, None, n, n_clusters, f"{n_clusters} cluster(s): needs at least 2"
        )
    if n_clusters >= n:
        return ClusterMetrics(
            inertia,
            None,
            None,
            n,
            n_clusters,
            f"{n_clusters} clusters for {n} rows: needs k <= n - 1",
        )
    return ClusterMetrics(
        inertia,
        float(calinski_harabasz_score(X, codes)),
        float(davies_bouldin_score(X, codes)),
        n,
        n_clusters,
        None,
    )

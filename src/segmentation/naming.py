"""Human-readable segment names and one-sentence descriptions, from the customers of each segment.

Effect size. A segment is compared with **the other customers** (not with the population, which
contains the segment: a segment of 75 % of the customers is then as visible as a small one) by
**Cliff's delta** of each feature column of the scaled matrix:
``delta = P(x_segment > x_other) - P(x_segment < x_other)``, in [-1, 1], computed from the ranks
of all customers (Mann-Whitney U: ``delta = 2 U / (n_segment n_other) - 1``, ties counted half).
Being rank-based it depends neither on the scaling nor on log1p, and a few extreme customers
cannot move it far: a segment whose mean is high because of 5 % of its customers while its
median is the population's gets a delta near 0.05, not a "High" name. For a one-hot column
(a categorical level) delta is the level's share in the segment minus its share among the other
customers. Thresholds are the usual ones for Cliff's delta (Romano et al., 2006): ``|delta| >=
0.33`` (medium, ``NAME_EFFECT``) names a trait, ``|delta| >= 0.147`` (small, ``MIN_EFFECT``)
is the least difference that still counts as "distinguishing".

Names. Each segment is named after its up-to-``max_terms`` traits with ``|delta| >= 0.33``,
strongest first (ties: configured feature order), where

- a numeric or ordinal feature reads as its ``high_label`` / ``low_label`` if configured, else
  "High <label>" / "Low <label>" (``label`` defaults to the column name with underscores as
  spaces);
- a categorical level counts only when it is over-represented (``delta >= 0.33`` and the
  level is the majority of the segment) and reads as the level, capitalised ("Female");
- near-duplicate features count once: a feature whose Pearson correlation with an already
  chosen feature is ``|r| > 0.8`` (``CORRELATED``) is skipped, so three measures of one
  behaviour ("Few purchases · Low purchases trx · Low purchases frequency") leave room for the
  next real difference. The correlation is taken over the customers within their segments
  (pooled residuals from the segment means, :func:`within_segment_correlation`): columns that
  measure one thing stay correlated among similar customers, while independent traits that the
  segments happen to combine (recent, frequent and high-value customers in one segment) would
  correlate over all customers only because of the segmentation and still count as two.

A segment is "Average" only when no trait reaches 0.33 against the other customers: its customers
are typical on every feature (a middle group between a high and a low one, say). Names are unique
within a run: segments whose terms are equal (in any order) get their next trait with
``|delta| >= 0.147`` appended ("Average · Lapsed"), then a numeric suffix " (2)", " (3)" in
segment-id order.

Descriptions. One plain sentence per segment in original units, e.g. "19 % of customers; set
apart by higher income (median 87 vs 54 for the other customers) and lower spending (median 18
vs 50)." Medians are taken in the scaled space and mapped back (the transforms are monotone).

Everything is a pure function of the matrix, the labels and the spec, hence deterministic.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from segmentation.preprocessing import (
    OTHER_LEVEL,
    OutputColumn,
    PreprocessingSpec,
    inverse_numeric,
    unscale_column,
)
from segmentation.settings import ConfigError, FeatureSpec, SegmentationSettings

NAME_EFFECT = 0.33  # Cliff's delta "medium" (Romano et al., 2006)
MIN_EFFECT = 0.147  # Cliff's delta "small"
CORRELATED = 0.8
SEPARATOR = " · "
AVERAGE = "Average"


@dataclass(frozen=True)
class Trait:
    """One feature column's difference between a segment and the other customers."""

    feature: str
    level: str | None  # the categorical level, None for numeric and ordinal features
    position: int  # the column's position in the matrix (tie-breaker: configured order)
    delta: float  # Cliff's delta, segment vs the other customers
    segment_value: float  # median (original units) or level share in the segment
    other_value: float  # the same among the other customers


@dataclass(frozen=True)
class SegmentDescription:
    """A segment's generated name and description sentence.

    ``named``: the traits the name and sentence use; ``traits``: every feature column's trait,
    strongest first.
    """

    name: str
    description: str
    named: tuple[Trait, ...]
    traits: tuple[Trait, ...]


def cliffs_delta(values: np.ndarray, labels: np.ndarray, n_segments: int) -> np.ndarray:
    """Cliff's delta of each segment against the other rows (Cliff 1993).

    ``delta = P(x_in > x_out) - P(x_in < x_out)``, from the Mann-Whitney U of one ranking of
    ``values`` (average ranks for ties): O(n log n).

    Parameters
    ----------
    values : ndarray of shape (n,)
        One feature column.
    labels : ndarray of int, shape (n,)
        Segments 1..n_segments.
    n_segments : int
        Number of segments (k).

    Returns
    -------
    ndarray of shape (n_segments,)
        In [-1, 1]; 0 for a segment that holds every row, or none.
    """
    return _RankedColumn(np.asarray(values), np.asarray(labels), n_segments).cliffs_delta()


class _RankedColumn:
    """One feature column sorted once: Cliff's delta and medians of every segment from one sort.

    ``values`` (n,) are sorted once (O(n log n)); the average ranks (as
    ``scipy.stats.rankdata``), each segment's median and the median of the other rows then
    cost O(n) in all, instead of one ranking plus two O(n) selections per segment. The figures
    are the same as computing them one by one: ranks are half-integers, so their sums per
    segment are exact in float64 (below 2**52) whatever the order of summation, and a median is
    an element of the column (:meth:`medians`), so it does not depend on how it is found.
    """

    def __init__(self, values: np.ndarray, labels: np.ndarray, n_segments: int) -> None:
        self.n = len(values)
        self.k = n_segments
        # Tied values may come in any order: ranks average over ties and a median is a value.
        order = np.argsort(values)
        self.sorted_values = values[order]
        self.sorted_labels = labels[order] - 1
        self.sizes = np.bincount(self.sorted_labels, minlength=n_segments)
        # Positions (in sorted order, ascending) of each segment's rows, segment after segment
        # (a stable sort; numpy radix-sorts 16-bit integers).
        small = self.sorted_labels.astype(np.int16) if n_segments < 2**15 else self.sorted_labels
        self.positions = np.argsort(small, kind="stable")
        self.starts = np.concatenate([[0], np.cumsum(self.sizes)])

    def cliffs_delta(self) -> np.ndarray:
        """Cliff's delta of each segment against the other rows, shape (k,)."""
        n, sv = self.n, self.sorted_values
        if n == 0:
            return np.zeros(self.k)
        first = np.empty(n, dtype=bool)
        first[0] = True
        np.not_equal(sv[1:], sv[:-1], out=first[1:])
        tie_start = np.flatnonzero(first)
        tie_end = np.append(tie_start[1:], n)
        average_rank = (tie_start + tie_end + 1) / 2.0  # ranks start+1..end, 1-based
        ranks = average_rank[np.cumsum(first) - 1]
        sizes = self.sizes.astype(np.float64)
        rank_sums = np.bincount(self.sorted_labels, weights=ranks, minlength=self.k)
        others = n - sizes
        u = rank_sums - sizes * (sizes + 1) / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            delta = np.where((sizes > 0) & (others > 0), 2 * u / (sizes * others) - 1, 0.0)
        return delta

    def medians(self, s: int) -> tuple[float, float]:
        """The median of segment ``s`` (0-based) and of the other rows (nan when empty).

        The median is an element of the column, the lower middle one for an even count
        (``np.quantile(..., 0.5, method="inverted_cdf")``): no averaging of two middle values, so
        that it maps back to original units exactly through the monotone inverse transform.
        """
        inside = self.positions[self.starts[s] : self.starts[s + 1]]
        m_in, m_out = len(inside), self.n - len(inside)
        segment = float(self.sorted_values[inside[(m_in + 1) // 2 - 1]]) if m_in else np.nan
        if not m_out:
            return segment, np.nan
        # The j-th (0-based) sorted position not in ``inside``: before inside[i] lie
        # inside[i] - i positions of other rows.
        j = (m_out + 1) // 2 - 1
        i = int(np.searchsorted(inside - np.arange(m_in), j, side="right"))
        return segment, float(self.sorted_values[j + i])


def _label(feature: FeatureSpec | None, name: str) -> str:
    return (feature.label if feature and feature.label else None) or name.replace("_", " ")


def _term(trait: Trait, configured: dict[str, FeatureSpec]) -> str:
    if trait.level is not None:
        return trait.level[:1].upper() + trait.level[1:]
    feature = configured.get(trait.feature)
    label = _label(feature, trait.feature)
    if trait.delta > 0:
        return (feature.high_label if feature and feature.high_label else None) or f"High {label}"
    return (feature.low_label if feature and feature.low_label else None) or f"Low {label}"


def _number(value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{value:.2f}".rstrip("0").rstrip(".") if magnitude else "0"


def _phrase(trait: Trait, configured: dict[str, FeatureSpec], first: bool) -> str:
    others = " for the other customers" if first else ""
    if trait.level is not None:
        direction = "more often" if trait.delta > 0 else "less often"
        return (
            f"{direction} {trait.level} ({trait.segment_value:.0%} vs "
            f"{trait.other_value:.0%}{others})"
        )
    label = _label(configured.get(trait.feature), trait.feature)
    direction = "higher" if trait.delta > 0 else "lower"
    return (
        f"{direction} {label} (median {_number(trait.segment_value)} vs "
        f"{_number(trait.other_value)}{others})"
    )


def _join(phrases: list[str]) -> str:
    if len(phrases) <= 1:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def within_segment_correlation(X: np.ndarray, labels: np.ndarray, n_segments: int) -> np.ndarray:
    """Pooled within-segment Pearson correlation of the columns of ``X`` (n, d), shape (d, d).

    The correlation of the residuals from each segment's column means: two columns that measure
    one thing move together among similar customers too, while two columns that only move
    together because the segments differ on both (the segmentation made them correlated) do not.
    Constant columns correlate 0 with everything.
    """
    if X.shape[1] == 0:
        return np.zeros((0, 0))
    # One bincount per column adds the rows in row order, as np.add.at would (the same sums),
    # without np.add.at's per-element overhead.
    sums = np.column_stack(
        [np.bincount(labels - 1, weights=X[:, j], minlength=n_segments) for j in range(X.shape[1])]
    )
    counts = np.maximum(np.bincount(labels - 1, minlength=n_segments), 1)
    residuals = X - (sums / counts[:, None])[labels - 1]
    if X.shape[0] < 2:
        return np.eye(X.shape[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.corrcoef(residuals, rowvar=False)
    return np.atleast_2d(np.nan_to_num(r, nan=0.0))


def _value_and_one_hot_rows(
    columns: tuple[OutputColumn, ...],
) -> tuple[list[OutputColumn], list[OutputColumn]]:
    """The spec columns that can make a trait: value columns and one-hot levels.

    Value columns: weighted numeric and ordinal ones; levels: weighted, other than the "other"
    bucket. Missing indicators never make a trait.
    """
    value_rows = [c for c in columns if c.is_value_column and c.weight]
    one_hot_rows = [
        c
        for c in columns
        if c.kind == "categorical"
        and not c.is_missing_indicator
        and c.weight
        and c.level != OTHER_LEVEL
    ]
    return value_rows, one_hot_rows


def segment_traits(
    X: np.ndarray,
    labels: np.ndarray,
    spec: PreprocessingSpec,
    value_rows: list[OutputColumn],
    one_hot_rows: list[OutputColumn],
    k: int,
) -> list[list[Trait]]:
    """Every trait of every segment 1..k, in spec order: one per value column and one-hot level.

    A value column's trait is Cliff's delta of the segment against the other customers, with
    both medians in original units (``inverse_numeric``); a level's trait is the difference of
    its shares in the segment and among the others.
    """
    traits: list[list[Trait]] = [[] for _ in range(k)]
    for row in value_rows:
        column = _RankedColumn(X[:, row.position], labels, k)
        deltas = column.cliffs_delta()
        for s in range(k):
            medians = inverse_numeric(spec, row.feature, np.array(column.medians(s)))
            traits[s].append(
                Trait(row.feature, None, row.position, float(deltas[s]), *map(float, medians))
            )
    sizes = np.bincount(labels - 1, minlength=k)[:k]
    n = len(labels)
    for row in one_hot_rows:
        indicator = unscale_column(spec, row.output_column, X[:, row.position]) > 0.5
        hits = np.bincount(labels[indicator] - 1, minlength=k)[:k]
        total = int(hits.sum())
        for s in range(k):
            size_in, size_out = int(sizes[s]), n - int(sizes[s])
            # The mean of a boolean array is its count over its length, as here.
            share_in = int(hits[s]) / size_in if size_in else 0.0
            share_out = (total - int(hits[s])) / size_out if size_out else 0.0
            traits[s].append(
                Trait(
                    row.feature,
                    str(row.level),
                    row.position,
                    share_in - share_out if size_in and size_out else 0.0,
                    share_in,
                    share_out,
                )
            )
    return traits


def _strongest_first(trait: Trait) -> tuple[float, int]:
    return (-round(abs(trait.delta), 9), trait.position)


def _eligible(trait: Trait) -> bool:
    """A categorical level counts only when over-represented and the segment's majority."""
    return trait.level is None or (trait.delta > 0 and trait.segment_value > 0.5)


def _distinct(
    segment_traits: list[Trait], correlation: np.ndarray, index: dict[int, int]
) -> list[Trait]:
    """Eligible traits, strongest first, without near-duplicates of a stronger one.

    One trait per feature; a value trait is dropped when its column correlates above
    ``CORRELATED`` within segments with a value trait already chosen.
    """
    ordered = sorted(
        (t for t in segment_traits if _eligible(t) and abs(t.delta) >= MIN_EFFECT),
        key=_strongest_first,
    )
    chosen: list[Trait] = []
    used_features: set[str] = set()
    for trait in ordered:
        if trait.feature in used_features:
            continue
        if trait.level is None and any(
            c.level is None
            and abs(correlation[index[c.position], index[trait.position]]) > CORRELATED
            for c in chosen
        ):
            continue
        chosen.append(trait)
        used_features.add(trait.feature)
    return chosen


def _names(
    ranked: list[list[Trait]], configured: dict[str, FeatureSpec], max_terms: int
) -> tuple[list[str], list[list[Trait]]]:
    """Segment names from the ranked traits, and the traits each name uses.

    Up to ``max_terms`` traits of at least ``NAME_EFFECT``, else "Average"; two names with the
    same terms in any order get the next trait appended, and names still equal get " (2)"...
    """
    named = [
        [t for t in candidates if abs(t.delta) >= NAME_EFFECT][:max_terms] for candidates in ranked
    ]
    terms = [[_term(t, configured) for t in chosen] or [AVERAGE] for chosen in named]
    counts = Counter(tuple(sorted(t)) for t in terms)
    for s, segment_terms in enumerate(terms):
        if counts[tuple(sorted(segment_terms))] > 1 and len(ranked[s]) > len(named[s]):
            extra = ranked[s][len(named[s])]
            # "Average" keeps its word: "Average · Lapsed" leans lapsed, below a trait.
            terms[s] = [*segment_terms, _term(extra, configured)]
            if named[s]:
                named[s] = [*named[s], extra]
    names: list[str] = []
    seen: Counter[tuple[str, ...]] = Counter()
    for segment_terms in terms:
        key = tuple(sorted(segment_terms))
        seen[key] += 1
        name = SEPARATOR.join(segment_terms)
        names.append(name if seen[key] == 1 else f"{name} ({seen[key]})")
    return names, named


def _sentence(
    size: int,
    n: int,
    named: list[Trait],
    everything: list[Trait],
    configured: dict[str, FeatureSpec],
) -> str:
    """The description sentence of a segment of ``size`` of ``n`` customers."""
    share = f"{size / n:.0%} of customers" if n else "no customers"
    if size == n:
        return "All customers: the only segment."
    if named:
        phrases = [_phrase(t, configured, i == 0) for i, t in enumerate(named)]
        return f"{share}; set apart by {_join(phrases)}."
    typical = [t for t in everything if t.level is None][:2]
    medians = ", ".join(
        f"{_label(configured.get(t.feature), t.feature)} {_number(t.segment_value)} vs "
        f"{_number(t.other_value)}"
        for t in typical
    )
    return f"{share}; typical customers: no feature sets them apart from the other customers" + (
        f" (medians: {medians})." if medians else "."
    )


def describe_segments(
    X: np.ndarray,
    labels: np.ndarray,
    spec: PreprocessingSpec,
    settings: SegmentationSettings,
    n_segments: int | None = None,
    max_terms: int = 3,
) -> list[SegmentDescription]:
    """Name and describe segments ``1..n_segments`` of the customers of matrix ``X``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The scaled feature matrix, columns in the spec's ``position`` order.
    labels : ndarray of int, shape (n,)
        The 1-based segment of each row.
    spec : PreprocessingSpec
        The preprocessing spec (``preprocessing.fit_spec``), to report in original units.
    settings : SegmentationSettings
        Its ``features`` give the labels (``label``, ``high_label``, ``low_label``).
    n_segments : int, optional
        Defaults to the largest label (a segment without customers is "Average").
    max_terms : int
        Most traits in a name.

    Returns
    -------
    list of SegmentDescription
        One per segment, in segment-id order. See the module docstring for the rule.

    Raises
    ------
    ConfigError
        ``X`` does not have the spec's columns.
    ValueError
        ``labels`` do not match ``X`` or lie outside 1..n_segments; ``max_terms`` < 1.
    """
    rows = spec.columns
    X = np.asarray(X, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    if X.ndim != 2 or X.shape[1] != len(rows):
        raise ConfigError(
            f"segment naming: the matrix has shape {X.shape}, expected (n, {len(rows)}) for "
            "this preprocessing spec"
        )
    if labels.shape != (X.shape[0],):
        raise ValueError(f"labels must have shape ({X.shape[0]},), got {labels.shape}")
    if max_terms < 1:
        raise ValueError(f"max_terms must be >= 1, got {max_terms}")
    k = int(n_segments if n_segments is not None else (labels.max() if len(labels) else 0))
    if len(labels) and (labels.min() < 1 or labels.max() > k):
        raise ValueError(f"labels must lie in 1..{k}")
    configured = {feature.name: feature for feature in settings.features}
    value_rows, one_hot_rows = _value_and_one_hot_rows(rows)
    traits = segment_traits(X, labels, spec, value_rows, one_hot_rows, k)
    value_positions = [r.position for r in value_rows]
    correlation = within_segment_correlation(X[:, value_positions], labels, k)
    index = {position: i for i, position in enumerate(value_positions)}
    ranked = [_distinct(t, correlation, index) for t in traits]
    names, named = _names(ranked, configured, max_terms)
    sizes = np.bincount(labels - 1, minlength=k) if len(labels) else np.zeros(k, dtype=np.int64)
    result = []
    for s in range(k):
        everything = sorted(traits[s], key=_strongest_first)
        sentence = _sentence(int(sizes[s]), len(labels), named[s], everything, configured)
        result.append(SegmentDescription(names[s], sentence, tuple(named[s]), tuple(everything)))
    return result

"""Preprocessing: turn ``customer_features`` into the numeric matrix the clustering runs on.

``fit_spec`` learns everything the transformation needs (imputation values, one-hot levels,
ordinal codes, log1p, centring, scaling, weights) and returns it as a *spec table*, so that the
fitted state is data the warehouse can store, inspect and re-apply: ``apply_spec`` turns any
table with the same columns into the matrix, ``transform_table`` into an Arrow table, and
``inverse_numeric`` maps scaled values (e.g. centroids) back to original units.

Spec layout (``SPEC_SCHEMA``): one row per OUTPUT column of the matrix, in ``position`` order
(so ``select output_column from spec order by position`` is the matrix header). The level order
of an ordinal feature is therefore a list column on its single row, not one row per level.

==========================  ======================================================================
column                      meaning
==========================  ======================================================================
``feature``                 the input column of ``customer_features``
``kind``                    the feature's kind: numeric, categorical or ordinal
``output_column``           the matrix column: the feature name for numeric / ordinal features,
                            ``<feature>__<level>`` for one-hot columns (``<feature>__other`` for
                            the grouped rare and unseen levels), ``<feature>__missing`` for the
                            missing indicator; always a valid lowercase identifier
``position``                0-based column index in the matrix
``transform``               none or log1p (numeric value columns only; applied before imputation
                            statistics and scaling)
``impute_strategy``         median, mean, most_frequent or constant (as configured)
``impute_value_numeric``    the value that replaces nulls, in ORIGINAL units (before log1p);
                            for ordinal features the code of the imputed level; null for one-hot
``impute_value_text``       the level that replaces nulls for categorical / ordinal features
``level``                   the one-hot level of this column (``__other__`` for the other column)
``ordinal_levels``          list<string>: the configured level order (ordinal rows only); level
                            ``i`` of ``L`` is coded ``i / (L - 1)`` in [0, 1] before scaling
``center``                  subtracted after transform and imputation (population mean; the
                            median when a few huge values would hide the rest, with a note:
                            ``_robust_center``; for one-hot columns the level's share at fit
                            time)
``scale``                   divisor after centring (population std, ``ddof=0``, computed on the
                            values divided by a power of two near their largest magnitude so
                            that it cannot overflow; 1 for one-hot columns and for constant
                            columns)
``weight``                  EFFECTIVE multiplier applied last (see below)
``is_missing_indicator``    true for ``<feature>__missing`` columns
``note``                    human-readable remarks: constant column, grouped rare levels, ...
==========================  ======================================================================

The matrix value is ``((x - center) / scale) * weight`` where ``x`` is the imputed, transformed
value (numeric), the ordinal code, or the 0/1 indicator (one-hot, missing indicator).

Weights. Numeric, ordinal and missing-indicator columns take the configured weight. The columns
of a one-hot block all take ``weight / sqrt(1 - sum_j p_j**2)`` where ``p_j`` are the fitted
level shares (including ``__other__``): ``1 - sum p_j**2`` is the block's total variance, so after
the division the block contributes exactly ``weight**2`` of variance, the same as one
standardised numeric feature, whatever its number of levels. A many-level variable therefore
does not dominate the distance, and a two-level variable is encoded exactly like its
standardised 0/1 indicator (the squared distance between the two levels is ``1 / (p (1 - p))``).

Constant columns (every value equal after imputation, including a column with a single non-null
value, a one-hot block with a single level and a missing indicator without missing values) get
``scale = 1``, ``center`` = the constant, ``weight = 0`` and a note: they contribute nothing to
distances, neither on the fitting data nor when the spec is applied to new data.

One-hot levels whose share is below the feature's ``min_level_share`` are grouped into
``__other__``; at apply time any level not kept at fit time (rare or unseen) goes there too. The
``__other__`` column always exists so the matrix layout does not depend on the data applied.
Nulls are imputed first (so they count towards the imputed level's share).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmentation.settings import IDENTIFIER, ConfigError, FeatureSpec, SegmentationSettings

OTHER_LEVEL = "__other__"
ID_COLUMN = "customer_id"

SPEC_SCHEMA = pa.schema(
    [
        pa.field("feature", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("output_column", pa.string(), nullable=False),
        pa.field("position", pa.int64(), nullable=False),
        pa.field("transform", pa.string(), nullable=False),
        pa.field("impute_strategy", pa.string(), nullable=False),
        pa.field("impute_value_numeric", pa.float64()),
        pa.field("impute_value_text", pa.string()),
        pa.field("level", pa.string()),
        pa.field("ordinal_levels", pa.list_(pa.string())),
        pa.field("center", pa.float64(), nullable=False),
        pa.field("scale", pa.float64(), nullable=False),
        pa.field("weight", pa.float64(), nullable=False),
        pa.field("is_missing_indicator", pa.bool_(), nullable=False),
        pa.field("note", pa.string()),
    ]
)


# --------------------------------------------------------------------------- column readers


def _column(table: pa.Table, name: str, table_name: str) -> pa.ChunkedArray:
    if name not in table.column_names:
        raise ConfigError(
            f"{table_name}: column {name!r} is missing; "
            f"available columns: {', '.join(table.column_names)}"
        )
    return table.column(name)


def _null_mask(column: pa.ChunkedArray) -> np.ndarray:
    """Boolean (n,) mask of SQL nulls (a float NaN is not a null; it is rejected as non-finite)."""
    return np.asarray(pc.is_null(column).to_numpy(zero_copy_only=False), dtype=bool)


def _all_null_error(table_name: str, name: str, n: int) -> ConfigError:
    return ConfigError(
        f"{table_name}.{name}: every value is null ({n} rows); nothing to impute or scale - "
        "fix the upstream model or remove the feature from segmentation.features"
    )


def _numeric_column(
    table: pa.Table, name: str, table_name: str, transform: str
) -> tuple[np.ndarray, np.ndarray]:
    """Read a numeric feature as float64 (nulls as NaN) and its null mask, both shape (n,).

    Integer, floating, decimal and boolean (0/1) columns are accepted; anything else is an error
    naming the Arrow type. Non-finite values and negative values under log1p are errors naming
    the column, the offending value and the count.
    """
    column = _column(table, name, table_name)
    dtype = column.type
    if pa.types.is_null(dtype):
        raise _all_null_error(table_name, name, len(column))
    if not (
        pa.types.is_integer(dtype)
        or pa.types.is_floating(dtype)
        or pa.types.is_decimal(dtype)
        or pa.types.is_boolean(dtype)
    ):
        raise ConfigError(
            f"{table_name}.{name}: a numeric feature needs a numeric column, got Arrow type "
            f"{dtype}; declare it with kind: categorical or ordinal, or cast it upstream"
        )
    nulls = _null_mask(column)
    values = np.asarray(
        pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
    )
    bad = ~np.isfinite(values) & ~nulls
    if bad.any():
        example = values[bad][0]
        raise ConfigError(
            f"{table_name}.{name}: {int(bad.sum())} non-finite value(s) (e.g. {example!r}); "
            "only finite numbers or nulls are allowed"
        )
    if transform == "log1p":
        negative = (values < 0) & ~nulls
        if negative.any():
            raise ConfigError(
                f"{table_name}.{name}: log1p needs values >= 0, but the minimum is "
                f"{float(values[negative].min())!r} ({int(negative.sum())} negative value(s))"
            )
    return values, nulls


def _text_column(table: pa.Table, name: str, table_name: str) -> tuple[pa.ChunkedArray, int]:
    """Read a categorical / ordinal feature as strings (nulls kept) and its null count."""
    column = _column(table, name, table_name)
    if pa.types.is_null(column.type):
        return pa.chunked_array([pa.nulls(len(column), pa.string())]), len(column)
    try:
        text = pc.cast(column, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise ConfigError(
            f"{table_name}.{name}: cannot read Arrow type {column.type} as text levels ({error})"
        ) from None
    return text, text.null_count


def _level_counts(text: pa.ChunkedArray) -> tuple[list[str], np.ndarray]:
    """Distinct non-null levels and their counts, sorted by count desc, then level asc."""
    counts = pc.value_counts(text.drop_null())
    levels = counts.field("values").to_pylist()
    n = np.asarray(counts.field("counts").to_numpy(zero_copy_only=False), dtype=np.int64)
    order = sorted(range(len(levels)), key=lambda i: (-int(n[i]), levels[i]))
    return [levels[i] for i in order], n[order]


# ------------------------------------------------------------------------ shared transforms


def _impute_transform_numeric(
    values: np.ndarray, nulls: np.ndarray, impute_value: float, transform: str
) -> np.ndarray:
    """Fill nulls with ``impute_value`` (original units), then apply the transform; shape (n,)."""
    x = np.where(nulls, impute_value, values)
    if transform == "log1p":
        x = np.log1p(x)
    return x


def _ordinal_codes(
    text: pa.ChunkedArray, levels: Sequence[str], impute_level: str, name: str, table_name: str
) -> np.ndarray:
    """Map ordinal levels to codes ``i / (L - 1)`` in [0, 1]; nulls take ``impute_level``.

    Values match the configured levels ignoring case and surrounding blanks (``_level_key``):
    ``GOLD``, ``Gold`` and ``gold `` are all the level ``gold``, as contract categories are
    compared case-insensitively by staging.
    """
    filled = pc.fill_null(text, impute_level)
    keys = pc.utf8_lower(pc.utf8_trim_whitespace(filled))
    index = pc.index_in(keys, value_set=pa.array([_level_key(x) for x in levels], pa.string()))
    unknown = pc.is_null(index)
    n_unknown = pc.sum(unknown).as_py() or 0
    if n_unknown:
        examples = pc.unique(pc.filter(filled, unknown)).to_pylist()[:5]
        raise ConfigError(
            f"{table_name}.{name}: {n_unknown} value(s) outside the configured ordinal levels "
            f"(e.g. {', '.join(map(repr, examples))}); expected one of: {', '.join(levels)}"
        )
    codes = np.asarray(index.to_numpy(zero_copy_only=False), dtype=np.float64)
    return codes / (len(levels) - 1)


def _level_key(level: str) -> str:
    """How an ordinal value is matched to a configured level: lower case, blanks trimmed."""
    return level.strip().lower()


def _configured_level(levels: Sequence[str], value: str) -> str | None:
    """The configured spelling of ``value`` among ``levels`` (``_level_key`` match), or None."""
    return next((level for level in levels if _level_key(level) == _level_key(value)), None)


def _one_hot_index(text: pa.ChunkedArray, kept: Sequence[str], impute_level: str) -> np.ndarray:
    """Index (n,) into ``kept`` of each row's imputed level; ``len(kept)`` means ``__other__``."""
    filled = pc.fill_null(text, impute_level)
    index = pc.index_in(filled, value_set=pa.array(list(kept), pa.string()))
    index = pc.fill_null(index, len(kept))
    return np.asarray(index.to_numpy(zero_copy_only=False), dtype=np.int64)


# ------------------------------------------------------------------------------- fitting


@dataclass
class _Row:
    """One output column being fitted (becomes a row of the spec table)."""

    feature: str
    kind: str
    output_column: str
    transform: str
    impute_strategy: str
    impute_value_numeric: float | None
    impute_value_text: str | None
    level: str | None
    ordinal_levels: list[str] | None
    center: float
    scale: float
    weight: float
    is_missing_indicator: bool
    notes: list[str]


def _slug(text: str) -> str:
    """A lowercase identifier fragment for a level: ASCII letters, digits and underscores."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    return slug or "blank"


def _standardise(x: np.ndarray, weight: float) -> tuple[float, float, float, str | None]:
    """Center, scale and effective weight for a column (n,); constant columns get weight 0."""
    if x.size == 0 or x.min() == x.max():
        value = float(x[0]) if x.size else 0.0
        note = (
            f"constant (every value {value:.6g} after imputation): scale set to 1 and weight "
            "to 0, so it contributes nothing to distances"
        )
        return value, 1.0, 0.0, note
    center, scale = _mean_std(x)
    return center, scale, weight, None


def _mean_std(x: np.ndarray) -> tuple[float, float]:
    """Population mean and standard deviation (``ddof=0``) of a finite column (n,), overflow-safe.

    The values are divided by the power of two at or above their largest magnitude before
    squaring, so values around 1e160 (whose squares overflow float64) give their exact, finite
    standard deviation instead of inf (which would make the column 0 for every customer). A
    power of two scales exactly: for ordinary values the results are bit for bit those of
    ``x.mean()`` and ``x.std()``. The column is finite (``_numeric_column`` refuses other values)
    and not constant. Returns values in the column's units.
    """
    _, exponent = np.frexp(np.max(np.abs(x)))  # max|x| = f * 2**exponent, 0.5 <= f < 1
    unit = np.ldexp(x, -int(exponent))
    return float(np.ldexp(unit.mean(), int(exponent))), float(np.ldexp(unit.std(), int(exponent)))


def _robust_center(x: np.ndarray, center: float, scale: float) -> tuple[float, str | None]:
    """The center of a numeric column (n,): its mean, or its median when the mean hides the bulk.

    Values that span more orders of magnitude than float64 keeps apart (one value of 1e200 among
    values of 1..100) would, centred at their mean (~1e198), leave the 5-95 % of the customers at
    one and the same scaled value: the feature would separate nothing but the huge values, and
    the outlier rule (whose unit is the 5-95 % range of each matrix column) could not see them.
    Centred at the median the bulk keeps its (tiny) spread, so the huge values are outliers as
    documented (``outlier_mask``); K-Means and Ward do not depend on the center. Returns the
    center and a note when the median is used.
    """
    low, high = np.quantile(x, OUTLIER_RANGE)
    if low == high:
        return center, None
    scaled_low, scaled_high = (np.array([low, high]) - center) / scale
    if scaled_low != scaled_high:
        return center, None
    median = float(np.median(x))
    note = (
        f"values span more orders of magnitude than float64 keeps apart (largest "
        f"{float(np.max(np.abs(x))):.3g}, 5-95 % range {low:.6g}..{high:.6g}): centred at the "
        f"median ({median:.6g}) instead of the mean so that the other customers stay apart; the "
        "extreme values are outliers (outlier_fence); consider transform: log1p"
    )
    return median, note


def _most_frequent_number(values: np.ndarray) -> float:
    uniques, counts = np.unique(values, return_counts=True)
    return float(uniques[int(np.argmax(counts))])  # np.unique sorts: ties go to the smallest


def _fit_numeric(
    feature: FeatureSpec, table: pa.Table, table_name: str
) -> tuple[list[_Row], np.ndarray]:
    values, nulls = _numeric_column(table, feature.name, table_name, feature.transform)
    present = values[~nulls]
    if present.size == 0:
        raise _all_null_error(table_name, feature.name, len(values))
    path = f"{table_name}.{feature.name}"
    if feature.impute == "constant":
        raw = feature.impute_value
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            raise ConfigError(
                f"{path}: impute_value must be a finite number for a numeric feature, got {raw!r}"
            )
        if feature.transform == "log1p" and raw < 0:
            raise ConfigError(f"{path}: impute_value {raw!r} is negative but transform is log1p")
        impute_value = float(raw)
    else:
        transformed = np.log1p(present) if feature.transform == "log1p" else present
        if feature.impute == "median":
            statistic = float(np.median(transformed))
        elif feature.impute == "mean":
            statistic = float(np.mean(transformed))
        else:
            statistic = _most_frequent_number(transformed)
        # Statistics are taken after the transform; the spec stores them in original units.
        impute_value = float(np.expm1(statistic)) if feature.transform == "log1p" else statistic
    x = _impute_transform_numeric(values, nulls, impute_value, feature.transform)
    center, scale, weight, note = _standardise(x, feature.weight)
    if note is None:
        center, note = _robust_center(x, center, scale)
    row = _Row(
        feature=feature.name,
        kind="numeric",
        output_column=feature.name,
        transform=feature.transform,
        impute_strategy=feature.impute,
        impute_value_numeric=impute_value,
        impute_value_text=None,
        level=None,
        ordinal_levels=None,
        center=center,
        scale=scale,
        weight=weight,
        is_missing_indicator=False,
        notes=[note] if note else [],
    )
    return [row], nulls


def _impute_level(
    feature: FeatureSpec, levels: list[str], path: str, allowed: Sequence[str] | None = None
) -> str:
    level = str(feature.impute_value) if feature.impute == "constant" else levels[0]
    if allowed is None:
        return level  # levels[0]: most frequent (ties: first by the caller's order)
    configured = _configured_level(allowed, level)
    if configured is None:
        if feature.impute != "constant":  # a data value outside the levels: reported later
            return level
        raise ConfigError(
            f"{path}: impute_value {feature.impute_value!r} is not one of the ordinal levels "
            f"{', '.join(allowed)}"
        )
    return configured


def _fit_ordinal(
    feature: FeatureSpec, table: pa.Table, table_name: str
) -> tuple[list[_Row], np.ndarray]:
    text, n_null = _text_column(table, feature.name, table_name)
    if n_null == len(text):
        raise _all_null_error(table_name, feature.name, len(text))
    path = f"{table_name}.{feature.name}"
    levels, counts = _level_counts(text)
    order = {_level_key(level): i for i, level in enumerate(feature.levels)}
    # Counts per configured level (spellings that differ in case are one level).
    merged: dict[str, int] = {}
    for level, count in zip(levels, counts, strict=True):
        spelling = _configured_level(feature.levels, level) or level
        merged[spelling] = merged.get(spelling, 0) + int(count)
    levels, counts = list(merged), np.array(list(merged.values()))
    # most_frequent: highest count, ties towards the lower level of the configured order
    by_frequency = sorted(
        range(len(levels)),
        key=lambda i: (-int(counts[i]), order.get(_level_key(levels[i]), len(order))),
    )
    impute_level = _impute_level(
        feature, [levels[i] for i in by_frequency], path, allowed=feature.levels
    )
    codes = _ordinal_codes(text, feature.levels, impute_level, feature.name, table_name)
    center, scale, weight, note = _standardise(codes, feature.weight)
    row = _Row(
        feature=feature.name,
        kind="ordinal",
        output_column=feature.name,
        transform="none",
        impute_strategy=feature.impute,
        impute_value_numeric=order[_level_key(impute_level)] / (len(feature.levels) - 1),
        impute_value_text=impute_level,
        level=None,
        ordinal_levels=list(feature.levels),
        center=center,
        scale=scale,
        weight=weight,
        is_missing_indicator=False,
        notes=[note] if note else [],
    )
    return [row], _null_mask(text)


def _fit_categorical(
    feature: FeatureSpec, table: pa.Table, table_name: str
) -> tuple[list[_Row], np.ndarray]:
    text, n_null = _text_column(table, feature.name, table_name)
    n = len(text)
    if n_null == n:
        raise _all_null_error(table_name, feature.name, n)
    levels, _ = _level_counts(text)
    impute_level = _impute_level(feature, levels, f"{table_name}.{feature.name}")
    filled_levels, filled_counts = _level_counts(pc.fill_null(text, impute_level))
    shares = filled_counts / n
    keep = (shares >= feature.min_level_share) & (
        np.asarray(filled_levels, dtype=object) != OTHER_LEVEL
    )
    kept = [level for level, k in zip(filled_levels, keep, strict=True) if k]
    grouped = [level for level, k in zip(filled_levels, keep, strict=True) if not k]
    block_shares = np.append(shares[keep], shares[~keep].sum())
    variance = float(1.0 - np.sum(block_shares**2))
    block_levels = [*kept, OTHER_LEVEL]

    notes: list[str] = []
    if variance <= 1e-12:
        weight = 0.0
        notes.append(
            f"constant (every row is level {block_levels[int(np.argmax(block_shares))]!r}): "
            "weight set to 0, so the block contributes nothing to distances"
        )
    else:
        weight = feature.weight / math.sqrt(variance)
    rows = []
    for level, share in zip(block_levels, block_shares, strict=True):
        row_notes = list(notes)
        if level == OTHER_LEVEL:
            if grouped:
                shown = ", ".join(map(repr, grouped[:10])) + (" ..." if len(grouped) > 10 else "")
                row_notes.append(
                    f"groups {len(grouped)} level(s) below min_level_share "
                    f"{feature.min_level_share:g} ({shown}) and levels unseen at fit"
                )
            else:
                row_notes.append("no level grouped at fit; receives levels unseen at fit")
        suffix = "other" if level == OTHER_LEVEL else _slug(level)
        rows.append(
            _Row(
                feature=feature.name,
                kind="categorical",
                output_column=f"{feature.name}__{suffix}",
                transform="none",
                impute_strategy=feature.impute,
                impute_value_numeric=None,
                impute_value_text=impute_level,
                level=level,
                ordinal_levels=None,
                center=float(share),
                scale=1.0,
                weight=weight,
                is_missing_indicator=False,
                notes=row_notes,
            )
        )
    return rows, _null_mask(text)


def _missing_row(feature: FeatureSpec, kind: str, nulls: np.ndarray) -> _Row:
    center, scale, weight, note = _standardise(nulls.astype(np.float64), feature.weight)
    notes = [note] if note else []
    if not nulls.any():
        notes = ["no missing values at fit: weight set to 0, so it contributes nothing"]
    return _Row(
        feature=feature.name,
        kind=kind,
        output_column=f"{feature.name}__missing",
        transform="none",
        impute_strategy=feature.impute,
        impute_value_numeric=None,
        impute_value_text=None,
        level=None,
        ordinal_levels=None,
        center=center,
        scale=scale,
        weight=weight,
        is_missing_indicator=True,
        notes=notes,
    )


def fit_spec(
    features: pa.Table, settings: SegmentationSettings, table_name: str = "customer_features"
) -> pa.Table:
    """Fit the preprocessing spec on ``features`` (one row per customer); see the module doc.

    Returns the spec table (``SPEC_SCHEMA``, one row per output column, ordered by ``position``).
    Raises ``ConfigError`` naming the table, the column and the value for a missing column, a
    non-numeric numeric feature, an all-null feature, negative values under log1p, non-finite
    values, an ordinal value outside the configured levels, or an empty table.
    """
    if not isinstance(features, pa.Table):
        raise TypeError(f"fit_spec: expected a pyarrow.Table, got {type(features).__name__}")
    settings.check_columns(table_name, features.column_names)
    if features.num_rows == 0:
        raise ConfigError(f"{table_name}: the table has no rows; cannot fit the preprocessing")
    rows: list[_Row] = []
    for feature in settings.features:
        if feature.kind == "numeric":
            feature_rows, nulls = _fit_numeric(feature, features, table_name)
        elif feature.kind == "ordinal":
            feature_rows, nulls = _fit_ordinal(feature, features, table_name)
        else:
            feature_rows, nulls = _fit_categorical(feature, features, table_name)
        rows.extend(feature_rows)
        if feature.missing_indicator:
            rows.append(_missing_row(feature, feature.kind, nulls))
    _deduplicate_names(rows)
    return _rows_to_table(rows)


def _deduplicate_names(rows: list[_Row]) -> None:
    """Make output column names unique: value / missing / other columns keep theirs first."""
    taken: set[str] = set()
    reserved = [r for r in rows if r.level is None or r.level == OTHER_LEVEL]
    reserved_ids = {id(r) for r in reserved}
    for row in reserved + [r for r in rows if id(r) not in reserved_ids]:
        base = row.output_column
        name, i = base, 2
        while name in taken:
            name, i = f"{base}_{i}", i + 1
        if name != base:
            row.notes.append(f"renamed from {base!r} to keep output columns unique")
        if not IDENTIFIER.match(name):  # pragma: no cover - slug and feature names guarantee it
            raise ConfigError(f"preprocessing: invalid output column name {name!r}")
        row.output_column = name
        taken.add(name)


def _rows_to_table(rows: list[_Row]) -> pa.Table:
    data: dict[str, list[Any]] = {name: [] for name in SPEC_SCHEMA.names}
    for position, row in enumerate(rows):
        data["feature"].append(row.feature)
        data["kind"].append(row.kind)
        data["output_column"].append(row.output_column)
        data["position"].append(position)
        data["transform"].append(row.transform)
        data["impute_strategy"].append(row.impute_strategy)
        data["impute_value_numeric"].append(row.impute_value_numeric)
        data["impute_value_text"].append(row.impute_value_text)
        data["level"].append(row.level)
        data["ordinal_levels"].append(row.ordinal_levels)
        data["center"].append(row.center)
        data["scale"].append(row.scale)
        data["weight"].append(row.weight)
        data["is_missing_indicator"].append(row.is_missing_indicator)
        data["note"].append("; ".join(row.notes) if row.notes else None)
    return pa.table(data, schema=SPEC_SCHEMA)


# ------------------------------------------------------------------------------ applying


def spec_rows(spec: pa.Table) -> list[dict[str, Any]]:
    """Validate the spec table and return its rows sorted by position."""
    if not isinstance(spec, pa.Table):
        raise TypeError(f"expected the spec as a pyarrow.Table, got {type(spec).__name__}")
    missing = [name for name in SPEC_SCHEMA.names if name not in spec.column_names]
    if missing:
        raise ConfigError(f"preprocessing spec: missing column(s) {', '.join(missing)}")
    rows = sorted(spec.select(SPEC_SCHEMA.names).to_pylist(), key=lambda r: r["position"])
    positions = [r["position"] for r in rows]
    if positions != list(range(len(rows))) or not rows:
        raise ConfigError(
            f"preprocessing spec: positions must be 0..{len(rows) - 1} without gaps, "
            f"got {positions}"
        )
    return rows


def output_columns(spec: pa.Table) -> list[str]:
    """The matrix column names in ``position`` order."""
    return [row["output_column"] for row in spec_rows(spec)]


def apply_spec(
    features: pa.Table, spec: pa.Table, table_name: str = "customer_features"
) -> np.ndarray:
    """Apply a fitted spec: the (n, d) float64 C-contiguous matrix in ``position`` order.

    Vectorised per column. Applying the spec to the table it was fitted on reproduces the fitted
    transformation exactly (same code path). Levels not kept at fit time go to ``__other__``;
    nulls take the fitted imputation value. Input errors are ``ConfigError`` naming the table,
    column and value, as in ``fit_spec``.
    """
    rows = spec_rows(spec)
    n = features.num_rows
    matrix = np.empty((n, len(rows)), dtype=np.float64)
    by_feature: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_feature.setdefault(row["feature"], []).append(row)
    for name, feature_rows in by_feature.items():
        kind = feature_rows[0]["kind"]
        value_rows = [r for r in feature_rows if not r["is_missing_indicator"]]
        if kind == "numeric":
            row = value_rows[0]
            values, nulls = _numeric_column(features, name, table_name, row["transform"])
            x = _impute_transform_numeric(
                values, nulls, row["impute_value_numeric"], row["transform"]
            )
            matrix[:, row["position"]] = _scaled(x, row)
        elif kind == "ordinal":
            row = value_rows[0]
            text, _ = _text_column(features, name, table_name)
            nulls = _null_mask(text)
            codes = _ordinal_codes(
                text, row["ordinal_levels"], row["impute_value_text"], name, table_name
            )
            matrix[:, row["position"]] = _scaled(codes, row)
        else:
            text, _ = _text_column(features, name, table_name)
            nulls = _null_mask(text)
            kept = [r["level"] for r in value_rows if r["level"] != OTHER_LEVEL]
            index = _one_hot_index(text, kept, value_rows[0]["impute_value_text"])
            for row in value_rows:
                j = len(kept) if row["level"] == OTHER_LEVEL else kept.index(row["level"])
                matrix[:, row["position"]] = _scaled((index == j).astype(np.float64), row)
        for row in feature_rows:
            if row["is_missing_indicator"]:
                matrix[:, row["position"]] = _scaled(nulls.astype(np.float64), row)
    return matrix


def _scaled(x: np.ndarray, row: dict[str, Any]) -> np.ndarray:
    return ((x - row["center"]) / row["scale"]) * row["weight"]


def transform_table(
    features: pa.Table, spec: pa.Table, table_name: str = "customer_features"
) -> pa.Table:
    """``customer_id`` plus one float64 column per output column (``apply_spec`` as a table)."""
    ids = _column(features, ID_COLUMN, table_name)
    matrix = apply_spec(features, spec, table_name)
    names = output_columns(spec)
    arrays = [ids, *(pa.array(matrix[:, j]) for j in range(len(names)))]
    return pa.table(arrays, names=[ID_COLUMN, *names])


def fit_transform(
    features: pa.Table, settings: SegmentationSettings, table_name: str = "customer_features"
) -> tuple[pa.Table, np.ndarray]:
    """``fit_spec`` then ``apply_spec`` on the same table: (spec, (n, d) matrix)."""
    spec = fit_spec(features, settings, table_name)
    return spec, apply_spec(features, spec, table_name)


# ------------------------------------------------------------------------------- inverse


def _unscale(row: dict[str, Any], scaled_values: np.ndarray) -> np.ndarray:
    """Undo weight and scaling for one output column (not the transform); shape preserved."""
    values = np.asarray(scaled_values, dtype=np.float64)
    if row["weight"] == 0:
        return np.full_like(values, row["center"])
    return values / row["weight"] * row["scale"] + row["center"]


def inverse_numeric(spec: pa.Table, feature: str, scaled_values: np.ndarray) -> np.ndarray:
    """Map scaled matrix values of a numeric or ordinal feature back to original units.

    Undoes the weight, the standard scaling and log1p (``expm1``), so a centroid coordinate
    becomes e.g. a recency in days. For an ordinal feature the result is the ordinal code in
    [0, 1] (position along the configured level order). A constant column (weight 0) maps every
    value to the constant. Shape is preserved.
    """
    rows = [
        r
        for r in spec_rows(spec)
        if r["feature"] == feature
        and not r["is_missing_indicator"]
        and r["kind"] in ("numeric", "ordinal")
    ]
    if not rows:
        available = sorted(
            {r["feature"] for r in spec_rows(spec) if r["kind"] in ("numeric", "ordinal")}
        )
        raise ConfigError(
            f"preprocessing spec: {feature!r} is not a numeric or ordinal feature; "
            f"available: {', '.join(available)}"
        )
    row = rows[0]
    values = _unscale(row, scaled_values)
    if row["transform"] == "log1p":
        values = np.expm1(values)
    return values


def unscale_column(spec: pa.Table, output_column: str, scaled_values: np.ndarray) -> np.ndarray:
    """Undo weight and scaling for any output column (without undoing log1p).

    For one-hot and missing-indicator columns this is the 0..1 value, i.e. a level's (or the
    missing values') share when applied to a centroid.
    """
    for row in spec_rows(spec):
        if row["output_column"] == output_column:
            return _unscale(row, scaled_values)
    raise ConfigError(f"preprocessing spec: unknown output column {output_column!r}")


OUTLIER_RANGE = (0.05, 0.95)
"""The quantiles whose range is the unit of ``outlier_mask``'s fence."""


def outlier_mask(X: np.ndarray, fence: float | None) -> np.ndarray:
    """Rows (n,) bool of the (n, d) matrix with a value far outside the bulk of its column.

    For each column, with ``q05`` and ``q95`` its 5 % and 95 % quantiles and ``R = q95 - q05``,
    a value below ``q05 - fence * R`` or above ``q95 + fence * R`` is an outlier; a row is an
    outlier when any of its values is. The 5-95 % range ignores up to 5 % of extreme rows, and it
    spans the whole spread of a clustered column (a persona with a high grocery share is inside
    it, where a median-absolute-deviation rule would flag the persona). Columns with ``R = 0``
    (a value shared by 90 % of the rows, e.g. most one-hot columns and constant ones) flag
    nothing; one-hot and indicator columns never exceed their range. ``fence`` None: no outliers.
    With the default fence of 3, the demo data and Mall Customers have none (their largest
    excess is 1.2 and 0.4 ranges); a spend of 1e9 among spends of ~100 (log1p) is 58 ranges out.
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    if fence is None or n == 0 or X.shape[1] == 0:
        return np.zeros(n, dtype=bool)
    low, high = np.quantile(X, OUTLIER_RANGE, axis=0)
    spread = high - low
    usable = spread > 0
    if not usable.any():
        return np.zeros(n, dtype=bool)
    margin = fence * spread[usable]
    values = X[:, usable]
    return ((values < low[usable] - margin) | (values > high[usable] + margin)).any(axis=1)

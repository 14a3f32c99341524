"""Segments over time (segment lifecycle: docs/lifecycle.md): transitions and drift."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from segmentation.report.common import PALETTE, Chart
from segmentation.report.published import Published
from segmentation.report.segment_charts import _label

ONE_RUN = "One run so far: transitions appear from the second build."
TRANSITION_COLUMNS = ("to_invocation_id", "from_segment_id", "to_segment_id", "customers")


def latest_transitions(db: Published) -> tuple[pd.DataFrame, bool] | None:
    """The rows of ``segment_transitions`` into the latest run, and whether it had a predecessor.

    Returns ``(flows, has_previous)``: ``flows`` has from_segment_id, from_segment_name,
    to_segment_id, to_segment_name and customers (ids null for a new or a gone customer, names
    null when the publication lacks them), sorted by from and to id; ``has_previous`` is False
    when the latest run is the first (every customer enters from no segment). None when the
    publication has no ``segment_transitions`` or lacks one of :data:`TRANSITION_COLUMNS`.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.

    Returns
    -------
    flows : pandas.DataFrame
        Columns as above; ``customers`` counts customers.
    has_previous : bool
        As above; the pair is None when the table or a column is missing.
    """
    if not db.has("segment_transitions"):
        return None
    columns = set(db.columns("segment_transitions"))
    if not set(TRANSITION_COLUMNS) <= columns:
        return None
    order = "to_run_started_at" if "to_run_started_at" in columns else "to_invocation_id"
    names = {
        side: f"{side}_segment_name" if f"{side}_segment_name" in columns else "null"
        for side in ("from", "to")
    }
    previous = "from_invocation_id" if "from_invocation_id" in columns else "null"
    flows = db.frame(
        "with latest as (select to_invocation_id as id from segment_transitions "
        f"order by {order} desc, to_invocation_id desc limit 1) "
        f"select {previous} as from_invocation_id, from_segment_id, "
        f"{names['from']} as from_segment_name, to_segment_id, "
        f"{names['to']} as to_segment_name, customers "
        "from segment_transitions where to_invocation_id = (select id from latest) "
        "order by from_segment_id nulls first, to_segment_id nulls last"
    )
    has_previous = bool(len(flows)) and bool(flows["from_invocation_id"].notna().any())
    return flows.drop(columns=["from_invocation_id"]), has_previous


def latest_drift(db: Published) -> dict[str, Any] | None:
    """The latest ``segment_drift`` row: action, changed share, refit_recommended and reason.

    Missing columns (an older publication) come back as None; None when there is no row.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.

    Returns
    -------
    dict or None
        ``action`` (str), ``changed_segment_share`` (float, 0..1), ``refit_recommended`` (bool),
        ``refit_reason`` (str), each None when missing.
    """
    if not db.has("segment_drift"):
        return None
    columns = set(db.columns("segment_drift"))
    wanted = ("action", "changed_segment_share", "refit_recommended", "refit_reason")
    order = "run_started_at" if "run_started_at" in columns else "invocation_id"
    if order not in columns:
        return None
    selected = ", ".join(f'"{c}"' if c in columns else f'null as "{c}"' for c in wanted)
    rows = db.frame(f"select {selected} from segment_drift order by {order} desc limit 1")
    if rows.empty:
        return None
    row = rows.iloc[0]
    share = row["changed_segment_share"]
    recommended = row["refit_recommended"]
    return {
        "action": None if pd.isna(row["action"]) else str(row["action"]),
        "changed_segment_share": None if pd.isna(share) else float(share),
        "refit_recommended": None if pd.isna(recommended) else bool(recommended),
        "refit_reason": None if pd.isna(row["refit_reason"]) else str(row["refit_reason"]),
    }


def drift_sentence(drift: dict[str, Any] | None) -> str:
    """One line on the latest segment_drift row (share changed, refit recommended and why).

    Parameters
    ----------
    drift : dict or None
        :func:`latest_drift`'s result.

    Returns
    -------
    str
        One English sentence ending with a full stop.
    """
    if drift is None:
        return "segment_drift is not published."
    if drift["changed_segment_share"] is None:
        changed = "no previous run to compare segments with"
    else:
        changed = (
            f"{drift['changed_segment_share']:.1%} of the customers of the previous run "
            "changed segment"
        )
    action = f" (this build: {drift['action']})" if drift["action"] else ""
    if drift["refit_recommended"] is None:
        refit = "refit recommendation not published"
    elif drift["refit_recommended"]:
        refit = "refit recommended: " + (drift["refit_reason"] or "reason not given")
    else:
        refit = "no refit recommended"
    return f"Latest build{action}: {changed}; {refit}."


def _segment_label(segment_id: Any, name: Any, missing: str) -> str:
    if pd.isna(segment_id):
        return missing
    return _label(int(segment_id), name) if not pd.isna(name) else f"{int(segment_id)}"


def transitions_chart(db: Published, data: dict[str, Any]) -> Chart:
    """Sankey of the customers moving between segments from the previous run to the latest.

    Reads ``segment_transitions`` (the pair of runs ending at the latest one) and the latest
    ``segment_drift`` row, whose one-line summary is the chart's note. Also records both in
    ``data`` (keys ``segment_transitions``: [[from_id, to_id, customers]], ids null for new or
    gone customers, and ``segment_drift``) for the embedded JSON.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.
    data : dict
        The report's embedded data; ``segment_transitions`` and ``segment_drift`` are set.

    Returns
    -------
    Chart
        ``chart_id`` ``"segment-transitions"``; ``figure`` None and the reason in ``note`` when
        the chart does not apply.
    """
    chart = Chart(
        "segment-transitions",
        "Segments over time: where the customers of the previous run went",
        "Each band is the customers who were in the left segment at the previous build and "
        "are in the right one now; straight bands are customers who kept their segment, "
        "'new' customers were not in the previous build and 'gone' ones are not in this one.",
    )
    drift = latest_drift(db)
    data["segment_drift"] = drift
    summary = drift_sentence(drift)
    latest = latest_transitions(db)
    if latest is None:
        data["segment_transitions"] = None
        chart.note = "segment_transitions is not published. " + summary
        return chart
    flows, has_previous = latest
    data["segment_transitions"] = [
        [
            None if pd.isna(r.from_segment_id) else int(r.from_segment_id),
            None if pd.isna(r.to_segment_id) else int(r.to_segment_id),
            int(r.customers),
        ]
        for r in flows.itertuples()
    ]
    if not has_previous:
        chart.note = f"{ONE_RUN} {summary}"
        return chart
    chart.figure = _transitions_sankey(flows)
    chart.note = summary
    return chart


def _transitions_sankey(flows: pd.DataFrame) -> go.Figure:
    """The Sankey of :func:`transitions_chart`: previous segments left, latest ones right.

    Parameters
    ----------
    flows : pandas.DataFrame
        ``from_segment_id``, ``from_segment_name``, ``to_segment_id``, ``to_segment_name`` (ids
        null for new or gone customers) and ``customers``, one row per pair
        (:func:`latest_transitions`).

    Returns
    -------
    plotly.graph_objects.Figure
        Kept customers in grey bands, movers in colour; segment colours as in the other charts.
    """
    from_labels = [
        _segment_label(r.from_segment_id, r.from_segment_name, "new customers")
        for r in flows.itertuples()
    ]
    to_labels = [
        _segment_label(r.to_segment_id, r.to_segment_name, "gone") for r in flows.itertuples()
    ]
    left = list(dict.fromkeys(from_labels))
    by_target = flows.sort_values("to_segment_id", na_position="last", kind="stable")
    right = list(dict.fromkeys(to_labels[i] for i in by_target.index))

    def colour(segment_id: Any) -> str:
        # Segment ids start at 1: segment 1 takes PALETTE[0], as in the PCA and silhouette plots.
        return "#BAB0AC" if pd.isna(segment_id) else PALETTE[(int(segment_id) - 1) % len(PALETTE)]

    left_colour = dict(zip(from_labels, map(colour, flows["from_segment_id"]), strict=True))
    right_colour = dict(zip(to_labels, map(colour, flows["to_segment_id"]), strict=True))
    kept = flows["from_segment_id"].eq(flows["to_segment_id"]).fillna(False)
    fig = go.Figure(
        go.Sankey(
            node={
                "label": [*left, *right],
                "color": [left_colour[x] for x in left] + [right_colour[x] for x in right],
                "pad": 14,
                "thickness": 16,
            },
            link={
                "source": [left.index(x) for x in from_labels],
                "target": [len(left) + right.index(x) for x in to_labels],
                "value": [int(v) for v in flows["customers"]],
                # Customers who kept their segment in grey, movers in colour.
                "color": [
                    "rgba(120,120,120,0.25)" if same else "rgba(228,87,86,0.45)" for same in kept
                ],
                "hovertemplate": "%{source.label} -> %{target.label}: %{value:,} customers"
                "<extra></extra>",
            },
        )
    )
    fig.update_layout(height=200 + 40 * max(len(left), len(right)))
    return fig

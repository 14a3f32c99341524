"""The summary that opens the report: customers, segments, the chosen k and why, data quality."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from segmentation.report.published import Published


def summary_data(db: Published) -> dict[str, Any]:
    """The figures of the summary, exactly as in the tables (also embedded as JSON).

    Keys: customers, segments (the K-Means k), chosen_k and selection_reason per method,
    silhouette per method, rejects_by_reason ({"source/reason": rows}), segment sizes per
    method ([{segment_id, segment_name, size}]), customers_derived (no customer input: the
    customers are those of the orders), input_warnings (stg_input_checks rows at level warn),
    run_id and built_at.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.

    Returns
    -------
    dict
        JSON-serialisable figures, keys as listed above.
    """
    metrics = db.table("clustering_metrics")
    selected = metrics[metrics["is_selected"]] if len(metrics) else metrics
    chosen = {str(r.method): int(r.k) for r in selected.itertuples()}
    reasons = {str(r.method): r.selection_reason for r in selected.itertuples()}
    silhouettes = {
        str(r.method): None if pd.isna(r.silhouette) else float(r.silhouette)
        for r in selected.itertuples()
    }
    rejects = db.frame(
        "select source, reason, count(*) as n from rejects group by all order by source, reason"
    )
    sizes = db.frame(
        "select distinct method, segment_id, segment_name, size from segment_profiles "
        "order by method, segment_id"
    )
    run = db.frame("select run_id, cast(built_at as varchar) as built_at from current_run")
    checks = db.table("stg_input_checks")
    warnings = (
        checks[checks["level"] == "warn"].sort_values(["input_name", "check_name", "subject"])
        if len(checks)
        else checks
    )
    return {
        "customers": int(db.frame("select count(*) as n from customer_segments")["n"][0]),
        "segments": chosen.get("kmeans", chosen.get("hierarchical")),
        "chosen_k": chosen,
        "selection_reason": reasons,
        "silhouette": silhouettes,
        "rejects_by_reason": {f"{r.source}/{r.reason}": int(r.n) for r in rejects.itertuples()},
        "segment_sizes": {
            method: [
                {
                    "segment_id": int(r.segment_id),
                    "segment_name": r.segment_name,
                    "size": int(r.size),
                }
                for r in group.itertuples()
            ]
            for method, group in sizes.groupby("method", sort=True)
        },
        # No check row for the customers input: none was configured, the customers are the
        # distinct customer ids of the orders (base_customers.derived_from = 'orders').
        "customers_derived": bool(len(checks)) and "customers" not in set(checks["input_name"]),
        "input_warnings": [
            {
                "input": str(r.input_name),
                "check": str(r.check_name),
                "subject": str(r.subject),
                "message": str(r.message),
            }
            for r in warnings.itertuples()
        ],
        "run_id": run["run_id"][0] if len(run) else None,
        "built_at": run["built_at"][0] if len(run) else None,
    }


def _summary_html(data: dict[str, Any], runs: pd.DataFrame, sentences: dict[int, str]) -> str:
    lines = [f"<p><b>{data['customers']:,}</b> customers segmented"]
    if data["segments"] is not None:
        lines[0] += f" into <b>{data['segments']}</b> K-Means segments"
    lines[0] += "."
    if len(runs):
        lines.append(_inputs_html(data, runs.iloc[0]))
    lines.append(_chosen_k_html(data))
    lines.extend(_data_quality_html(data))
    sizes = data["segment_sizes"].get("kmeans", [])
    if sizes:
        lines.append(_segments_html(sizes, sentences))
    return "\n".join(lines)


def _inputs_html(data: dict[str, Any], row: pd.Series) -> str:
    """The inputs and staging counts of the latest run (a ``segment_runs`` row)."""
    customers = (
        f"no customer input (the {int(row['raw_customers']):,} customers are the distinct "
        "customer ids of the orders)"
        if data.get("customers_derived")
        else f"{int(row['raw_customers']):,} customer rows"
    )
    return (
        f"<p>Inputs: {customers} and "
        f"{int(row['raw_order_lines']):,} order lines; staging kept "
        f"{int(row['staged_customers']):,} customers and {int(row['staged_order_lines']):,}"
        f" order lines and rejected {int(row['rejected_customers']):,} customer rows and "
        f"{int(row['rejected_order_lines']):,} order lines (every one a row of "
        "<code>rejects</code> with its reason).</p>"
    )


def _chosen_k_html(data: dict[str, Any]) -> str:
    """The chosen k of each method, its silhouette and why."""
    esc = html.escape
    items = []
    for method, k in sorted(data["chosen_k"].items()):
        reason = data["selection_reason"].get(method) or ""
        silhouette = data["silhouette"].get(method)
        shown = f", silhouette {silhouette:.3f}" if silhouette is not None else ""
        items.append(f"<li><b>{esc(method)}</b>: k = {k}{shown}; why: {esc(str(reason))}</li>")
    return "<p>Chosen k:</p><ul>" + "".join(items) + "</ul>"


def _data_quality_html(data: dict[str, Any]) -> list[str]:
    """The rejected rows by reason and the input warnings."""
    esc = html.escape
    lines = []
    rejects = data["rejects_by_reason"]
    if rejects:
        rows = "".join(
            f"<tr><td>{esc(key.split('/')[0])}</td><td>{esc(key.split('/')[1])}</td>"
            f"<td class='num'>{n:,}</td></tr>"
            for key, n in rejects.items()
        )
        lines.append(
            "<p>Data quality: rows rejected by reason</p><table class='data'>"
            "<tr><th>source</th><th>reason</th><th>rows</th></tr>" + rows + "</table>"
        )
    else:
        lines.append("<p>Data quality: no input row was rejected.</p>")
    warnings = data.get("input_warnings") or []
    if warnings:
        rows = "".join(
            f"<tr><td>{esc(w['input'])}</td><td>{esc(w['check'])}</td>"
            f"<td>{esc(w['subject'])}</td><td>{esc(w['message'])}</td></tr>"
            for w in warnings
        )
        lines.append(
            "<p>Data quality: input warnings (<code>stg_input_checks</code> rows with level "
            "warn)</p><table class='data'><tr><th>input</th><th>check</th><th>subject</th>"
            "<th>message</th></tr>" + rows + "</table>"
        )
    return lines


def _segments_html(sizes: list[dict[str, Any]], sentences: dict[int, str]) -> str:
    """The K-Means segments table: id, name, customers and what sets each apart."""
    esc = html.escape
    rows = "".join(
        f"<tr><td class='num'>{s['segment_id']}</td><td>{esc(str(s['segment_name']))}</td>"
        f"<td class='num'>{s['size']:,}</td>"
        + (f"<td>{esc(sentences.get(s['segment_id'], ''))}</td>" if sentences else "")
        + "</tr>"
        for s in sizes
    )
    header = "<th>what sets it apart</th>" if sentences else ""
    return (
        "<p>K-Means segments</p><table class='data'><tr><th>id</th><th>name</th>"
        f"<th>customers</th>{header}</tr>{rows}</table>"
    )

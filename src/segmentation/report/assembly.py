"""Assembly: the sections in report order, the HTML document, building and writing the report."""

from __future__ import annotations

import html
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import plotly.io as pio
from plotly.offline import get_plotlyjs

from segmentation.report.common import (
    DEFAULT_SAMPLE_SIZE,
    PLOTLY_CONFIG,
    SENTENCE_COLUMNS,
    ReportError,
    ReportResult,
    Section,
)
from segmentation.report.eda_charts import (
    correlation_chart,
    cramers_v_chart,
    histograms_chart,
    missing_values_chart,
)
from segmentation.report.k_choice_charts import elbow_chart, index_chart, silhouette_chart
from segmentation.report.lifecycle_charts import transitions_chart
from segmentation.report.published import Published
from segmentation.report.rfm_value_charts import (
    alive_matrix_chart,
    clv_by_segment_chart,
    rfm_grid_chart,
)
from segmentation.report.segment_charts import (
    dendrogram_chart,
    pca_chart,
    silhouette_plot_chart,
    sizes_chart,
    zscore_chart,
)
from segmentation.report.summary import _summary_html, summary_data


def segment_sentences(db: Published) -> dict[int, str]:
    """One plain sentence per K-Means segment, when segment_profiles carries such a column.

    Looks for the first of :data:`SENTENCE_COLUMNS`; an older publication without any gives {}.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.

    Returns
    -------
    dict of int to str
        K-Means segment id to its sentence (segments with an empty sentence left out).
    """
    columns = set(db.columns("segment_profiles"))
    for name in SENTENCE_COLUMNS:
        if name in columns:
            rows = db.frame(
                f'select segment_id, any_value("{name}") as sentence from segment_profiles '
                "where method = 'kmeans' group by segment_id"
            )
            return {int(r.segment_id): r.sentence for r in rows.itertuples() if r.sentence}
    return {}


def build_sections(
    db: Published, sample_size: int = DEFAULT_SAMPLE_SIZE
) -> tuple[list[Section], dict[str, Any]]:
    """Every section of the report and the embedded data, from the published database.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.
    sample_size : int
        Customers drawn for the PCA and silhouette plots.

    Returns
    -------
    sections : list of Section
        In report order.
    data : dict
        The embedded JSON data (:func:`summary_data` plus what the charts record).
    """
    data = summary_data(db)
    runs = db.frame("select * from current_run")
    sentences = segment_sentences(db)
    data["segment_sentences"] = {str(k): v for k, v in sorted(sentences.items())}
    sections = [
        Section("summary", "Summary", _summary_html(data, runs, sentences)),
        Section(
            "eda",
            "EDA: the customer features before clustering",
            charts=[
                histograms_chart(db),
                missing_values_chart(db),
                correlation_chart(db),
                cramers_v_chart(db),
            ],
        ),
        Section(
            "choosing-k",
            "Choosing k",
            charts=[elbow_chart(db), silhouette_chart(db), index_chart(db)],
        ),
        Section(
            "segments",
            "Segments",
            charts=[
                sizes_chart(db),
                zscore_chart(db),
                silhouette_plot_chart(db, sample_size),
                pca_chart(db, sample_size),
                dendrogram_chart(db),
                transitions_chart(db, data),
            ],
        ),
        Section(
            "rfm-value",
            "RFM and value",
            charts=[rfm_grid_chart(db), clv_by_segment_chart(db), alive_matrix_chart(db)],
        ),
    ]
    data["charts"] = {
        chart.chart_id: ("shown" if chart.figure is not None else "not applicable")
        for section in sections
        for chart in section.charts
    }
    data["sample_size"] = sample_size
    return sections, data


CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       margin: 0; color: #222; background: #fafafa; }
header { background: #1f3b57; color: #fff; padding: 18px 32px; }
header h1 { margin: 0 0 4px 0; font-size: 24px; }
header p { margin: 0; opacity: .85; font-size: 13px; }
nav { padding: 8px 32px; background: #e9eef3; font-size: 14px; position: sticky; top: 0;
      z-index: 10; }
nav a { margin-right: 18px; color: #1f3b57; text-decoration: none; font-weight: 600; }
main { padding: 8px 32px 40px; max-width: 1280px; box-sizing: border-box; }
section { margin-top: 22px; }
h2 { border-bottom: 2px solid #1f3b57; padding-bottom: 4px; }
h3 { margin: 22px 0 2px; font-size: 17px; }
p.guide { margin: 0 0 6px; color: #555; font-size: 13.5px; font-style: italic; }
p.na { color: #8a5a00; background: #fff4e0; padding: 8px 12px; border-radius: 4px; }
p.note { color: #8a5a00; font-size: 0.9em; margin: 4px 0 0; }
table.data { border-collapse: collapse; font-size: 13.5px; margin: 4px 0 12px; }
table.data td, table.data th { border: 1px solid #ccd; padding: 3px 10px; text-align: left; }
table.data th { background: #e9eef3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart { background: #fff; border: 1px solid #e0e0e0; border-radius: 4px;
         box-sizing: border-box; width: 100%; max-width: 100%; overflow: hidden; }
"""


def _json_for_script(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str).replace("</", "<\\/")


def render_html(sections: list[Section], data: dict[str, Any], source: str) -> str:
    """The whole HTML document: plotly.js inlined once, each figure drawn by an inline script.

    Parameters
    ----------
    sections : list of Section
        The report's sections (:func:`build_sections`); figures get the report's layout.
    data : dict
        Embedded as JSON in ``<script id="report-data">``; ``run_id`` and ``built_at`` are shown.
    source : str
        The published file, as shown in the header.

    Returns
    -------
    str
        A self-contained HTML document (UTF-8 text).
    """
    esc = html.escape
    nav = "".join(f'<a href="#{s.section_id}">{esc(s.title.split(":")[0])}</a>' for s in sections)
    body = []
    for section in sections:
        parts = [f'<section id="{section.section_id}"><h2>{esc(section.title)}</h2>']
        if section.intro_html:
            parts.append(section.intro_html)
        for chart in section.charts:
            parts.append(
                f'<div class="chart-block" id="chart-{chart.chart_id}">'
                f"<h3>{esc(chart.title)}</h3><p class='guide'>{esc(chart.guide)}</p>"
            )
            if chart.figure is None:
                parts.append(f"<p class='na'>{esc(chart.note or 'Not applicable.')}</p>")
            else:
                chart.figure.update_layout(
                    template="plotly_white", margin={"l": 60, "r": 30, "t": 40, "b": 60}
                )
                parts.append(
                    '<div class="chart">'
                    + pio.to_html(
                        chart.figure,
                        full_html=False,
                        include_plotlyjs=False,
                        include_mathjax=False,
                        config=PLOTLY_CONFIG,
                        div_id=f"figure-{chart.chart_id}",
                        validate=False,
                    )
                    + "</div>"
                )
                if chart.note:
                    parts.append(f"<p class='note'>{esc(chart.note)}</p>")
            parts.append("</div>")
        parts.append("</section>")
        body.append("\n".join(parts))
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    run = f"run {data.get('run_id') or '?'} built {data.get('built_at') or '?'}"
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>Customer segments report</title>"
        f"<style>{CSS}</style>"
        f"<script type='text/javascript'>{get_plotlyjs()}</script>"
        f"<script type='application/json' id='report-data'>{_json_for_script(data)}</script>"
        "</head><body>"
        f"<header><h1>Customer segments report</h1><p>{esc(source)} · {esc(run)} · "
        f"written {generated}</p></header><nav>{nav}</nav><main>"
        + "\n".join(body)
        + "</main></body></html>\n"
    )


def build_report(published: Path, sample_size: int = DEFAULT_SAMPLE_SIZE) -> str:
    """The report of the published database ``published`` as one HTML string.

    Parameters
    ----------
    published : pathlib.Path
        The published DuckDB file (opened read-only).
    sample_size : int
        Customers drawn for the PCA and silhouette plots.

    Returns
    -------
    str
        The HTML document (:func:`render_html`).

    Raises
    ------
    ReportError
        The file does not exist or is not a complete publication (no current_run).
    """
    published = Path(published)
    if not published.is_file():
        raise ReportError(
            f"{published}: no published database; run `make build` first (or pass --published)"
        )
    try:
        con = duckdb.connect(str(published), read_only=True)
    except duckdb.Error as error:
        raise ReportError(f"{published}: cannot open the published database ({error})") from None
    try:
        db = Published(con)
        missing = [
            t
            for t in (
                "current_run",
                "customer_segments",
                "segment_profiles",
                "clustering_metrics",
                "rejects",
            )
            if not db.has(t)
        ]
        if missing:
            raise ReportError(
                f"{published}: not a complete publication, missing {', '.join(missing)}"
            )
        sections, data = build_sections(db, sample_size)
        shown = published.resolve()
        if shown.is_relative_to(Path.cwd()):
            shown = shown.relative_to(Path.cwd())
        return render_html(sections, data, str(shown))
    finally:
        con.close()


def write_report(
    published: Path, out: Path, sample_size: int = DEFAULT_SAMPLE_SIZE
) -> ReportResult:
    """Write the report of ``published`` to ``out`` (atomically: a temporary file renamed).

    Parameters
    ----------
    published : pathlib.Path
        The published DuckDB file.
    out : pathlib.Path
        The HTML file to write (folders created).
    sample_size : int
        Customers drawn for the PCA and silhouette plots.

    Returns
    -------
    ReportResult
        Path, size in bytes and wall-clock seconds.

    Raises
    ------
    ReportError
        As :func:`build_report`; nothing is written then.
    """
    started = time.perf_counter()
    document = build_report(published, sample_size)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(out.name + ".tmp")
    temporary.write_text(document, encoding="utf-8")
    os.replace(temporary, out)
    return ReportResult(out, out.stat().st_size, time.perf_counter() - started)

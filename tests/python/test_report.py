"""segmentation.report without a dbt build: the CLI's defaults and errors, and the test checks.

The report of real publications is tested on the builds other modules make anyway: the demo
(test_end_to_end.py) and the example configurations (test_examples.py).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import report_checks

from segmentation import report


def test_cli_default_reads_the_publication_of_segments_db_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SEGMENTS_DB_PATH", str(tmp_path / "mine.duckdb"))
    monkeypatch.delenv("SEGMENTS_PUBLISH_DIR", raising=False)
    # The build database's own publication: published/<database file stem>/segments.duckdb.
    expected = tmp_path / "published" / "mine" / "segments.duckdb"
    assert report.default_published() == expected
    assert report.main(["--out", str(tmp_path / "r.html")]) == 2
    error = capsys.readouterr().err
    assert f"{expected}: no published database" in error
    assert "make build" in error
    assert not (tmp_path / "r.html").exists()


def test_cli_refuses_a_file_that_is_not_a_publication(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "other.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table customer_segments as select 'a' as customer_id")
    assert report.main(["--published", str(path), "--out", str(tmp_path / "r.html")]) == 2
    error = capsys.readouterr().err
    assert "not a complete publication, missing current_run, segment_profiles" in error


def test_offline_check_finds_remote_references() -> None:
    page = (
        '<html><head><link rel="stylesheet" href="https://cdn.example/x.css">'
        "<style>@import url(https://fonts.googleapis.com/css?family=Roboto);</style></head>"
        "<body><img src='//cdn.example/y.png'><script>var u = 'https://in.a/string';</script>"
        "</body></html>"
    )
    found = report_checks.remote_references(page)
    # <link>, href=https:, @import, url(https:, fonts.googleapis, src=//; not the script's string
    assert len(found) == 6
    assert report_checks.remote_references("<a href='#eda'>EDA</a><p>https://a.b</p>") == []


def test_browser_check_reports_console_errors_and_failed_loads(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text(
        "<html><head></head><body><script>console.error('boom'); notDefined();</script>"
        "<img src='https://example.invalid/x.png'></body></html>"
    )
    problems = report_checks.browser_check(page)["problems"]
    assert problems[:2] == [
        "console.error: boom",
        "uncaught: Uncaught ReferenceError: notDefined is not defined",
    ]
    assert problems[2].startswith("failed to load: https://example.invalid/x.png")


def _lifecycle_tables(con: duckdb.DuckDBPyConnection, runs: int) -> None:
    """segment_transitions and segment_drift as a publication has them, for 1 or 2 runs."""
    con.execute(
        "create table segment_transitions as select * from (values "
        "(null, timestamptz '2026-01-01 00:00:00+00', 'run1', timestamptz '2026-01-01 00:00:00+00',"
        " null, null, 1, 'Loyal', 5), "
        "(null, null, 'run1', timestamptz '2026-01-01 00:00:00+00', null, null, 2, 'New', 3), "
        "('run1', timestamptz '2026-01-01 00:00:00+00', 'run2', "
        " timestamptz '2026-02-01 00:00:00+00', 1, 'Loyal', 1, 'Loyal', 4), "
        "('run1', null, 'run2', timestamptz '2026-02-01 00:00:00+00', 1, 'Loyal', 2, 'New', 1), "
        "('run1', null, 'run2', timestamptz '2026-02-01 00:00:00+00', 2, 'New', null, null, 3), "
        "('run1', null, 'run2', timestamptz '2026-02-01 00:00:00+00', null, null, 2, 'New', 2)"
        ") t(from_invocation_id, from_run_started_at, to_invocation_id, to_run_started_at, "
        "from_segment_id, from_segment_name, to_segment_id, to_segment_name, customers) "
        f"where to_invocation_id <= 'run{runs}'"
    )
    con.execute(
        "create table segment_drift as select * from (values "
        "('run1', timestamptz '2026-01-01 00:00:00+00', 'fit', null, false, null), "
        "('run2', timestamptz '2026-02-01 00:00:00+00', 'score', 0.5, true, "
        " 'changed segment share 0.500 > 0.25')"
        ") t(invocation_id, run_started_at, action, changed_segment_share, refit_recommended, "
        f"refit_reason) where invocation_id <= 'run{runs}'"
    )


def test_transitions_chart_draws_the_moves_into_the_latest_run() -> None:
    with duckdb.connect() as con:
        _lifecycle_tables(con, runs=2)
        data: dict = {}
        chart = report.transitions_chart(report.Published(con), data)
    # Only the pair ending at the latest run, new customers (null from) and gone ones (null to).
    assert data["segment_transitions"] == [[None, 2, 2], [1, 1, 4], [1, 2, 1], [2, None, 3]]
    assert chart.figure is not None
    sankey = chart.figure.data[0]
    labels = list(sankey.node.label)
    assert labels == ["new customers", "1: Loyal", "2: New", "1: Loyal", "2: New", "gone"]
    flows = [
        (labels[s], labels[t], v)
        for s, t, v in zip(sankey.link.source, sankey.link.target, sankey.link.value, strict=True)
    ]
    assert flows == [
        ("new customers", "2: New", 2),
        ("1: Loyal", "1: Loyal", 4),
        ("1: Loyal", "2: New", 1),
        ("2: New", "gone", 3),
    ]
    assert all(s < 3 <= t for s, t in zip(sankey.link.source, sankey.link.target, strict=True))
    assert chart.note == (
        "Latest build (this build: score): 50.0% of the customers of the previous run changed "
        "segment; refit recommended: changed segment share 0.500 > 0.25."
    )


def test_transitions_chart_of_one_run_says_so_instead_of_drawing() -> None:
    with duckdb.connect() as con:
        _lifecycle_tables(con, runs=1)
        data: dict = {}
        chart = report.transitions_chart(report.Published(con), data)
    assert chart.figure is None
    assert chart.note == (
        f"{report.ONE_RUN} Latest build (this build: fit): no previous run to compare segments "
        "with; no refit recommended."
    )
    assert data["segment_transitions"] == [[None, 1, 5], [None, 2, 3]]


def test_transitions_chart_of_an_older_publication_reads_what_it_has() -> None:
    with duckdb.connect() as con:
        _lifecycle_tables(con, runs=2)
        # No names, no timestamps, no segment_drift: ids label the nodes, the note says so.
        con.execute(
            "alter table segment_transitions drop from_segment_name; "
            "alter table segment_transitions drop to_segment_name; "
            "alter table segment_transitions drop to_run_started_at; drop table segment_drift"
        )
        data: dict = {}
        chart = report.transitions_chart(report.Published(con), data)
        assert chart.figure is not None
        assert list(chart.figure.data[0].node.label) == [
            "new customers",
            "1",
            "2",
            "1",
            "2",
            "gone",
        ]
        assert chart.note == "segment_drift is not published."
        con.execute("drop table segment_transitions")
        chart = report.transitions_chart(report.Published(con), data)
    assert chart.figure is None
    assert chart.note == "segment_transitions is not published. segment_drift is not published."

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

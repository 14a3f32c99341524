"""Checks of a written HTML report against the published database it was drawn from.

Used by the report tests on the demo build (test_end_to_end.py) and on the example
configurations (test_examples.py), which reuse those modules' builds.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pytest

from segmentation import report

# A reference to anything outside the file: an attribute, a CSS url() or @import, a <link>.
REMOTE = re.compile(
    r"""(?:\b(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)|(?:@import\b)|(?:<link\b)|fonts\.googleapis""",
    re.IGNORECASE,
)
SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.IGNORECASE | re.DOTALL)
DATA = re.compile(r"<script type='application/json' id='report-data'>(.*?)</script>", re.DOTALL)
CHROMIUM = "chromium"
PROBE = """<script>
window.__problems = [];
(function () {
  function note(what) { window.__problems.push(what); }
  function text(args) { return Array.prototype.map.call(args, String).join(' '); }
  var error = console.error, warn = console.warn;
  console.error = function () {
    note('console.error: ' + text(arguments)); error.apply(console, arguments);
  };
  console.warn = function () {
    note('console.warn: ' + text(arguments)); warn.apply(console, arguments);
  };
  window.addEventListener('error', function (e) {
    if (e.target && e.target !== window) {
      note('failed to load: ' + (e.target.src || e.target.href));
    } else {
      note('uncaught: ' + e.message);
    }
  }, true);
  window.addEventListener('unhandledrejection', function (e) {
    note('unhandled rejection: ' + e.reason);
  });
  window.addEventListener('load', function () { setTimeout(function () {
    var drawn = 0;
    document.querySelectorAll('.js-plotly-plot').forEach(function (div) {
      if (div.querySelector('.main-svg')) { drawn += 1; }
    });
    var pre = document.createElement('pre');
    pre.id = '__probe';
    pre.textContent = JSON.stringify({problems: window.__problems, plots: drawn});
    document.body.appendChild(pre);
  }, 500); });
})();
</script>"""


def remote_references(text: str) -> list[str]:
    """Every place the HTML (outside inline scripts) refers to something not in the file."""
    markup = SCRIPT.sub("", text)
    return [markup[max(0, m.start() - 40) : m.end() + 40] for m in REMOTE.finditer(markup)]


def embedded_data(text: str) -> dict[str, Any]:
    """The report's embedded JSON (summary figures, chart status)."""
    match = DATA.search(text)
    assert match, "the report has no report-data script"
    return json.loads(match.group(1).replace("<\\/", "</"))


def shown_charts(text: str) -> int:
    return len(re.findall(r'<div id="figure-', text))


def check_report(text: str, published: Path) -> dict[str, Any]:
    """Assert the report is offline, has every section, and states what the tables hold."""
    assert remote_references(text) == []
    for section_id, _ in report.SECTIONS:
        assert f'<section id="{section_id}">' in text, section_id
    data = embedded_data(text)
    with duckdb.connect(str(published), read_only=True) as con:

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return con.execute(sql).fetchall()

        assert data["customers"] == rows("select count(*) from customer_segments")[0][0]
        chosen = dict(rows("select method, k from clustering_metrics where is_selected"))
        assert data["chosen_k"] == chosen
        assert data["segments"] == chosen.get("kmeans")
        assert data["selection_reason"] == dict(
            rows("select method, selection_reason from clustering_metrics where is_selected")
        )
        rejects = rows("select source || '/' || reason, count(*) from rejects group by all")
        assert data["rejects_by_reason"] == dict(rejects)
        sizes = rows(
            "select kmeans_segment_id, count(*) from customer_segments group by all order by 1"
        )
        assert [(s["segment_id"], s["size"]) for s in data["segment_sizes"]["kmeans"]] == sizes
        assert data["run_id"] == rows("select run_id from current_run")[0][0]
        # The Sankey's flows are segment_transitions' rows into the latest run.
        flows = rows(
            "select from_segment_id, to_segment_id, customers from segment_transitions "
            "where to_invocation_id = (select to_invocation_id from segment_transitions "
            "order by to_run_started_at desc, to_invocation_id desc limit 1) "
            "order by from_segment_id nulls first, to_segment_id nulls last"
        )
        assert [tuple(flow) for flow in data["segment_transitions"]] == flows
        drift = rows(
            "select action, changed_segment_share, refit_recommended, refit_reason "
            "from segment_drift order by run_started_at desc limit 1"
        )[0]
        assert tuple(data["segment_drift"].values()) == drift
    # The summary's visible tables state the same figures.
    for key, n in data["rejects_by_reason"].items():
        source, reason = key.split("/")
        assert f"<td>{source}</td><td>{reason}</td><td class='num'>{n:,}</td>" in text
    for segment in data["segment_sizes"]["kmeans"]:
        assert f"<td class='num'>{segment['size']:,}</td>" in text
    assert f"<b>{data['customers']:,}</b> customers segmented" in text
    shown = [name for name, status in data["charts"].items() if status == "shown"]
    assert shown_charts(text) == len(shown)
    return data


def chromium() -> str | None:
    """Path of Debian's chromium, or None."""
    return shutil.which(CHROMIUM)


def require_chromium() -> str:
    """Chromium, or a skip naming it (a failure under CI, where .ci/run installs it)."""
    path = chromium()
    if path is None:
        message = "chromium is not installed (apt-get install -y chromium) for the browser check"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; .ci/run installs it, so CI must have it")
        pytest.skip(message)
    return path


def browser_check(html_path: Path) -> dict[str, Any]:
    """Open a copy of the report in headless Chromium; console errors and plots drawn.

    A probe script (console.error/warn, uncaught errors, failed loads) is put in front of the
    report's own scripts; its findings are read from the DOM Chromium dumps.
    """
    binary = require_chromium()
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "probe.html"
        text = html_path.read_text()
        probe.write_text(
            text.replace("<head>", "<head>" + PROBE, 1) if "<head>" in text else PROBE + text
        )
        completed = subprocess.run(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                f"--user-data-dir={folder}/profile",
                "--virtual-time-budget=20000",
                "--dump-dom",
                probe.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    match = re.search(r'<pre id="__probe">(.*?)</pre>', completed.stdout, re.DOTALL)
    assert match, f"chromium did not finish loading the report: {completed.stderr[-2000:]}"
    return json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))

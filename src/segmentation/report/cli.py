"""The command line, ``python -m segmentation.report``: the default published file and main."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from segmentation.publish import published_path_for
from segmentation.report.assembly import write_report
from segmentation.report.common import DEFAULT_DB, DEFAULT_OUT, DEFAULT_SAMPLE_SIZE, ReportError


def default_published() -> Path:
    """The published file of env SEGMENTS_DB_PATH (default segments.duckdb in the working dir).

    Returns
    -------
    pathlib.Path
        ``publish.published_path_for`` of ``$SEGMENTS_DB_PATH`` (or ``DEFAULT_DB``); the file may
        not exist.
    """
    return published_path_for(Path(os.environ.get("SEGMENTS_DB_PATH") or DEFAULT_DB))


def main(argv: list[str] | None = None) -> int:
    """``python -m segmentation.report``: write the HTML report; returns the exit status.

    Parameters
    ----------
    argv : list of str or None
        Command-line arguments (``--published``, ``--out``, ``--sample-size``); None reads
        ``sys.argv``.

    Returns
    -------
    int
        0 on success, 2 on a :class:`ReportError` (message on stderr).
    """
    parser = argparse.ArgumentParser(
        prog="python -m segmentation.report",
        description="Write the self-contained HTML report of the published segments database.",
    )
    parser.add_argument(
        "--published",
        type=Path,
        default=None,
        help="the published database (default: the publication of $SEGMENTS_DB_PATH, "
        "published/<database stem>/segments.duckdb next to it, or $SEGMENTS_PUBLISH_DIR)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    parser.add_argument(
        "--sample-size",
        type=int,
        default=DEFAULT_SAMPLE_SIZE,
        help="customers drawn for the PCA and silhouette plots (a seeded sample)",
    )
    args = parser.parse_args(argv)
    published = args.published or default_published()
    try:
        result = write_report(published, args.out, args.sample_size)
    except ReportError as error:
        print(f"segmentation.report: {error}", file=sys.stderr)
        return 2
    print(
        f"segmentation.report: wrote {result.path} ({result.size_bytes / 1e6:.1f} MB in "
        f"{result.seconds:.1f} s) from {published}"
    )
    return 0

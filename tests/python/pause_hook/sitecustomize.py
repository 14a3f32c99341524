"""Test-only pause inside the publication, installed by putting this folder on PYTHONPATH.

tests/python/test_reliability.py starts ``dbt build`` with ``PYTHONPATH=<this folder>`` and
``SEGMENTS_TEST_PAUSE_SECONDS``; Python imports this module at start-up and wraps
``segmentation.publish._point_current`` (the first of the two renames that switch readers to the
new run): the wrapper prints ``segmentation: paused in segment_publication`` to stderr and sleeps,
so the test can kill the build after the temporary DuckDB file and the Parquet folder of the new
run are complete and before readers are switched. Production code has no hook: without this
folder on the path nothing is wrapped.
"""

import os
import sys
import time

PAUSE_MESSAGE = "segmentation: paused in segment_publication"

if os.environ.get("SEGMENTS_TEST_PAUSE_SECONDS"):
    from segmentation import publish

    _switch = publish._point_current

    def _paused_point_current(*args, **kwargs):
        seconds = float(os.environ["SEGMENTS_TEST_PAUSE_SECONDS"])
        print(f"{PAUSE_MESSAGE} for {seconds:g} s", file=sys.stderr, flush=True)
        time.sleep(seconds)
        return _switch(*args, **kwargs)

    publish._point_current = _paused_point_current

"""``python -m segmentation.report``: write the HTML report (:func:`segmentation.report.main`)."""

import sys

from segmentation.report.cli import main

sys.exit(main())

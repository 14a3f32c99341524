"""Customer segmentation engine: the algorithms behind the dbt project's Python models.

The dbt Python models under ``models/`` stay thin: they read their configuration and refs, call a
function of this package and return a table. Everything here is typed, seeded and unit tested with
pytest, with no dbt import, so it can be exercised without a warehouse.

Numerics run on one BLAS and one OpenMP thread per process, set once here. dbt runs two Python
models at a time in threads of one process, and thread-pool limits are process-wide: a model that
set and restored its own limit (``threadpoolctl.threadpool_limits`` as a context) changed the
thread count of the model running beside it mid-computation, so a matrix product could be summed
in another order from one build to the next and a silhouette differ in its last digits. With the
limit fixed for the whole process every run sums in the same order; the 2-core parallelism comes
from dbt's threads and the package's own worker threads (K-Means sweep, silhouette blocks).
"""

import numpy as _numpy  # noqa: F401  (loads numpy's BLAS before the limit is set)
import scipy.linalg as _scipy_linalg  # noqa: F401  (scipy's own BLAS)
import sklearn.cluster as _sklearn_cluster  # noqa: F401  (the OpenMP runtime of scikit-learn)
from threadpoolctl import threadpool_limits as _threadpool_limits

_threadpool_limits(limits=1)

__version__ = "0.1.0"

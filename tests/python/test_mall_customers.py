"""Golden figures on the real Mall Customers data (../shared/data/mall_customers).

Reference figures: ../shared/data/README.md (K-Means, k-means++, n_init=10, standardised Annual
Income and Spending Score). The data is read in place, never copied into the repository.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from segmentation.pipeline import kmeans_centroids_table, kmeans_sweep_table
from segmentation.preprocessing_tables import fit_spec_table, transform_table
from segmentation.settings import SegmentationSettings

REFERENCE_STANDARDISED_SILHOUETTE = {3: 0.4666, 4: 0.4939, 5: 0.5547, 6: 0.5377}


@pytest.fixture(scope="module")
def mall(shared_data: Path) -> pa.Table:
    path = shared_data / "mall_customers" / "Mall_Customers.csv"
    if not path.is_file():
        pytest.skip(f"real data set not found: {path} is missing")
    table = pacsv.read_csv(path)
    assert table.column_names == [
        "CustomerID",
        "Gender",
        "Age",
        "Annual Income (k$)",
        "Spending Score (1-100)",
    ]
    return table.rename_columns(["customer_id", "gender", "age", "annual_income", "spending_score"])


@pytest.fixture(scope="module")
def settings() -> SegmentationSettings:
    return SegmentationSettings.from_config(
        {
            "features": [
                {"name": "annual_income", "label": "income"},
                {"name": "spending_score", "label": "spending"},
            ],
            "clustering": {
                "methods": ["kmeans"],
                "k_min": 2,
                "k_max": 10,
                "n_init": 10,
                "seed": 42,
            },
        }
    )


@pytest.fixture(scope="module")
def result(mall, settings):
    spec = fit_spec_table(mall, settings)
    sweep = kmeans_sweep_table(transform_table(mall, spec), settings.clustering)
    return spec, sweep, {row["k"]: row for row in sweep.to_pylist()}


def _array(matrix: pa.Table) -> np.ndarray:
    return np.column_stack([matrix.column(c).to_numpy() for c in matrix.column_names[1:]])


def test_data_summary(mall):
    assert mall.num_rows == 200
    gender = mall.column("gender").to_pylist()
    assert (gender.count("Female"), gender.count("Male")) == (112, 88)
    assert np.mean(mall.column("age").to_numpy()) == pytest.approx(38.85)


def test_automatic_k_is_five(result):
    _, _, rows = result
    selected = [k for k, row in rows.items() if row["is_selected"]]
    assert selected == [5]
    assert rows[5]["selection_reason"] == (
        "best silhouette 0.555 at k=5; inertia elbow (kneedle) also at k=5"
    )


def test_silhouette_and_sizes_at_five(result):
    _, _, rows = result
    assert rows[5]["silhouette"] == pytest.approx(0.5547, abs=0.001)
    assert rows[5]["silhouette_method"] == "exact"
    assert rows[5]["cluster_sizes"] == [81, 39, 35, 23, 22]


@pytest.mark.parametrize("k", [3, 4, 6])
def test_reference_silhouettes(result, k):
    _, _, rows = result
    assert rows[k]["silhouette"] == pytest.approx(REFERENCE_STANDARDISED_SILHOUETTE[k], abs=0.002)


def test_silhouette_peaks_at_five(result):
    _, _, rows = result
    assert max(rows, key=lambda k: rows[k]["silhouette"]) == 5
    inertia = [rows[k]["inertia"] for k in sorted(rows)]
    assert all(b <= a for a, b in itertools.pairwise(inertia))


def test_segments_in_original_units(mall, result, settings):
    spec, sweep, _ = result
    X = _array(transform_table(mall, spec))
    table = kmeans_centroids_table(sweep, spec, settings, X).to_pylist()
    income = {
        r["segment_id"]: r["value_original"] for r in table if r["feature"] == "annual_income"
    }
    names = {r["segment_id"]: r["segment_name"] for r in table}
    # the classic five groups: an average middle and the four corners of income x spending
    assert names[1] == "Average"
    assert income[1] == pytest.approx(55.3, abs=0.1)
    assert names == {
        1: "Average",
        2: "High spending · High income",
        3: "Low spending · High income",
        4: "Low income · Low spending",
        5: "Low income · High spending",
    }

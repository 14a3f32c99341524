"""K-Means for every k of the configured range: metrics, centroids and the selected k."""

from segmentation import pipeline


def model(dbt, session):
    """Build ml_kmeans_sweep with segmentation.pipeline.kmeans_sweep."""
    dbt.config(materialized="table")
    config = dbt.config.get("segmentation")
    matrix = dbt.ref("ml_feature_matrix")
    return pipeline.kmeans_sweep(matrix.order("customer_id").to_arrow_table(), config)

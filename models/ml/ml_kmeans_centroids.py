"""Centroids of the selected K-Means fit with stable segment ids, generated names and
descriptions (of the customers nearest to each centroid)."""

from segmentation import pipeline


def model(dbt, session):
    """Build ml_kmeans_centroids with segmentation.pipeline.kmeans_centroids."""
    dbt.config(materialized="table")
    config = dbt.config.get("segmentation")
    sweep = dbt.ref("ml_kmeans_sweep")
    spec = dbt.ref("ml_preprocessing_spec")
    matrix = dbt.ref("ml_feature_matrix")
    return pipeline.kmeans_centroids(
        sweep.to_arrow_table(),
        spec.to_arrow_table(),
        config,
        matrix.order("customer_id").to_arrow_table(),
    )

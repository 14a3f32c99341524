"""Every customer's nearest K-Means centroid, distance, and silhouette where it was computed."""

from segmentation import pipeline


def model(dbt, session):
    """Build ml_kmeans_assignments with segmentation.pipeline.kmeans_assignments."""
    dbt.config(materialized="table")
    config = dbt.config.get("segmentation")
    matrix = dbt.ref("ml_feature_matrix")
    centroids = dbt.ref("ml_kmeans_centroids")
    return pipeline.kmeans_assignments(
        matrix.order("customer_id").to_arrow_table(), centroids.to_arrow_table(), config
    )

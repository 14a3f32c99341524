"""Centroids of the selected K-Means fit with stable segment ids and generated names."""

from segmentation import pipeline


def model(dbt, session):
    dbt.config(materialized="table")
    config = dbt.config.get("segmentation")
    sweep = dbt.ref("ml_kmeans_sweep")
    spec = dbt.ref("ml_preprocessing_spec")
    return pipeline.kmeans_centroids(sweep.to_arrow_table(), spec.to_arrow_table(), config)

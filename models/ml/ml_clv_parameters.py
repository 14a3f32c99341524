"""Fit BG/NBD and Gamma-Gamma once: parameters, fit status and diagnostics."""

from segmentation import pipeline


def model(dbt, session):
    """Build ml_clv_parameters with segmentation.pipeline.clv_parameters."""
    dbt.config(materialized="table")
    config = dbt.config.get("segmentation")
    summary = dbt.ref("int_customer_clv_summary")
    return pipeline.clv_parameters(summary.order("customer_id").to_arrow_table(), config)

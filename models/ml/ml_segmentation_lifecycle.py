"""This build's lifecycle decision: fit a new segmentation model or score with the active one.

Reads the state of earlier builds (segmentation_models, segment_membership_history) by name:
they are downstream of this model (they append its output), so a ref would be a cycle; on the
first build they do not exist yet. See docs/lifecycle.md and segmentation.lifecycle.
"""

from datetime import UTC, datetime

from segmentation import lifecycle, pipeline


def _state(session, this, name, sql, full_refresh):
    """An earlier build's state table by name, or None (first build, or --full-refresh)."""
    if full_refresh:
        return None
    found = session.execute(
        "select count(*) from duckdb_tables() "
        "where database_name = ? and schema_name = ? and table_name = ?",
        [this.database, this.schema, name],
    ).fetchall()[0][0]
    if not found:
        return None
    relation = f'"{this.database}"."{this.schema}"."{name}"'
    return session.sql(sql.format(relation=relation)).to_arrow_table()


def model(dbt, session):
    """This build's lifecycle decision (segmentation.lifecycle.lifecycle_table)."""
    dbt.config(materialized="table")
    run = pipeline.dbt_run(session)
    full_refresh = bool(run.get("full_refresh"))
    config = dbt.config.get("segmentation")
    mode_override = dbt.config.get("segments_lifecycle_mode")
    features = dbt.ref("customer_features")
    spec = dbt.ref("ml_preprocessing_spec")
    sweep = dbt.ref("ml_kmeans_sweep")
    centroids = dbt.ref("ml_kmeans_centroids")
    assignments = dbt.ref("ml_kmeans_assignments")
    # The first and last order_date of stg_order_lines, from one row per customer instead of
    # every order line (int_customer_orders.first_line_date / last_line_date: any status).
    orders = dbt.ref("int_customer_orders")
    window = orders.aggregate("min(first_line_date), max(last_line_date)").fetchall()[0]
    reference = features.aggregate("max(reference_date)").fetchall()[0][0]
    models = _state(
        session, dbt.this, "segmentation_models", "select * from {relation}", full_refresh
    )
    membership = _state(
        session,
        dbt.this,
        "segment_membership_history",
        "select customer_id, segment_id from {relation} "
        "where run_started_at = (select max(run_started_at) from {relation})",
        full_refresh,
    )
    # customer_id and the features of the configuration and of the stored models only.
    features = pipeline.feature_columns(features, lifecycle.needed_features(config, models))
    context = lifecycle.RunContext(
        invocation_id=run.get("invocation_id") or "unknown",
        run_started_at=datetime.now(UTC).replace(tzinfo=None),
        first_order_date=window[0],
        last_order_date=window[1],
        reference_date=reference,
    )
    return lifecycle.lifecycle_table(
        features.order("customer_id").to_arrow_table(),
        spec.to_arrow_table(),
        sweep.to_arrow_table(),
        centroids.to_arrow_table(),
        # Only the mean distance to the centroid is used: not the ids, silhouettes and flags.
        assignments.select("distance_to_centroid").to_arrow_table(),
        config,
        mode_override,
        models,
        membership,
        context,
    )

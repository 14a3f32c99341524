"""This build's lifecycle decision: fit a new segmentation model or score with the active one.

Reads the state of earlier builds (segmentation_models, segment_membership_history) by name:
they are downstream of this model (they append its output), so a ref would be a cycle; on the
first build they do not exist yet. See docs/lifecycle.md and segmentation.lifecycle.
"""

from datetime import UTC, datetime

from segmentation import lifecycle


def _run_id():
    """The live dbt invocation id (a YAML-rendered one can be stale under partial parsing)."""
    try:
        from dbt_common.invocation import get_invocation_id
    except ImportError:
        return None
    return get_invocation_id()


def _full_refresh():
    """Whether the running command has --full-refresh: the state tables start over."""
    try:
        from dbt.flags import get_flags
    except ImportError:
        return False
    return bool(getattr(get_flags(), "FULL_REFRESH", False))


def _state(session, this, name, sql):
    if _full_refresh():
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
    dbt.config(materialized="table")
    config = dbt.config.get("segmentation")
    mode_override = dbt.config.get("segments_lifecycle_mode")
    features = dbt.ref("customer_features")
    spec = dbt.ref("ml_preprocessing_spec")
    sweep = dbt.ref("ml_kmeans_sweep")
    centroids = dbt.ref("ml_kmeans_centroids")
    assignments = dbt.ref("ml_kmeans_assignments")
    order_lines = dbt.ref("stg_order_lines")
    window = order_lines.aggregate("min(order_date), max(order_date)").fetchall()[0]
    reference = features.aggregate("max(reference_date)").fetchall()[0][0]
    models = _state(session, dbt.this, "segmentation_models", "select * from {relation}")
    membership = _state(
        session,
        dbt.this,
        "segment_membership_history",
        "select customer_id, segment_id from {relation} "
        "where run_started_at = (select max(run_started_at) from {relation})",
    )
    context = lifecycle.RunContext(
        invocation_id=_run_id() or "unknown",
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
        assignments.to_arrow_table(),
        config,
        mode_override,
        models,
        membership,
        context,
    )

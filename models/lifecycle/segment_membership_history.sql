{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
    )
}}
{#-
    Each customer's segment per build (run): customer x run, appended by every build, with the
    model that scored it. Grows by one row per customer per run; prune it with a delete on
    run_started_at (docs/lifecycle.md).
-#}

with

scores as (

    select * from {{ ref('segment_scores') }}

),

lifecycle as (

    select * from {{ ref('ml_segmentation_lifecycle') }}

),

final as (

    select
        lifecycle.invocation_id,
        lifecycle.run_started_at,
        scores.customer_id,
        scores.model_id,
        scores.segment_id,
        scores.segment_name,
        scores.distance_to_centroid,
    from scores
    cross join lifecycle

)

select * from final

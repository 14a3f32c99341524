{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
    )
}}
{#-
    One row per build: whether it fitted or scored and why, and the drift of its customers
    against the model active when it started (PSI, changed-segment share, distance ratio) with
    refit_recommended and its reason. Thresholds: segmentation.lifecycle (docs/lifecycle.md).
-#}

with

lifecycle as (

    select * from {{ ref('ml_segmentation_lifecycle') }}

),

final as (

    select
        invocation_id,
        run_started_at,
        mode,
        action,
        action_reason,
        model_id,
        drift_model_id,
        customers,
        max_psi,
        max_psi_feature,
        changed_segment_share,
        mean_distance,
        model_mean_distance,
        distance_ratio,
        refit_recommended,
        refit_reason,
    from lifecycle

)

select * from final

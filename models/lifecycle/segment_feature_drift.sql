{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
    )
}}
{#-
    One row per build and feature: the population stability index of the feature on this
    build's customers against the training bins of the model active when the build started.
-#}

with

lifecycle as (

    select * from {{ ref('ml_segmentation_lifecycle') }}

),

psi as (

    select
        invocation_id,
        run_started_at,
        drift_model_id,
        unnest(feature_psi, recursive := true),  -- noqa: AL03
    from lifecycle

),

final as (

    select
        invocation_id,
        run_started_at,
        drift_model_id,
        feature,
        psi,
        is_drifted,
    from psi

)

select * from final

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='model_id',
        on_schema_change='fail',
    )
}}
{#-
    The registry of fitted segmentation models: one row per model, appended when a build fits
    (ml_segmentation_lifecycle.is_new_model). Rows are never deleted; the only update is the
    is_active flag of the model a new fit replaces (delete+insert of that one row), so exactly
    one row is active. dbt build --full-refresh empties the registry (docs/lifecycle.md).
-#}

with

lifecycle as (

    select * from {{ ref('ml_segmentation_lifecycle') }}

),

new_model as (

    select
        model_id,
        fitted_at,
        fitted_invocation_id,
        data_first_order_date,
        data_last_order_date,
        data_reference_date,
        training_customers,
        config_hash,
        k,
        inertia,
        silhouette,
        calinski_harabasz,
        davies_bouldin,
        model_training_mean_distance as mean_distance,
        previous_model_id,
        spec,
        centroids,
        training_bins,
        lineage,
        true as is_active,
    from lifecycle
    where is_new_model

),

{% if is_incremental() %}
replaced as (

    select * replace (false as is_active)  -- noqa: AL03
    from {{ this }}
    where is_active and exists (select 1 as found from new_model)

),
{% endif %}

final as (

    select * from new_model
    {%- if is_incremental() %}
    union all by name
    select * from replaced
    {%- endif %}

)

select * from final

{#-
    Which segment of a model became which segment of the next one (segmentation_models.lineage):
    matched (same id and name kept), new (a new id) or vanished (a previous segment without a
    match). The first model lists its segments as new without a previous model.
-#}

with

models as (

    select * from {{ ref('segmentation_models') }}

),

lineage as (

    select
        model_id,
        fitted_at,
        unnest(lineage, recursive := true),  -- noqa: AL03
    from models

),

final as (

    select
        model_id,
        fitted_at,
        previous_model_id,
        previous_segment_id,
        previous_segment_name,
        segment_id,
        segment_name,
        centroid_distance,
        status,
    from lineage

)

select * from final

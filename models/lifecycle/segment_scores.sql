{#-
    Every customer scored in SQL with the model this build uses (ml_segmentation_lifecycle: the
    active model, or the one fitted by this build): its segment id and name and the distance to
    the segment's centroid. customer_segments takes its K-Means columns from here.
-#}

with

features as (

    select * from {{ ref('customer_features') }}

),

scores as (

    {{ segments_score_with_model('features', ref('ml_segmentation_lifecycle')) }}

),

final as (

    select * from scores

)

select * from final

{#-
    The K-Means segments' centroids of the model this build uses (ml_segmentation_lifecycle:
    the active model or the one this build fitted), per output column, in scaled and original
    units. Segment ids are the stable ids of docs/lifecycle.md.
-#}

with

lifecycle as (

    select * from {{ ref('ml_segmentation_lifecycle') }}

),

centroids as (

    select
        lifecycle.k,
        unnest(lifecycle.centroids, recursive := true),  -- noqa: AL03
    from lifecycle

),

final as (

    select
        cast(k as integer) as k,
        cast(segment_id as integer) as segment_id,
        cast(segment_name as varchar) as segment_name,
        cast(size as bigint) as size,
        cast(feature as varchar) as feature,
        cast(output_column as varchar) as output_column,
        cast(value_scaled as double) as value_scaled,
        cast(value_original as double) as value_original,
    from centroids

)

select * from final

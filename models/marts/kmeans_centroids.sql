{#- The selected K-Means segments' centroids, per output column, in scaled and original units. -#}

with

centroids as (

    select * from {{ ref('ml_kmeans_centroids') }}

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

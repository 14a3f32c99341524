-- Every method in clustering_metrics has exactly one selected k.
with

metrics as (

    select * from {{ ref('clustering_metrics') }}

),

per_method as (

    select
        method,
        count(*) filter (where is_selected) as selected_rows,
    from metrics
    group by method

),

final as (

    select * from per_method
    where selected_rows != 1

)

select * from final

{#- The hierarchical merge tree, one row per merge, so a BI tool can draw the dendrogram. -#}

with

linkage as (

    select * from {{ ref('ml_hierarchical_linkage') }}

),

final as (

    select
        cast(step as integer) as step,
        cast(left_node as bigint) as left_node,
        cast(right_node as bigint) as right_node,
        cast(distance as double) as distance,
        cast(size as bigint) as size,
        cast(scheme as varchar) as scheme,
        cast(linkage_method as varchar) as linkage_method,
        cast(n_leaves as bigint) as n_leaves,
        cast(n_customers as bigint) as n_customers,
    from linkage

)

select * from final

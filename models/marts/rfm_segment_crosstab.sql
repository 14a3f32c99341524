{#-
    How the RFM segments (customer_rfm) and the K-Means segments (customer_segments) overlap:
    one row per combination that has customers, with the count and its share of the RFM segment,
    of the K-Means segment and of all customers (a contract).
-#}

with

rfm as (

    select * from {{ ref('customer_rfm') }}

),

segments as (

    select * from {{ ref('customer_segments') }}

),

counts as (

    select
        rfm.rfm_segment,
        segments.kmeans_segment_id,
        segments.kmeans_segment_name,
        count(*) as customers,

    from rfm
    left join segments
        on rfm.customer_id = segments.customer_id
    group by rfm.rfm_segment, segments.kmeans_segment_id, segments.kmeans_segment_name

),

final as (

    select
        rfm_segment,
        cast(kmeans_segment_id as bigint) as kmeans_segment_id,
        kmeans_segment_name,
        cast(customers as bigint) as customers,
        cast(customers / sum(customers) over (partition by rfm_segment) as double)
            as share_of_rfm_segment,
        cast(customers / sum(customers) over (partition by kmeans_segment_id) as double)
            as share_of_kmeans_segment,
        cast(customers / sum(customers) over () as double) as share_of_customers,

    from counts

)

select * from final

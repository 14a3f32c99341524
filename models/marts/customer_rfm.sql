{#-
    RFM scores and segments, one row per customer of customer_features (a contract).

    Scores 1..5 are quintiles among the customers with purchases, computed with a tie-safe rank
    rule: score = 1 + floor(5 * (rank - 1) / n), where n is the number of customers with
    purchases and rank = 1 + the number of them with a strictly worse value (SQL rank()). Equal
    values always get equal scores; the worst value scores 1; a score can stay unused when many
    customers share a value (e.g. one-time buyers all get F = 1). Worse means: a longer time since
    the last purchase for R (so the most recent customers score 5), fewer orders for F, a lower
    spend for M. The segment comes from the seed rfm_segment_map by (R, F); customers without
    purchases get no scores and the segment 'No purchases'. Without an order input there is no
    RFM at all: every customer has rfm_status and rfm_segment 'not applicable: no order input'.
-#}
{%- set has_orders_input = segments_has_input('orders') %}
{%- set has_orders = 'true' if has_orders_input else 'false' %}

with

features as (

    select * from {{ ref('customer_features') }}

),

segment_map as (

    select * from {{ ref('rfm_segment_map') }}

),

customers as (

    select
        customer_id,
        {%- if has_orders_input %}
        frequency > 0 as has_purchases,
        recency_days,
        frequency,
        monetary_value,
        {%- else %}
        false as has_purchases,
        cast(null as integer) as recency_days,
        cast(null as integer) as frequency,
        cast(null as double) as monetary_value,
        {%- endif %}

    from features

),

purchasers as (

    select
        *,
        count(*) over () as purchasers,
        rank() over (order by recency_days desc) as r_rank,
        rank() over (order by frequency asc) as f_rank,
        rank() over (order by monetary_value asc) as m_rank,

    from customers
    where has_purchases

),

scored as (

    select
        customer_id,
        cast(1 + (5 * (r_rank - 1)) // purchasers as integer) as r_score,
        cast(1 + (5 * (f_rank - 1)) // purchasers as integer) as f_score,
        cast(1 + (5 * (m_rank - 1)) // purchasers as integer) as m_score,

    from purchasers

),

final as (

    select
        customers.customer_id,
        customers.has_purchases,
        cast(customers.recency_days as integer) as recency_days,
        cast(customers.frequency as integer) as frequency,
        cast(customers.monetary_value as double) as monetary_value,
        scored.r_score,
        scored.f_score,
        scored.m_score,
        cast(scored.r_score as varchar)
        || cast(scored.f_score as varchar)
        || cast(scored.m_score as varchar) as rfm_score,
        case
            when not {{ has_orders }} then 'Not applicable: no order input'
            when not customers.has_purchases then 'No purchases'
            else segment_map.rfm_segment
        end as rfm_segment,
        case
            when not {{ has_orders }} then 'not applicable: no order input'
            when customers.has_purchases then 'scored'
            else 'no purchases'
        end as rfm_status,

    from customers
    left join scored
        on customers.customer_id = scored.customer_id
    left join segment_map
        on
            scored.r_score = segment_map.r_score
            and scored.f_score = segment_map.f_score

)

select * from final

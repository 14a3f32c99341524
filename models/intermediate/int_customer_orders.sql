{#- Order behaviour per customer who has at least one order line: RFM, value, returns, cadence. -#}

with

order_lines as (

    select * from {{ ref('stg_order_lines') }}

),

purchases as (

    -- Lines that count as a purchase: not cancelled, not a return.
    select * from order_lines
    where not is_cancelled and not is_return

),

per_customer_purchases as (

    select
        customer_id,
        count(distinct order_id) as frequency,
        sum(amount) as monetary_value,
        count(*) as purchased_lines,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,

    from purchases
    group by customer_id

),

per_customer_lines as (

    select
        customer_id,
        count(distinct order_id) as orders_placed,
        count(distinct case when is_cancelled then order_id end) as orders_cancelled,
        count(*) filter (where is_return) as returned_lines,
        coalesce(-sum(amount) filter (where is_return), 0) as returned_value,

    from order_lines
    group by customer_id

),

final as (

    select
        lines.customer_id,
        lines.orders_placed,
        lines.orders_cancelled,
        coalesce(purchases.frequency, 0) as frequency,
        coalesce(purchases.monetary_value, 0) as monetary_value,
        coalesce(purchases.purchased_lines, 0) as purchased_lines,
        lines.returned_lines,
        lines.returned_value,
        purchases.first_order_at,
        purchases.last_order_at,

    from per_customer_lines as lines
    left join per_customer_purchases as purchases
        on lines.customer_id = purchases.customer_id

)

select * from final

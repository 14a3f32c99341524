{#-
    Order behaviour per customer who has at least one order line: RFM, value, returns, cadence.
    Returns have one sign convention (docs/use_your_own_data.md, "Returns"): a line is a
    return when its status is returned or its amount is negative (is_return, staging), and its
    value counts as a positive returned amount whatever sign the export gives it. return_rate
    is returned_value / monetary_value capped at 1: returns that exceed the purchases of the
    window (goods bought before it, or returns without any purchase) give 1, and net_revenue
    may then be negative.
-#}

with

order_lines as (

    select * from {{ ref('stg_order_lines') }}

),

orders as (

    -- One row per order. A purchase line is neither cancelled nor a return.
    select
        customer_id,
        order_id,
        count(*) filter (where not is_cancelled and not is_return) as purchased_lines,
        sum(amount) filter (where not is_cancelled and not is_return) as purchased_value,
        min(ordered_at) filter (where not is_cancelled and not is_return) as first_purchase_at,
        max(ordered_at) filter (where not is_cancelled and not is_return) as last_purchase_at,
        min(order_date) filter (where not is_cancelled and not is_return) as first_purchase_date,
        max(order_date) filter (where not is_cancelled and not is_return) as last_purchase_date,
        min(order_date) as first_line_date,
        max(order_date) as last_line_date,
        bool_or(is_cancelled) as has_cancelled_line,
        count(*) filter (where is_return) as returned_lines,
        sum(abs(amount)) filter (where is_return) as returned_amount,

    from order_lines
    group by customer_id, order_id

),

customers as (

    select
        customer_id,
        count(*) as orders_placed,
        count(*) filter (where has_cancelled_line) as orders_cancelled,
        count(*) filter (where purchased_lines > 0) as frequency,
        coalesce(sum(purchased_value), 0) as monetary_value,
        sum(purchased_lines) as purchased_lines,
        sum(returned_lines) as returned_lines,
        coalesce(sum(returned_amount), 0) as returned_value,
        min(first_purchase_at) as first_order_at,
        max(last_purchase_at) as last_order_at,
        min(first_purchase_date) as first_order_date,
        max(last_purchase_date) as last_order_date,
        min(first_line_date) as first_line_date,
        max(last_line_date) as last_line_date,

    from orders
    group by customer_id

),

final as (

    select
        *,
        monetary_value - returned_value as net_revenue,
        case
            when monetary_value > 0 then least(returned_value / monetary_value, 1)
            when returned_value > 0 then 1
            else 0
        end as return_rate,

    from customers

)

select * from final

{#-
    Given order ids whose usable lines (no reject reason in base_order_lines_checked) name more
    than one customer: one row per customer of such an order. The customer with strictly the
    most of the order's usable lines owns the order (is_owner) and keeps them; the other
    customers' lines are rejected as order_id_conflict by base_order_lines_resolved. When
    several customers tie for the most, nobody owns the order and all its lines are rejected.
    Derived order ids (customer_id || '@' || ordered_at) cannot be shared. Only the lines
    flagged is_order_id_shared (the raw rows of the order name more than one customer id) are
    read, so this stays small whatever the number of lines.
-#}

with

order_lines as (

    select * from {{ ref('base_order_lines_checked') }}

),

usable_shared_lines as (

    select
        order_id,
        customer_id,

    from order_lines
    where is_order_id_shared and reject_reason is null

),

order_customers as (

    select
        order_id,
        customer_id,
        count(*) as customer_lines,

    from usable_shared_lines
    group by all

),

ranked as (

    select
        *,
        count(*) over (partition by order_id) as order_customer_count,
        sum(customer_lines) over (partition by order_id) as order_lines,
        count(*) over (partition by order_id, customer_lines) as customers_with_as_many_lines,
        rank() over (partition by order_id order by customer_lines desc) as customer_rank,

    from order_customers

),

shared as (

    select * from ranked
    where order_customer_count > 1

),

final as (

    select
        order_id,
        customer_id,
        customer_lines,
        order_customer_count,
        cast(order_lines as bigint) as order_lines,
        customer_rank = 1 and customers_with_as_many_lines = 1 as is_owner,
        max(
            case
                when customer_rank = 1 and customers_with_as_many_lines = 1
                    then customer_id
            end
        ) over (partition by order_id) as owner_customer_id,
        max(case when customer_rank = 1 then customer_lines end) over (
            partition by order_id
        ) as owner_lines,

    from shared

)

select * from final

{#-
    Every row of base_orders with its final reject reason: the row checks of
    base_order_lines_checked, then the order-level rule order_id_conflict. A given order id whose
    usable lines (no reason from the row checks) name more than one customer belongs to the
    customer with strictly the most of those lines, who keeps them; the other customers' lines
    are rejected. When several customers tie for the most, nobody owns the order and all its
    lines are rejected. Derived order ids (customer_id || '@' || ordered_at) cannot be shared.
    stg_order_lines keeps the rows without a reason, rejects lists the others.
    A view: the conflicts are computed from the lines flagged is_order_id_shared alone (the raw
    rows of the order name more than one customer id), so they stay small whatever the number
    of lines, and joining them costs little each time the view is read.
-#}

with

order_lines as not materialized (

    -- Read twice (the shared lines, then every line): not materialized, so that DuckDB scans
    -- the table twice instead of copying all of it.
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

    -- One row per customer of a shared order id, with its usable lines.
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

conflicts as (

    -- The customers of the order ids whose usable lines name more than one customer; is_owner:
    -- strictly the most lines (owner_customer_id null on a tie).
    select
        order_id,
        customer_id,
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

    from ranked
    where order_customer_count > 1

),

joined as (

    select
        order_lines.*,
        order_lines.reject_reason is null and not conflicts.is_owner as is_conflict_reject,
        conflicts.order_customer_count,
        conflicts.order_lines as conflict_order_lines,
        conflicts.owner_customer_id,
        conflicts.owner_lines,

    from order_lines
    left join conflicts
        on
            order_lines.order_id = conflicts.order_id
            and order_lines.customer_id = conflicts.customer_id

),

final as (

    select
        -- copy_number tells exact copies apart (0 for the first copy of a row's values).
        concat_ws('/', order_id, line_number, source_row_key, nullif(copy_number, 0))
            as order_line_key,
        * exclude (
            reject_reason,
            reject_detail,
            raw_record,
            is_conflict_reject,
            order_customer_count,
            conflict_order_lines,
            owner_customer_id,
            owner_lines
        ),
        case
            when is_conflict_reject then 'order_id_conflict' else reject_reason
        end as reject_reason,
        case
            when is_conflict_reject
                then 'order_id = ' || {{ segments_quoted_value('order_id') }} || ' belongs to '
                    || order_customer_count || ' customers; '
                    || case
                        when owner_customer_id is not null
                            then 'kept the lines of customer_id '
                                || {{ segments_quoted_value('owner_customer_id') }} || ' ('
                                || owner_lines || ' of ' || conflict_order_lines || ' lines)'
                        else 'no customer has most of its ' || conflict_order_lines
                            || ' lines, none is kept'
                    end
            else reject_detail
        end as reject_detail,
        raw_record,

    from joined

)

select * from final

{#-
    Every row of base_orders with its final reject reason: the row checks of
    base_order_lines_checked, then the order-level rule order_id_conflict (base_order_id_conflicts:
    the lines of a shared order id that belong to a customer who does not own the order).
    stg_order_lines keeps the rows without a reason, rejects lists the others. A view: the
    conflicts table is small, so the join costs little each time it is read.
-#}

with

order_lines as (

    select * from {{ ref('base_order_lines_checked') }}

),

conflicts as (

    select * from {{ ref('base_order_id_conflicts') }}

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
            copy_number,
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

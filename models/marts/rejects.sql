{#-
    One row per raw row that staging could not use, with a stable reason code (the checks are in
    base_customers_checked, base_order_lines_checked and base_order_lines_resolved), a
    human-readable detail naming the column and the value, and the raw row as JSON text. Every
    reason, with its detail's template, is a row of the seed reject_reasons (tested on this
    model: relationships, tests/assert_reject_details_follow_reject_reasons.sql).
-#}
-- depends_on: {{ ref('reject_reasons') }}

with

customers as (

    select * from {{ ref('base_customers_checked') }}

),

order_lines as (

    select * from {{ ref('base_order_lines_resolved') }}

),

rejected_customers as (

    select
        'customers' as source,
        source_row_key,
        customer_id as record_key,
        reject_reason as reason,
        reject_detail as detail,
        raw_record,

    from customers
    where reject_reason is not null

),

rejected_order_lines as (

    select
        'orders' as source,
        source_row_key,
        nullif(concat_ws('/', order_id, line_number), '') as record_key,
        reject_reason as reason,
        reject_detail as detail,
        raw_record,

    from order_lines
    where reject_reason is not null

),

final as (

    select * from rejected_customers
    union all
    select * from rejected_order_lines

)

select * from final

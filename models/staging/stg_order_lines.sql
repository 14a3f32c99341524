{#- The usable order lines: the rows of base_order_lines_resolved without a reject reason. -#}
-- depends_on: {{ ref('stg_input_checks') }}

with

checked as (

    select * from {{ ref('base_order_lines_resolved') }}

),

kept as (

    select * from checked
    where reject_reason is null

),

final as (

    select
        order_line_key,
        order_id,
        line_number,
        customer_id,
        ordered_at,
        order_date,
        product_category,
        sales_channel,
        quantity,
        amount,
        status,
        is_cancelled,
        is_return,
        source_row_key,

    from kept

)

select * from final

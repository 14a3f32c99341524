{#-
    Nothing is silently dropped: for each input, the rows of the base view equal the rows kept by
    staging plus the rows in rejects. Returns one row per input whose counts do not add up.
-#}

with

base_customers as (

    select count(*) as row_count from {{ ref('base_customers') }}

),

base_orders as (

    select count(*) as row_count from {{ ref('base_orders') }}

),

staged_customers as (

    select count(*) as row_count from {{ ref('stg_customers') }}

),

staged_order_lines as (

    select count(*) as row_count from {{ ref('stg_order_lines') }}

),

rejected as (

    select
        count(*) filter (where source = 'customers') as customers,
        count(*) filter (where source = 'orders') as orders,

    from {{ ref('rejects') }}

),

accounts as (

    select
        'customers' as source,
        base_customers.row_count as base_rows,
        staged_customers.row_count as staged_rows,
        rejected.customers as rejected_rows,

    from base_customers
    cross join staged_customers
    cross join rejected

    union all

    select
        'orders' as source,
        base_orders.row_count as base_rows,
        staged_order_lines.row_count as staged_rows,
        rejected.orders as rejected_rows,

    from base_orders
    cross join staged_order_lines
    cross join rejected

),

final as (

    select * from accounts
    where base_rows != staged_rows + rejected_rows

)

select * from final

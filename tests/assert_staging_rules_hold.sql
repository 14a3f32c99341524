{#-
    The cleaning rules hold on the staged data (one row per violation, naming the rule):
    ages inside var('segments_plausible_age'), no birth date after the reference date, incomes
    inside var('segments_plausible_income'), the status flags consistent with status and amount,
    order_date the date of ordered_at, order dates from 1970-01-01 to the last plausible order
    date, one customer per order_id, and every duplicate_customer_id reject has a kept customer
    with its id.
-#}
{%- set plausible_age = var('segments_plausible_age', [16, 100]) -%}
{%- set plausible_income = segments_plausible_range('segments_plausible_income', [0, 10000000]) -%}

with

customers as (

    select * from {{ ref('stg_customers') }}

),

order_lines as (

    select * from {{ ref('stg_order_lines') }}

),

rejects as (

    select * from {{ ref('rejects') }}

),

reference as (

    select {{ segments_reference_date() }} as reference_date

),

customer_violations as (

    select
        'age_years outside segments_plausible_age' as rule,
        customers.customer_id as record_key,

    from customers
    where
        customers.age_years < {{ plausible_age[0] }}
        or customers.age_years > {{ plausible_age[1] }}

    union all

    select
        'birth_date after the reference date' as rule,
        customers.customer_id as record_key,

    from customers
    cross join reference
    where customers.birth_date > reference.reference_date

    union all

    select
        'income outside segments_plausible_income' as rule,
        customers.customer_id as record_key,

    from customers
    where
        customers.income < {{ plausible_income[0] }}
        or customers.income > {{ plausible_income[1] }}

),

flagged_lines as (

    -- Each line that breaks a line rule (a null comparison breaks none) as a list: its key, then
    -- per rule the rule's name or null; null for the other lines, whose key text is not built.
    select
        order_id,
        customer_id,
        case
            when
                is_cancelled != (status = 'cancelled')
                or is_return != (status = 'returned' or amount < 0)
                or order_date != cast(ordered_at as date)
                or order_date < date '1970-01-01'
                or order_date > {{ segments_latest_order_date().expression }}
                then [
                        order_line_key,
                        case
                            when
                                is_cancelled != (status = 'cancelled')
                                or is_return != (status = 'returned' or amount < 0)
                                then 'is_cancelled or is_return inconsistent with status and amount'
                        end,
                        case
                            when order_date != cast(ordered_at as date)
                                then 'order_date is not the date of ordered_at'
                        end,
                        case
                            when
                                order_date < date '1970-01-01'
                                or order_date > {{ segments_latest_order_date().expression }}
                                then 'order_date before 1970 or after the last plausible order date'
                        end,
                    ]
        end as broken_line,

    from order_lines

),

orders as (

    -- One pass over the lines (DuckDB would copy them to read them twice): per order id its
    -- lowest and highest customer id (more than one customer when they differ; nulls are
    -- ignored, as count(distinct) ignores them) and its lines that break a line rule.
    select
        order_id,
        min(customer_id) as min_customer_id,
        max(customer_id) as max_customer_id,
        list(broken_line) filter (where broken_line is not null) as broken_lines,

    from flagged_lines
    group by order_id

),

broken_lines as (

    select unnest(broken_lines) as broken_line
    from orders
    where len(broken_lines) > 0

),

broken_line_rules as (

    select
        unnest(broken_line[2:]) as rule,
        broken_line[1] as record_key,

    from broken_lines

),

order_line_violations as (

    select
        rule,
        record_key,

    from broken_line_rules
    where rule is not null

),

shared_orders as (

    select
        'order_id with more than one customer' as rule,
        order_id as record_key,

    from orders
    where min_customer_id != max_customer_id

),

orphan_duplicates as (

    select
        'duplicate_customer_id reject without a kept customer' as rule,
        rejects.record_key,

    from rejects
    left join customers
        on rejects.record_key = customers.customer_id
    where
        rejects.reason = 'duplicate_customer_id'
        and customers.customer_id is null

),

final as (

    select * from customer_violations
    union all
    select * from order_line_violations
    union all
    select * from shared_orders
    union all
    select * from orphan_duplicates

)

select * from final

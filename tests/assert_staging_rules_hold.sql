{#-
    The cleaning rules hold on the staged data (one row per violation, naming the rule):
    ages inside var('segments_plausible_age'), no birth date after the reference date, no
    negative income, the status flags consistent with status and amount, order_date the date of
    ordered_at, and every duplicate_customer_id reject has a kept customer with its id.
-#}
{%- set plausible_age = var('segments_plausible_age', [16, 100]) -%}

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
        'negative income' as rule,
        customers.customer_id as record_key,

    from customers
    where customers.income < 0

),

order_line_violations as (

    select
        'is_cancelled or is_return inconsistent with status and amount' as rule,
        order_line_key as record_key,

    from order_lines
    where
        is_cancelled != (status = 'cancelled')
        or is_return != (status = 'returned' or amount < 0)

    union all

    select
        'order_date is not the date of ordered_at' as rule,
        order_line_key as record_key,

    from order_lines
    where order_date != cast(ordered_at as date)

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
    select * from orphan_duplicates

)

select * from final

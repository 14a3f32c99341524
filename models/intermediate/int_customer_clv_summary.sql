{#-
    The inputs of the predictive CLV models (BG/NBD and Gamma-Gamma), one row per customer of
    stg_customers. Its pandas twin, summarise_transactions in tests/python/clv_reference.py, must
    give the same numbers (tests/python/test_clv_dbt.py compares them on CDNOW):

    - purchases are the order lines that are neither cancelled nor returns, up to and including
      the calibration end date (macro segments_clv_calibration_end()); later orders are ignored;
    - the purchases of one customer on one calendar day are merged into one (values summed);
    - frequency = distinct purchase days - 1; recency = last - first purchase day; T = calibration
      end - first purchase day (the end date counts like a purchase day); monetary_value = mean
      value of the repeat purchase days (the first purchase day excluded), null without repeats;
    - times are in segmentation.clv.time_unit: days, or weeks = days / 7.

    Customers without a purchase up to the calibration end keep their row, with nulls.
-#}

with

customers as (

    select customer_id from {{ ref('stg_customers') }}

),

order_lines as (

    select * from {{ ref('stg_order_lines') }}

),

calibration as (

    select
        {{ segments_clv_calibration_end() }} as calibration_end_date,
        '{{ segments_clv_time_unit() }}' as time_unit,
        {{ segments_clv_days_per_unit() }} as days_per_unit,

),

purchase_days as (

    -- One row per customer and calendar day with a purchase, the day's lines summed.
    select
        order_lines.customer_id,
        order_lines.order_date as purchase_date,
        sum(order_lines.amount) as day_value,

    from order_lines
    cross join calibration
    where
        not order_lines.is_cancelled
        and not order_lines.is_return
        and order_lines.order_date <= calibration.calibration_end_date
    group by order_lines.customer_id, order_lines.order_date

),

per_customer as (

    -- The first day's value comes from arg_min, so no window over the purchase days is needed:
    -- the mean of the repeat days is (total - first day) / (days - 1).
    select
        customer_id,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        count(*) as purchase_days,
        sum(day_value) as total_value,
        arg_min(day_value, purchase_date) as first_day_value,

    from purchase_days
    group by customer_id

),

final as (

    select
        customers.customer_id,
        cast(per_customer.purchase_days - 1 as bigint) as frequency,
        cast(
            (per_customer.last_purchase_date - per_customer.first_purchase_date)
            / calibration.days_per_unit
            as double
        ) as recency,
        -- "T" keeps its capital (the name in the CLV literature and segmentation.clv).
        cast(
            (calibration.calibration_end_date - per_customer.first_purchase_date)
            / calibration.days_per_unit
            as double
        ) as "T",  -- noqa: RF06
        cast(per_customer.total_value - per_customer.first_day_value as double)
        / nullif(per_customer.purchase_days - 1, 0) as monetary_value,
        per_customer.first_purchase_date,
        per_customer.last_purchase_date,
        calibration.calibration_end_date,
        calibration.time_unit,

    from customers
    cross join calibration
    left join per_customer
        on customers.customer_id = per_customer.customer_id

)

select * from final

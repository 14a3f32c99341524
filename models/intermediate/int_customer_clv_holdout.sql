{#-
    Purchases in the holdout window of the predictive CLV check, one row per customer of
    int_customer_clv_summary with a purchase up to the calibration end, when
    segmentation.clv.holdout_end is set (no rows otherwise). Purchases are counted like the
    summary's: distinct purchase days of lines neither cancelled nor returned, here in
    (calibration end, holdout_end]. holdout_periods is the window's length in the time unit.
-#}
{%- set holdout_end = segments_clv_holdout_end() %}

with

summary as (

    select * from {{ ref('int_customer_clv_summary') }}

),

order_lines as (

    select * from {{ ref('stg_order_lines') }}

),

window_bounds as (

    select
        max(summary.calibration_end_date) as calibration_end_date,
        {%- if holdout_end is none %}
        cast(null as date) as holdout_end_date,
        {%- else %}
        date '{{ holdout_end }}' as holdout_end_date,
        {%- endif %}

    from summary

),

holdout_days as (

    select
        order_lines.customer_id,
        count(distinct order_lines.order_date) as holdout_purchases,

    from order_lines
    cross join window_bounds
    where
        not order_lines.is_cancelled
        and not order_lines.is_return
        and order_lines.order_date > window_bounds.calibration_end_date
        and order_lines.order_date <= window_bounds.holdout_end_date
    group by order_lines.customer_id

),

final as (

    select
        summary.customer_id,
        cast(coalesce(holdout_days.holdout_purchases, 0) as bigint) as holdout_purchases,
        cast(
            (window_bounds.holdout_end_date - window_bounds.calibration_end_date)
            / {{ segments_clv_days_per_unit() }}
            as double
        ) as holdout_periods,
        window_bounds.holdout_end_date,

    from summary
    cross join window_bounds
    left join holdout_days
        on summary.customer_id = holdout_days.customer_id
    where
        summary.frequency is not null
        and window_bounds.holdout_end_date is not null

)

select * from final

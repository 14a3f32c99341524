{#-
    The fitted predictive CLV models (a contract): one row per model and parameter, plus the
    diagnostic rows (frequency-spend correlation, repeat customers, the scales each model was
    fitted in), from ml_clv_parameters, with the time unit and calibration end of the summary they
    were fitted on and each model's diagnostic (ok / warning: ... / not fitted: ...). Without an
    order input nothing is fitted: every row has message and diagnostic 'not applicable: no order
    input', no value and no calibration end (which would otherwise be the day before the build).
-#}
{%- set has_orders_input = segments_has_input('orders') %}

with

parameters as (

    select * from {{ ref('ml_clv_parameters') }}

),

summary as (

    select * from {{ ref('int_customer_clv_summary') }}

),

calibration as (

    select
        '{{ segments_clv_time_unit() }}' as time_unit,
        max(calibration_end_date) as calibration_end_date,

    from summary

),

final as (

    select
        parameters.model,
        parameters.parameter,
        parameters.kind,
        {%- if has_orders_input %}
        cast(parameters.value as double) as value,
        cast(parameters.log_likelihood as double) as log_likelihood,
        cast(parameters.converged as boolean) as converged,
        parameters.message,
        cast(parameters.n_customers as bigint) as n_customers,
        calibration.time_unit,
        calibration.calibration_end_date,
        parameters.diagnostic,
        parameters.fit_sample,
        {%- else %}
        cast(null as double) as value,
        cast(null as double) as log_likelihood,
        false as converged,
        'not applicable: no order input' as message,
        cast(0 as bigint) as n_customers,
        calibration.time_unit,
        cast(null as date) as calibration_end_date,
        'not applicable: no order input' as diagnostic,
        'not applicable: no order input' as fit_sample,
        {%- endif %}

    from parameters
    cross join calibration

)

select * from final

{#-
    The fitted predictive CLV models (a contract): one row per model and parameter, plus the
    diagnostic rows (frequency-spend correlation, repeat customers), from ml_clv_parameters, with
    the time unit and calibration end of the summary they were fitted on.
-#}

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
        cast(parameters.value as double) as value,
        cast(parameters.log_likelihood as double) as log_likelihood,
        cast(parameters.converged as boolean) as converged,
        parameters.message,
        cast(parameters.n_customers as bigint) as n_customers,
        calibration.time_unit,
        calibration.calibration_end_date,

    from parameters
    cross join calibration

)

select * from final

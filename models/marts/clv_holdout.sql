{#-
    The calibration/holdout check of the BG/NBD (a contract): per calibration frequency, the
    purchases the fitted model predicts for the holdout window and those that happened, and the
    total (docs/clv.md). Empty unless segmentation.clv.holdout_end is set.
-#}

with

holdout as (

    select * from {{ ref('ml_clv_holdout') }}

),

final as (

    select
        holdout.calibration_frequency,
        cast(holdout.n_customers as bigint) as n_customers,
        cast(holdout.actual_purchases as double) as actual_purchases,
        cast(holdout.predicted_purchases as double) as predicted_purchases,
        cast(holdout.mean_actual as double) as mean_actual,
        cast(holdout.mean_predicted as double) as mean_predicted,
        cast(holdout.relative_error as double) as relative_error,
        cast(holdout.holdout_periods as double) as holdout_periods,

    from holdout

)

select * from final

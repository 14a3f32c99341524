{#-
    Predicted CLV figures as optional clustering features: list this model in the var
    segments_extra_feature_models and the columns in segmentation.features (docs/layout.md,
    "Adding a feature"). Built from ml_customer_clv, which does not depend on customer_features,
    so the join introduces no cycle.
-#}

with

clv as (

    select * from {{ ref('ml_customer_clv') }}

),

final as (

    select
        customer_id,
        cast(predicted_clv as double) as predicted_clv,
        cast(probability_alive as double) as probability_alive,
        cast(expected_purchases as double) as expected_purchases,
    from clv

)

select * from final

{#-
    The fitted preprocessing, one row per output column of the feature matrix: how each input
    feature was imputed, encoded, transformed, scaled and weighted. Applying these parameters to
    customer_features reproduces the matrix the clustering used.
-#}

with

spec as (

    select * from {{ ref('ml_preprocessing_spec') }}

),

final as (

    select
        cast(feature as varchar) as feature,
        cast(kind as varchar) as kind,
        cast(output_column as varchar) as output_column,
        cast(position as integer) as position,
        cast(transform as varchar) as transform,
        cast(impute_strategy as varchar) as impute_strategy,
        cast(impute_value_numeric as double) as impute_value_numeric,
        cast(impute_value_text as varchar) as impute_value_text,
        cast(level as varchar) as level,
        cast(ordinal_levels as varchar[]) as ordinal_levels,
        cast(center as double) as center,
        cast(scale as double) as scale,
        cast(weight as double) as weight,
        cast(is_missing_indicator as boolean) as is_missing_indicator,
        cast(note as varchar) as note,
    from spec

)

select * from final

{#-
    Fixed-width histograms of the numeric features (eda_feature_values, every customer):
    `segments_eda_histogram_bins` bins between the feature's min and max (the max falls in the
    last bin), empty bins included with count 0. A constant feature has a single bin; a feature
    without values has no rows.
-#}
{%- set bins = segments_eda_histogram_bins() -%}

with

feature_values as (

    select
        feature,
        value

    from {{ ref('eda_feature_values') }}
    where feature_kind = 'numeric' and value is not null

),

bounds as (

    select
        feature,
        min(value) as min_value,
        max(value) as max_value,
        count(*) as non_missing_count,
        case when max(value) > min(value) then {{ bins }} else 1 end as bin_count

    from feature_values
    group by feature

),

binned as (

    select
        feature_values.feature,
        case
            when bounds.bin_count = 1 then 1
            else
                least(
                    cast(
                        floor(
                            (feature_values.value - bounds.min_value)
                            / (bounds.max_value - bounds.min_value)
                            * bounds.bin_count
                        ) as integer
                    ) + 1,
                    bounds.bin_count
                )
        end as bin_index

    from feature_values
    inner join bounds
        on feature_values.feature = bounds.feature

),

bin_counts as (

    select
        feature,
        bin_index,
        count(*) as bin_count

    from binned
    group by feature, bin_index

),

bin_grid as (

    select
        bounds.feature,
        bounds.min_value,
        bounds.max_value,
        bounds.non_missing_count,
        bounds.bin_count,
        bin_numbers.bin_index

    from bounds
    inner join range(1, {{ bins + 1 }}) as bin_numbers (bin_index)
        on bounds.bin_count >= bin_numbers.bin_index

),

final as (

    select
        bin_grid.feature,
        cast(bin_grid.bin_index as integer) as bin_index,
        bin_grid.min_value
        + (bin_grid.max_value - bin_grid.min_value)
        * (bin_grid.bin_index - 1) / bin_grid.bin_count as bin_lower,
        case
            when bin_grid.bin_index = bin_grid.bin_count then bin_grid.max_value
            else
                bin_grid.min_value
                + (bin_grid.max_value - bin_grid.min_value)
                * bin_grid.bin_index / bin_grid.bin_count
        end as bin_upper,
        coalesce(bin_counts.bin_count, 0) as count,
        coalesce(bin_counts.bin_count, 0) / bin_grid.non_missing_count as share,
        bin_grid.non_missing_count

    from bin_grid
    left join bin_counts
        on
            bin_grid.feature = bin_counts.feature
            and bin_grid.bin_index = bin_counts.bin_index

)

select * from final

-- The question a marketing team asks first: which segments are there, how big, how valuable,
-- and how many of their customers are still active? Compile with `dbt compile -s
-- segment_overview` and run the SQL in target/compiled against the built database.
with

segments as (

    select * from {{ ref('customer_segments') }}

),

features as (

    select * from {{ ref('customer_features') }}

),

joined as (

    select
        segments.kmeans_segment_id,
        segments.kmeans_segment_name,
        segments.probability_alive,
        segments.predicted_clv,
        features.monetary_value,
    from segments
    inner join features
        on segments.customer_id = features.customer_id

),

final as (

    select
        kmeans_segment_id,
        kmeans_segment_name,
        count(*) as customers,
        sum(monetary_value) as historical_value,
        sum(predicted_clv) as predicted_value,
        avg(probability_alive) as average_probability_alive,
    from joined
    group by kmeans_segment_id, kmeans_segment_name
    order by kmeans_segment_id

)

select * from final

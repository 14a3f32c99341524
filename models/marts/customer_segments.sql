{#-
    One row per customer: the K-Means segment of the model this build uses (segment_scores,
    scored in SQL; ids and names stable across refits, docs/lifecycle.md; the silhouette only
    when that model is this build's K-Means fit), the hierarchical segment (is_outlier: left out of this
    build's K-Means fit), the RFM segment and the predicted CLV, for BI tools (a contract).
-#}

with

features as (

    select customer_id from {{ ref('customer_features') }}

),

scores as (

    select * from {{ ref('segment_scores') }}

),

kmeans as (

    select * from {{ ref('ml_kmeans_assignments') }}

),

lifecycle as (

    select model_is_candidate from {{ ref('ml_segmentation_lifecycle') }}

),

hierarchical as (

    select * from {{ ref('ml_hierarchical_assignments') }}

),

rfm as (

    select * from {{ ref('customer_rfm') }}

),

clv as (

    select * from {{ ref('customer_clv') }}

),

final as (

    select
        features.customer_id,
        scores.segment_id as kmeans_segment_id,
        scores.segment_name as kmeans_segment_name,
        scores.distance_to_centroid as kmeans_distance_to_centroid,
        case when lifecycle.model_is_candidate then kmeans.silhouette end as kmeans_silhouette,
        kmeans.is_outlier,
        hierarchical.hierarchical_segment_id,
        hierarchical.hierarchical_segment_name,
        rfm.rfm_score,
        rfm.rfm_segment,
        clv.predicted_clv,
        clv.probability_alive,
        clv.churn_risk_band,

    from features
    cross join lifecycle
    left join scores
        on features.customer_id = scores.customer_id
    left join kmeans
        on features.customer_id = kmeans.customer_id
    left join hierarchical
        on features.customer_id = hierarchical.customer_id
    left join rfm
        on features.customer_id = rfm.customer_id
    left join clv
        on features.customer_id = clv.customer_id

)

select * from final

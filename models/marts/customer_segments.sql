{#-
    One row per customer: the K-Means and hierarchical segment (is_outlier: left out of the
    K-Means fit), the RFM segment and the predicted CLV, for BI tools (a contract).
-#}

with

features as (

    select customer_id from {{ ref('customer_features') }}

),

kmeans as (

    select * from {{ ref('ml_kmeans_assignments') }}

),

kmeans_names as (

    select distinct
        segment_id,
        segment_name,
    from {{ ref('kmeans_centroids') }}

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
        kmeans.kmeans_segment_id,
        kmeans_names.segment_name as kmeans_segment_name,
        kmeans.distance_to_centroid as kmeans_distance_to_centroid,
        kmeans.silhouette as kmeans_silhouette,
        kmeans.is_outlier,
        hierarchical.hierarchical_segment_id,
        hierarchical.hierarchical_segment_name,
        rfm.rfm_score,
        rfm.rfm_segment,
        clv.predicted_clv,
        clv.probability_alive,
        clv.churn_risk_band,

    from features
    left join kmeans
        on features.customer_id = kmeans.customer_id
    left join kmeans_names
        on kmeans.kmeans_segment_id = kmeans_names.segment_id
    left join hierarchical
        on features.customer_id = hierarchical.customer_id
    left join rfm
        on features.customer_id = rfm.customer_id
    left join clv
        on features.customer_id = clv.customer_id

)

select * from final

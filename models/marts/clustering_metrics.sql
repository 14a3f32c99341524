{#- One row per method and k: the quality figures BI tools chart, and which k was chosen and why. -#}

with

kmeans as (

    select * from {{ ref('ml_kmeans_sweep') }}

),

hierarchical as (

    select * from {{ ref('ml_hierarchical_metrics') }}

),

unioned as (

    select
        'kmeans' as method,
        k,
        inertia,
        silhouette,
        silhouette_method,
        silhouette_rows,
        silhouette_ci_low,
        silhouette_ci_high,
        simplified_silhouette,
        calinski_harabasz,
        davies_bouldin,
        cast(null as double) as cophenetic_correlation,
        case when fit_rows + outlier_rows < n_rows then 'sampled_fit' else 'exact' end as scheme,
        fit_rows,
        n_rows,
        outlier_rows,
        is_selected,
        selection_reason,
    from kmeans

    union all

    select
        'hierarchical' as method,
        k,
        inertia,
        silhouette,
        silhouette_method,
        silhouette_rows,
        silhouette_ci_low,
        silhouette_ci_high,
        cast(null as double) as simplified_silhouette,
        calinski_harabasz,
        davies_bouldin,
        cophenetic_correlation,
        scheme,
        cast(null as bigint) as fit_rows,
        cast(null as bigint) as n_rows,
        cast(null as bigint) as outlier_rows,
        is_selected,
        selection_reason,
    from hierarchical

),

final as (

    select
        method,
        cast(k as integer) as k,
        cast(inertia as double) as inertia,
        cast(silhouette as double) as silhouette,
        cast(silhouette_method as varchar) as silhouette_method,
        cast(silhouette_rows as bigint) as silhouette_rows,
        cast(silhouette_ci_low as double) as silhouette_ci_low,
        cast(silhouette_ci_high as double) as silhouette_ci_high,
        cast(simplified_silhouette as double) as simplified_silhouette,
        cast(calinski_harabasz as double) as calinski_harabasz,
        cast(davies_bouldin as double) as davies_bouldin,
        cast(cophenetic_correlation as double) as cophenetic_correlation,
        cast(scheme as varchar) as scheme,
        cast(fit_rows as bigint) as fit_rows,
        cast(n_rows as bigint) as n_rows,
        cast(outlier_rows as bigint) as outlier_rows,
        cast(is_selected as boolean) as is_selected,
        cast(selection_reason as varchar) as selection_reason,
    from unioned

)

select * from final

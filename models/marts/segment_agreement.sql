{#-
    How much the two methods agree: the adjusted Rand index (Hubert & Arabie 1985) between the
    K-Means and the hierarchical segments of every customer, computed from the contingency table:
    ARI = (sum_ij C(n_ij, 2) - E) / (0.5 (sum_i C(a_i, 2) + sum_j C(b_j, 2)) - E),
    E = sum_i C(a_i, 2) sum_j C(b_j, 2) / C(n, 2). 1 = identical partitions, about 0 = chance.
-#}

with

segments as (

    select * from {{ ref('customer_segments') }}
    where kmeans_segment_id is not null and hierarchical_segment_id is not null

),

cells as (

    select
        kmeans_segment_id,
        hierarchical_segment_id,
        count(*) as n_ij,
    from segments
    group by all

),

sums as (

    select
        (select sum(n_ij * (n_ij - 1) / 2) from cells) as index_sum,
        (
            select sum(a * (a - 1) / 2)
            from (
                select sum(n_ij) as a from cells
                group by kmeans_segment_id
            )
        ) as rows_sum,
        (
            select sum(b * (b - 1) / 2)
            from (
                select sum(n_ij) as b from cells
                group by hierarchical_segment_id
            )
        ) as columns_sum,
        (select sum(n_ij) from cells) as n,

),

final as (

    select
        'kmeans' as method_a,
        'hierarchical' as method_b,
        (select count(distinct kmeans_segment_id) from segments) as k_a,
        (select count(distinct hierarchical_segment_id) from segments) as k_b,
        cast(n as bigint) as n_customers,
        cast(
            case
                when 0.5 * (rows_sum + columns_sum) - rows_sum * columns_sum / (n * (n - 1) / 2) = 0
                    then 1.0
                else
                    (index_sum - rows_sum * columns_sum / (n * (n - 1) / 2))
                    / (0.5 * (rows_sum + columns_sum) - rows_sum * columns_sum / (n * (n - 1) / 2))
            end
            as double
        ) as adjusted_rand_index,
    from sums

)

select * from final

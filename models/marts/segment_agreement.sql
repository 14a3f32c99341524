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
    group by kmeans_segment_id, hierarchical_segment_id

),

kmeans_sizes as (

    select
        kmeans_segment_id,
        sum(n_ij) as a_i,
    from cells
    group by kmeans_segment_id

),

hierarchical_sizes as (

    select
        hierarchical_segment_id,
        sum(n_ij) as b_j,
    from cells
    group by hierarchical_segment_id

),

cell_sums as (

    select
        sum(n_ij * (n_ij - 1) / 2) as index_sum,
        sum(n_ij) as n,
    from cells

),

row_sums as (

    select
        sum(a_i * (a_i - 1) / 2) as rows_sum,
        count(*) as k_a,
    from kmeans_sizes

),

column_sums as (

    select
        sum(b_j * (b_j - 1) / 2) as columns_sum,
        count(*) as k_b,
    from hierarchical_sizes

),

sums as (

    select
        cell_sums.index_sum,
        cell_sums.n,
        row_sums.rows_sum,
        row_sums.k_a,
        column_sums.columns_sum,
        column_sums.k_b,
    from cell_sums
    cross join row_sums
    cross join column_sums

),

expected as (

    select
        *,
        rows_sum * columns_sum / (n * (n - 1) / 2) as expected_index,
        0.5 * (rows_sum + columns_sum) as max_index,
    from sums

),

final as (

    select
        'kmeans' as method_a,
        'hierarchical' as method_b,
        k_a,
        k_b,
        cast(n as bigint) as n_customers,
        cast(
            case
                when max_index - expected_index = 0 then 1.0
                else (index_sum - expected_index) / (max_index - expected_index)
            end
            as double
        ) as adjusted_rand_index,
    from expected

)

select * from final

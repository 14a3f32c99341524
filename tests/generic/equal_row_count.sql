{#-
    One row when model and compare_model have different row counts. dbt's `where` config filters
    model; compare_where (a SQL predicate) filters compare_model. Like dbt_utils.equal_rowcount
    without group_by_columns.
-#}
{% test equal_row_count(model, compare_model, compare_where=none) %}

with

model_rows as (

    select count(*) as row_count from {{ model }}

),

compare_rows as (

    select count(*) as row_count
    from {{ compare_model }}
    {%- if compare_where is not none %}
    where {{ compare_where }}
    {%- endif %}

),

validation_errors as (

    select
        model_rows.row_count as model_row_count,
        compare_rows.row_count as compare_row_count,
        model_rows.row_count - compare_rows.row_count as difference

    from model_rows
    cross join compare_rows
    where model_rows.row_count != compare_rows.row_count

)

select * from validation_errors

{% endtest %}

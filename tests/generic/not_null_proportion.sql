{#-
    One row when the share of non-null values of column_name is outside [at_least, at_most]
    (at_most defaults to 1). An empty model passes. Same semantics as
    dbt_utils.not_null_proportion without group_by_columns.
-#}
{% test not_null_proportion(model, column_name, at_least, at_most=1.0) %}

with

proportion as (

    select
        count({{ column_name }}) as not_null_count,
        count(*) as row_count,
        count({{ column_name }}) / nullif(count(*), 0) as not_null_proportion

    from {{ model }}

),

validation_errors as (

    select *
    from proportion
    where
        not_null_proportion < {{ at_least }}
        or not_null_proportion > {{ at_most }}

)

select * from validation_errors

{% endtest %}

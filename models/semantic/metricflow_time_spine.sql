{#-
    The day calendar MetricFlow joins time dimensions to: dbt 1.11 requires a time spine model
    for semantic models (_semantic.yml, time_spine). 2000-01-01 to 2040-12-31, one row a day.
-#}

with

days as (

    select cast(range as date) as date_day
    from range(date '2000-01-01', date '2041-01-01', interval 1 day)

),

final as (

    select date_day from days

)

select * from final

{#-
    Every rejects row has a reason of the seed reject_reasons for its input, and a detail that
    follows the reason's message template (each {placeholder} stands for any text): the SQL that
    writes the details and the seed that documents them cannot drift apart.
-#}

with

rejects as (

    select * from {{ ref('rejects') }}

),

reasons as (

    select
        reason,
        input_name,
        regexp_replace(message, '\{[a-z_]+\}', '%', 'g') as detail_pattern,
    from {{ ref('reject_reasons') }}

),

final as (

    select
        rejects.source,
        rejects.reason,
        rejects.detail,
    from rejects
    left join reasons
        on
            rejects.source = reasons.input_name
            and rejects.reason = reasons.reason
            and rejects.detail like reasons.detail_pattern
    where reasons.reason is null

)

select * from final

{#-
    One row per customer: the kept rows of base_customers_checked, with the rules that need the
    reference date (segments_reference_date()): a birth date after it, or one that gives an age
    outside var('segments_plausible_age'), is set to null; age_years comes from the birth date,
    else from the age input, and is null outside the plausible range. is_age_implausible: a
    birth date or age was given but discarded (unparseable, in the future or implausible) and,
    for the age input, no age was derived from the birth date either.
-#}
{%- set plausible_age = var('segments_plausible_age', [16, 100]) -%}
{%- if plausible_age is string or plausible_age is not iterable or plausible_age | length != 2
    or plausible_age[0] is not number or plausible_age[1] is not number
    or plausible_age[0] > plausible_age[1] -%}
    {{ exceptions.raise_compiler_error("var segments_plausible_age: expected [youngest, oldest] in years, e.g. [16, 100], got " ~ plausible_age) }}
{%- endif %}
-- depends_on: {{ ref('stg_input_checks') }}

with

checked as (

    select * from {{ ref('base_customers_checked') }}

),

kept as (

    select * from checked
    where reject_reason is null

),

reference as (

    select {{ segments_reference_date() }} as reference_date

),

aged as (

    select
        kept.*,
        case
            when kept.birth_date <= reference.reference_date
                then date_sub('year', kept.birth_date, reference.reference_date)
        end as age_from_birth_date,
        floor(kept.age) as age_from_input,

    from kept
    cross join reference

),

plausible as (

    select
        *,
        coalesce(
            age_from_birth_date between {{ plausible_age[0] }} and {{ plausible_age[1] }}, false
        ) as is_birth_date_plausible,
        coalesce(
            age_from_input between {{ plausible_age[0] }} and {{ plausible_age[1] }}, false
        ) as is_age_input_plausible,

    from aged

),

final as (

    select
        customer_id,
        signup_date,
        case when is_birth_date_plausible then birth_date end as birth_date,
        cast(
            case
                when is_birth_date_plausible then age_from_birth_date
                when is_age_input_plausible then age_from_input
            end
            as integer
        ) as age_years,
        (birth_date_text is not null and not is_birth_date_plausible)
        or (
            age_text is not null
            and not is_age_input_plausible
            and not is_birth_date_plausible
        ) as is_age_implausible,
        gender,
        income,
        is_income_implausible,
        country,
        region,
        acquisition_channel,
        has_customer_record,
        source_row_key,

    from plausible

)

select * from final

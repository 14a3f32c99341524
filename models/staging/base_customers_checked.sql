{#-
    Every row of base_customers, parsed and normalised, with the cleaning flags and the reason it
    is rejected (null when it is kept). stg_customers keeps the rows without a reason, rejects
    lists the others. Reasons, the first that applies:
        missing_customer_id     no customer id
        duplicate_customer_id   another row has the same id and is kept: the most complete row
                                (most parsed, non-null attributes), ties by the smallest
                                source_row_key
    Income: a number outside var('segments_plausible_income') ([0, 10000000] by default) is set
    to null and flagged (is_income_out_of_range; a negative income also is_income_negative), as is
    text that is not a number (is_income_unparseable); is_income_implausible is any of the three.
    Dates are dates of the business time zone (var segments_timezone; a value with a UTC offset
    is converted to it). A birth date may be a year alone (1957 -> 1957-07-01) or a year and
    month (1957-03 -> 1957-03-15). rules.number_format applies to age and income.
    Region: the most frequent mixed-case spelling of the same lower-cased text (BAVARIA and
    bavaria become Bavaria when Bavaria occurs, ILE-DE-FRANCE becomes Ile-de-France), else title
    case (NORTH HOLLAND alone becomes North Holland).
-#}
{%- set rules = segments_cleaning_rules('customers') -%}
{%- set contract = segments_input_contract('customers') -%}
{%- set plausible_income = segments_plausible_range('segments_plausible_income', [0, 10000000]) -%}
{%- set income_in_range -%}
parsed.income_value between {{ plausible_income[0] }} and {{ plausible_income[1] }}
{%- endset -%}

with

base_customers as (

    select * from {{ ref('base_customers') }}

),

control_flagged as (

    select
        *,
        {{ segments_has_control(contract.required + contract.optional) }} as has_control,

    from base_customers

),

cleaned as (

    -- The base columns are trimmed text already; only a row with a control character somewhere
    -- is cleaned column by column (segments_clean_text).
    select
        source_row_key,
        derived_from,
        {%- for name in contract.required + contract.optional %}
        {{ segments_clean_text_where('has_control', name) }} as {{ name }},
        {%- endfor %}
        {{ segments_raw_columns('customers') }} as raw_columns,
        -- The contract columns that have a value in base_customers (before cleaning).
        {{ segments_present_mask(contract.required + contract.optional) }} as present_mask,

    from control_flagged

),

parsed as (

    select
        source_row_key,
        {{ segments_clean_id('customer_id') }} as customer_id,
        derived_from = 'customers' as has_customer_record,
        {{ segments_parse_date('signup_date', rules.datetime_formats, rules.timestamp_unit) }}
            as signup_date,
        {{ segments_parse_date(
            'birth_date', rules.datetime_formats, rules.timestamp_unit, partial=true
        ) }} as birth_date,
        {{ segments_parse_number('age', rules.number_format) }} as age,
        {{ segments_clean_gender('gender') }} as gender,
        {{ segments_parse_number('income', rules.number_format) }} as income_value,
        {{ segments_clean_upper('country') }} as country,
        region as region_text,
        {{ segments_clean_lower('acquisition_channel') }} as acquisition_channel,
        {{ segments_is_gender_unlisted('gender') }} as is_gender_unlisted,
        signup_date as signup_date_text,
        birth_date as birth_date_text,
        age as age_text,
        income as income_text,
        raw_columns,
        present_mask,

    from cleaned

),

region_spellings as (

    select
        lower(region_text) as region_key,
        region_text as spelling,
        region_text not in (upper(region_text), lower(region_text)) as is_mixed_case,
        count(*) as spelling_rows,

    from parsed
    where region_text is not null
    group by all

),

ranked_spellings as (

    select
        *,
        row_number() over (
            partition by region_key
            order by is_mixed_case desc, spelling_rows desc, spelling asc
        ) as spelling_rank,

    from region_spellings

),

region_names as (

    select
        region_key,
        case
            when is_mixed_case then spelling
            else {{ segments_clean_title('spelling') }}
        end as region,

    from ranked_spellings
    where spelling_rank = 1

),

flagged as (

    select
        parsed.source_row_key,
        parsed.customer_id,
        parsed.has_customer_record,
        parsed.signup_date,
        parsed.birth_date,
        parsed.age,
        parsed.gender,
        case when {{ income_in_range }} then parsed.income_value end as income,
        parsed.country,
        region_names.region,
        parsed.acquisition_channel,
        parsed.birth_date_text,
        parsed.age_text,
        parsed.signup_date_text is not null and parsed.signup_date is null
            as is_signup_date_unparseable,
        parsed.birth_date_text is not null and parsed.birth_date is null
            as is_birth_date_unparseable,
        parsed.age_text is not null and parsed.age is null as is_age_unparseable,
        parsed.income_text is not null and parsed.income_value is null as is_income_unparseable,
        coalesce(parsed.income_value < 0, false) as is_income_negative,
        coalesce(not {{ income_in_range }}, false) as is_income_out_of_range,
        parsed.is_gender_unlisted,
        parsed.raw_columns,
        parsed.present_mask,
        {{ segments_parse_mask('customers', {
            'signup_date': ['parsed.signup_date_text', 'parsed.signup_date', 'parsed.signup_date'],
            'birth_date': ['parsed.birth_date_text', 'parsed.birth_date', 'parsed.birth_date'],
            'age': ['parsed.age_text', 'parsed.age'],
            'income': ['parsed.income_text', 'parsed.income_value'],
        }, rules.number_format, segments_latest_order_date()) }} as parse_mask,
        -- How many attributes parsed to a usable value: the duplicate with most of them is kept.
        cast(parsed.signup_date is not null as integer)
        + cast(parsed.birth_date is not null as integer)
        + cast(parsed.age is not null as integer)
        + cast(parsed.gender is not null as integer)
        + cast(coalesce({{ income_in_range }}, false) as integer)
        + cast(parsed.country is not null as integer)
        + cast(region_names.region is not null as integer)
        + cast(parsed.acquisition_channel is not null as integer) as completeness,

    from parsed
    left join region_names
        on lower(parsed.region_text) = region_names.region_key

),

id_counts as (

    -- Rows per customer id (narrow): only the ids on more than one row need ranking.
    select
        customer_id,
        count(*) as id_rows,

    from flagged
    where customer_id is not null
    group by all

),

counted as (

    select
        flagged.*,
        coalesce(id_counts.id_rows, 1) as id_rows,

    from flagged
    left join id_counts
        on flagged.customer_id = id_counts.customer_id

),

ranked as (

    -- A window over the few rows of repeated ids, not over every customer row.
    select
        *,
        1 as id_rank,
        source_row_key as kept_source_row_key,

    from counted
    where id_rows = 1

    union all

    select
        *,
        row_number() over (
            partition by customer_id order by completeness desc, source_row_key asc
        ) as id_rank,
        first_value(source_row_key) over (
            partition by customer_id order by completeness desc, source_row_key asc
        ) as kept_source_row_key,

    from counted
    where id_rows > 1

),

final as (

    select
        source_row_key,
        customer_id,
        has_customer_record,
        signup_date,
        birth_date,
        age,
        gender,
        income,
        country,
        region,
        acquisition_channel,
        birth_date_text,
        age_text,
        is_signup_date_unparseable,
        is_birth_date_unparseable,
        is_age_unparseable,
        is_income_unparseable,
        is_income_negative,
        is_income_out_of_range,
        is_income_unparseable or is_income_out_of_range as is_income_implausible,
        is_gender_unlisted,
        case
            when customer_id is null then 'missing_customer_id'
            when id_rank > 1 then 'duplicate_customer_id'
        end as reject_reason,
        case
            when customer_id is null then 'customer_id is missing'
            when id_rank > 1
                then
                    'customer_id = ' || {{ segments_quoted_value('customer_id') }}
                    || ' occurs in ' || id_rows || ' rows; kept the most complete one'
                    || ' (source_row_key ' || {{ segments_quoted_value('kept_source_row_key') }}
                    || ')'
        end as reject_detail,
        present_mask,
        parse_mask,
        {{ segments_raw_record(
            'raw_columns',
            'customer_id is null or id_rank > 1 or parse_mask & '
                ~ segments_parse_mask_bits('customers', ['unparseable', 'thousands']) ~ ' != 0',
        ) }} as raw_record,

    from ranked

)

select * from final

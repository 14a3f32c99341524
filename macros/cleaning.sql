{#-
    Normalisation and parsing rules of the staging layer (models/staging/base_*_checked.sql).
    segments_clean_text turns any value into trimmed text without control characters, empty text
    as null; the models apply it once per raw column, and every other macro expects text cleaned
    that way (the expression is repeated inside the macros, so pass a column, not a long
    expression).

    Optional per-input rules (segments_inputs.<input>.rules), validated here:

        segments_inputs:
          orders:
            path: data/orders.csv
            rules:
              datetime_formats: ['%d/%m/%Y %H:%M']   # strptime formats tried after ISO 8601
                                                      # (%z: the value carries its UTC offset)
              timestamp_unit: epoch_seconds           # or epoch_milliseconds: integer values of
                                                      # the timestamp/date columns are Unix epochs
              number_format: {decimal: ',', thousands: '.'}  # numbers written 1.234,50
              status_values: {shipped: completed}     # extra status spellings (orders only)
              cancelled_when: {column: order_id, prefix: C}  # status cancelled when the contract
                                                      # column starts with the prefix (orders only)
              reject_non_positive: [quantity, unit_price]   # reject lines whose value is <= 0
                                                      # (quantity, unit_price and/or amount),
                                                      # except cancelled and returned lines
              deduplicate_exact_lines: true           # false keeps exact copies as real lines
              reject_zero_amount: true                # false keeps completed lines whose value
                                                      # is exactly 0 (e.g. free items) as
                                                      # purchases; true rejects them (zero_amount)
-#}

{% macro segments_cleaning_rules(entity) %}
    {#- The validated `rules` of one input, with defaults. -#}
    {%- set cfg = segments_input_config(entity) or {} -%}
    {%- set key = 'segments_inputs.' ~ entity ~ '.rules' -%}
    {#-
        Which rules an input takes, their types and allowed values: the configuration schema
        (src/segmentation/config_schema.yml), checked by segments_input_config. Here: what
        needs more than the schema (strptime formats, the columns of the input).
    -#}
    {%- set rules = cfg.get('rules') or {} -%}
    {%- set formats = rules.get('datetime_formats') or [] -%}
    {%- for item in formats -%}
        {%- if '%' not in item -%}
            {{ exceptions.raise_compiler_error(key ~ ".datetime_formats: '" ~ item ~ "' is not a strptime format (no % directive)") }}
        {%- endif -%}
        {%- do segments_check_strptime_format(item, key ~ '.datetime_formats') -%}
    {%- endfor -%}
    {%- set timestamp_unit = rules.get('timestamp_unit') -%}
    {%- set number_format = segments_number_format(rules.get('number_format'), key ~ '.number_format') -%}
    {%- set status_values = rules.get('status_values') or {} -%}
    {%- set cancelled_when = rules.get('cancelled_when') -%}
    {%- set non_positive = rules.get('reject_non_positive') or [] -%}
    {%- set deduplicate = rules.get('deduplicate_exact_lines', true) -%}
    {%- set reject_zero_amount = rules.get('reject_zero_amount', true) -%}
    {{ return({
        'datetime_formats': formats | list,
        'timestamp_unit': timestamp_unit,
        'number_format': number_format,
        'status_values': status_values,
        'cancelled_when': cancelled_when,
        'reject_non_positive': non_positive | list,
        'deduplicate_exact_lines': deduplicate,
        'reject_zero_amount': reject_zero_amount,
    }) }}
{% endmacro %}


{% macro segments_check_rule_columns(entity, columns) %}
    {#-
        The contract columns the rules read must exist in the input: called by
        segments_input_columns (base_orders) with the resolved mapping, at execution time.
    -#}
    {%- if entity == 'orders' and execute -%}
        {%- set rules = segments_cleaning_rules(entity) -%}
        {%- set key = 'segments_inputs.orders.rules' -%}
        {%- set hint = " (map it under segments_inputs.orders.columns); " -%}
        {%- if rules.cancelled_when is not none and columns[rules.cancelled_when.column] is none -%}
            {{ exceptions.raise_compiler_error(key ~ ".cancelled_when.column: the orders input has no " ~ rules.cancelled_when.column ~ " column" ~ hint ~ "mapped columns: " ~ segments_mapped_names(columns)) }}
        {%- endif -%}
        {%- for item in rules.reject_non_positive -%}
            {#- amount may be derived from quantity * unit_price: no column needed. -#}
            {%- if item != 'amount' and columns[item] is none -%}
                {{ exceptions.raise_compiler_error(key ~ ".reject_non_positive: the orders input has no " ~ item ~ " column" ~ hint ~ "mapped columns: " ~ segments_mapped_names(columns)) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}


{% macro segments_plausible_range(name, default) %}
    {#-
        var(name) as a validated [low, high] pair of numbers (low <= high), e.g.
        segments_plausible_income: [0, 10000000]; a compile error names the var and the value.
    -#}
    {%- set value = segments_config_validated_var(name, default) -%}
    {%- if value[0] > value[1] -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ ": expected [lowest, highest] as two numbers, lowest <= highest, e.g. " ~ default ~ ", got " ~ value) }}
    {%- endif -%}
    {{ return([value[0], value[1]]) }}
{% endmacro %}


{% macro segments_mapped_names(columns) %}
    {%- set names = [] -%}
    {%- for name, column in columns.items() -%}
        {%- if column is not none -%}{%- do names.append(name) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(names | join(', ')) }}
{% endmacro %}


{% macro segments_clean_text(expr) -%}
    {#-
        Trimmed text without ASCII control characters (0x00-0x1f, 0x7f), empty text as null:
        a tab, newline, vertical tab, form feed or carriage return (with the blanks around it)
        becomes one space, any other control character is dropped ('North\tHolland' -> 'North
        Holland', 'C-1\x01' -> 'C-1'). The rewrite only runs on values that contain one.
    -#}
    nullif(trim(
        case
            when regexp_matches(cast({{ expr }} as varchar), '[[:cntrl:]]')
                then regexp_replace(
                    regexp_replace(
                        cast({{ expr }} as varchar),
                        '[[:space:]]*[\t\n\v\f\r][[:space:]]*', ' ', 'g'
                    ),
                    '[[:cntrl:]]', '', 'g'
                )
            else cast({{ expr }} as varchar)
        end
    ), '')
{%- endmacro %}


{% macro segments_has_control(names) -%}
    {#-
        True when any of the columns `names` (text) has an ASCII control character: one regular
        expression over the row's text instead of one per column. A row without one needs no
        segments_clean_text beyond the trimming of the base views.
    -#}
    coalesce(regexp_matches(concat({{ names | join(', ') }}), '[[:cntrl:]]'), false)
{%- endmacro %}


{% macro segments_clean_text_where(flag, expr) -%}
    {#- segments_clean_text(expr) where `flag` (segments_has_control) is true, else expr as it is. -#}
    case when {{ flag }} then {{ segments_clean_text(expr) }} else {{ expr }} end
{%- endmacro %}


{% macro segments_derived_order_id(order_id, customer_id, ordered_at) -%}
    {#- The given order id, else customer_id || '@' || the UTC instant (ISO, to the second). -#}
    coalesce({{ order_id }}, {{ customer_id }} || '@' || strftime({{ ordered_at }}, '%Y-%m-%dT%H:%M:%S'))
{%- endmacro %}


{% macro segments_clean_id(expr) -%}
    {#- Trimmed; an integral id exported as a float ('17850.0') loses its '.0'. -#}
    regexp_replace({{ expr }}, '^([0-9]+)\.0+$', '\1')
{%- endmacro %}


{% macro segments_clean_lower(expr) -%}
    lower({{ expr }})
{%- endmacro %}


{% macro segments_clean_upper(expr) -%}
    upper({{ expr }})
{%- endmacro %}


{% macro segments_clean_title(expr) -%}
    {#-
        Title case that depends only on the lower-cased text, so BAVARIA, bavaria and Bavaria all
        become Bavaria: each part between spaces and hyphens starts upper case, the rest lower
        (Ile-de-France -> Ile-De-France, north  holland -> North Holland).
    -#}
    array_to_string(
        list_transform(
            string_split(lower(regexp_replace({{ expr }}, '\s+', ' ', 'g')), ' '),
            lambda word: array_to_string(
                list_transform(
                    string_split(word, '-'),
                    lambda part: upper(left(part, 1)) || substr(part, 2)
                ),
                '-'
            )
        ),
        ' '
    )
{%- endmacro %}


{% macro segments_gender_spellings() %}
    {{ return({
        'female': ['f', 'female', 'w', 'woman'],
        'male': ['m', 'male', 'man'],
        'other': ['x', 'd', 'diverse', 'other', 'non-binary', 'nonbinary', 'non binary'],
    }) }}
{% endmacro %}


{% macro segments_clean_gender(expr) -%}
    {#- female | male | other; null when missing; any other non-empty value is 'other'. -#}
    {%- set spellings = segments_gender_spellings() -%}
    case
        when {{ expr }} is null then null
        when {{ segments_clean_lower(expr) }} in ('{{ spellings.female | join("', '") }}') then 'female'
        when {{ segments_clean_lower(expr) }} in ('{{ spellings.male | join("', '") }}') then 'male'
        else 'other'
    end
{%- endmacro %}


{% macro segments_is_gender_unlisted(expr) -%}
    {#- True for a non-empty gender that is none of the known spellings (mapped to 'other'). -#}
    {%- set spellings = segments_gender_spellings() -%}
    coalesce(
        {{ segments_clean_lower(expr) }}
        not in ('{{ (spellings.female + spellings.male + spellings.other) | join("', '") }}'),
        false
    )
{%- endmacro %}


{% macro segments_clean_status(expr, extra_values={}) -%}
    {#-
        completed | cancelled | returned. A missing status is completed; an unknown one is null
        (the line is rejected as unknown_status). extra_values: more spelling -> status pairs.
    -#}
    case
        when {{ expr }} is null then 'completed'
        {%- for spelling, status in extra_values.items() %}
        when {{ segments_clean_lower(expr) }} = {{ segments_quote_literal(modules.re.sub('\\s+', ' ', spelling | string | trim | lower), 'status_values') }} then '{{ status }}'
        {%- endfor %}
        when {{ segments_clean_lower(expr) }} in ('completed', 'complete') then 'completed'
        when {{ segments_clean_lower(expr) }} in ('cancelled', 'canceled', 'cancel') then 'cancelled'
        when {{ segments_clean_lower(expr) }} in ('returned', 'return') then 'returned'
    end
{%- endmacro %}


{% macro segments_check_strptime_format(item, key) %}
    {#-
        A compile error naming the key unless every % directive of `item` is one DuckDB's
        strptime knows (%s, epoch seconds, is not one: use rules.timestamp_unit).
    -#}
    {%- set valid = '%(-[dmyHIMSj]|[aAwudbhBmyYHIpMSgfnzZjUWVGcxXT%])' -%}
    {%- set rest = modules.re.sub(valid, '', item) -%}
    {%- if '%' in rest -%}
        {%- set bad = modules.re.search('%-?.?', rest).group(0) -%}
        {%- set hint = "; for Unix epoch seconds or milliseconds set timestamp_unit: epoch_seconds | epoch_milliseconds under the same rules" if bad in ['%s', '%-s'] else "" -%}
        {{ exceptions.raise_compiler_error(key ~ ": '" ~ item ~ "': directive '" ~ bad ~ "' is not a strptime directive DuckDB can parse (known: %Y %y %m %d %H %M %S %f %z %b %B %p %j ...)" ~ hint) }}
    {%- endif -%}
    {%- do segments_check_strptime_describes_date(item, key) -%}
{% endmacro %}


{% macro segments_check_strptime_describes_date(item, key) %}
    {#-
        A compile error naming the key unless the directives of `item` can describe a date (and
        a time of day if any): a year (%Y %y %G), a month (%m %b %B) and a day (%d), or a day of
        the year (%j) or a week (%U %W %V); minutes %M only with an hour (%H %I), seconds %S only
        with minutes, fractions %f only with seconds. A typo such as '%d/%M/%Y' (%M is minutes)
        would otherwise parse 08/02/2023 as 1 January 2023 00:02 without any warning.
    -#}
    {%- set found = modules.re.findall('%-?([a-zA-Z])', item | replace('%%', '')) -%}
    {%- set d = namespace(letters=[]) -%}
    {%- for letter in found -%}
        {%- if letter == 'c' -%}
            {%- set d.letters = d.letters + ['Y', 'm', 'd', 'H', 'M', 'S'] -%}
        {%- elif letter == 'x' -%}
            {%- set d.letters = d.letters + ['y', 'm', 'd'] -%}
        {%- elif letter in ['X', 'T'] -%}
            {%- set d.letters = d.letters + ['H', 'M', 'S'] -%}
        {%- else -%}
            {%- set d.letters = d.letters + [letter] -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set letters = d.letters -%}
    {%- set has = namespace(
        year=('Y' in letters or 'y' in letters or 'G' in letters),
        month=('m' in letters or 'b' in letters or 'B' in letters or 'h' in letters),
        day=('d' in letters or 'j' in letters or 'U' in letters or 'W' in letters or 'V' in letters),
        hour=('H' in letters or 'I' in letters),
        minute=('M' in letters),
        second=('S' in letters),
    ) -%}
    {%- set prefix = key ~ ": '" ~ item ~ "' cannot describe a date: " -%}
    {%- if has.minute and not has.hour -%}
        {{ exceptions.raise_compiler_error(prefix ~ "%M is minutes but there is no hour (%H or %I); did you mean %m (month)?") }}
    {%- endif -%}
    {%- if has.second and not has.minute -%}
        {{ exceptions.raise_compiler_error(prefix ~ "%S is seconds but there are no minutes (%M); did you mean %M after %H?") }}
    {%- endif -%}
    {%- if 'f' in letters and not has.second -%}
        {{ exceptions.raise_compiler_error(prefix ~ "%f is fractions of a second but there are no seconds (%S)") }}
    {%- endif -%}
    {%- if not has.year -%}
        {{ exceptions.raise_compiler_error(prefix ~ "no year directive; add %Y (2023) or %y (23)") }}
    {%- endif -%}
    {%- if not has.month and 'j' not in letters and 'U' not in letters and 'W' not in letters and 'V' not in letters -%}
        {{ exceptions.raise_compiler_error(prefix ~ "no month directive; add %m (01-12) or %b/%B (month name)" ~ ("; %M is minutes: did you mean %m (month)?" if has.minute else "")) }}
    {%- endif -%}
    {%- if not has.day -%}
        {{ exceptions.raise_compiler_error(prefix ~ "no day directive; add %d (day of the month, 01-31)") }}
    {%- endif -%}
{% endmacro %}


{% macro segments_number_format(value, key) %}
    {#-
        A validated number_format rule as {decimal, thousands} (none without the rule): the
        decimal separator ('.' or ','), the thousands separator ('', ',', '.', ' ', "'"), which
        must differ. Applied by segments_parse_number/money to amount, unit price, quantity,
        income, age and numeric attributes.
    -#}
    {#- Keys and allowed separators: the configuration schema (segments_input_config). -#}
    {%- if value is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set decimal = value.get('decimal', '.') -%}
    {%- set thousands = value.get('thousands', '') -%}
    {%- if thousands is none -%}{%- set thousands = '' -%}{%- endif -%}
    {%- if thousands == decimal -%}
        {{ exceptions.raise_compiler_error(key ~ ": the decimal and thousands separators are both '" ~ decimal ~ "'") }}
    {%- endif -%}
    {{ return({'decimal': decimal, 'thousands': thousands}) }}
{% endmacro %}


{% macro segments_timezone() %}
    {#-
        The business time zone, var `segments_timezone` (default UTC), as an IANA name: naive
        timestamps of the inputs are local to it, and order dates, signup dates, recency and
        tenure are taken in it. Checked against DuckDB's time zone list at execution time.
    -#}
    {%- set value = var('segments_timezone', 'UTC') -%}
    {%- if value is not string or not modules.re.match('^[A-Za-z][A-Za-z0-9_+/-]*$', value) -%}
        {{ exceptions.raise_compiler_error("var segments_timezone: expected an IANA time zone name such as UTC or Europe/Berlin, got " ~ value) }}
    {%- endif -%}
    {%- if value in ['UTC', 'Etc/UTC'] -%}
        {{ return('UTC') }}
    {%- endif -%}
    {%- if execute -%}
        {%- set found = run_query("select count(*) from pg_timezone_names() where name = '" ~ value ~ "'") -%}
        {%- if found.rows[0][0] == 0 -%}
            {{ exceptions.raise_compiler_error("var segments_timezone: unknown time zone '" ~ value ~ "'; expected an IANA name such as UTC, Europe/Berlin or America/New_York") }}
        {%- endif -%}
    {%- endif -%}
    {{ return(value) }}
{% endmacro %}


{% macro segments_local_to_utc(ts) -%}
    {#- A naive timestamp read in the business time zone, as the naive UTC instant. -#}
    {%- set tz = segments_timezone() -%}
    {%- if tz == 'UTC' -%}
        {{ ts }}
    {%- else -%}
        make_timestamp(epoch_us(timezone('{{ tz }}', {{ ts }})))
    {%- endif -%}
{%- endmacro %}


{% macro segments_utc_to_local(ts) -%}
    {#- A naive UTC instant as the naive wall-clock time of the business time zone. -#}
    {%- set tz = segments_timezone() -%}
    {%- if tz == 'UTC' -%}
        {{ ts }}
    {%- else -%}
        timezone('{{ tz }}', timezone('UTC', {{ ts }}))
    {%- endif -%}
{%- endmacro %}


{% macro segments_offset_pattern() -%}
    {#-
        Text ending in a time of day and a UTC offset: group 1 the local part, group 2 the zone
        (Z, UTC, GMT, +02, +02:00, +0200, -07:00; one space before it is allowed).
    -#}
    {{- "'^(.*[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.][0-9]+)?)?) ?(Z|z|UTC|GMT|[+-][0-9]{2}(?::?[0-9]{2})?)$'" -}}
{%- endmacro %}


{% macro segments_offset_minutes(zone) -%}
    {#- Minutes east of UTC of a zone text matched by segments_offset_pattern (Z, +02, -07:00). -#}
    case
        when upper({{ zone }}) in ('Z', 'UTC', 'GMT') then 0
        else
            (case when left({{ zone }}, 1) = '-' then -1 else 1 end)
            * (
                cast(substr({{ zone }}, 2, 2) as integer) * 60
                + coalesce(
                    try_cast(nullif(substr(replace({{ zone }}, ':', ''), 4, 2), '') as integer), 0
                )
            )
    end
{%- endmacro %}


{% macro segments_parse_naive_timestamp(expr, formats=[]) -%}
    {#- A naive timestamp from text without an offset: ISO 8601, YYYYMMDD, then each format. -#}
    coalesce(
        try_cast({{ expr }} as timestamp),
        case
            when regexp_full_match({{ expr }}, '[0-9]{8}')
                then try_strptime({{ expr }}, '%Y%m%d')
        end,
        {%- for item in formats %}
        try_strptime({{ expr }}, {{ segments_quote_literal(item, 'datetime_formats') }}),
        {%- endfor %}
        cast(null as timestamp)
    )
{%- endmacro %}


{% macro segments_parse_timestamp(expr, formats=[], timestamp_unit=none) -%}
    {#-
        The UTC instant (a naive TIMESTAMP holding UTC) of a text value, whatever the process
        time zone. In order:
        - with timestamp_unit epoch_seconds | epoch_milliseconds: a number of at least five
          digits is a Unix epoch (a shorter one is no useful instant, and 1957 stays a year for
          birth dates);
        - text ending in a time and a UTC offset (2023-06-30T23:30:00-07:00, ...Z, ... +0200):
          the local part as ISO 8601 minus the offset;
        - ISO 8601 without offset (2024-01-31, 2024-01-31 10:00:00, 2024-01-31T10:00), compact
          YYYYMMDD, then each strptime format of `formats` without %z/%Z: a wall-clock time of
          the business time zone (var segments_timezone), converted to UTC;
        - each format with %z/%Z: the instant it gives.
        Null when none matches.
    -#}
    {%- set offset = segments_offset_pattern() -%}
    {%- set naive_formats = [] -%}
    {%- set zoned_formats = [] -%}
    {%- for item in formats -%}
        {%- if '%z' in item or '%Z' in item -%}
            {%- do zoned_formats.append(item) -%}
        {%- else -%}
            {%- do naive_formats.append(item) -%}
        {%- endif -%}
    {%- endfor -%}
    coalesce(
        {%- if timestamp_unit is not none %}
        case
            when regexp_full_match({{ expr }}, '[+-]?[0-9]{5,}([.][0-9]*)?')
                then make_timestamp(try_cast(round(
                    try_cast({{ expr }} as double)
                    * {{ '1000000' if timestamp_unit == 'epoch_seconds' else '1000' }}
                ) as bigint))
        end,
        {%- endif %}
        case
            when regexp_matches({{ expr }}, {{ offset }})
                then try_cast(regexp_extract({{ expr }}, {{ offset }}, 1) as timestamp)
                    - to_minutes({{ segments_offset_minutes('regexp_extract(' ~ expr ~ ', ' ~ offset ~ ', 2)') }})
            else {{ segments_local_to_utc(segments_parse_naive_timestamp(expr, naive_formats)) }}
        end,
        {%- for item in zoned_formats %}
        make_timestamp(epoch_us(try_strptime({{ expr }}, {{ segments_quote_literal(item, 'datetime_formats') }}))),
        {%- endfor %}
        cast(null as timestamp)
    )
{%- endmacro %}


{% macro segments_parse_date(expr, formats=[], timestamp_unit=none, partial=false) -%}
    {#-
        A date of the business time zone: a value with a UTC offset (or an epoch, or a %z
        format) is converted to it first; a naive date or timestamp is taken as it is.
        partial: also a year alone (1957 -> 1957-07-01, mid-year) or a year and month (1957-03,
        03/1957 -> the 15th), for birth dates exported that way.
    -#}
    {%- set offset = segments_offset_pattern() -%}
    {%- set ns = namespace(has_zoned=false) -%}
    {%- for item in formats -%}
        {%- if '%z' in item or '%Z' in item -%}{%- set ns.has_zoned = true -%}{%- endif -%}
    {%- endfor -%}
    coalesce(
        {%- if timestamp_unit is not none or ns.has_zoned %}
        cast({{ segments_utc_to_local(segments_parse_timestamp(expr, formats, timestamp_unit)) }} as date),
        {%- else %}
        case
            when regexp_matches({{ expr }}, {{ offset }})
                then cast({{ segments_utc_to_local(segments_parse_timestamp(expr, formats)) }} as date)
            else cast({{ segments_parse_naive_timestamp(expr, formats) }} as date)
        end,
        {%- endif %}
        {%- if partial %}
        case
            when regexp_full_match({{ expr }}, '[12][0-9]{3}')
                then make_date(cast({{ expr }} as integer), 7, 1)
            when regexp_full_match({{ expr }}, '[12][0-9]{3}[-/.](0?[1-9]|1[0-2])')
                then make_date(
                    cast(left({{ expr }}, 4) as integer), cast(substr({{ expr }}, 6) as integer), 15
                )
            when regexp_full_match({{ expr }}, '(0?[1-9]|1[0-2])[-/.][12][0-9]{3}')
                then make_date(
                    cast(right({{ expr }}, 4) as integer),
                    cast(regexp_extract({{ expr }}, '^([0-9]+)', 1) as integer),
                    15
                )
        end,
        {%- endif %}
        cast(null as date)
    )
{%- endmacro %}


{% macro segments_number_text(expr, number_format=none) -%}
    {#- The text of a number with number_format's separators rewritten: 1.234,50 -> 1234.50. -#}
    {%- if number_format is none -%}
        {{ expr }}
    {%- else -%}
        {%- set text = expr -%}
        {%- if number_format.thousands -%}
            {%- set text = "replace(" ~ text ~ ", " ~ segments_quote_literal(number_format.thousands, 'number_format.thousands') ~ ", '')" -%}
        {%- endif -%}
        {%- if number_format.decimal == ',' -%}
            {%- set text = "replace(" ~ text ~ ", ',', '.')" -%}
        {%- endif -%}
        {{ text }}
    {%- endif -%}
{%- endmacro %}


{% macro segments_parse_number(expr, number_format=none) -%}
    {#-
        A finite double from text; null for text that is not a number, NaN or infinity. With a
        number_format rule its thousands separator is dropped and a decimal comma read as a
        point (1.234,50 -> 1234.5).
    -#}
    {%- set text = segments_number_text(expr, number_format) -%}
    case
        when isfinite(try_cast({{ text }} as double))
            then try_cast({{ text }} as double)
    end
{%- endmacro %}


{% macro segments_parse_integer(expr) -%}
    {#- An integer from text such as 3, +3 or 3.0; null for 3.5 or text that is not a number. -#}
    case
        when regexp_full_match({{ expr }}, '[+-]?[0-9]{1,9}(\.0*)?')
            then cast(cast({{ expr }} as double) as integer)
    end
{%- endmacro %}


{% macro segments_parse_money(expr, number_format=none) -%}
    {#-
        A decimal(18, 2) from text (rounded to cents); null when not a number or out of range.
        number_format as for segments_parse_number.
    -#}
    {%- set text = segments_number_text(expr, number_format) -%}
    case
        when isfinite(try_cast({{ text }} as double))
            then try_cast({{ text }} as decimal(18, 2))
    end
{%- endmacro %}


{% macro segments_quoted_value(expr) -%}
    {#- A value for a reject's detail text: 'value' in quotes, or null. -#}
    coalesce('''' || cast({{ expr }} as varchar) || '''', 'null')
{%- endmacro %}


{% macro segments_raw_columns(entity) -%}
    {#- The raw row of a base_* relation (contract column names, text) as a struct. -#}
    {%- set contract = segments_input_contract(entity) -%}
    struct_pack(
        {%- for name in contract.required + contract.optional -%}
        {{ name }} := {{ name }}{{ ', ' if not loop.last }}
        {%- endfor -%}
    )
{%- endmacro %}


{% macro segments_raw_record(raw_columns, keep) -%}
    {#- The struct of segments_raw_columns as JSON text where `keep` is true, else null. -#}
    case when {{ keep }} then cast(to_json({{ raw_columns }}) as varchar) end
{%- endmacro %}

{#-
    The SQL side of the predictive CLV configuration: the `clv` key of the var `segmentation`
    (docs/clv.md). SQL reads three of its keys; the Python models read the rest
    (segmentation.pipeline.customer_clv, which leaves out the SQL-only keys below):

        segmentation:
          clv:
            time_unit: weeks        # days | weeks (= days / 7); unit of frequency, recency, T
            calibration_end: null   # YYYY-MM-DD; null = the reference date minus one day
            holdout_end: null       # YYYY-MM-DD after calibration_end: the clv_holdout check
            horizon_days: 365       # and the other settings of segmentation.clv.ClvSettings

    Every key is checked against the configuration schema (src/segmentation/config_schema.yml),
    so a typo fails at compile time naming the key; the dates here.
-#}

{% macro segments_clv_config() %}
    {#- The `segmentation.clv` mapping ({} when absent or null), checked against the schema. -#}
    {%- set segmentation = var('segmentation', {}) -%}
    {%- if segmentation is not mapping -%}
        {{ exceptions.raise_compiler_error("var segmentation: expected a mapping, got " ~ segmentation) }}
    {%- endif -%}
    {%- set clv = segmentation.get('clv') -%}
    {%- do segments_config_validate(segments_config_var_node('segmentation')['keys']['clv'], clv, 'segmentation.clv') -%}
    {{ return(clv or {}) }}
{% endmacro %}


{% macro segments_clv_time_unit() %}
    {#- 'days' or 'weeks' (segmentation.clv.time_unit, checked against the schema; default weeks). -#}
    {{ return(segments_clv_config().get('time_unit') or segments_config_default('segmentation.clv.time_unit')) }}
{% endmacro %}


{% macro segments_clv_days_per_unit() %}
    {#- Days per time unit as a SQL number literal: 1.0 for days, 7.0 for weeks. -#}
    {{ return('7.0' if segments_clv_time_unit() == 'weeks' else '1.0') }}
{% endmacro %}


{% macro segments_clv_calibration_end() %}
    {#-
        The calibration end date as a SQL date expression: segmentation.clv.calibration_end
        (YYYY-MM-DD, validated) when set, else the reference date (segments_reference_date())
        minus one day, i.e. by default the day of the last order. The reference date's refs are
        registered whatever the var says, so the DAG does not change with it.
    -#}
    {%- set reference_date = segments_reference_date() -%}
    {%- set value = segments_clv_config().get('calibration_end') -%}
    {%- if value is none -%}
        {{ return("cast(" ~ reference_date ~ " - 1 as date)") }}
    {%- endif -%}
    {{ return("date '" ~ segments_validated_date(value, 'segmentation.clv.calibration_end') ~ "'") }}
{% endmacro %}


{% macro segments_clv_holdout_end() %}
    {#-
        segmentation.clv.holdout_end as 'YYYY-MM-DD', or none when not set (no holdout check).
        It needs an explicit segmentation.clv.calibration_end before it (the default calibration
        end is the last order day, which leaves nothing to hold out); both are validated here,
        so a wrong value fails at compile time naming the key.
    -#}
    {%- set config = segments_clv_config() -%}
    {%- set value = config.get('holdout_end') -%}
    {%- if value is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set holdout_end = segments_validated_date(value, 'segmentation.clv.holdout_end') -%}
    {%- if config.get('calibration_end') is none -%}
        {{ exceptions.raise_compiler_error("var segmentation.clv.holdout_end (" ~ holdout_end ~ ") needs segmentation.clv.calibration_end: the calibration window ends there and the holdout window runs from the day after to holdout_end") }}
    {%- endif -%}
    {%- set calibration_end = segments_validated_date(config.get('calibration_end'), 'segmentation.clv.calibration_end') -%}
    {%- if holdout_end <= calibration_end -%}
        {{ exceptions.raise_compiler_error("var segmentation.clv.holdout_end (" ~ holdout_end ~ ") must be after segmentation.clv.calibration_end (" ~ calibration_end ~ ")") }}
    {%- endif -%}
    {{ return(holdout_end) }}
{% endmacro %}

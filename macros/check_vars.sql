{#-
    Unknown vars are errors: on-run-start (dbt_project.yml) compares the keys of the --vars of
    the command with the vars the project reads, so that a typo such as segment_timezone fails
    the command, naming the closest known var, instead of being ignored.
    segments_known_vars must list every var('...') of macros, models, tests and analyses
    (tests/python/test_config_vars.py keeps it in step with the code).
-#}

{% macro segments_known_vars() %}
    {{ return([
        'segmentation',
        'segments_eda_features',
        'segments_eda_histogram_bins',
        'segments_eda_rank_sample_rows',
        'segments_eda_top_levels',
        'segments_extra_feature_models',
        'segments_feature_top_levels',
        'segments_gross_margin',
        'segments_input_checks',
        'segments_inputs',
        'segments_lifecycle_mode',
        'segments_plausible_age',
        'segments_plausible_income',
        'segments_reference_date',
        'segments_timezone',
        'segments_value_column',
    ]) }}
{% endmacro %}


{% macro segments_edit_distance(a, b) %}
    {#- Levenshtein distance of two short texts. -#}
    {%- set ns = namespace(previous=range(b | length + 1) | list, current=[]) -%}
    {%- for i in range(1, a | length + 1) -%}
        {%- set ns.current = [i] -%}
        {%- for j in range(1, b | length + 1) -%}
            {%- set cost = 0 if a[i - 1] == b[j - 1] else 1 -%}
            {%- set ns.current = ns.current + [[ns.previous[j] + 1, ns.current[j - 1] + 1, ns.previous[j - 1] + cost] | min] -%}
        {%- endfor -%}
        {%- set ns.previous = ns.current -%}
    {%- endfor -%}
    {{ return(ns.previous[b | length]) }}
{% endmacro %}


{% macro segments_check_vars() %}
    {#- on-run-start: a compile error naming each unknown --vars key and the closest known var. -#}
    {%- set given = invocation_args_dict.get('vars') or {} -%}
    {%- if given is string -%}
        {%- set given = fromyaml(given) or {} -%}
    {%- endif -%}
    {%- set known = segments_known_vars() -%}
    {%- set problems = [] -%}
    {%- for name in given -%}
        {%- if name not in known -%}
            {%- set ns = namespace(best=none, distance=1000) -%}
            {%- for candidate in known -%}
                {%- set distance = segments_edit_distance(name, candidate) | int -%}
                {%- if distance < ns.distance -%}
                    {%- set ns.best = candidate -%}
                    {%- set ns.distance = distance -%}
                {%- endif -%}
            {%- endfor -%}
            {%- do problems.append("unknown var '" ~ name ~ "' (--vars); did you mean '" ~ ns.best ~ "'?") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error(problems | join('; ') ~ " Known vars: " ~ known | join(', ') ~ " (docs/use_your_own_data.md)") }}
    {%- endif -%}
{% endmacro %}

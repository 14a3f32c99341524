{#-
    Scoring with a stored segmentation model, in SQL: every row of `features` gets the nearest
    centroid of the model in `model` (a relation with one row holding the model's `spec` and
    `centroids` lists, e.g. ml_segmentation_lifecycle). The steps are those of
    segmentation.preprocessing.apply_spec: impute (stored value), transform (log1p), encode
    (one-hot with the stored levels, unseen levels to __other__; ordinal codes i / (L - 1);
    missing indicators), centre, scale and weight; then the Euclidean distance to each of the k
    centroids and the nearest (ties to the lower segment id). O(n k d).

    The layout (which columns, kinds, transforms and levels) is read from the model when the
    node runs; every number (imputation values, centres, scales, weights, centroid coordinates)
    is joined from the model at query time, so nothing is rounded through Jinja.
    Columns: customer_id, model_id, segment_id, segment_name, distance_to_centroid.
-#}

{% macro segments_score_with_model(features, model) %}
    {#- Parsing, or compiling before the model exists (dbt compile on a fresh database). -#}
    {%- if not execute or load_relation(model) is none -%}
        {{ return(
            "select cast(null as varchar) as customer_id, cast(null as bigint) as model_id, "
            ~ "cast(null as bigint) as segment_id, cast(null as varchar) as segment_name, "
            ~ "cast(null as double) as distance_to_centroid"
        ) }}
    {%- endif -%}
    {%- set layout_sql -%}
        select
            cast(s.position as integer) as position,
            s.feature,
            s.kind,
            s.output_column,
            s.transform,
            s.level,
            s.is_missing_indicator,
            cast(to_json(s.ordinal_levels) as varchar) as ordinal_levels,
        from (select unnest(spec) as s from {{ model }})
        order by s.position
    {%- endset -%}
    {%- set layout = run_query(layout_sql) -%}
    {%- if layout.rows | length == 0 -%}
        {{ exceptions.raise_compiler_error(model ~ ": the model has no preprocessing spec rows; rebuild it") }}
    {%- endif -%}
    {%- set kept = {} -%}
    {%- for row in layout.rows -%}
        {%- if row['kind'] == 'categorical' and not row['is_missing_indicator'] and row['level'] != '__other__' -%}
            {%- do kept.setdefault(row['feature'], []).append(row['level']) -%}
        {%- endif -%}
    {%- endfor %}

    with

    spec as (

        select unnest(spec, recursive := true) from {{ model }}

    ),

    params as (

        select
            {%- for row in layout.rows %}
            {%- set p = row['position'] | int %}
            max(impute_value_numeric) filter (where position = {{ p }}) as impute_{{ p }},
            max(impute_value_text) filter (where position = {{ p }}) as impute_text_{{ p }},
            max(center) filter (where position = {{ p }}) as center_{{ p }},
            max(scale) filter (where position = {{ p }}) as scale_{{ p }},
            max(weight) filter (where position = {{ p }}) as weight_{{ p }},
            {%- endfor %}
        from spec

    ),

    centroid_values as (

        select unnest(centroids, recursive := true) from {{ model }}

    ),

    centroid_wide as (

        select
            segment_id,
            segment_name,
            {%- for row in layout.rows %}
            max(value_scaled) filter (
                where output_column = '{{ row['output_column'] }}'
            ) as c_{{ row['position'] | int }},
            {%- endfor %}
        from centroid_values
        group by segment_id, segment_name

    ),

    encoded as (

        select
            features.customer_id,
            {%- for row in layout.rows %}
            {%- set p = row['position'] | int %}
            {%- set column = 'features.' ~ adapter.quote(row['feature']) %}
            {%- set text = 'coalesce(cast(' ~ column ~ ' as varchar), params.impute_text_' ~ p ~ ')' %}
            {%- if row['is_missing_indicator'] %}
            cast({{ column }} is null as double) as x_{{ p }},
            {%- elif row['kind'] == 'numeric' and row['transform'] == 'log1p' %}
            ln(1 + coalesce(cast({{ column }} as double), params.impute_{{ p }})) as x_{{ p }},
            {%- elif row['kind'] == 'numeric' %}
            coalesce(cast({{ column }} as double), params.impute_{{ p }}) as x_{{ p }},
            {%- elif row['kind'] == 'ordinal' %}
            {#- values match levels ignoring case and surrounding blanks (preprocessing._level_key) #}
            {%- set levels = fromjson(row['ordinal_levels']) %}
            {%- set level_list %}[{% for level in levels %}'{{ level | trim | lower | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor %}]{% endset %}
            {%- set key = 'lower(trim(' ~ text ~ ', chr(32) || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)))' %}
            case
                when list_position({{ level_list }}, {{ key }}) is null
                    then error(
                        'customer_features.{{ row['feature'] }}: value ' || {{ text }}
                        || ' is outside the ordinal levels of the active segmentation model'
                    )
                else (list_position({{ level_list }}, {{ key }}) - 1) / {{ (levels | length) - 1 }}.0
            end as x_{{ p }},
            {%- elif row['level'] == '__other__' %}
            {%- set levels = kept.get(row['feature'], []) %}
            {%- if levels %}
            cast({{ text }} not in ({% for level in levels %}'{{ level | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor %}) as double) as x_{{ p }},
            {%- else %}
            1.0 as x_{{ p }},
            {%- endif %}
            {%- else %}
            cast({{ text }} = '{{ row['level'] | replace("'", "''") }}' as double) as x_{{ p }},
            {%- endif %}
            {%- endfor %}
        from {{ features }} as features
        cross join params

    ),

    scaled as (

        select
            encoded.customer_id,
            {%- for row in layout.rows %}
            {%- set p = row['position'] | int %}
            ((encoded.x_{{ p }} - params.center_{{ p }}) / params.scale_{{ p }})
            * params.weight_{{ p }} as m_{{ p }},
            {%- endfor %}
        from encoded
        cross join params

    ),

    distances as (

        select
            scaled.customer_id,
            centroid_wide.segment_id,
            centroid_wide.segment_name,
            sqrt(
                {%- for row in layout.rows %}
                {%- set p = row['position'] | int %}
                (scaled.m_{{ p }} - centroid_wide.c_{{ p }}) * (scaled.m_{{ p }} - centroid_wide.c_{{ p }}){{ ' +' if not loop.last }}
                {%- endfor %}
            ) as distance_to_centroid,
        from scaled
        cross join centroid_wide

    ),

    nearest as (

        select *
        from distances
        qualify row_number() over (
            partition by customer_id order by distance_to_centroid asc, segment_id asc
        ) = 1

    ),

    final as (

        select
            nearest.customer_id,
            cast(model.model_id as bigint) as model_id,
            cast(nearest.segment_id as bigint) as segment_id,
            cast(nearest.segment_name as varchar) as segment_name,
            nearest.distance_to_centroid,
        from nearest
        cross join (select model_id from {{ model }}) as model

    )

    select * from final
{% endmacro %}

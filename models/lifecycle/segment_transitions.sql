{#-
    Segment movements between consecutive runs of segment_membership_history: per pair of
    consecutive runs, how many customers went from each segment to each segment (what a Sankey
    chart reads). A customer absent from the earlier run has a null from_segment_id (new
    customer); one absent from the later run a null to_segment_id (gone). The first run is
    paired with no earlier run (from_invocation_id null): every customer enters as new.
-#}

with

history as (

    select * from {{ ref('segment_membership_history') }}

),

distinct_runs as (

    select distinct
        invocation_id,
        run_started_at,
    from history

),

runs as (

    select
        invocation_id,
        run_started_at,
        lag(invocation_id) over (
            order by run_started_at, invocation_id
        ) as previous_invocation_id,
        lag(run_started_at) over (
            order by run_started_at, invocation_id
        ) as previous_run_started_at,
    from distinct_runs

),

pairs as (

    select * from runs

),

before_run as (

    select
        pairs.previous_invocation_id,
        pairs.invocation_id,
        history.customer_id,
        history.segment_id,
        history.segment_name,
    from pairs
    inner join history
        on pairs.previous_invocation_id = history.invocation_id

),

after_run as (

    select
        pairs.previous_invocation_id,
        pairs.invocation_id,
        history.customer_id,
        history.segment_id,
        history.segment_name,
    from pairs
    inner join history
        on pairs.invocation_id = history.invocation_id

),

moves as (

    select
        coalesce(
            before_run.previous_invocation_id, after_run.previous_invocation_id
        ) as from_invocation_id,
        coalesce(before_run.invocation_id, after_run.invocation_id) as to_invocation_id,
        before_run.segment_id as from_segment_id,
        before_run.segment_name as from_segment_name,
        after_run.segment_id as to_segment_id,
        after_run.segment_name as to_segment_name,
    from before_run
    full outer join after_run
        on
            before_run.invocation_id = after_run.invocation_id
            and before_run.customer_id = after_run.customer_id

),

final as (

    select
        moves.from_invocation_id,
        any_value(pairs.previous_run_started_at) as from_run_started_at,
        moves.to_invocation_id,
        any_value(pairs.run_started_at) as to_run_started_at,
        moves.from_segment_id,
        any_value(moves.from_segment_name) as from_segment_name,
        moves.to_segment_id,
        any_value(moves.to_segment_name) as to_segment_name,
        count(*) as customers,
        coalesce(moves.from_segment_id = moves.to_segment_id, false) as is_same_segment,
    from moves
    inner join pairs
        on moves.to_invocation_id = pairs.invocation_id
    group by
        moves.from_invocation_id,
        moves.to_invocation_id,
        moves.from_segment_id,
        moves.to_segment_id

)

select * from final

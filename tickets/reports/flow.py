"""Cumulative flow: how many requests were in each open state at the end of each day."""
from sqlalchemy import case, func, select, union_all

from .. import localtime, settings
from ..extensions import db
from ..models import CLOSED_STATES, STATE_EVENT_KINDS, STATES, Event, Request
from ..queries import unindexed
from .charts import Series, chart
from .filters import conditions
from .periods import period_of
from .series import running
from .snapshot import daily_changes, running_totals, serves, snapshot_zone

# The states not closed yet (the open ones and delivered), in the order work flows through
# them (also the x categories of ageing_wip).
FLOW_STATES = tuple(state for state in STATES if state not in CLOSED_STATES)


@chart("cumulative_flow", "Cumulative flow",
       "Each band is the number of requests in a state at the end of each day; a "
       "widening band is work piling up there (closed requests are left out).")
def cumulative_flow(spec, filters, now):
    """How many requests were in each state not closed at the end of each day of the range.

    Exact for any past day, from the event history, each event read once: a 'created' event
    is +1 in its ``to_state`` (where the request starts: submitted; an 'imported' one: the
    state its file gave), a 'transition' event -1 in its ``from_state`` and +1 in its
    ``to_state``, on the local day of the event (day -1:
    before the range, so those sum to the counts at its start). The events are first grouped
    by day and move, so the rest of the query handles a few rows per day; a running SUM() OVER
    the days of each state gives the counts. Closed states are left out: they only grow and
    would flatten the rest. Series run from the bottom band (delivered) to the top (submitted).

    The same sums come from the flow snapshot (``snapshot``: the events summed per day) when
    it serves the filters: a few rows per day instead of every event.
    """
    values = settings.current()
    period = period_of(filters, now, values)
    if period.days and serves(filters, values, snapshot_zone()):
        found = running_totals(daily_changes(
            filters, period, localtime.zone(values), "state", FLOW_STATES))
        counts = {state: found.get(state) or [0] * period.days for state in FLOW_STATES}
    else:
        counts = running(_flow_from_events(filters, period), FLOW_STATES, period.days)
    labels = period.day_labels()
    return spec.chart(
        type="stacked_area", labels=labels,
        series=[Series(STATES[state], counts[state], {"state": state})
                for state in reversed(FLOW_STATES)],
        columns=["Day", *(STATES[state] for state in FLOW_STATES)],
        rows=[[day, *(counts[state][i] for state in FLOW_STATES)]
              for i, day in enumerate(labels)],
        x_label="Day", y_label="Requests")


def _flow_from_events(filters, period):
    """(state, day index, running count) rows from the event history itself."""
    moves = _flow_moves(filters, period)
    entered = (select(moves.c.to_state.label("state"), moves.c.day,
                      moves.c.count.label("change"))
               .where(moves.c.to_state.in_(FLOW_STATES)))
    left = (select(moves.c.from_state.label("state"), moves.c.day,
                   (-moves.c.count).label("change"))
            .where(moves.c.kind == "transition", moves.c.from_state.in_(FLOW_STATES)))
    deltas = union_all(entered, left).subquery("deltas")
    daily = (select(deltas.c.state, deltas.c.day, func.sum(deltas.c.change).label("change"))
             .group_by(deltas.c.state, deltas.c.day).subquery("daily"))
    return db.session.execute(
        select(daily.c.state, daily.c.day,
               func.sum(daily.c.change).over(partition_by=daily.c.state, order_by=daily.c.day))
    ).all() if period.days else []


def _flow_moves(filters, period):
    """A CTE of the 'created' and 'transition' events up to the period's end, counted per
    (day, kind, from_state, to_state): day -1 for all those before the period. Only the
    requests that ``filters`` keep; without such a filter, events alone are read."""
    day = case((Event.created_at < period.start_at, -1),
               else_=period.day_index(Event.created_at)).label("day")
    query = (select(day, Event.kind, Event.from_state, Event.to_state,
                    func.count().label("count"))
             .where(Event.kind.in_(STATE_EVENT_KINDS),
                    unindexed(Event.created_at) < period.end_at))
    narrowing = conditions(filters)
    if narrowing:
        query = query.where(Event.request_id.in_(select(Request.id).where(*narrowing)))
    return (query.group_by(day, Event.kind, Event.from_state, Event.to_state)
            .cte("moves"))

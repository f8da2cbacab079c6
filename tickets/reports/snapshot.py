"""The flow snapshot: the event history summed per local day, team, kind and state (FlowDay).

Cumulative flow and backlog by team are running totals of state changes. Read from events,
each chart scans every event up to the range's end (a million at 100,000 requests) and puts
each in its local day; read from ``flow_days``, it sums a few rows per day. A day's row holds
the requests that entered (+) or left (-) a state that day: a 'created' or 'imported' event
is +1 in its ``to_state``, a 'transition' -1 in its ``from_state`` and +1 in its
``to_state``, keyed by the request's team and kind *now* (as the charts' filters are).

How it stays exact:
- ``rebuild`` recomputes it from the events in one INSERT ... SELECT, for the settings'
  timezone, and records that timezone (the setting row ``flow_days_zone``); ``flask reports
  rebuild-snapshot`` and the nightly scheduler job call it (and whoever imports events in bulk
  must, since bulk inserts bypass the hook).
- a flush hook (``_before_flush`` / ``_after_flush``) adds each new state event to its day's
  row in the same transaction, and moves a request's rows when its team or kind changes (or
  takes them out when it is deleted); it does nothing while no snapshot exists.
- charts use it only when it was built for the current timezone and no analyst filter is set
  (a request's assignee is not a key); otherwise they read the events, as before. The range's
  last day, when it is today (cut at ``now``), is always read from the events: a few rows.
"""
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

from sqlalchemy import delete, event as sa_event, false, func, insert, inspect, literal, \
    select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .. import localtime
from ..extensions import db
from ..models import STATE_EVENT_KINDS, Event, FlowDay, Request, Setting
from ..queries import unindexed
from .periods import Period, utc_offsets

ZONE_KEY = "flow_days_zone"  # the setting row naming the timezone the snapshot's days are in
EPOCH_DAY = date(1970, 1, 1)
STATE_KINDS = STATE_EVENT_KINDS  # the events that change a request's state


def day_number(day):
    """The snapshot's number of a local date: days since 1970-01-01."""
    return (day - EPOCH_DAY).days


def _zone_of(connection):
    return connection.execute(select(Setting.value).where(Setting.key == ZONE_KEY)).scalar()


def snapshot_zone():
    """The name of the timezone the snapshot was built for, or None when there is none."""
    return _zone_of(db.session.connection())


def serves(filters, values, zone_name):
    """Whether charts of ``filters`` may read the snapshot built for ``zone_name``: it exists
    for the settings' timezone, and no analyst filter is set (assignees are not a key)."""
    return (zone_name is not None and filters.analyst_id is None
            and zone_name == localtime.zone(values).key)


def rebuild(values=None):
    """Recompute ``flow_days`` from the events for the settings' timezone; return its rows.

    One DELETE and one INSERT ... SELECT: the events' local days are computed by the database
    exactly as the charts compute them (``Period.day_index``). Does not commit.
    """
    zone = localtime.zone(values)
    session = db.session
    session.execute(delete(FlowDay))
    low, high = session.execute(
        select(func.min(Event.created_at), func.max(Event.created_at))
        .where(Event.kind.in_(STATE_KINDS))).one()
    if low is not None:
        span_end = high + timedelta(seconds=1)
        offsets, last = utc_offsets(zone, low, span_end)
        span = Period(EPOCH_DAY, 0, low, span_end, tuple(offsets), last)
        day = span.day_index(Event.created_at).label("day")
        entered = (select(day, Request.team_id, Request.kind, Event.to_state.label("state"),
                          literal(1).label("change"))
                   .join(Request, Request.id == Event.request_id)
                   .where(Event.kind.in_(STATE_KINDS), Event.to_state.is_not(None)))
        left = (select(day, Request.team_id, Request.kind, Event.from_state.label("state"),
                       literal(-1).label("change"))
                .join(Request, Request.id == Event.request_id)
                .where(Event.kind == "transition", Event.from_state.is_not(None)))
        moves = union_all(entered, left).subquery("moves")
        summed = func.sum(moves.c.change)
        session.execute(insert(FlowDay).from_select(
            ["day", "team_id", "kind", "state", "change"],
            select(moves.c.day, moves.c.team_id, moves.c.kind, moves.c.state, summed)
            .group_by(moves.c.day, moves.c.team_id, moves.c.kind, moves.c.state)
            .having(summed != 0)))
    row = session.get(Setting, ZONE_KEY)
    if row is None:
        session.add(Setting(key=ZONE_KEY, value=zone.key))
    else:
        row.value = zone.key
    session.flush()
    return session.scalar(select(func.count()).select_from(FlowDay))


def settle(now, values=None):
    """Rebuild the snapshot (the scheduler's nightly job): catches events written in bulk and a
    change of timezone. Returns a line for the job's summary."""
    rows = rebuild(values)
    return f"flow snapshot rebuilt: {rows} day row(s)"


# --- Reading ---------------------------------------------------------------------------------

def _narrowing(filters):
    found = []
    if filters.team_ids is not None:
        found.append(FlowDay.team_id.in_(filters.team_ids) if filters.team_ids else false())
    if filters.team_id is not None:
        found.append(FlowDay.team_id == filters.team_id)
    if filters.kind is not None:
        found.append(FlowDay.kind == filters.kind)
    return found


def _request_narrowing(filters):
    # Today's few events are found by time; the requests' indexes would read a whole team.
    team_id = unindexed(Request.team_id)
    found = []
    if filters.team_ids is not None:
        found.append(team_id.in_(filters.team_ids) if filters.team_ids else false())
    if filters.team_id is not None:
        found.append(team_id == filters.team_id)
    if filters.kind is not None:
        found.append(unindexed(Request.kind) == filters.kind)
    return found


def daily_changes(filters, period, zone, by, states):
    """Net changes of the requests in ``states`` per key and day: {key: [change before the
    period, change on its first day, its second, ...]} (``period.days + 1`` numbers, days of
    ``zone``, the settings'). ``by`` is "state" or "team_id". Snapshot rows for the whole
    days, events for the last day when it is cut at ``now``: one statement.

    The snapshot is read in its primary key's order (day, team), so SQLite groups as it
    reads, with no sort: by state, a row per day with a column per state (aggregates with a
    FILTER); by team, a row per day and team. Before the period: one sum per key.
    """
    if not period.days:
        return {}
    first = day_number(period.first)
    last_day = period.first + timedelta(days=period.days - 1)
    last_start = datetime.combine(last_day, time(0), tzinfo=zone).astimezone(UTC)
    last_end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone) \
        .astimezone(UTC)
    whole = period.days if period.end_at >= last_end else period.days - 1
    days = (FlowDay.day >= first, FlowDay.day < first + whole)
    # Today, cut at ``now`` (index ``whole + 1``): its few events, found by time.
    today = (Event.created_at >= last_start, Event.created_at < period.end_at,
             *_request_narrowing(filters)) if whole < period.days else None
    if by == "state":
        parts = _state_parts(filters, states, first, days, whole + 1, today)
    else:
        parts = _team_parts(filters, states, first, days, whole + 1, today)
    rows = db.session.connection().execute(union_all(*parts)).all()
    if by == "state":
        rows = [(state, row[0], change) for row in rows
                for state, change in zip(states, row[1:]) if change]
    found = {}
    for key, index, change in rows:
        changes = found.get(key)
        if changes is None:
            changes = found[key] = [0] * (period.days + 1)
        changes[index] += change
    return found


def _state_parts(filters, states, first, days, today_index, today):
    """Statements of (index, change in each of ``states``) rows: before the period, each
    whole day, today."""
    narrowing = _narrowing(filters)
    pivot = [func.sum(FlowDay.change).filter(FlowDay.state == state) for state in states]
    parts = [select(literal(0), *pivot).where(FlowDay.day < first, *narrowing),
             select(FlowDay.day - first + 1, *pivot).where(*days, *narrowing)
             .group_by(FlowDay.day)]
    if today is not None:
        moved = [func.count().filter(Event.to_state == state)
                 - func.count().filter(Event.kind == "transition", Event.from_state == state)
                 for state in states]
        parts.append(select(literal(today_index), *moved)
                     .select_from(Event).join(Request, Request.id == Event.request_id)
                     .where(Event.kind.in_(STATE_KINDS), *today))
    return parts


def _team_parts(filters, states, first, days, today_index, today):
    """Statements of (team id, index, change) rows: before the period, each whole day and
    team, today."""
    narrowing = (FlowDay.state.in_(states), *_narrowing(filters))
    parts = [select(FlowDay.team_id, literal(0), func.sum(FlowDay.change))
             .where(FlowDay.day < first, *narrowing).group_by(FlowDay.team_id),
             select(FlowDay.team_id, FlowDay.day - first + 1, func.sum(FlowDay.change))
             .where(*days, *narrowing).group_by(FlowDay.day, FlowDay.team_id)]
    if today is not None:
        # SQLite would otherwise walk every request of a team filter to group by team.
        found = unindexed(Request.team_id)
        for column, sign, kinds in ((Event.to_state, 1, STATE_KINDS),
                                    (Event.from_state, -1, ("transition",))):
            parts.append(
                select(found, literal(today_index), sign * func.count())
                .select_from(Event).join(Request, Request.id == Event.request_id)
                .where(Event.kind.in_(kinds), column.in_(states), *today)
                .group_by(found))
    return parts


def running_totals(changes):
    """{key: [changes before the period, on each day]} as {key: [total at the end of each
    day]}."""
    return {key: list(accumulate(days))[1:] for key, days in changes.items()}


# --- Keeping it as events are written ----------------------------------------------------------

def _local_day(at, zone):
    return day_number(at.astimezone(zone).date())


def _history(connection, request_ids, zone):
    """{request id: Counter((day, state): change)} of the stored state events of requests."""
    found = {request_id: Counter() for request_id in request_ids}
    for request_id, kind, from_state, to_state, created_at in connection.execute(
            select(Event.request_id, Event.kind, Event.from_state, Event.to_state,
                   Event.created_at)
            .where(Event.request_id.in_(request_ids), Event.kind.in_(STATE_KINDS))):
        at = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
        day = _local_day(at, zone)
        if to_state is not None:
            found[request_id][day, to_state] += 1
        if kind == "transition" and from_state is not None:
            found[request_id][day, from_state] -= 1
    return found


def _old_value(state, name):
    """The value attribute ``name`` had before this flush, and whether it changed."""
    history = state.attrs[name].history
    if not history.has_changes():
        return None, False
    return (history.deleted[0] if history.deleted else None), True


@sa_event.listens_for(Session, "before_flush")
def _before_flush(session, flush_context, instances):
    """Take a request's history off its old team and kind (a change, a deletion): read now,
    before the flush writes new events or deletes the old ones."""
    moved = []
    for obj in list(session.dirty) + list(session.deleted):
        if not isinstance(obj, Request) or obj.id is None:
            continue
        state = inspect(obj)
        old_team_id, team_id_changed = _old_value(state, "team_id")
        old_team, team_changed = _old_value(state, "team")
        old_kind, kind_changed = _old_value(state, "kind")
        deleted = obj in session.deleted
        if not (deleted or team_id_changed or team_changed or kind_changed):
            continue
        if team_changed and old_team is not None:
            old_team_id = old_team.id
        elif not team_id_changed:
            old_team_id = state.committed_state.get("team_id", obj.team_id)
        if not kind_changed:
            old_kind = obj.kind
        moved.append((obj, old_team_id, old_kind, deleted))
    if not moved:
        return
    connection = session.connection()
    zone_name = _zone_of(connection)
    if zone_name is None:
        return
    histories = _history(connection, [obj.id for obj, *_ in moved], ZoneInfo(zone_name))
    pending = session.info.setdefault("flow_days_pending", [])
    for obj, old_team_id, old_kind, deleted in moved:
        for (day, state_name), change in histories[obj.id].items():
            pending.append((day, old_team_id, old_kind, state_name, -change))
            if not deleted:
                pending.append((day, obj, None, state_name, change))  # new key after flush


@sa_event.listens_for(Session, "after_flush")
def _after_flush(session, flush_context):
    """Add the state events this flush wrote (and the moves ``_before_flush`` noted) to the
    snapshot's rows, in the same transaction, with one upsert."""
    pending = session.info.pop("flow_days_pending", [])
    written = [obj for obj in session.new
               if isinstance(obj, Event) and obj.kind in STATE_KINDS and obj.to_state]
    if not written and not pending:
        return
    connection = session.connection()
    zone_name = _zone_of(connection)
    if zone_name is None:
        return
    zone = ZoneInfo(zone_name)
    changes = Counter()
    for day, team_or_request, kind, state_name, change in pending:
        if isinstance(team_or_request, Request):
            team_or_request, kind = team_or_request.team_id, team_or_request.kind
        changes[day, team_or_request, kind, state_name] += change
    unknown = {obj.request_id for obj in written
               if "request" not in obj.__dict__ or obj.request is None}
    keys = {}
    if unknown:
        keys = {row.id: (row.team_id, row.kind) for row in connection.execute(
            select(Request.id, Request.team_id, Request.kind).where(Request.id.in_(unknown)))}
    for obj in written:
        request = obj.__dict__.get("request")
        team_id, kind = ((request.team_id, request.kind) if request is not None
                         else keys[obj.request_id])
        day = _local_day(obj.created_at, zone)
        changes[day, team_id, kind, obj.to_state] += 1
        if obj.kind == "transition" and obj.from_state is not None:
            changes[day, team_id, kind, obj.from_state] -= 1
    # In key order, so concurrent transactions lock the rows they share in the same order.
    rows = [{"day": day, "team_id": team_id, "kind": kind, "state": state_name,
             "change": change}
            for (day, team_id, kind, state_name), change in sorted(changes.items()) if change]
    if rows:
        connection.execute(_upsert(connection.dialect.name), rows)


def _upsert(dialect):
    statement = (postgresql.insert(FlowDay) if dialect == "postgresql"
                 else sqlite.insert(FlowDay))
    return statement.on_conflict_do_update(
        index_elements=["day", "team_id", "kind", "state"],
        set_={"change": FlowDay.change + statement.excluded.change})


"""Reports for leads: the data behind every chart of /reports, computed in SQL.

Each chart is a function ``chart(filters, now) -> Chart`` registered in ``CHARTS``. The page,
its JSON endpoints and its CSV exports all go through the registry, so a chart is defined once:
what it shows, how to read it, and its data as series (for the chart) and as a table (for the
table and the CSV). Figures are computed by the database (grouped counts, window functions over
the event history), never by looping over requests in Python, so a chart costs a constant number
of SQL statements whatever the number of requests.

Days and weeks are those of the settings' timezone. The database stores UTC, so an instant is
put in its local day by ``_Period.day_index``: its epoch seconds plus the zone's UTC offset at
that instant (a CASE over the few offset changes of the range, so DST is exact), minus the
range's first local midnight, divided by a day. Weeks are ISO weeks (Monday to Sunday), cut to
the range; they are labelled by their Monday. A range never reaches past ``now``: days after
today have no data yet.

Percentiles are interpolated between ranks as PostgreSQL's ``percentile_cont`` does. On
PostgreSQL the database computes them; SQLite has no percentile function, so there the numbers
concerned (one or two floats per delivery of the range, nothing else) are fetched, sorted and
the ranks picked in Python. No chart ever loads Request objects.
"""
import calendar
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import BigInteger, Float, and_, case, cast, extract, false, func, literal, or_
from sqlalchemy import literal_column, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from . import localtime, settings, sla_clocks
from .extensions import db
from .models import CLOSED_STATES, DECLINE_REASONS, KINDS, SLA_CLASSES, STATES, Event, Request
from .models import Team
from .queries import MAX_ID

DEFAULT_WEEKS = 12  # the range shown when none is chosen
MAX_DAYS = 366 * 5  # the longest range a chart may cover

# Dates a range may use: wide enough for any real history, narrow enough that local midnights
# stay representable in every timezone.
EARLIEST = date(2000, 1, 1)
LATEST = date(2199, 12, 31)

# The states not closed yet, in the order work flows through them (the x categories of
# ageing_wip): the open ones and delivered.
FLOW_STATES = tuple(state for state in STATES if state not in CLOSED_STATES)
PERCENTILES = {"p50": 0.5, "p85": 0.85, "p95": 0.95}
# Lead and cycle time buckets in days: [low, high), the last one open-ended.
TIME_BUCKETS = ((0, 1), (1, 2), (2, 5), (5, 10), (10, 20), (20, 40), (40, None))
AGEING_CAP = 2000  # ageing_wip shows at most this many points, the oldest
START_ACTIONS = ("claim", "assign")  # the transitions that start work on a request
SLA_STATUS_ORDER = ("breached", "at_risk", "on_track", "paused", "stopped")


@dataclass(frozen=True)
class Filters:
    """What every chart can be narrowed by; all optional but the date range (inclusive).

    ``team_ids`` limits every chart to those teams (an analyst's own teams); None: no limit.
    """

    start: date
    end: date
    team_id: int | None = None
    analyst_id: int | None = None
    kind: str | None = None
    team_ids: tuple | None = None

    @classmethod
    def default(cls, today):
        """The last DEFAULT_WEEKS weeks up to ``today``."""
        return cls(start=today - timedelta(weeks=DEFAULT_WEEKS) + timedelta(days=1), end=today)


@dataclass
class Series:
    """One line, bar group or point set of a chart."""

    name: str
    data: list  # numbers aligned with Chart.labels, or {"x": ..., "y": ...} points (scatter)
    extra: dict = field(default_factory=dict)  # e.g. {"status": "breached"} for colouring


@dataclass
class Chart:
    """A chart's data, ready for the page (series) and for the table and CSV (rows)."""

    key: str
    title: str
    how_to_read: str  # one line shown under the title
    type: str  # line, stacked_area, bar, stacked_bar, scatter
    labels: list  # x values (ISO dates or categories); empty for scatter
    series: list  # of Series
    columns: list  # table/CSV header
    rows: list  # table/CSV rows (lists of plain values)
    x_label: str = ""
    y_label: str = ""
    notes: dict = field(default_factory=dict)  # e.g. percentile lines: {"p50": 3.5, ...}

    def as_json(self):
        """The chart as plain JSON-able data (what the page's script draws)."""
        return {
            "key": self.key, "title": self.title, "how_to_read": self.how_to_read,
            "type": self.type, "labels": self.labels,
            "series": [{"name": s.name, "data": s.data, **s.extra} for s in self.series],
            "columns": self.columns, "rows": self.rows, "x_label": self.x_label,
            "y_label": self.y_label, "notes": self.notes,
        }


# key -> function(filters, now) -> Chart, in page order. Filled in by the chart functions below.
CHARTS = {}


def chart(key):
    """Register a chart function under ``key`` (decorator)."""

    def register(function):
        CHARTS[key] = function
        return function

    return register


# --- Filters from a URL -------------------------------------------------------------------

def _arg(args, name):
    """URL argument ``name`` as a stripped string ('' when missing)."""
    value = args.get(name)
    return "" if value is None else str(value).strip()


def _date_arg(args, name):
    try:
        value = date.fromisoformat(_arg(args, name))
    except (TypeError, ValueError):
        return None
    return value if EARLIEST <= value <= LATEST else None


def _id_arg(args, name):
    value = _arg(args, name)
    if (not value.isascii() or not value.isdigit() or len(value) > 10
            or not 1 <= int(value) <= MAX_ID):
        return None
    return int(value)


def parse_filters(args, today, user):
    """Read Filters from URL arguments (start, end, team, analyst, kind) for ``user``.

    Never raises: a missing or bad value falls back to its default (the last DEFAULT_WEEKS
    weeks up to ``today``, no team, no analyst, every kind); a reversed range is put the right
    way round, a range longer than MAX_DAYS keeps its last MAX_DAYS days. Leads and admins see
    every team; anyone else only their own teams (``team_ids``), and a team outside them is
    ignored.
    """
    start, end = _date_arg(args, "start"), _date_arg(args, "end")
    end = end or today
    start = start or end - timedelta(weeks=DEFAULT_WEEKS) + timedelta(days=1)
    if start > end:
        start, end = end, start
    if (end - start).days + 1 > MAX_DAYS:
        start = end - timedelta(days=MAX_DAYS - 1)
    team_id = _id_arg(args, "team")
    team_ids = None
    if not getattr(user, "sees_everything", False):
        team_ids = tuple(sorted(getattr(user, "team_ids", ())))
        if team_id not in team_ids:
            team_id = None
    kind = _arg(args, "kind")
    return Filters(start=start, end=end, team_id=team_id, analyst_id=_id_arg(args, "analyst"),
                   kind=kind if kind in KINDS else None, team_ids=team_ids)


def filters_query(filters):
    """The URL arguments that reproduce ``filters`` (start, end, team, analyst, kind), without
    those not set, so a link to another chart or an export keeps them."""
    query = {"start": filters.start.isoformat(), "end": filters.end.isoformat(),
             "team": filters.team_id, "analyst": filters.analyst_id, "kind": filters.kind}
    return {name: value for name, value in query.items() if value is not None}


def _conditions(filters):
    """SQL conditions on Request for the filters other than the date range."""
    conditions = []
    if filters.team_ids is not None:
        conditions.append(Request.team_id.in_(filters.team_ids) if filters.team_ids
                          else false())
    if filters.team_id is not None:
        conditions.append(Request.team_id == filters.team_id)
    if filters.analyst_id is not None:
        conditions.append(Request.assignee_id == filters.analyst_id)
    if filters.kind is not None:
        conditions.append(Request.kind == filters.kind)
    return conditions


# --- Local days in SQL --------------------------------------------------------------------

class _Epoch(FunctionElement):
    """Whole seconds since 1970 of a stored (naive UTC) timestamp, as an integer."""

    type = BigInteger()
    name = "epoch"
    inherit_cache = True


@compiles(_Epoch)
def _epoch_sqlite(element, compiler, **kw):
    (column,) = element.clauses
    return compiler.process(cast(func.strftime(literal_column("'%s'"), column), BigInteger),
                            **kw)


@compiles(_Epoch, "postgresql")
def _epoch_postgresql(element, compiler, **kw):
    (column,) = element.clauses
    return compiler.process(cast(func.floor(extract("epoch", column)), BigInteger), **kw)


def _days_between(later, earlier):
    """SQL: the days (a float) from ``earlier`` to ``later``."""
    return cast((_Epoch(later) - _Epoch(earlier)) / 86400.0, Float)


def _utc_offsets(zone, start_at, end_at):
    """The zone's UTC offsets from ``start_at`` to ``end_at``: ([(until, seconds), ...], last).

    Each pair is an offset and the instant it stops applying; ``last`` applies after the last
    change. Zones change offset at most once a day, so the range is walked a day at a time and
    each change found to the second.
    """
    def offset(at):
        return int(at.astimezone(zone).utcoffset().total_seconds())

    changes = []
    current = offset(start_at)
    at = start_at
    while at < end_at:
        following = min(at + timedelta(days=1), end_at)
        if offset(following) != current:
            low, high = int(at.timestamp()), math.ceil(following.timestamp())
            while high - low > 1:
                middle = (low + high) // 2
                if offset(datetime.fromtimestamp(middle, UTC)) == current:
                    low = middle
                else:
                    high = middle
            changes.append((datetime.fromtimestamp(high, UTC), current))
            current = offset(following)
        at = following
    return changes, current


@dataclass(frozen=True)
class _Period:
    """A chart's date range as local days and ISO weeks, and their UTC bounds."""

    first: date  # the first local day
    days: int  # how many days are shown (0: none, the range lies after today)
    start_at: datetime  # the first day's local midnight, in UTC
    end_at: datetime  # the end of the last day shown, or ``now`` if sooner, in UTC
    offsets: tuple  # ((until, offset seconds), ...) over the range
    last_offset: int

    @property
    def weeks(self):
        """How many ISO weeks the days touch."""
        return (self.days - 1 + self.first.weekday()) // 7 + 1 if self.days else 0

    def day_labels(self):
        return [(self.first + timedelta(days=i)).isoformat() for i in range(self.days)]

    def week_labels(self):
        monday = self.first - timedelta(days=self.first.weekday())
        return [(monday + timedelta(weeks=i)).isoformat() for i in range(self.weeks)]

    def contains(self, column):
        """SQL: ``column`` lies in the period."""
        return and_(column >= self.start_at, column < self.end_at)

    def _offset(self, column):
        if not self.offsets:
            return literal(self.last_offset)
        return case(*((column < until, seconds) for until, seconds in self.offsets),
                    else_=self.last_offset)

    def day_index(self, column):
        """SQL: the index of ``column``'s local day (0 for the first day); only for instants
        within the period (integer division truncates, which is flooring for those)."""
        base = calendar.timegm(self.first.timetuple())
        return (_Epoch(column) + self._offset(column) - base) // 86400

    def week_index(self, column):
        """SQL: the index of ``column``'s ISO week (0 for the first week); same caveat."""
        return (self.day_index(column) + self.first.weekday()) // 7


def _period(filters, now, values):
    """The local days of ``filters``' range up to today, in the settings' timezone."""
    zone = localtime.zone(values)
    today = localtime.local_today(now, values)
    last = min(filters.end, today)
    days = max(0, (last - filters.start).days + 1)
    start_at = datetime.combine(filters.start, time(0), tzinfo=zone).astimezone(UTC)
    end_at = min(now, datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
                 .astimezone(UTC)) if days else start_at
    offsets, last_offset = _utc_offsets(zone, start_at, max(start_at, end_at))
    return _Period(filters.start, days, start_at, end_at, tuple(offsets), last_offset)


# --- Helpers ------------------------------------------------------------------------------

def _is_postgresql():
    return db.session.get_bind().dialect.name == "postgresql"


def _interpolate(ordered, share):
    """The ``share`` percentile of sorted numbers, interpolated as percentile_cont does."""
    if not ordered:
        return None
    position = share * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _percentiles(subquery, names):
    """{name: {"p50": ..., "p85": ..., "p95": ...}} of the columns ``names`` of ``subquery``
    (None where there are no numbers), in one statement. PostgreSQL computes them; SQLite has
    no percentile function, so there the columns' numbers are fetched and sorted in Python."""
    result = {}
    if _is_postgresql():
        columns = [func.percentile_cont(share).within_group(subquery.c[name])
                   for name in names for share in PERCENTILES.values()]
        row = db.session.execute(select(*columns)).one()
        values = iter(row)
        for name in names:
            result[name] = {key: _round(next(values)) for key in PERCENTILES}
        return result
    rows = db.session.execute(select(*(subquery.c[name] for name in names))).all()
    for index, name in enumerate(names):
        ordered = sorted(row[index] for row in rows if row[index] is not None)
        result[name] = {key: _round(_interpolate(ordered, share))
                        for key, share in PERCENTILES.items()}
    return result


def _round(value, digits=2):
    return None if value is None else round(float(value), digits)


def _team_names(team_ids=None):
    """{team id: name} of the given teams (all when None), in one statement."""
    query = select(Team.id, Team.name).order_by(Team.name)
    if team_ids is not None:
        query = query.where(Team.id.in_(team_ids))
    return dict(db.session.execute(query).all())


def _running(rows, keys, length):
    """Turn (key, index, running total) rows into {key: [total at each index]}: a total
    holds until the next index that has a row; index -1 is the starting value."""
    totals = {key: [0] * length for key in keys}
    by_key = {}
    for key, index, total in rows:
        by_key.setdefault(key, []).append((index, int(total or 0)))
    for key, points in by_key.items():
        if key not in totals:
            continue
        points.sort()
        current, position = 0, 0
        for index in range(length):
            while position < len(points) and points[position][0] <= index:
                current = points[position][1]
                position += 1
            totals[key][index] = current
    return totals


def _deliveries(filters, period):
    """A CTE of the requests delivered in the period (their last delivery):
    ``lead_days`` from submission and ``cycle_days`` from the first start of work (its first
    claim or assignment; None if it has none)."""
    # All first starts in one grouped pass over the start events: with tens of thousands of
    # deliveries, cheaper than a correlated lookup per delivery (bench/bench_reports.py).
    starts = (select(Event.request_id, func.min(Event.created_at).label("started_at"))
              .where(Event.action.in_(START_ACTIONS), Event.created_at < period.end_at)
              .group_by(Event.request_id).subquery("starts"))
    return (select(Request.id, _days_between(Request.delivered_at, Request.created_at)
                   .label("lead_days"),
                   _days_between(Request.delivered_at, starts.c.started_at).label("cycle_days"))
            .outerjoin(starts, starts.c.request_id == Request.id)
            .where(period.contains(Request.delivered_at), *_conditions(filters))
            # Materialized, so each delivery's numbers are computed once: SQLite would
            # otherwise copy their expressions into every branch of the buckets' CASE.
            .cte("deliveries").prefix_with("MATERIALIZED"))


def _bucket(column):
    """SQL: the index in TIME_BUCKETS of a number of days (None stays None)."""
    return case(*((column < high, index) for index, (_, high) in enumerate(TIME_BUCKETS)
                  if high is not None), else_=len(TIME_BUCKETS) - 1)


def _bucket_label(low, high):
    return f"{low}+ days" if high is None else f"{low}\u2013{high} days"


# Decline reasons in a few words, so chart axes show them whole.
SHORT_REASONS = {
    "self_serve": "self-serve", "out_of_scope": "out of scope", "low_value": "low value",
    "no_data": "no data", "no_capacity": "no capacity", "other": "other",
}


def _short_reason(reason):
    return SHORT_REASONS.get(reason, SHORT_REASONS["other"])


def _weekly_counts(period, rows, keys):
    """{key: [count per week]} from (key, week index, count) rows."""
    counts = {key: [0] * period.weeks for key in keys}
    for key, week, count in rows:
        if key in counts and 0 <= week < period.weeks:
            counts[key][week] += int(count)
    return counts


# --- The charts ---------------------------------------------------------------------------

@chart("cumulative_flow")
def cumulative_flow(filters, now):
    """How many requests were in each open state at the end of each day of the range.

    Exact for any past day, from the event history, each event read once: a 'created' event
    is +1 in its ``to_state`` (where the request starts: submitted), a 'transition' event -1 in
    its ``from_state`` and +1 in its ``to_state``, on the local day of the event (day -1:
    before the range, so those sum to the counts at its start). The events are first grouped
    by day and move, so the rest of the query handles a few rows per day; a running SUM() OVER
    the days of each state gives the counts. Closed states are left out: they only grow and
    would flatten the rest. Series run from the bottom band (delivered) to the top (submitted).
    """
    values = settings.current()
    period = _period(filters, now, values)
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
    rows = db.session.execute(
        select(daily.c.state, daily.c.day,
               func.sum(daily.c.change).over(partition_by=daily.c.state, order_by=daily.c.day))
    ).all() if period.days else []
    counts = _running(rows, FLOW_STATES, period.days)
    labels = period.day_labels()
    return Chart(
        key="cumulative_flow", title="Cumulative flow",
        how_to_read="Each band is the number of open requests in a state at the end of each "
                    "day; a widening band is work piling up there (closed requests are left "
                    "out).",
        type="stacked_area", labels=labels,
        series=[Series(STATES[state], counts[state], {"state": state})
                for state in reversed(FLOW_STATES)],
        columns=["Day", *(STATES[state] for state in FLOW_STATES)],
        rows=[[day, *(counts[state][i] for state in FLOW_STATES)]
              for i, day in enumerate(labels)],
        x_label="Day", y_label="Requests")


class _Unindexed(FunctionElement):
    """A column as is, but on SQLite (a unary +) never looked up in its index: for conditions
    that keep most rows, which SQLite would otherwise read one index entry at a time."""

    name = "unindexed"
    inherit_cache = True

    def __init__(self, column):
        super().__init__(column)
        self.type = column.type


@compiles(_Unindexed)
def _unindexed(element, compiler, **kw):
    (column,) = element.clauses
    return compiler.process(column, **kw)


@compiles(_Unindexed, "sqlite")
def _unindexed_sqlite(element, compiler, **kw):
    (column,) = element.clauses
    return "+" + compiler.process(column, **kw)


def _flow_moves(filters, period):
    """A CTE of the 'created' and 'transition' events up to the period's end, counted per
    (day, kind, from_state, to_state): day -1 for all those before the period. Only the
    requests that ``filters`` keep; without such a filter, events alone are read."""
    day = case((Event.created_at < period.start_at, -1),
               else_=period.day_index(Event.created_at)).label("day")
    query = (select(day, Event.kind, Event.from_state, Event.to_state,
                    func.count().label("count"))
             .where(Event.kind.in_(("created", "transition")),
                    _Unindexed(Event.created_at) < period.end_at))
    conditions = _conditions(filters)
    if conditions:
        query = query.where(Event.request_id.in_(select(Request.id).where(*conditions)))
    return (query.group_by(day, Event.kind, Event.from_state, Event.to_state)
            .cte("moves"))


@chart("backlog_by_team")
def backlog_by_team(filters, now):
    """Open requests (submitted, not closed yet) per team at the end of each week: +1 in the
    week a request was submitted, -1 in the week it closed, summed up week by week from the
    requests open when the range starts."""
    values = settings.current()
    period = _period(filters, now, values)
    conditions = _conditions(filters)
    opened = (select(Request.team_id.label("team_id"),
                     case((Request.created_at < period.start_at, -1),
                          else_=period.week_index(Request.created_at)).label("week"),
                     literal(1).label("change"))
              .where(Request.created_at < period.end_at,
                     or_(Request.closed_at.is_(None), Request.closed_at >= period.start_at),
                     *conditions))
    closed = (select(Request.team_id.label("team_id"),
                     period.week_index(Request.closed_at).label("week"),
                     literal(-1).label("change"))
              .where(period.contains(Request.closed_at), Request.created_at < period.end_at,
                     *conditions))
    deltas = union_all(opened, closed).subquery("deltas")
    weekly = (select(deltas.c.team_id, deltas.c.week, func.sum(deltas.c.change).label("change"))
              .group_by(deltas.c.team_id, deltas.c.week).subquery("weekly"))
    rows = db.session.execute(
        select(weekly.c.team_id, weekly.c.week,
               func.sum(weekly.c.change).over(partition_by=weekly.c.team_id,
                                              order_by=weekly.c.week))
    ).all() if period.days else []
    names = _team_names({row[0] for row in rows})
    counts = _running(rows, names, period.weeks)
    teams = [team for team in names if any(counts[team])]
    labels = period.week_labels()
    return Chart(
        key="backlog_by_team", title="Backlog by team",
        how_to_read="Each line is a team's open requests (submitted and not closed) at the end "
                    "of each week; a rising line is demand outgrowing delivery.",
        type="line", labels=labels,
        series=[Series(names[team], counts[team], {"team_id": team}) for team in teams],
        columns=["Week of", "Team", "Open requests"],
        rows=[[week, names[team], counts[team][i]] for i, week in enumerate(labels)
              for team in teams],
        x_label="Week of", y_label="Open requests")


@chart("demand_by_team")
def demand_by_team(filters, now):
    """Requests submitted per team per ISO week of the range."""
    values = settings.current()
    period = _period(filters, now, values)
    submitted = (select(Request.team_id.label("team_id"),
                        period.week_index(Request.created_at).label("week"))
                 .where(period.contains(Request.created_at), *_conditions(filters))
                 .subquery("submitted"))
    rows = db.session.execute(
        select(submitted.c.team_id, submitted.c.week, func.count())
        .group_by(submitted.c.team_id, submitted.c.week)).all() if period.days else []
    names = _team_names({row[0] for row in rows})
    counts = _weekly_counts(period, rows, names)
    labels = period.week_labels()
    return Chart(
        key="demand_by_team", title="Demand by team",
        how_to_read="Each bar is the requests submitted in a week, stacked by team; compare "
                    "its height with the throughput chart to see whether the team keeps up.",
        type="stacked_bar", labels=labels,
        series=[Series(names[team], counts[team], {"team_id": team}) for team in names],
        columns=["Week of", "Team", "Requests submitted"],
        rows=[[week, names[team], counts[team][i]] for i, week in enumerate(labels)
              for team in names if counts[team][i]],
        x_label="Week of", y_label="Requests submitted")


def _jitter(request_id):
    """A small offset from the category's centre, the same for a request every time."""
    return ((request_id * 7919) % 101 / 100 - 0.5) * 0.5


def _sla_status_column(now):
    return case(*((sla_clocks.status_condition(status, now), status)
                  for status in ("breached", "at_risk", "on_track")),
                (Request.state.in_(sla_clocks.PAUSED_STATES), "paused"), else_="stopped")


@chart("ageing_wip")
def ageing_wip(filters, now):
    """Every open request now as a point: x its state (FLOW_STATES index, with a jitter), y its
    age in days, coloured by SLA status. The date range chooses the deliveries whose cycle time
    percentiles (first start of work to delivery) give the p50/p85/p95 lines. At most
    AGEING_CAP points, the oldest; the notes say how many there are in all."""
    values = settings.current()
    period = _period(filters, now, values)
    rows = db.session.execute(
        select(Request.id, Request.title, Request.is_confidential, Request.state,
               Request.created_at, _sla_status_column(now).label("sla"),
               func.count().over().label("total"))
        .where(Request.state.in_(FLOW_STATES), Request.created_at <= now, *_conditions(filters))
        .order_by(Request.created_at, Request.id).limit(AGEING_CAP)).all()
    total = rows[0].total if rows else 0
    if period.days:
        notes = _percentiles(_deliveries(filters, period), ["cycle_days"])["cycle_days"]
    else:
        notes = dict.fromkeys(PERCENTILES)
    notes.update(shown=len(rows), total=total, capped=total > len(rows))
    points = {status: [] for status in SLA_STATUS_ORDER}
    table = []
    for row in rows:
        age = round((now - row.created_at).total_seconds() / 86400, 2)
        x = round(FLOW_STATES.index(row.state) + _jitter(row.id), 3)
        points[row.sla].append({"x": x, "y": age, "id": row.id})
        table.append([row.id, "(confidential)" if row.is_confidential else row.title,
                      STATES[row.state], age, sla_clocks.SLA_STATUS_LABELS[row.sla]])
    how = ("Each dot is an open request: the higher, the older; dots above the p85 line of "
           "past cycle times are at risk of taking longer than most.")
    if notes["capped"]:
        how += f" Showing the {len(rows):,} oldest of {total:,}."
    return Chart(
        key="ageing_wip", title="Ageing work in progress", how_to_read=how, type="scatter",
        labels=[STATES[state] for state in FLOW_STATES],
        series=[Series(sla_clocks.SLA_STATUS_LABELS[status], points[status], {"status": status})
                for status in SLA_STATUS_ORDER if points[status]],
        columns=["Request", "Title", "State", "Age (days)", "SLA"], rows=table,
        x_label="State", y_label="Age (days)", notes=notes)


@chart("throughput")
def throughput(filters, now):
    """Requests delivered per ISO week (by ``delivered_at``: the last delivery of each)."""
    values = settings.current()
    period = _period(filters, now, values)
    delivered = (select(period.week_index(Request.delivered_at).label("week"))
                 .where(period.contains(Request.delivered_at), *_conditions(filters))
                 .subquery("delivered"))
    rows = [("all", week, count) for week, count in db.session.execute(
        select(delivered.c.week, func.count()).group_by(delivered.c.week))] if period.days else []
    counts = _weekly_counts(period, rows, ["all"])["all"]
    labels = period.week_labels()
    return Chart(
        key="throughput", title="Throughput",
        how_to_read="Each bar is the requests delivered in a week (a redelivery after a reopen "
                    "counts in the week of the last delivery).",
        type="bar", labels=labels, series=[Series("Delivered", counts)],
        columns=["Week of", "Requests delivered"],
        rows=[[week, counts[i]] for i, week in enumerate(labels)],
        x_label="Week of", y_label="Requests delivered",
        notes={"total": sum(counts)})


@chart("lead_time")
def lead_time(filters, now):
    """How long the requests delivered in the range took, in buckets of days: lead time
    (submission to delivery) and cycle time (first claim or assignment to delivery), with the
    p50/p85/p95 of each in the notes (lead_time_p50, ..., cycle_time_p95)."""
    values = settings.current()
    period = _period(filters, now, values)
    buckets = {"lead": [0] * len(TIME_BUCKETS), "cycle": [0] * len(TIME_BUCKETS)}
    notes = {f"{name}_{key}": None for name in ("lead_time", "cycle_time") for key in PERCENTILES}
    if period.days:
        deliveries = _deliveries(filters, period)
        lead_bucket = _bucket(deliveries.c.lead_days).label("lead_bucket")
        cycle_bucket = case((deliveries.c.cycle_days.is_(None), None),
                            else_=_bucket(deliveries.c.cycle_days)).label("cycle_bucket")
        grouped = select(lead_bucket, cycle_bucket).subquery("grouped")
        for lead_index, cycle_index, count in db.session.execute(
                select(grouped.c.lead_bucket, grouped.c.cycle_bucket, func.count())
                .group_by(grouped.c.lead_bucket, grouped.c.cycle_bucket)):
            buckets["lead"][lead_index] += count
            if cycle_index is not None:
                buckets["cycle"][cycle_index] += count
        found = _percentiles(deliveries, ["lead_days", "cycle_days"])
        for name, column in (("lead_time", "lead_days"), ("cycle_time", "cycle_days")):
            notes.update({f"{name}_{key}": value for key, value in found[column].items()})
    notes["delivered"] = sum(buckets["lead"])
    labels = [_bucket_label(low, high) for low, high in TIME_BUCKETS]
    return Chart(
        key="lead_time", title="Lead and cycle time",
        how_to_read="Bars count the requests delivered in the range by how many days they "
                    "took: lead time from submission, cycle time from the start of work; the "
                    "85th percentile is a fair promise to make.",
        type="bar", labels=labels,
        series=[Series("Lead time", buckets["lead"], {"measure": "lead_time"}),
                Series("Cycle time", buckets["cycle"], {"measure": "cycle_time"})],
        columns=["Days", "Lead time (requests)", "Cycle time (requests)"],
        rows=[[label, buckets["lead"][i], buckets["cycle"][i]]
              for i, label in enumerate(labels)],
        x_label="Days", y_label="Requests delivered", notes=notes)


def _target_seconds(which, values):
    """SQL: the target in business seconds of the request's SLA class for ``which`` clock."""
    return case(*((Request.sla_class == sla_class,
                   getattr(settings.sla_target(sla_class, values), f"{which}_seconds"))
                  for sla_class in SLA_CLASSES))


@chart("sla_attainment")
def sla_attainment(filters, now):
    """Per ISO week, the share of first responses (by ``first_response_at``) and deliveries
    (by ``delivered_at``) within their SLA class's target, from the stored business seconds
    (clock pauses already excluded), against today's targets. Rows per week, class and team
    with met/total counts; series per measure and class in percent (None: nothing that week).
    """
    values = settings.current()
    period = _period(filters, now, values)
    conditions = _conditions(filters)
    measures = []
    for which, at, seconds in (("first_response", Request.first_response_at,
                                Request.first_response_seconds),
                               ("resolution", Request.delivered_at, Request.resolution_seconds)):
        measures.append(
            select(literal(which).label("measure"), period.week_index(at).label("week"),
                   Request.sla_class.label("sla_class"), Request.team_id.label("team_id"),
                   case((seconds <= _target_seconds(which, values), 1), else_=0).label("met"))
            .where(period.contains(at), seconds.is_not(None), *conditions))
    measured = union_all(*measures).subquery("measured")
    rows = db.session.execute(
        select(measured.c.measure, measured.c.week, measured.c.sla_class, measured.c.team_id,
               func.sum(measured.c.met), func.count())
        .group_by(measured.c.measure, measured.c.week, measured.c.sla_class,
                  measured.c.team_id)
    ).all() if period.days else []
    names = _team_names({row.team_id for row in rows})
    labels = period.week_labels()
    # (measure, class) -> per week [met, total]; and the rows by (week, class, team).
    totals = {}
    table = {}
    for measure, week, sla_class, team_id, met, count in rows:
        if not 0 <= week < period.weeks:
            continue
        weekly = totals.get((measure, sla_class))
        if weekly is None:
            weekly = totals[measure, sla_class] = [[0, 0] for _ in labels]
        weekly[week][0] += int(met or 0)
        weekly[week][1] += count
        line = table.setdefault((week, list(SLA_CLASSES).index(sla_class), names[team_id]),
                                [0, 0, 0, 0])
        offset = 0 if measure == "first_response" else 2
        line[offset] += int(met or 0)
        line[offset + 1] += count
    series = []
    for measure, measure_label in (("first_response", "First response"),
                                   ("resolution", "Resolution")):
        for sla_class in SLA_CLASSES:
            weekly = totals.get((measure, sla_class))
            if weekly is None:
                continue
            series.append(Series(
                f"{measure_label}, {SLA_CLASSES[sla_class].lower()}",
                [round(100 * met / total, 1) if total else None for met, total in weekly],
                {"measure": measure, "sla_class": sla_class}))
    return Chart(
        key="sla_attainment", title="SLA attainment",
        how_to_read="Each line is the share of first responses or deliveries of a week that "
                    "met their SLA class's target in business hours (paused time not counted); "
                    "gaps are weeks with none.",
        type="line", labels=labels, series=series,
        columns=["Week of", "SLA class", "Team", "First responses met", "First responses",
                 "Deliveries met", "Deliveries"],
        rows=[[labels[week], list(SLA_CLASSES.values())[class_index], team,
               *counts] for (week, class_index, team), counts in sorted(table.items())],
        x_label="Week of", y_label="Within target (%)")


@chart("ad_hoc_vs_planned")
def ad_hoc_vs_planned(filters, now):
    """Per team, the requests delivered in the range by kind, with the team's ad-hoc budget
    over the range (today's weekly budget times the range's weeks) as a table column."""
    values = settings.current()
    period = _period(filters, now, values)
    rows = db.session.execute(
        select(Request.team_id, Request.kind, func.count())
        .where(period.contains(Request.delivered_at), *_conditions(filters))
        .group_by(Request.team_id, Request.kind)).all() if period.days else []
    teams = {row.id: row for row in db.session.execute(
        select(Team.id, Team.name, Team.weekly_ad_hoc_budget)
        .where(Team.id.in_({row[0] for row in rows})).order_by(Team.name))}
    counts = {team_id: dict.fromkeys(KINDS, 0) for team_id in teams}
    for team_id, kind, count in rows:
        if kind in KINDS:
            counts[team_id][kind] += count
    weeks = round(period.days / 7, 1)
    return Chart(
        key="ad_hoc_vs_planned", title="Ad-hoc and planned work",
        how_to_read="Each bar is what a team got delivered in the range, by kind; a bar that "
                    "is mostly ad-hoc leaves little room for projects and fixes.",
        type="stacked_bar", labels=[team.name for team in teams.values()],
        series=[Series(KINDS[kind][0], [counts[team_id][kind] for team_id in teams],
                       {"kind": kind}) for kind in KINDS],
        columns=["Team", *(KINDS[kind][0] for kind in KINDS), "Total",
                 "Ad-hoc budget for the range"],
        rows=[[team.name, *(counts[team.id][kind] for kind in KINDS),
               sum(counts[team.id].values()),
               None if team.weekly_ad_hoc_budget is None
               else round(team.weekly_ad_hoc_budget * weeks, 1)]
              for team in teams.values()],
        x_label="Team", y_label="Requests delivered", notes={"weeks": weeks})


@chart("outcomes")
def outcomes(filters, now):
    """Requests closed in the range by outcome: resolved, declined per reason (so self-serve
    answers show), duplicate, cancelled; plus the reopen rate: of the requests delivered in
    the range, the share reopened at least once."""
    values = settings.current()
    period = _period(filters, now, values)
    conditions = _conditions(filters)
    counts = {("resolved", None): 0, **{("declined", reason): 0 for reason in DECLINE_REASONS},
              ("duplicate", None): 0, ("cancelled", None): 0}
    delivered = reopened = 0
    if period.days:
        for state, reason, count in db.session.execute(
                select(Request.state, Request.decline_reason, func.count())
                .where(period.contains(Request.closed_at), Request.state.in_(CLOSED_STATES),
                       *conditions)
                .group_by(Request.state, Request.decline_reason)):
            key = ("declined", reason if reason in DECLINE_REASONS else "other") \
                if state == "declined" else (state, None)
            counts[key] += count
        was_reopened = (select(Event.id).where(Event.request_id == Request.id,
                                               Event.action == "reopen").exists())
        delivered, reopened = db.session.execute(
            select(func.count(), func.coalesce(func.sum(case((was_reopened, 1), else_=0)), 0))
            .where(period.contains(Request.delivered_at), *conditions)).one()
    labels = [STATES[state] if reason is None else f"Declined: {_short_reason(reason)}"
              for state, reason in counts]
    closed = sum(counts.values())
    rate = round(reopened / delivered, 3) if delivered else None
    return Chart(
        key="outcomes", title="Outcomes",
        how_to_read="Each bar is the requests closed in the range with that outcome; many "
                    "\u201cself-serve\u201d declines mean people need to find what exists.",
        type="bar", labels=labels,
        series=[Series("Requests closed", list(counts.values()))],
        columns=["Outcome", "Requests", "Share"],
        rows=[*([label, count, round(count / closed, 3) if closed else None]
                for label, count in zip(labels, counts.values())),
              ["Reopened at least once (share of delivered)", reopened, rate]],
        x_label="Outcome", y_label="Requests closed",
        notes={"closed": closed, "delivered": delivered, "reopened": reopened,
               "reopen_rate": rate})

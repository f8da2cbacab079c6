"""A chart's date range as local days and ISO weeks, and the SQL that puts an instant in them.

Days and weeks are those of the settings' timezone. The database stores UTC, so an instant is
put in its local day by ``Period.day_index``: its epoch seconds plus the zone's UTC offset at
that instant (a CASE over the few offset changes of the range, so DST is exact), minus the
range's first local midnight, divided by a day. Weeks are ISO weeks (Monday to Sunday), cut to
the range; they are labelled by their Monday. A range never reaches past ``now``: days after
today have no data yet.
"""
import calendar
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import (BigInteger, Date, Float, Integer, and_, case, cast, func, literal,
                        literal_column)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from .. import localtime


class Epoch(FunctionElement):
    """Whole seconds since 1970 of a stored (naive UTC) timestamp, as an integer."""

    type = BigInteger()
    name = "epoch"
    inherit_cache = True


@compiles(Epoch)
def _epoch_sqlite(element, compiler, **kw):
    (column,) = element.clauses
    if getattr(compiler.dialect.dbapi, "sqlite_version_info", (0,)) >= (3, 38):
        # unixepoch() (SQLite 3.38) reads a timestamp in about half strftime's time.
        return compiler.process(func.unixepoch(column), **kw)
    return compiler.process(cast(func.strftime(literal_column("'%s'"), column), BigInteger),
                            **kw)


@compiles(Epoch, "postgresql")
def _epoch_postgresql(element, compiler, **kw):
    (column,) = element.clauses
    # date_part is double precision (microseconds exact at these magnitudes); EXTRACT returns
    # numeric since PostgreSQL 14, whose arithmetic costs more on every row of a range.
    return compiler.process(cast(func.floor(func.date_part("epoch", column)), BigInteger),
                            **kw)


class _DayIndex(FunctionElement):
    """The local day of a stored (naive UTC) timestamp, counted from a first day: clauses
    (timestamp, UTC offset in seconds, first day as a date, first day's epoch seconds)."""

    type = Integer()
    name = "day_index"
    inherit_cache = True


@compiles(_DayIndex)
def _day_index_sqlite(element, compiler, **kw):
    column, offset, _, base = element.clauses
    return compiler.process((Epoch(column) + offset - base) // 86400, **kw)


@compiles(_DayIndex, "postgresql")
def _day_index_postgresql(element, compiler, **kw):
    # Date arithmetic, not epoch seconds: EXTRACT returns numeric since PostgreSQL 14, and
    # numeric arithmetic on every row of five years cost half of the SLA chart's 230 ms.
    column, offset, first, _ = element.clauses
    local = column + offset * literal_column("interval '1 second'")
    return compiler.process(cast(local, Date) - first, **kw)


def days_between(later, earlier):
    """SQL: the days (a float) from ``earlier`` to ``later``."""
    return cast((Epoch(later) - Epoch(earlier)) / 86400.0, Float)


def utc_offsets(zone, start_at, end_at):
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
class Period:
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
        """The days as ISO dates."""
        return [(self.first + timedelta(days=i)).isoformat() for i in range(self.days)]

    def week_labels(self):
        """The weeks as the ISO dates of their Mondays."""
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
        return _DayIndex(column, self._offset(column), literal(self.first, Date),
                         literal(calendar.timegm(self.first.timetuple())))

    def week_index(self, column):
        """SQL: the index of ``column``'s ISO week (0 for the first week); same caveat."""
        return (self.day_index(column) + self.first.weekday()) // 7


def period_of(filters, now, values):
    """The local days of ``filters``' range up to today, in the settings' timezone."""
    zone = localtime.zone(values)
    today = localtime.local_today(now, values)
    last = min(filters.end, today)
    days = max(0, (last - filters.start).days + 1)
    start_at = datetime.combine(filters.start, time(0), tzinfo=zone).astimezone(UTC)
    end_at = min(now, datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
                 .astimezone(UTC)) if days else start_at
    offsets, last_offset = utc_offsets(zone, start_at, max(start_at, end_at))
    return Period(filters.start, days, start_at, end_at, tuple(offsets), last_offset)



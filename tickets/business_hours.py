"""Business hours: working time in a team's calendar, and SLA clocks over a request's history.

Pure functions of a calendar, a request's events and a clock (``now``): no Flask, no database.
Follows the SLA section of ../shared/DESIGN.md:

- Targets are in business hours of one calendar (``BusinessHours``): a timezone, working
  weekdays, opening hours and holidays. Working time is counted in that timezone, so weekends,
  holidays and DST changes fall where the team sees them, whatever the UTC date.
- A request's clock runs only while its state is not one of the ``idle_states`` its caller
  gives: ``sla_clocks`` passes the paused states (``needs_info``, ``waitlisted``) and the
  stopped ones (delivered, closed), so a reopened delivery starts it again where it stopped.
- First response (``first_response_at``) is the first comment or transition by a person other
  than the requester. System actions (waitlisting, releasing, auto-resolving) and the requester's
  own comments, answers, edits and cancellation are not a response from the data team.

Where a running clock stands against its target (on track, at risk, breached) is
``sla_clocks``'s business. Datetimes must be timezone-aware; results are aware UTC datetimes and
seconds as floats (microsecond precision). All times of a request's life are compared as
instants, never as wall clock readings.
"""
import bisect
import functools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The events that put a request in a state (models.STATE_EVENT_KINDS, repeated here: this
# module imports nothing of the package).
STATE_EVENT_KINDS = ("created", "imported", "transition")

# Event kinds that are the data team's answer to a request when a person other than the
# requester writes them (see first_response_at).
RESPONSE_KINDS = ("transition", "comment")

_ZERO = timedelta(0)
_WEEK = 7

# Working time is counted up to this local date: a target that runs out later is never
# reached (None). It keeps every answer a real date whatever the calendar (a one-minute
# Sunday would put 9999 hours past year 9999), and no calendar the settings allow gets near.
HORIZON = date(2200, 1, 1)


@dataclass(frozen=True)
class BusinessHours:
    """The working calendar SLA targets are counted in.

    ``weekdays`` are ``date.weekday()`` numbers (0 is Monday). Each working day is open from
    ``start`` to ``end``, local wall-clock time in ``timezone``; a day cannot run past midnight.
    ``holidays`` are local dates on which nobody works. Iterables are accepted and stored as
    frozensets, so a calendar is hashable and can be a cache key.

    An opening or closing time that a DST change skips or repeats is read as Python does by
    default (``fold=0``); with ordinary daytime hours this never arises.
    """

    timezone: str
    weekdays: frozenset = frozenset(range(5))
    start: time = time(9)
    end: time = time(17)
    holidays: frozenset = frozenset()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _sorted_holidays: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not isinstance(self.timezone, str) or not self.timezone:
            raise ValueError("Business hours need a timezone name such as 'Europe/Berlin'.")
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"Unknown timezone {self.timezone!r}; use an IANA name such as "
                             "'Europe/Berlin'.") from None
        weekdays = frozenset(self.weekdays)
        if not weekdays:
            raise ValueError("Business hours need at least one working day.")
        if any(not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6
               for day in weekdays):
            raise ValueError("Working days are weekday numbers from 0 (Monday) to 6 (Sunday).")
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ValueError(f"The {name} of the working day must be a time without a "
                                 "timezone (the calendar's timezone applies).")
        if self.end <= self.start:
            raise ValueError(f"The working day must end after it starts "
                             f"({self.start:%H:%M} to {self.end:%H:%M}).")
        holidays = frozenset(self.holidays)
        if any(isinstance(day, datetime) or not isinstance(day, date) for day in holidays):
            raise ValueError("Holidays must be dates (not datetimes).")
        object.__setattr__(self, "weekdays", weekdays)
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_sorted_holidays", tuple(sorted(holidays)))

    @property
    def tzinfo(self):
        """The calendar's timezone as a ``ZoneInfo``."""
        return self._zone

    @property
    def day_length(self):
        """The length of a working day on the wall clock (a DST change inside it aside)."""
        return datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)

    def is_working_day(self, day):
        """Tell whether the local date ``day`` is a working day (weekday and not a holiday)."""
        return day.weekday() in self.weekdays and day not in self.holidays

    def working_days_after(self, day, count):
        """Return the local date ``count`` working days after ``day`` (``day`` itself when
        ``count`` is 0): weekends and holidays are skipped."""
        remaining = count
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_before(self, moment, count):
        """Return the instant ``count`` working days before ``moment`` (aware), in UTC: the same
        local wall-clock time on the local date ``count`` working days earlier (weekends and
        holidays skipped). What the oldest-first rule of priority.py compares ``created_at`` to.
        """
        _require_aware(moment, "moment")
        local = moment.astimezone(self._zone)
        day = local.date()
        remaining = count
        while remaining > 0:
            day -= timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        earlier = datetime.combine(day, local.time(), tzinfo=self._zone)
        return earlier.astimezone(UTC)

    def window(self, day):
        """Return the opening and closing instants of local date ``day``, in UTC."""
        opens = datetime.combine(day, self.start, tzinfo=self._zone).astimezone(UTC)
        closes = datetime.combine(day, self.end, tzinfo=self._zone).astimezone(UTC)
        return opens, max(opens, closes)

    def _holidays_between(self, first, last):
        """The working-weekday holidays in [first, last)."""
        low = bisect.bisect_left(self._sorted_holidays, first)
        high = bisect.bisect_left(self._sorted_holidays, last)
        return [day for day in self._sorted_holidays[low:high] if day.weekday() in self.weekdays]


def _require_aware(value, name):
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime (naive times are ambiguous).")
    return value.astimezone(UTC)


def _overlap(hours, day, start, end):
    """Working time of local date ``day`` that falls between the UTC instants start and end."""
    if not hours.is_working_day(day):
        return _ZERO
    opens, closes = hours.window(day)
    return max(min(closes, end) - max(opens, start), _ZERO)


def _whole_days(hours, first, last):
    """Working time of the whole local days [first, last), by whole-week arithmetic.

    Working days are counted per week and multiplied by the day length; holidays are
    subtracted from the sorted list; only the days on which the UTC offset changes
    (``_offset_changes``, a few a year, kept per zone and year) are looked at, to correct
    those whose working hours contain the change. O(weeks mod 7 + holidays + years).
    """
    days = (last - first).days
    if days <= 0:
        return _ZERO
    weeks, rest = divmod(days, _WEEK)
    working = weeks * len(hours.weekdays) + sum(
        1 for i in range(rest) if (first + timedelta(days=i)).weekday() in hours.weekdays)
    working -= len(hours._holidays_between(first, last))
    total = working * hours.day_length
    for year in range(first.year, last.year + 1):
        for day in _offset_changes(hours.tzinfo, year):
            if first <= day < last and hours.is_working_day(day):
                opens, closes = hours.window(day)
                total += (closes - opens) - hours.day_length
    return total


@functools.lru_cache(maxsize=4096)
def _offset_changes(zone, year):
    """The local dates of ``year`` on which ``zone``'s UTC offset changes (between the
    day's midnight and the next one's): at most a few. Found by comparing the offsets of
    midnights a week apart, and walking only the weeks whose two ends differ, which assumes
    at most one change a week, as holds for every zone in the tz database."""
    def offset(day):
        return datetime.combine(day, time(0), tzinfo=zone).utcoffset()

    changes = []
    day, end = date(year, 1, 1), date(year + 1, 1, 1)
    before = offset(day)
    while day < end:
        week_end = min(day + timedelta(days=_WEEK), end)
        after = offset(week_end)
        if after != before:
            walked, walked_offset = day, before
            while walked < week_end:
                following = offset(walked + timedelta(days=1))
                if following != walked_offset:
                    changes.append(walked)
                walked, walked_offset = walked + timedelta(days=1), following
        day, before = week_end, after
    return tuple(changes)


def _business_time(start, end, hours):
    if end <= start:
        return _ZERO
    zone = hours.tzinfo
    first = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    if first == last:
        return _overlap(hours, first, start, end)
    return (_overlap(hours, first, start, end)
            + _whole_days(hours, first + timedelta(days=1), last)
            + _overlap(hours, last, start, end))


def business_seconds_between(start, end, hours):
    """Return the working seconds between two aware datetimes in the calendar ``hours``.

    Counts in the calendar's timezone: weekends, holidays and opening hours are local, and a
    DST change is real elapsed time. Zero when ``end`` is not after ``start``. Costs
    O(weeks + holidays) of the span, never a loop per day or minute.
    """
    start = _require_aware(start, "start")
    end = _require_aware(end, "end")
    return _business_time(start, end, hours).total_seconds()


def add_business_seconds(start, seconds, hours):
    """Return the aware UTC instant at which ``seconds`` of working time after ``start`` are used.

    The earliest such instant: time that runs out exactly at closing is due at closing, not
    at the next opening. Zero seconds is ``start`` itself. The inverse of
    ``business_seconds_between``: ``business_seconds_between(s, add_business_seconds(s, x))``
    is ``x``. None when the time runs out on a local date from ``HORIZON`` on.

    Costs O(weeks of the span) cheap steps at most, whatever the amount and the length of
    a working day: whole weeks are jumped by arithmetic (``_whole_days``), and only the last
    week or so is walked day by day.
    """
    start = _require_aware(start, "start")
    if seconds < 0:
        raise ValueError("Cannot add a negative amount of working time.")
    if seconds >= timedelta.max.total_seconds():
        return None  # millions of years: far past HORIZON in any calendar
    remaining = timedelta(seconds=seconds)
    if remaining == _ZERO:
        return start

    day = start.astimezone(hours.tzinfo).date()
    if hours.is_working_day(day):
        opens, closes = hours.window(day)
        begin = max(opens, start)
        if begin < closes:
            if remaining <= closes - begin:
                return begin + remaining
            remaining -= closes - begin
    if day >= HORIZON:
        return None
    day += timedelta(days=1)

    # Jump as many whole weeks as leave about a week's work to walk; holidays in the span
    # make a jump count less (another jump follows), and a jump that would use all the time
    # left (a DST change adding working time) is halved until it does not.
    week = len(hours.weekdays) * hours.day_length
    weeks = remaining // week - 1
    while weeks >= 1:
        end = day + timedelta(days=min(_WEEK * weeks, (HORIZON - day).days))
        worked = _whole_days(hours, day, end)
        if worked >= remaining:
            weeks //= 2
            continue
        remaining -= worked
        day = end
        if day >= HORIZON:
            return None
        weeks = remaining // week - 1

    # Walk the rest: whole weeks while more than a week's work is left, then day by day.
    while True:
        week = _whole_days(hours, day, day + timedelta(days=_WEEK))
        if remaining <= week:
            break
        remaining -= week
        day += timedelta(days=_WEEK)
        if day >= HORIZON:
            return None
    while day < HORIZON:
        if hours.is_working_day(day):
            opens, closes = hours.window(day)
            if remaining <= closes - opens:
                return opens + remaining
            remaining -= closes - opens
        day += timedelta(days=1)
    return None


# --- Clocks over a request's history ------------------------------------------------------


def _state_changes(events):
    """The (instant, state) steps of a history, in time order (ties keep the given order)."""
    steps = [
        (_require_aware(event.created_at, "an event's created_at"), event.to_state)
        for event in events
        if event.kind in STATE_EVENT_KINDS and event.to_state
    ]
    steps.sort(key=lambda step: step[0])
    return steps


def elapsed_business_seconds(events, now, hours, idle_states):
    """Return the working seconds a request's clock has run up to ``now``.

    ``events`` are the request's events (``kind``, ``to_state``, ``created_at``); only the
    state events (STATE_EVENT_KINDS) move the clock, and events after ``now`` are ignored.
    The clock runs while the request is in a state not in ``idle_states`` (paused or stopped);
    leaving an idle state (an answer, a reopen after delivery) runs it again.
    """
    now = _require_aware(now, "now")
    idle = frozenset(idle_states)
    total = _ZERO
    state = since = None
    for at, to_state in _state_changes(events):
        if at > now:
            break
        if state is not None and state not in idle:
            total += _business_time(since, at, hours)
        state, since = to_state, at
    if state is not None and state not in idle:
        total += _business_time(since, now, hours)
    return total.total_seconds()


def first_response_at(events, requester_id):
    """Return when the data team first responded to a request, or None if it has not yet.

    The first response is the earliest comment or transition whose actor is a person other
    than the requester: accepting, asking for info, declining, approving from the waitlist,
    or a comment. The system (actor None) and the requester do not respond to themselves.
    """
    responses = [
        _require_aware(event.created_at, "an event's created_at")
        for event in events
        if event.kind in RESPONSE_KINDS
        and event.actor_id is not None
        and event.actor_id != requester_id
    ]
    return min(responses, default=None)


def first_response_elapsed(events, requester_id, now, hours, idle_states):
    """Return the working seconds to first response: up to the response, or ``now`` while none.

    The clock idles as ``elapsed_business_seconds`` says: with the SLA's idle states it pauses
    while waitlisted, and a request closed before anyone responded (cancelled by its requester)
    stops it.
    """
    now = _require_aware(now, "now")
    responded_at = first_response_at(events, requester_id)
    until = now if responded_at is None else min(now, responded_at)
    return elapsed_business_seconds(events, until, hours, idle_states)


def clock_reaches(events, seconds, hours, idle_states):
    """Return the instant at which a request's clock has run ``seconds`` of working time.

    Walks the running stretches of the history (as ``elapsed_business_seconds`` counts them)
    and returns the earliest instant at which the running total reaches ``seconds``. When the
    clock still runs after the last event, that last stretch is open-ended, so the answer may
    lie in the future. None when the clock is paused or stopped before it gets there.
    """
    if seconds < 0:
        raise ValueError("A clock cannot reach a negative amount of working time.")
    idle = frozenset(idle_states)
    target = timedelta(seconds=seconds)
    used = _ZERO
    steps = _state_changes(events)
    for index, (at, state) in enumerate(steps):
        if state in idle:
            continue
        if index + 1 == len(steps):
            return add_business_seconds(at, (target - used).total_seconds(), hours)
        span = _business_time(at, steps[index + 1][0], hours)
        if used + span >= target:
            return add_business_seconds(at, (target - used).total_seconds(), hours)
        used += span
    return None


# --- Targets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaTarget:
    """The targets of one SLA class, in business hours."""

    first_response_hours: float
    resolution_hours: float

    def __post_init__(self):
        for name in ("first_response_hours", "resolution_hours"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name.replace('_', ' ').capitalize()} must be a positive "
                                 "number of business hours.")

    @property
    def first_response_seconds(self):
        return self.first_response_hours * 3600

    @property
    def resolution_seconds(self):
        return self.resolution_hours * 3600

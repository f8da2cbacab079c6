"""What every chart can be narrowed by (Filters), read from a URL and written back to one."""
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import false

from ..models import KINDS, Request
from ..queries import MAX_ID

DEFAULT_WEEKS = 12  # the range shown when none is chosen
MAX_DAYS = 366 * 5  # the longest range a chart may cover

# Dates a range may use: wide enough for any real history, narrow enough that local midnights
# stay representable in every timezone.
EARLIEST = date(2000, 1, 1)
LATEST = date(2199, 12, 31)


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


def parse_filters(args, today, team_ids=None):
    """Read Filters from URL arguments (start, end, team, analyst, kind) for a reader of
    ``team_ids`` (None: every team, as policy's "see_all" gives leads and admins).

    Never raises: a missing or bad value falls back to its default (the last DEFAULT_WEEKS
    weeks up to ``today``, no team, no analyst, every kind); a reversed range is put the right
    way round, a range longer than MAX_DAYS keeps its last MAX_DAYS days. A team outside
    ``team_ids`` is ignored.
    """
    start, end = _date_arg(args, "start"), _date_arg(args, "end")
    end = end or today
    start = start or Filters.default(end).start
    if start > end:
        start, end = end, start
    if (end - start).days + 1 > MAX_DAYS:
        start = end - timedelta(days=MAX_DAYS - 1)
    team_id = _id_arg(args, "team")
    if team_ids is not None:
        team_ids = tuple(sorted(team_ids))
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


def conditions(filters):
    """SQL conditions on Request for the filters other than the date range."""
    found = []
    if filters.team_ids is not None:
        found.append(Request.team_id.in_(filters.team_ids) if filters.team_ids else false())
    if filters.team_id is not None:
        found.append(Request.team_id == filters.team_id)
    if filters.analyst_id is not None:
        found.append(Request.assignee_id == filters.analyst_id)
    if filters.kind is not None:
        found.append(Request.kind == filters.kind)
    return found

"""Settings leads change on /settings, with the audit trail of every change (DESIGN.md, Limits, SLA).

A setting never stored has its value from ``DEFAULTS``. Every change writes one immutable
``SettingChange`` (who, when, old, new); so do a team's weekly ad-hoc budget and an analyst's
WIP limit, which live on their own rows. Functions here flush; the caller commits once, so a
page's changes and their audit rows land in one transaction.
"""
import copy
import functools
import math
import re
import zoneinfo
from datetime import date, datetime, time, timedelta

from . import priority, signals
from .business_hours import BusinessHours, SlaTarget
from .errors import Refusal
from .extensions import db
from .models import (BLOCKED_ATTACHMENT_TYPES, KINDS, SLA_CLASSES, Setting, SettingChange, Team,
                     User)
from .policy import allowed

DEFAULTS = {
    "wip_limit_default": 3,
    "lead_time_business_days": 5,
    "timezone": "UTC",
    "working_days": [0, 1, 2, 3, 4],
    "work_start": "09:00",
    "work_end": "17:00",
    "sla_targets": {
        "high": {"first_response_hours": 4, "resolution_hours": 40},
        "standard": {"first_response_hours": 8, "resolution_hours": 80},
        "low": {"first_response_hours": 16, "resolution_hours": 160},
    },
    "auto_resolve_days": 7,
    "holidays": [],
    "digest_weekday": 0,
    "digest_time": "08:00",
    # Outcomes (issue 13): business days after resolution before the requester is asked
    # whether the delivery was used, per kind (the requester may name their own day), the
    # days before the one reminder, and whether the team's track record weighs on priority.
    "follow_up_business_days": {"ad_hoc": 5, "project": 20, "data_issue": 5},
    "follow_up_reminder_days": 5,
    "track_record_in_priority": False,
    # Attachments (issue 14): the largest file (MB) and the extensions allowed.
    "attachment_max_mb": 10,
    "attachment_types": ["csv", "tsv", "xlsx", "xls", "json", "txt", "sql", "pdf", "png",
                         "jpg", "jpeg", "gif", "docx", "pptx"],
    # Priority (issue 15): the weights of the score and the oldest-first rule (priority.Weights).
    "priority_impact_weight": priority.DEFAULT_WEIGHTS.impact,
    "priority_urgency_weight": priority.DEFAULT_WEIGHTS.urgency,
    "priority_sponsor_points": priority.DEFAULT_WEIGHTS.sponsor,
    "priority_ageing_per_day": priority.DEFAULT_WEIGHTS.ageing_per_day,
    "priority_ageing_cap": priority.DEFAULT_WEIGHTS.ageing_cap,
    "priority_oldest_first_after": priority.DEFAULT_WEIGHTS.oldest_first_after,
}

LABELS = {
    "wip_limit_default": "Default WIP limit",
    "lead_time_business_days": "Lead time (business days)",
    "timezone": "Timezone",
    "working_days": "Working days",
    "work_start": "Working day starts",
    "work_end": "Working day ends",
    "sla_targets": "SLA targets",
    "auto_resolve_days": "Auto-resolve after (days)",
    "holidays": "Holidays",
    "digest_weekday": "Weekly digest day",
    "digest_time": "Weekly digest time",
    "follow_up_business_days": "Follow-up after (business days)",
    "follow_up_reminder_days": "Follow-up reminder after (days)",
    "track_record_in_priority": "Track record in the priority score",
    "attachment_max_mb": "Largest attachment (MB)",
    "attachment_types": "Attachment types allowed",
    "priority_impact_weight": "Priority: impact weight",
    "priority_urgency_weight": "Priority: urgency weight",
    "priority_sponsor_points": "Priority: sponsor points",
    "priority_ageing_per_day": "Priority: ageing per day",
    "priority_ageing_cap": "Priority: ageing cap",
    "priority_oldest_first_after": "Priority: oldest first after (working days)",
}

# Bounds shared with the settings form, so the page and this module refuse the same values.
WIP_LIMIT_RANGE = (1, 50)
BUDGET_RANGE = (0, 1000)
LEAD_TIME_RANGE = (0, 60)
AUTO_RESOLVE_RANGE = (1, 365)
FOLLOW_UP_DAYS_RANGE = (1, 250)  # business days: about a year
REMINDER_DAYS_RANGE = (1, 60)
# SLA targets in business hours: at most about a year of working days. With the shortest
# working day (an hour) on one day a week that is 2000 weeks, so due dates stay in reach.
SLA_HOURS_RANGE = (1, 2000)
MIN_WORKING_DAY_MINUTES = 60
MAX_HOLIDAYS = 500
HOLIDAY_YEARS = range(2000, 2200)
ATTACHMENT_MB_RANGE = (1, 50)
MAX_ATTACHMENT_TYPES = 60
# Priority weights: (low, high) of each number a lead may set on the "Priority" card.
PRIORITY_RANGES = {
    "priority_impact_weight": (0, 5),
    "priority_urgency_weight": (0, 5),
    "priority_sponsor_points": (0, 10),
    "priority_ageing_per_day": (0, 1),
    "priority_ageing_cap": (0, 20),
}
# Working days before a waiting request goes first: 0 (off) or a number in this range. Fewer
# than 5 would turn the queue into FIFO for anything not started within a week.
OLDEST_FIRST_RANGE = (5, 60)

# ``date.weekday()`` numbers (0 is Monday) in words: working days, the digest day.
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_EXTENSION = re.compile(r"^[a-z0-9]{1,10}$")


class SettingError(Refusal):
    """A value a setting cannot take; ``key`` names the setting (and the form field) concerned."""

    def __init__(self, key, message):
        super().__init__(message, key)
        self.key = key


@functools.cache
def timezones():
    """Every IANA timezone name this machine knows, sorted."""
    return tuple(sorted(zoneinfo.available_timezones()))


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _whole(key, value, low, high, what):
    if not _is_int(value) or not low <= value <= high:
        raise SettingError(key, f"{what} must be a whole number from {low} to {high}.")
    return value


def _hours(key, value, what):
    low, high = SLA_HOURS_RANGE
    if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            or not low <= value <= high):
        raise SettingError(key, f"{what} must be a number of hours from {low} to {high}.")
    return int(value) if float(value).is_integer() else float(value)


def _clock(key, value, what):
    if not isinstance(value, str) or not _CLOCK.match(value):
        raise SettingError(key, f"{what} must be a time of day written as HH:MM, e.g. 09:00.")
    return value


def _sla_targets(key, value):
    if not isinstance(value, dict) or set(value) != set(SLA_CLASSES):
        raise SettingError(key, "SLA targets need the classes " + ", ".join(SLA_CLASSES) + ".")
    targets = {}
    for sla_class in SLA_CLASSES:
        target = value[sla_class]
        if not isinstance(target, dict) or set(target) != {"first_response_hours",
                                                           "resolution_hours"}:
            raise SettingError(key, f"The {sla_class} SLA class needs a first response and a "
                                    "resolution target.")
        first = _hours(key, target["first_response_hours"],
                       f"The {sla_class} class's first response target")
        resolution = _hours(key, target["resolution_hours"],
                            f"The {sla_class} class's resolution target")
        if resolution <= first:
            raise SettingError(key, f"The {sla_class} class's resolution target must be longer "
                                    "than its first response target.")
        targets[sla_class] = {"first_response_hours": first, "resolution_hours": resolution}
    return targets


def _holidays(key, value):
    """A list of dates (or ISO strings), stored as sorted, distinct ISO strings."""
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise SettingError(key, "Holidays are a list of dates.")
    days = set()
    for item in value:
        day = item
        if isinstance(item, str):
            try:
                day = date.fromisoformat(item) if len(item) == 10 else None
            except ValueError:
                day = None
        if not isinstance(day, date) or hasattr(day, "hour"):
            raise SettingError(key, f"{str(item)[:30]!r} is not a date written YYYY-MM-DD.")
        if day.year not in HOLIDAY_YEARS:
            raise SettingError(key, f"{day.isoformat()} is out of range; use a year from "
                                    f"{HOLIDAY_YEARS.start} to {HOLIDAY_YEARS.stop - 1}.")
        days.add(day)
    if len(days) > MAX_HOLIDAYS:
        raise SettingError(key, f"Keep at most {MAX_HOLIDAYS} holidays.")
    return [day.isoformat() for day in sorted(days)]


def working_day_error(work_start, work_end):
    """Why a working day from ``work_start`` to ``work_end`` (HH:MM) cannot be, or None.

    It must end after it starts and last at least MIN_WORKING_DAY_MINUTES: a day of minutes
    would stretch an SLA target over centuries.
    """
    start, end = (datetime.combine(date.min, time.fromisoformat(clock))
                  for clock in (work_start, work_end))
    if end <= start:
        return "The working day must end after it starts."
    if end - start < timedelta(minutes=MIN_WORKING_DAY_MINUTES):
        return "The working day must be at least one hour long."
    return None


def _number(key, value, low, high, what):
    if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            or not low <= value <= high):
        raise SettingError(key, f"{what} must be a number from {low} to {high}.")
    return int(value) if float(value).is_integer() else float(value)


def _oldest_first_after(key, value):
    low, high = OLDEST_FIRST_RANGE
    if not _is_int(value) or not (value == 0 or low <= value <= high):
        raise SettingError(key, f"Oldest first after must be 0 (off) or a whole number of "
                                f"working days from {low} to {high}.")
    return value


def validate(key, value):
    """Return ``value`` in the form it is stored for setting ``key``, or raise SettingError."""
    if key in PRIORITY_RANGES:
        return _number(key, value, *PRIORITY_RANGES[key], LABELS[key].removeprefix("Priority: ")
                       .capitalize())
    if key == "priority_oldest_first_after":
        return _oldest_first_after(key, value)
    if key == "wip_limit_default":
        return _whole(key, value, *WIP_LIMIT_RANGE, "The default WIP limit")
    if key == "lead_time_business_days":
        return _whole(key, value, *LEAD_TIME_RANGE, "The lead time")
    if key == "auto_resolve_days":
        return _whole(key, value, *AUTO_RESOLVE_RANGE, "Auto-resolve days")
    if key == "timezone":
        if not isinstance(value, str) or value not in timezones():
            raise SettingError(key, "Choose a timezone from the list, e.g. Europe/Berlin.")
        return value
    if key == "working_days":
        if (not isinstance(value, (list, tuple, set, frozenset))
                or any(not _is_int(day) or not 0 <= day <= 6 for day in value)):
            raise SettingError(key, "Working days are weekday numbers from 0 (Monday) to "
                                    "6 (Sunday).")
        if not value:
            raise SettingError(key, "Choose at least one working day.")
        return sorted(set(value))
    if key == "work_start":
        return _clock(key, value, "The start of the working day")
    if key == "work_end":
        return _clock(key, value, "The end of the working day")
    if key == "sla_targets":
        return _sla_targets(key, value)
    if key == "holidays":
        return _holidays(key, value)
    if key == "digest_weekday":
        return _whole(key, value, 0, 6, "The digest day")
    if key == "digest_time":
        return _clock(key, value, "The digest time")
    if key == "follow_up_business_days":
        return _follow_up_days(key, value)
    if key == "follow_up_reminder_days":
        return _whole(key, value, *REMINDER_DAYS_RANGE, "The days before the reminder")
    if key == "track_record_in_priority":
        if not isinstance(value, bool):
            raise SettingError(key, "Say yes or no.")
        return value
    if key == "attachment_max_mb":
        return _whole(key, value, *ATTACHMENT_MB_RANGE, "The largest attachment (MB)")
    if key == "attachment_types":
        return attachment_types(key, value)
    raise SettingError(key, f"There is no setting called {key!r}.")


def attachment_types(key, value):
    """The extensions attachments may have: lower-case letters and digits, none of the blocked
    types, at least one; stored sorted, each once. A leading dot is dropped (".csv" is csv)."""
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise SettingError(key, "Attachment types are a list of file extensions.")
    found = set()
    for item in value:
        text = item.strip().lstrip(".").lower() if isinstance(item, str) else None
        if not text or not _EXTENSION.match(text):
            shown = str(item)[:20]
            raise SettingError(key, f"\u201c{shown}\u201d is not a file extension: use letters "
                                    "and digits only, e.g. csv or xlsx.")
        if text in BLOCKED_ATTACHMENT_TYPES:
            raise SettingError(key, f"{text} files cannot be allowed: web pages, scripts and "
                                    "programs could run on a colleague\u2019s computer when opened.")
        found.add(text)
    if not found:
        raise SettingError(key, "Allow at least one type, e.g. csv.")
    if len(found) > MAX_ATTACHMENT_TYPES:
        raise SettingError(key, f"Allow at most {MAX_ATTACHMENT_TYPES} types.")
    return sorted(found)


def _follow_up_days(key, value):
    """Business days before the follow-up, one whole number per request kind."""
    if not isinstance(value, dict) or set(value) != set(KINDS):
        raise SettingError(key, "Follow-up days need the kinds " + ", ".join(KINDS) + ".")
    return {kind: _whole(key, value[kind], *FOLLOW_UP_DAYS_RANGE,
                         f"The follow-up days of {KINDS[kind][0].lower()} requests")
            for kind in KINDS}


def get(key):
    """Return the value of setting ``key``: the stored one, or its default."""
    if key not in DEFAULTS:
        raise KeyError(key)
    row = db.session.get(Setting, key)
    return copy.deepcopy(row.value if row is not None else DEFAULTS[key])


def current():
    """Return every setting as a dict, stored values over defaults, in one SQL statement."""
    values = copy.deepcopy(DEFAULTS)
    for row in db.session.scalars(db.select(Setting)):
        if row.key in values:
            values[row.key] = copy.deepcopy(row.value)
    return values


def _actor_id(actor):
    return actor.id if actor is not None else None


def _record(key, old, new, actor, now):
    change = SettingChange(key=key, old_value=old, new_value=new, actor_id=_actor_id(actor),
                           created_at=now)
    db.session.add(change)
    return change


def update(changes, actor, now):
    """Validate and store ``changes`` ({key: value}); audit each key whose value really changed.

    All values are checked before anything is written, including that the working day ends
    after it starts. Announces the changed keys (``signals.settings_changed``): a change to the
    business hours, holidays or SLA targets recomputes every open request's SLA clocks in the
    same transaction. Returns the new ``SettingChange`` rows (none when nothing changed).
    """
    before = current()
    after = dict(before)
    for key, value in changes.items():
        after[key] = validate(key, value)
    if (after["work_start"], after["work_end"]) != (before["work_start"], before["work_end"]):
        working_day_problem = working_day_error(after["work_start"], after["work_end"])
        if working_day_problem:
            raise SettingError("work_end", working_day_problem)
    stored = {row.key: row for row in db.session.scalars(
        db.select(Setting).where(Setting.key.in_(list(changes))))}
    recorded = []
    for key in DEFAULTS:  # a stable order, whatever order the caller used
        if key not in changes or after[key] == before[key]:
            continue
        row = stored.get(key)
        if row is None:
            row = Setting(key=key)
            db.session.add(row)
        row.value = copy.deepcopy(after[key])
        row.updated_at = now
        row.updated_by_id = _actor_id(actor)
        recorded.append(_record(key, before[key], after[key], actor, now))
    db.session.flush()
    if recorded:
        signals.settings_changed.send(keys=frozenset(change.key for change in recorded),
                                      values=after, now=now)
    return recorded


def team_budget_key(team_id):
    """The audit key of a team's weekly ad-hoc budget."""
    return f"team:{team_id}:weekly_ad_hoc_budget"


def wip_limit_key(user_id):
    """The audit key of an analyst's own WIP limit."""
    return f"user:{user_id}:wip_limit"


def set_team_budget(team, budget, actor, now):
    """Set how many ad-hoc requests ``team`` gets per week (None: no limit); audit a change.

    Returns the SettingChange, or None when the budget stays as it was. A change announces
    ``signals.team_budget_changed``: a bigger budget (or none) releases the team's waitlist
    at once, in this transaction; the change's ``released`` lists the requests released.
    """
    key = team_budget_key(team.id)
    if budget is not None:
        _whole(key, budget, *BUDGET_RANGE, f"{team.name}'s weekly ad-hoc budget")
    if budget == team.weekly_ad_hoc_budget:
        return None
    old = team.weekly_ad_hoc_budget
    change = _record(key, old, budget, actor, now)
    team.weekly_ad_hoc_budget = budget
    db.session.flush()
    answers = signals.team_budget_changed.send(team, old=old, new=budget, now=now)
    change.released = [request for _, released in answers for request in (released or ())]
    return change


def set_wip_limit(user, limit, actor, now):
    """Give analyst or lead ``user`` their own WIP limit (None: the default); audit a change.

    Returns the SettingChange, or None when the limit stays as it was.
    """
    key = wip_limit_key(user.id)
    if not allowed(user, "work"):
        raise SettingError(key, f"{user.name} does not work on requests: only analysts and "
                                "leads have a WIP limit.")
    if limit is not None:
        _whole(key, limit, *WIP_LIMIT_RANGE, f"{user.name}'s WIP limit")
    if limit == user.wip_limit:
        return None
    change = _record(key, user.wip_limit, limit, actor, now)
    user.wip_limit = limit
    db.session.flush()
    return change


def wip_limit_for(user, values=None):
    """Return how many requests ``user`` may have in progress: their own limit or the default.

    Pass ``values`` (from ``current()``) to avoid a query when asking for many users.
    """
    if user.wip_limit is not None:
        return user.wip_limit
    return (values or {}).get("wip_limit_default") or get("wip_limit_default")


def business_hours(values=None):
    """Return the working calendar of the settings as an ``business_hours.BusinessHours``."""
    values = values or current()
    return _calendar(values["timezone"], tuple(values["working_days"]), values["work_start"],
                     values["work_end"], tuple(values.get("holidays", ())))


@functools.lru_cache(maxsize=32)
def _calendar(timezone, working_days, work_start, work_end, holidays):
    # Lists pages build one view per row from the same settings: one calendar serves them all.
    return BusinessHours(
        timezone=timezone, weekdays=frozenset(working_days),
        start=time.fromisoformat(work_start), end=time.fromisoformat(work_end),
        holidays=frozenset(date.fromisoformat(day) for day in holidays))


def priority_weights(values=None):
    """Return the lead's priority weights (a ``priority.Weights``) from the settings."""
    values = values or current()
    return priority.Weights(
        impact=values["priority_impact_weight"], urgency=values["priority_urgency_weight"],
        sponsor=values["priority_sponsor_points"],
        ageing_per_day=values["priority_ageing_per_day"],
        ageing_cap=values["priority_ageing_cap"],
        oldest_first_after=values["priority_oldest_first_after"])


def oldest_first_before(now, values=None):
    """Return the moment before which a waiting request counts as aged at ``now`` (UTC), or
    None when the oldest-first rule is off.

    It is ``now`` minus ``priority_oldest_first_after`` working days of the team's calendar
    (working days, holidays and time zone of the settings): a request created before it has
    waited at least that many working days."""
    values = values or current()
    days = values["priority_oldest_first_after"]
    if not days:
        return None
    return business_hours(values).working_days_before(now, days)


def sla_target(sla_class, values=None):
    """Return the targets of ``sla_class`` (high, standard or low) as an ``business_hours.SlaTarget``."""
    if sla_class not in SLA_CLASSES:
        raise KeyError(sla_class)
    targets = (values or current())["sla_targets"][sla_class]
    return SlaTarget(first_response_hours=targets["first_response_hours"],
                     resolution_hours=targets["resolution_hours"])


# --- Showing changes ----------------------------------------------------------------------

_SUBJECT_KEY = re.compile(r"^(team|user):(\d+):(\w+)$")


def subjects_of(changes):
    """Return the teams and users the given changes concern, as ({id: Team}, {id: User}).

    Always two SQL statements, whatever the changes, so a page of them costs the same.
    """
    team_ids, user_ids = set(), set()
    for change in changes:
        match = _SUBJECT_KEY.match(change.key)
        if match:
            (team_ids if match[1] == "team" else user_ids).add(int(match[2]))
    teams = {t.id: t for t in db.session.scalars(db.select(Team).where(Team.id.in_(team_ids)))}
    users = {u.id: u for u in db.session.scalars(db.select(User).where(User.id.in_(user_ids)))}
    return teams, users


def describe(change, teams, users):
    """Return (setting, old, new) of ``change`` in words, for the list of recent changes."""
    match = _SUBJECT_KEY.match(change.key)
    if match and match[1] == "team":
        team = teams.get(int(match[2]))
        label = f"Weekly ad-hoc budget: {team.name if team else 'team #' + match[2]}"
        return label, _count_or(change.old_value, "no limit"), _count_or(change.new_value,
                                                                          "no limit")
    if match and match[1] == "user":
        user = users.get(int(match[2]))
        label = f"WIP limit: {user.name if user else 'user #' + match[2]}"
        return label, _count_or(change.old_value, "default"), _count_or(change.new_value,
                                                                         "default")
    return (LABELS.get(change.key, change.key), format_value(change.key, change.old_value),
            format_value(change.key, change.new_value))


def _count_or(value, none_text):
    return none_text if value is None else str(value)


def format_value(key, value):
    """Show a setting's stored value in words."""
    if value is None:
        return "\u2014"
    if key == "digest_weekday" and _is_int(value) and 0 <= value <= 6:
        return WEEKDAY_NAMES[value][:3]
    if key == "working_days" and isinstance(value, list):
        return ", ".join(WEEKDAY_NAMES[day][:3] for day in value
                         if _is_int(day) and 0 <= day <= 6)
    if key == "holidays" and isinstance(value, list):
        if not value:
            return "none"
        shown = ", ".join(str(day) for day in value[:6])
        return shown + (f" \u2026 ({len(value)} dates)" if len(value) > 6 else "")
    if key == "follow_up_business_days" and isinstance(value, dict):
        return "; ".join(f"{KINDS[kind][0]}: {days}" for kind, days in value.items()
                         if kind in KINDS)
    if key == "track_record_in_priority" and isinstance(value, bool):
        return "on" if value else "off"
    if key == "attachment_types" and isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if key == "priority_oldest_first_after" and value == 0:
        return "off"
    if key == "sla_targets" and isinstance(value, dict):
        return "; ".join(
            f"{name}: {target.get('first_response_hours')} h / {target.get('resolution_hours')} h"
            for name, target in value.items() if isinstance(target, dict))
    return str(value)

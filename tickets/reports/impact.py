"""The impact ledger (DESIGN.md, Outcomes): what became of the deliveries, for leads.

The ledger counts the requests **delivered** in the range: resolved (confirmed by their
requester, or resolved automatically) on a day of the range. Each has a follow-up (created at
resolution, ``outcomes.schedule``); of those:

- **followed up**: its moment came: the question went out (asked, reminded), was answered, or
  found nobody to ask (unanswerable); a follow-up still waiting for its day is not counted;
- **answered**: it has an outcome (the latest answer counts);
- **used**: the answer is "acted on it" or "informed a decision not to act" (a **decision
  taken**); "not used yet" and "not used" are answered but not used. **Used %** is used over
  answered, **answered %** is answered over followed up.

Rows are grouped by team, kind or format (``GROUPS``), with a totals row; the chart shows, week
by week of resolution, the answers stacked by outcome and the used % as a line. Two lists name
the deliverables **not used** (with the reason, the decision and note given, the team and the
analyst who delivered) and those whose follow-up went **unanswered** (asked or reminded with no
answer yet, or nobody to ask); each page shows the latest ``LIST_SHOWN`` with the full count,
the CSV has them all.

Filters: the reports' range, team and kind (``parse_filters``) and the request's format; the
group is part of them. Every figure is a grouped SQL statement, so the page costs a constant
number of statements whatever the number of requests.
"""
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased

from .. import settings
from ..extensions import db
from ..models import (FOLLOW_UP_STATUSES, FORMATS, KINDS, NOT_USED_REASONS, OUTCOMES,
                      USED_OUTCOMES, WAITING_FOLLOW_UP_STATUSES, FollowUp, Request, Team, User)
from ..policy import visible_requests
from .charts import Series, chart
from .filters import Filters, conditions, filters_query, parse_filters
from .periods import period_of

# What the ledger's rows can be grouped by: key -> label of the column.
GROUPS = {"team": "Team", "kind": "Kind", "format": "Format"}
DEFAULT_GROUP = "team"
LIST_SHOWN = 20  # the deliverables each list shows on the page (the CSV has them all)
# The statuses of a follow-up that went unanswered: waiting on its recipient, or nobody to ask.
UNANSWERED_STATUSES = tuple(sorted(WAITING_FOLLOW_UP_STATUSES | {"unanswerable"}))
FOLLOWED_UP_STATUSES = tuple(sorted(set(FOLLOW_UP_STATUSES) - {"scheduled"}))


@dataclass(frozen=True)
class ImpactFilters:
    """What the ledger is narrowed by: the reports' Filters (range, team, kind; the analyst is
    not used), the request's format (None: any) and how rows are grouped. ``viewer`` is whose
    visible requests the lists may name (None: any, as for a lead)."""

    base: Filters
    format: str | None = None
    group: str = DEFAULT_GROUP
    viewer: object = field(default=None, compare=False)


def parse_impact_filters(args, today, team_ids=None, viewer=None):
    """Read ImpactFilters from URL arguments (start, end, team, kind, format, group); never
    raises: a bad value falls back to its default, as ``parse_filters`` does."""
    base = parse_filters({name: args.get(name) for name in ("start", "end", "team", "kind")},
                         today, team_ids)
    format_ = str(args.get("format") or "").strip()
    group = str(args.get("group") or "").strip()
    return ImpactFilters(base, format_ if format_ in FORMATS else None,
                         group if group in GROUPS else DEFAULT_GROUP, viewer)


def impact_filters_query(filters):
    """The URL arguments that reproduce ``filters`` (the group only when not the default)."""
    query = {name: value for name, value in filters_query(filters.base).items()
             if name in ("start", "end", "team", "kind")}
    if filters.format:
        query["format"] = filters.format
    if filters.group != DEFAULT_GROUP:
        query["group"] = filters.group
    return query


def _period(filters, now):
    return period_of(filters.base, now, settings.current())


def _delivered(filters, period):
    """SQL conditions on Request (and the outer-joined FollowUp): resolved in the period,
    narrowed by the filters, visible to the viewer."""
    found = [Request.state == "resolved", period.contains(Request.closed_at),
             *conditions(filters.base)]
    if filters.format is not None:
        found.append(Request.format == filters.format)
    if filters.viewer is not None:
        found.append(visible_requests(filters.viewer))
    return found


def _share(part, whole):
    return round(part / whole, 3) if whole else None


@dataclass
class LedgerRow:
    """One line of the ledger (a team, kind or format; or the totals)."""

    key: object
    label: str
    delivered: int = 0
    followed_up: int = 0
    answered: int = 0
    outcomes: dict = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    reasons: dict = field(default_factory=lambda: dict.fromkeys(NOT_USED_REASONS, 0))

    @property
    def used(self):
        """Answers that were used: acted on, or informed a decision not to act."""
        return sum(self.outcomes[outcome] for outcome in USED_OUTCOMES)

    @property
    def decisions(self):
        """Decisions taken: the same answers, counted as what a lead shows (acted + not)."""
        return self.used

    @property
    def used_share(self):
        """Used over answered (None: nothing answered)."""
        return _share(self.used, self.answered)

    @property
    def answered_share(self):
        """Answered over followed up (None: nothing followed up yet)."""
        return _share(self.answered, self.followed_up)

    def add(self, other):
        self.delivered += other.delivered
        self.followed_up += other.followed_up
        self.answered += other.answered
        for outcome, count in other.outcomes.items():
            self.outcomes[outcome] += count
        for reason, count in other.reasons.items():
            self.reasons[reason] += count

    def as_list(self):
        """The row as the CSV and the JSON's table have it (LEDGER_COLUMNS after the label)."""
        return [self.label, self.delivered, self.followed_up, self.answered,
                self.answered_share, self.used_share, self.outcomes["acted"],
                self.outcomes["decided_not_to_act"], self.outcomes["not_yet"],
                self.outcomes["not_used"], *self.reasons.values()]

    def as_json(self):
        return {"key": self.key, "label": self.label, "delivered": self.delivered,
                "followed_up": self.followed_up, "answered": self.answered,
                "answered_share": self.answered_share, "used": self.used,
                "used_share": self.used_share, "decisions": self.decisions,
                "outcomes": dict(self.outcomes), "not_used_reasons": dict(self.reasons)}


def ledger_columns(group):
    """The ledger table's header for rows grouped by ``group``."""
    return [GROUPS[group], "Delivered", "Followed up", "Answered", "Answered %", "Used %",
            "Acted on it", "Decided not to act", "Not used yet", "Not used",
            *(f"Not used: {label}" for label in NOT_USED_REASONS.values())]


@dataclass
class Ledger:
    """The ledger: its rows (most delivered first) and the totals row."""

    group: str
    rows: list
    totals: LedgerRow

    @property
    def columns(self):
        return ledger_columns(self.group)

    def table(self):
        """The rows then the totals, as lists (the CSV)."""
        return [row.as_list() for row in self.rows] + [self.totals.as_list()]


def _group_column(group):
    return {"team": Request.team_id, "kind": Request.kind, "format": Request.format}[group]


def _counts(followed_up_by):
    """The grouped sums of a ledger row (after the group columns): delivered, followed up,
    answered, each outcome, each not-used reason."""
    def count_if(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return [func.count(Request.id),
            count_if(followed_up_by),
            count_if(FollowUp.outcome.is_not(None)),
            *(count_if(FollowUp.outcome == outcome) for outcome in OUTCOMES),
            *(count_if(and_(FollowUp.outcome == "not_used", FollowUp.not_used_reason == reason))
              for reason in NOT_USED_REASONS)]


def _followed_up():
    return or_(FollowUp.status.in_(FOLLOWED_UP_STATUSES), FollowUp.outcome.is_not(None))


def _fill(row, numbers):
    row.delivered, row.followed_up, row.answered = (int(n) for n in numbers[:3])
    outcomes = numbers[3:3 + len(OUTCOMES)]
    reasons = numbers[3 + len(OUTCOMES):]
    row.outcomes = {outcome: int(n) for outcome, n in zip(OUTCOMES, outcomes)}
    row.reasons = {reason: int(n) for reason, n in zip(NOT_USED_REASONS, reasons)}
    return row


def ledger(filters, now, period=None):
    """The ledger's rows grouped by ``filters.group``, most delivered first, and the totals.
    One statement (and the settings, unless ``period`` is given)."""
    period = period or _period(filters, now)
    group = _group_column(filters.group)
    rows = []
    if period.days:
        query = (select(group, Team.name if filters.group == "team" else group,
                        *_counts(_followed_up()))
                 .select_from(Request)
                 .outerjoin(FollowUp, FollowUp.request_id == Request.id)
                 .where(*_delivered(filters, period)))
        if filters.group == "team":
            query = query.join(Team, Team.id == Request.team_id).group_by(group, Team.name)
        else:
            query = query.group_by(group)
        labels = {"kind": {key: label for key, (label, _) in KINDS.items()},
                  "format": FORMATS}.get(filters.group, {})
        for key, name, *numbers in db.session.execute(query):
            rows.append(_fill(LedgerRow(key, labels.get(key, name) if labels else name),
                              numbers))
    rows.sort(key=lambda row: (-row.delivered, -row.answered, str(row.label)))
    totals = LedgerRow("total", "Total")
    for row in rows:
        totals.add(row)
    return Ledger(filters.group, rows, totals)


# --- The chart ----------------------------------------------------------------------------

@chart("weeks", "What became of the deliveries, week by week",
       "Each bar is the answers about the requests resolved that week, stacked by outcome; the "
       "line is the share of those answers that were used (acted on, or informed a decision "
       "not to act).")
def impact_by_week(spec, filters, now, period=None):
    """Per ISO week of resolution: the answers by outcome (stacked) and the used % (a line on
    its own axis), with delivered and followed up in the table. One statement."""
    period = period or _period(filters, now)
    weeks = period.week_labels()
    cells = {}
    if period.days:
        week = period.week_index(Request.closed_at).label("week")
        resolved = (select(week, FollowUp.outcome.label("outcome"),
                           case((_followed_up(), 1), else_=0).label("followed_up"))
                    .select_from(Request)
                    .outerjoin(FollowUp, FollowUp.request_id == Request.id)
                    .where(*_delivered(filters, period)).subquery("resolved"))
        for index, outcome, delivered, followed_up in db.session.execute(
                select(resolved.c.week, resolved.c.outcome, func.count(),
                       func.sum(resolved.c.followed_up))
                .group_by(resolved.c.week, resolved.c.outcome)):
            if 0 <= index < len(weeks):
                row = cells.setdefault(index, LedgerRow(index, weeks[index]))
                row.delivered += delivered
                row.followed_up += int(followed_up or 0)
                if outcome in OUTCOMES:
                    row.answered += delivered
                    row.outcomes[outcome] += delivered
    rows = [cells.get(i) or LedgerRow(i, label) for i, label in enumerate(weeks)]
    used = [None if row.used_share is None else round(100 * row.used_share, 1) for row in rows]
    return spec.chart(
        type="stacked_bar", labels=weeks,
        series=[*(Series(label, [row.outcomes[outcome] for row in rows], {"outcome": outcome})
                  for outcome, label in OUTCOMES.items()),
                Series("Used %", used, {"line": True, "unit": "%"})],
        columns=["Week of", "Delivered", "Followed up", "Answered", *OUTCOMES.values(),
                 "Used %"],
        rows=[[row.label, row.delivered, row.followed_up, row.answered,
               *row.outcomes.values(), row.used_share] for row in rows if row.delivered],
        x_label="Week of resolution", y_label="Answers")


# --- The lists -------------------------------------------------------------------------------

NOT_USED_COLUMNS = ["Request", "Title", "Team", "Kind", "Format", "Delivered by", "Resolved",
                    "Reason", "Decision", "Note", "Answered", "Answered by"]
UNANSWERED_COLUMNS = ["Request", "Title", "Team", "Kind", "Format", "Delivered by", "Resolved",
                      "Follow-up", "Asked", "Reminded", "Asked whom"]


@dataclass
class Deliverable:
    """One line of a list: a request resolved in the range and its follow-up."""

    request_id: int
    title: str
    team: str
    kind: str
    format: str
    analyst: str  # who delivered it ("" when nobody was assigned)
    resolved_at: object
    status: str  # the follow-up's status
    reason: str = ""  # not used: why
    decision: str = ""
    note: str = ""
    answered_at: object = None
    answered_by: str = ""
    asked_at: object = None
    reminded_at: object = None
    recipient: str = ""

    @property
    def kind_label(self):
        return KINDS.get(self.kind, (self.kind, ""))[0]

    @property
    def format_label(self):
        return FORMATS.get(self.format, self.format)

    @property
    def reason_label(self):
        return NOT_USED_REASONS.get(self.reason, "")

    @property
    def status_label(self):
        return FOLLOW_UP_STATUSES.get(self.status, self.status)

    def not_used_row(self):
        return [self.request_id, self.title, self.team, self.kind_label, self.format_label,
                self.analyst, self.resolved_at, self.reason_label, self.decision, self.note,
                self.answered_at, self.answered_by]

    def unanswered_row(self):
        return [self.request_id, self.title, self.team, self.kind_label, self.format_label,
                self.analyst, self.resolved_at, self.status_label, self.asked_at,
                self.reminded_at, self.recipient]

    def as_json(self):
        return {"request_id": self.request_id, "title": self.title, "team": self.team,
                "kind": self.kind, "format": self.format, "delivered_by": self.analyst,
                "resolved_at": _iso(self.resolved_at), "follow_up": self.status,
                "reason": self.reason or None, "decision": self.decision, "note": self.note,
                "answered_at": _iso(self.answered_at), "answered_by": self.answered_by or None,
                "asked_at": _iso(self.asked_at), "reminded_at": _iso(self.reminded_at),
                "asked_whom": self.recipient or None}


def _iso(value):
    return value.isoformat() if value is not None else None


@dataclass
class DeliverableList:
    """A list's first ``LIST_SHOWN`` deliverables (or all of them) and how many there are."""

    name: str  # not_used, unanswered
    items: list
    count: int

    @property
    def columns(self):
        return NOT_USED_COLUMNS if self.name == "not_used" else UNANSWERED_COLUMNS

    def table(self):
        return [item.not_used_row() if self.name == "not_used" else item.unanswered_row()
                for item in self.items]

    @property
    def is_capped(self):
        return self.count > len(self.items)


LISTS = {
    "not_used": (FollowUp.outcome == "not_used", (FollowUp.answered_at.desc(),)),
    "unanswered": (and_(FollowUp.status.in_(UNANSWERED_STATUSES), FollowUp.outcome.is_(None)),
                   (Request.closed_at.asc(),)),
}


def deliverables(name, filters, now, limit=..., period=None):
    """The list ``name`` (``LISTS``): its deliverables, newest answer first (not used) or
    oldest resolution first (unanswered), at most ``limit`` (by default LIST_SHOWN; None:
    all), and their count.
    One statement (the count is a window over the same rows)."""
    period = period or _period(filters, now)
    if not period.days:
        return DeliverableList(name, [], 0)
    condition, order = LISTS[name]
    analyst, answerer, recipient = aliased(User), aliased(User), aliased(User)
    query = (select(Request.id, Request.title, Team.name, Request.kind, Request.format,
                    analyst.name, Request.closed_at, FollowUp.status, FollowUp.not_used_reason,
                    FollowUp.decision, FollowUp.note, FollowUp.answered_at, answerer.name,
                    FollowUp.asked_at, FollowUp.reminded_at, recipient.name,
                    func.count().over().label("total"))
             .select_from(Request)
             .join(FollowUp, FollowUp.request_id == Request.id)
             .join(Team, Team.id == Request.team_id)
             .outerjoin(analyst, analyst.id == Request.assignee_id)
             .outerjoin(answerer, answerer.id == FollowUp.answered_by_id)
             .outerjoin(recipient, recipient.id == FollowUp.recipient_id)
             .where(*_delivered(filters, period), condition)
             .order_by(*order, Request.id.desc()))
    if limit is ...:
        limit = LIST_SHOWN
    if limit is not None:
        query = query.limit(limit)
    items, count = [], 0
    for (request_id, title, team, kind, format_, analyst_name, resolved_at, status, reason,
         decision, note, answered_at, answered_by, asked_at, reminded_at, recipient_name,
         total) in db.session.execute(query):
        count = total
        items.append(Deliverable(request_id, title, team, kind, format_, analyst_name or "",
                                 resolved_at, status, reason or "", decision or "", note or "",
                                 answered_at, answered_by or "", asked_at, reminded_at,
                                 recipient_name or ""))
    return DeliverableList(name, items, count)


# --- Everything at once ----------------------------------------------------------------------

@dataclass
class Impact:
    """The ledger page's figures: the ledger, the chart and the two lists."""

    filters: ImpactFilters
    ledger: Ledger
    chart: object  # a Chart
    not_used: DeliverableList
    unanswered: DeliverableList

    @property
    def headline(self):
        """The figures at the top of the page."""
        totals = self.ledger.totals
        return {"delivered": totals.delivered, "followed_up": totals.followed_up,
                "answered": totals.answered, "answered_share": totals.answered_share,
                "used": totals.used, "used_share": totals.used_share,
                "decisions": totals.decisions}

    def as_json(self):
        """Every figure as plain JSON-able data (the page's JSON export)."""
        base = self.filters.base
        return {
            "filters": {"start": base.start.isoformat(), "end": base.end.isoformat(),
                        "team": base.team_id, "kind": base.kind, "format": self.filters.format,
                        "group": self.filters.group},
            "headline": self.headline,
            "columns": self.ledger.columns,
            "rows": [row.as_json() for row in self.ledger.rows],
            "totals": self.ledger.totals.as_json(),
            "chart": self.chart.as_json(),
            "not_used": {"count": self.not_used.count,
                         "items": [item.as_json() for item in self.not_used.items]},
            "unanswered": {"count": self.unanswered.count,
                           "items": [item.as_json() for item in self.unanswered.items]},
        }


def impact(filters, now):
    """The ledger page's figures for ``filters``: five statements (the settings, the ledger,
    the chart, the two lists), whatever the number of requests."""
    period = _period(filters, now)
    return Impact(filters, ledger(filters, now, period),
                  impact_by_week.compute(impact_by_week, filters, now, period),
                  deliverables("not_used", filters, now, period=period),
                  deliverables("unanswered", filters, now, period=period))

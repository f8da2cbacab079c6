"""Queues in priority order: an analyst's queue, the leads' backlog, and queue positions.

A team's **queue** is its accepted requests in the order of ``priority.rank``: by score, with
the positions leads gave some of them (``Request.rank_override``, set by ``override_rank``,
which records the reason as an ``override`` event). A request's **position** is its place in
its own team's queue, counting every accepted request of the team (confidential ones too:
they take a place even where they are not shown).

Ranking needs every accepted request of the teams concerned, so each page loads the few
columns the score needs as Rows in one SQL statement (an index-only scan of
``ix_requests_queue``), ranks in Python, and loads the full objects of the requests it shows
in one more (``load``). The number of statements never grows with the data. Ranking uses the
cheap score of ``Scoring`` (equal to ``priority.explain``'s total); an Entry builds its
explanation only when read, a team's queue (``TeamQueue``) its Entries only when read, and the
lists pages get (``Ranked``) are merged only as far as the page shown, their length counted
from the rows. A run that needs many people's queues (the digests) ranks each team once
(``Ranking``).

Across teams (an analyst serving several, the leads' backlog), the team queues are **merged**:
at each step the team whose next request has the highest score gives its next request. Each
team's own order, overrides included, is kept, so the positions shown read 1, 2, 3 down the
page for any one team, and otherwise the list is in score order.

Functions that depend on time take ``now`` (aware UTC). Scores are computed with ``now`` in the
settings' timezone, whose date the urgency counts from (see ``priority``).

When a lead switched the track record into the score (``track_record_in_priority``), every
score here, shown or used for ordering, includes the requesting team's track record
(``outcomes.track_records``: one more SQL statement per call, only then); its explanation says
so. Otherwise scores are exactly ``priority.explain``'s without it.
"""
import heapq
import json
from itertools import chain
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta, timezone

from flask import current_app
from sqlalchemy import and_, case, event as sa_event, false, inspect as sa_inspect, or_
from sqlalchemy.orm import Session, joinedload

from . import lifecycle, localtime, outcomes, priority, settings, sla_clocks
from .extensions import db
from .models import (COMMITTED_STATES, IN_WORK_STATES, OPEN_STATES, Event, RankingVersion,
                     Request, Team)
from .policy import allowed, served_requests

MAX_POSITION = 1000
# SLA statuses a queue can be filtered by (sla_clocks.status_condition knows each).
SLA_FILTERS = ("on_track", "at_risk", "breached", "paused")

# What ranking and filtering read of each request: the score's inputs and the filters' columns.
_ROW_COLUMNS = (
    Request.id, Request.team_id, Request.business_impact, Request.deadline,
    Request.is_exec_sponsored, Request.size, Request.created_at, Request.rank_override,
    Request.state, Request.kind, Request.assignee_id, Request.is_confidential,
    Request.is_central,
)


@dataclass(slots=True)
class Entry:
    """One request in a queue: its Row (score inputs), its place, its score and, on first
    access, its score's explanation (built only for the entries a page shows).

    ``request`` and ``override_reason`` are filled by ``load`` for the entries a page shows.
    """

    row: object
    score: float
    scoring: "Scoring" = field(default=None, repr=False, compare=False)
    sla_status: str | None = None
    position: int | None = None  # in its team's queue; None when not accepted
    total: int | None = None  # the length of that queue
    request: Request | None = None
    override_reason: str | None = None
    _explanation: priority.Explanation | None = field(default=None, repr=False, compare=False)

    @property
    def id(self):
        return self.row.id

    @property
    def explanation(self):
        """The score's parts (``priority.explain``), computed on first access."""
        if self._explanation is None:
            self._explanation = self.scoring.explain(self.row)
        return self._explanation

    @property
    def is_overridden(self):
        return self.position is not None and self.row.rank_override is not None


@dataclass
class AnalystQueue:
    """``analyst_queue``'s answer: own work (loaded), the backlog to pick from (rows), teams."""

    working: list
    up_next: list
    team_ids: list = field(default_factory=list)


@dataclass
class Backlog:
    """``backlog``'s answer: the matching entries in order, and the counts for its filters.

    ``sla_counts`` counts the entries matching every filter but the SLA status, per status;
    ``team_counts`` those matching every filter but the team, per team id: each count is what
    choosing that filter value would show.
    """

    entries: list
    sla_counts: dict
    team_counts: dict


@dataclass(frozen=True)
class Place:
    """Where an accepted request stands in its team's queue (the request page)."""

    position: int
    total: int
    team_name: str
    override_position: int | None
    override_reason: str | None
    sizes_above: tuple = ()  # the size estimates of the accepted requests above it

    @property
    def text(self):
        return f"Position {self.position} of {self.total} in {self.team_name}\u2019s queue"


def ordinal(number):
    """1st, 2nd, 3rd, 4th, 11th, 21st..."""
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def position_text(position, total):
    """'3rd of 12', as My requests shows it."""
    return f"{ordinal(position)} of {total}"


# --- Loading and ranking ----------------------------------------------------------------------

def _sla_column(now):
    """A SQL column giving each open request's SLA status (None when no clock applies)."""
    whens = [(sla_clocks.status_condition(status, now), status) for status in SLA_FILTERS]
    return case(*whens, else_=None).label("sla_status")


def _load_rows(condition, now, with_sla=False):
    """Rows of the requests matching ``condition``: one SQL statement."""
    columns = list(_ROW_COLUMNS)
    if with_sla:
        columns.append(_sla_column(now))
    return db.session.execute(db.select(*columns).where(condition)).all()


def track_records(team_ids, now, values):
    """{team id: TrackRecord} of ``team_ids`` when the settings ``values`` weigh the track
    record in the score (one SQL statement), else None: scores leave it out."""
    if not values.get("track_record_in_priority"):
        return None
    return outcomes.track_records(team_ids, now)


class Scoring:
    """The clock and track records a page ranks with: the cheap score of each request, for
    ordering, and its explanation, for the few requests a page shows.

    ``now`` is in the settings' timezone (``localtime.local_now``); ``records`` is
    ``track_records``'s answer (None: the track record is not weighed). The only place this
    module asks ``priority`` for a score's parts.
    """

    def __init__(self, now, records=None, values=None):
        self.now = now
        self.records = records
        # The lead's weights and the oldest-first rule's moment (None: the rule is off).
        self.weights = (settings.priority_weights(values) if values is not None
                        else priority.DEFAULT_WEIGHTS)
        self.aged_before = (settings.oldest_first_before(now.astimezone(timezone.utc), values)
                            if values is not None else None)
        self._today = now.date()
        self._utc_now = now.astimezone(timezone.utc)
        self._urgency = {}
        self._ageing = {}

    def record(self, team_id):
        """The team's TrackRecord when the score weighs it, else None."""
        return self.records.get(team_id) if self.records is not None else None

    def explain(self, request):
        """``request``'s score explained (``priority.explain``), with its team's track record
        when the settings weigh it."""
        return priority.explain(request, self.now, track_record=self.record(request.team_id),
                                weights=self.weights, aged_before=self.aged_before)

    def is_aged(self, request):
        """Whether the oldest-first rule puts ``request`` ahead of every scored one."""
        return priority.is_oldest_first(request, self.aged_before)

    def _urgency_points(self, deadline):
        points = self._urgency.get(deadline)
        if points is None:
            days_left = (deadline - self._today).days
            points = next((points for most, points in priority.URGENCY_STEPS
                           if days_left <= most), priority.URGENCY_STEPS[-1][1])
            self._urgency[deadline] = points
        return points

    def score(self, request):
        """``request``'s score: ``self.explain(request).total``, without building the
        explanation (the same arithmetic on ``priority``'s constants, in the same order, so
        the two are equal to the last bit: tests/test_queues.py compares them)."""
        deadline = request.deadline
        urgency = (priority.NO_DEADLINE_URGENCY if deadline is None
                   else self._urgency_points(deadline))
        size = request.size
        weights = self.weights
        cost = (priority.IMPACT_POINTS[request.business_impact] * weights.impact
                + urgency * weights.urgency
                + (weights.sponsor if request.is_exec_sponsored else 0))
        # timedelta.days is the floor of the duration in days, as priority's ``// 1 day``;
        # in UTC, subtracting skips the timezone's offsets (the same instant either way).
        days_waited = (self._utc_now - request.created_at).days
        ageing = self._ageing.get(days_waited)
        if ageing is None:
            ageing = self._ageing[days_waited] = min(
                weights.ageing_cap, weights.ageing_per_day * max(0, days_waited))
        if self.records is not None:
            record = self.records.get(request.team_id)
            factor = record.factor if record is not None else 1.0
        else:
            factor = 1.0
        return cost * factor / priority.SIZE_WEIGHTS[
            size if size is not None else priority.UNSIZED_AS] + ageing

    def entry(self, row, **fields):
        """An Entry of ``row`` with its score (its explanation comes on access)."""
        return Entry(row=row, score=self.score(row), scoring=self, **fields)


def explain(request, now, values=None, record=None):
    """The priority score of one request as its queue computes it (the request page): with
    its team's track record when the settings weigh it. ``now`` is aware UTC; ``record`` is
    the team's TrackRecord when the caller loaded it already (else one statement loads it)."""
    values = values if values is not None else settings.current()
    if record is not None and values.get("track_record_in_priority"):
        records = {request.team_id: record}
    else:
        records = track_records([request.team_id], now, values)
    return Scoring(localtime.local_now(now, values), records, values).explain(request)


class TeamQueue(Sequence):
    """One team's queue in order: its rows ranked (``rows``), as Entries made on access, so a
    page that shows the top of a queue builds no Entry for the rest."""

    def __init__(self, rows, scores, scoring):
        self.rows = rows
        self.scores = scores
        self.scoring = scoring
        self._with_sla = bool(rows) and "sla_status" in getattr(rows[0], "_fields", ())

    def __len__(self):
        return len(self.rows)

    def _entry(self, index):
        row = self.rows[index]
        return Entry(row, self.scores[row.id], self.scoring,
                     row.sla_status if self._with_sla else None, index + 1, len(self.rows))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._entry(i) for i in range(*index.indices(len(self.rows)))]
        if index < 0:
            index += len(self.rows)
        if not 0 <= index < len(self.rows):
            raise IndexError(index)
        return self._entry(index)

    def __iter__(self):
        return (self._entry(index) for index in range(len(self.rows)))


def _rank_team(team_rows, scoring):
    """One team's accepted rows in queue order (``priority.rank``), as a TeamQueue."""
    overrides = {row.id: row.rank_override for row in team_rows
                 if row.rank_override is not None}
    score = scoring.score
    scores = {row.id: score(row) for row in team_rows}
    return TeamQueue(priority.rank(team_rows, scoring.now, overrides, scores=scores,
                                   weights=scoring.weights, aged_before=scoring.aged_before),
                     scores,
                     scoring)


def _rank_teams(rows, scoring):
    """Rank the accepted ``rows`` per team: {team id: TeamQueue}."""
    by_team = defaultdict(list)
    for row in rows:
        if row.state == "accepted":
            by_team[row.team_id].append(row)
    return {team_id: _rank_team(team_rows, scoring) for team_id, team_rows in by_team.items()}


class Ranked(Sequence):
    """Entries in order, computed only as far as asked (a page, the first few of a digest),
    with their number known ahead (``length``: what the iterable yields in all)."""

    def __init__(self, iterable, length):
        self._source = iter(iterable)
        self._items = []
        self._length = length

    def _fill(self, count):
        items = self._items
        while count is None or len(items) < count:
            try:
                items.append(next(self._source))
            except StopIteration:
                break

    def __len__(self):
        return self._length

    def __eq__(self, other):
        """Equal to a list (or another Ranked) of the same entries, as the list it stands for."""
        if isinstance(other, (list, tuple, Ranked)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None

    def __repr__(self):
        return f"Ranked({len(self)} entries)"

    def __getitem__(self, index):
        if isinstance(index, slice):
            stop = index.stop
            self._fill(stop if stop is not None and stop >= 0
                       and (index.start or 0) >= 0 else None)
        else:
            self._fill(index + 1 if index >= 0 else None)
        return self._items[index]

    def __iter__(self):
        index = 0
        while True:
            if index >= len(self._items):
                self._fill(index + 1)
                if index >= len(self._items):
                    return
            yield self._items[index]
            index += 1


def _by_score(entry):
    """Queue order across teams: aged requests first, oldest first (the oldest-first rule),
    then by score (``priority.order_key``'s order)."""
    return _order_key(entry.row, entry.score, entry.scoring)


def _order_key(row, score, scoring):
    """``_by_score``'s key of a row with its score (and the Scoring, for the oldest-first rule)."""
    if scoring is not None and scoring.is_aged(row):
        return (0, 0.0, row.created_at, row.id)
    return (1, -score, row.created_at, row.id)


def merge(team_queues):
    """Merge team queues into one sequence, lazily (take only what a page needs): each
    team's order kept, otherwise by score."""
    return heapq.merge(*team_queues, key=_by_score)


class Ranking:
    """Every team's queue at one moment, ranked once and kept: what a run that needs many
    people's queues (the weekly digests) passes down, so no team is ranked twice, and what
    each process keeps between pages (``current_ranking``).

    Its first use loads every committed request (accepted, in progress, blocked) with its SLA
    status (one SQL statement, plus the track records when the settings weigh them); teams are
    ranked on first ask, the work in progress sorted on first ask. It holds Rows and scores,
    never ORM objects, and hands out new Entries on every ask, so one Ranking can serve many
    pages and sessions.
    """

    def __init__(self, now, values=None):
        self.values = values if values is not None else settings.current()
        self.utc_now = now
        self.now = localtime.local_now(now, self.values)
        self._rows = None
        self._all = None
        self._working = None
        self._scoring = None
        self._queues = {}

    def _load(self):
        if self._rows is None:
            rows = _load_rows(Request.state.in_(COMMITTED_STATES), self.now, with_sla=True)
            by_team = defaultdict(list)
            for row in rows:
                if row.state == "accepted":
                    by_team[row.team_id].append(row)
            records = track_records({row.team_id for row in rows}, self.utc_now, self.values)
            self._scoring = Scoring(self.now, records, self.values)
            self._all = rows
            self._rows = by_team
        return self._rows

    @property
    def rows(self):
        """Every committed request's Row (the score's inputs, the filters' columns and
        ``sla_status``)."""
        self._load()
        return self._all

    @property
    def scoring(self):
        self._load()
        return self._scoring

    def scoring_for(self, team_ids):
        """The Scoring, with the track records of ``team_ids`` too when the settings weigh
        them (loaded once for the teams it lacks)."""
        scoring = self.scoring
        if scoring.records is not None:
            missing = set(team_ids) - set(scoring.records)
            if missing:
                scoring.records.update(track_records(missing, self.utc_now, self.values))
        return scoring

    def team_ids(self):
        """The teams with an accepted request."""
        return set(self._load())

    def queue(self, team_id):
        """[Entry, ...] of ``team_id``'s queue in order (empty for a team without one)."""
        rows = self._load()
        if team_id not in self._queues:
            self._queues[team_id] = _rank_team(rows.get(team_id, []), self._scoring)
        return self._queues[team_id]

    def working(self):
        """New Entries of the requests in progress or blocked, by score, made as iterated."""
        scoring = self.scoring
        if self._working is None:
            score = scoring.score
            self._working = sorted(
                ((row, score(row)) for row in self._all if row.state in IN_WORK_STATES),
                key=lambda pair: _order_key(*pair, scoring))
        return (Entry(row, score, scoring, row.sla_status) for row, score in self._working)


# --- The ranking each process keeps ----------------------------------------------------------

# What ranking reads of a request. A flush that changes one of them on a committed request
# (or adds, removes, commits or uncommits one) raises the ranking version as its transaction's
# last statement; the cached Ranking is made under the version it read first, so it is never
# older than the version it is kept under.
_RANKED_ATTRIBUTES = (*(column.key for column in _ROW_COLUMNS), "sla_due_at", "sla_at_risk_at")
_CHANGED = "queues.ranking_changed"
_KEPT = "datadesk.ranking"


def _changes_ranking(session, obj):
    state = sa_inspect(obj)
    was = state.attrs.state.history.deleted
    if COMMITTED_STATES.isdisjoint({obj.state, *was}):
        return False
    if state.pending or obj in session.deleted:
        return True
    return any(state.attrs[name].history.has_changes() for name in _RANKED_ATTRIBUTES)


@sa_event.listens_for(Session, "before_flush")
def _note_ranking_changes(session, flush_context, instances):
    if session.info.get(_CHANGED):
        return
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Request) and _changes_ranking(session, obj):
            session.info[_CHANGED] = True
            return


@sa_event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(execute_state):
    """An ORM INSERT, UPDATE or DELETE of requests (``session.execute(update(Request)...)``)
    may change anything: it raises the version. (Core statements on the table do not pass
    here: code that writes requests that way calls ``note_ranking_changed``.)"""
    if ((execute_state.is_update or execute_state.is_delete or execute_state.is_insert)
            and any(mapper.class_ is Request for mapper in execute_state.all_mappers)):
        execute_state.session.info[_CHANGED] = True


def note_ranking_changed(session):
    """Raise the ranking version when ``session``'s transaction commits: for code that
    writes requests with Core statements (an import's bulk inserts), which no hook sees."""
    session.info[_CHANGED] = True


@sa_event.listens_for(Session, "before_commit")
def _raise_ranking_version(session):
    """Raise the ranking version when this transaction changed what queues rank: its last
    statement, so a transaction holding the row's lock waits for nothing else (no deadlock).
    A savepoint's commit leaves it to the transaction's own."""
    if session.in_nested_transaction():
        return
    session.flush()
    if session.info.pop(_CHANGED, False):
        table = RankingVersion.__table__
        session.connection().execute(
            table.update().where(table.c.id == 1).values(version=table.c.version + 1))


@sa_event.listens_for(Session, "after_rollback")
def _forget_ranking_changes(session):
    session.info.pop(_CHANGED, None)


def keeps_ranking(values):
    """Whether this process keeps a Ranking between pages with the settings ``values``."""
    return ((current_app.config.get("RANKING_CACHE_SECONDS") or 0) > 0
            and not values.get("track_record_in_priority"))


def current_ranking(now, values):
    """The Ranking of every queue at ``now`` (aware UTC), as this process keeps it: one SQL
    statement (the ranking version) when nothing it ranks changed in the last
    RANKING_CACHE_SECONDS, else a new Ranking kept for the next page.

    A new one is made when the version moved, the settings differ, the kept one is older than
    that many seconds (SLA statuses and the oldest-first moment move with the clock) or newer
    than ``now``, or the settings weigh the track record (follow-up answers move it, and they
    are not versioned): a page shows its queues as they were at most that long ago, and never
    from before a change that was committed.
    """
    if not keeps_ranking(values):
        return Ranking(now, values)
    seconds = current_app.config["RANKING_CACHE_SECONDS"]
    version = db.session.scalar(db.select(RankingVersion.version).where(RankingVersion.id == 1))
    if version is None:  # a database without the row: nothing to key on
        return Ranking(now, values)
    key = (version, json.dumps(values, sort_keys=True, default=str))
    kept = current_app.extensions.get(_KEPT)
    if (kept is not None and kept[0] == key
            and timedelta(0) <= now - kept[1].utc_now < timedelta(seconds=seconds)):
        return kept[1]
    ranking = Ranking(now, values)
    ranking.rows  # loaded now, under the version read before it
    current_app.extensions[_KEPT] = (key, ranking)
    return ranking


def forget_ranking(app):
    """Drop the Ranking ``app`` keeps (the tests empty the database between tests)."""
    app.extensions.pop(_KEPT, None)


def _teams_with_central_backlog():
    return (db.select(Request.team_id)
            .where(Request.is_central.is_(True), Request.state == "accepted")
            .scalar_subquery())


def load(entries):
    """Fill ``request`` (with team, requester, assignee) and ``override_reason`` of ``entries``.

    Two SQL statements whatever their number: the requests, and their latest override events.
    """
    ids = [entry.id for entry in entries]
    if not ids:
        return entries
    found = {req.id: req for req in db.session.scalars(
        db.select(Request).where(Request.id.in_(ids)).options(
            joinedload(Request.team), joinedload(Request.requester),
            joinedload(Request.assignee)))}
    # Asked for every entry, overridden or not, so a page always costs the same statements.
    reasons = override_reasons(ids)
    for entry in entries:
        entry.request = found.get(entry.id)
        entry.override_reason = reasons.get(entry.id)
    return entries


def override_reasons(request_ids):
    """{request id: the reason of its latest override event}, in one SQL statement."""
    request_ids = list(request_ids)
    if not request_ids:
        return {}
    latest = db.session.execute(
        db.select(Event.request_id, Event.text)
        .where(Event.kind == "override", Event.request_id.in_(request_ids))
        .order_by(Event.id)).all()
    return {request_id: text for request_id, text in latest}  # later events win


# --- Positions ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Spot:
    """An accepted request's place in its team's queue, and the size estimates (None: not
    sized) of the accepted requests above it, top first: what a forecast counts as ahead."""

    position: int
    total: int
    sizes_above: tuple = ()


def spots(requests, now, values=None, ranking=None):
    """Return {request id: Spot} of the accepted ``requests`` in their team's queue.

    One SQL statement for every team concerned (plus the settings when ``values`` is None, and
    the track records when the settings weigh them); none when a ``Ranking`` of this moment
    (``ranking``) has the teams ranked already.
    """
    team_ids = {req.team_id for req in requests if req.state == "accepted"}
    if not team_ids:
        return {}
    if ranking is not None:
        team_queues = [ranking.queue(team_id) for team_id in team_ids]
    else:
        values = values if values is not None else settings.current()
        scoring = Scoring(localtime.local_now(now, values), track_records(team_ids, now, values),
                          values)
        rows = _load_rows(and_(Request.state == "accepted", Request.team_id.in_(team_ids)),
                          scoring.now)
        team_queues = _rank_teams(rows, scoring).values()
    wanted = {req.id for req in requests}
    found = {}
    for queue in team_queues:
        sizes = None
        for index, row in enumerate(queue.rows):
            if row.id in wanted:
                if sizes is None:
                    sizes = tuple(row.size for row in queue.rows)
                found[row.id] = Spot(index + 1, len(queue.rows), sizes[:index])
    return found


def positions(requests, now, values=None):
    """Return {request id: (position, total)} of the accepted ``requests`` in their team's
    queue (``spots`` without the sizes): one SQL statement, as ``spots``."""
    return {key: (spot.position, spot.total) for key, spot in spots(requests, now, values).items()}


def place(request, now, values=None):
    """Where ``request`` stands in its team's queue (a Place), or None when not accepted."""
    if request.state != "accepted":
        return None
    found = spots([request], now, values).get(request.id)
    if found is None:
        return None
    reason = override_reasons([request.id]).get(request.id) if request.rank_override else None
    return Place(position=found.position, total=found.total, team_name=request.team.name,
                 override_position=request.rank_override, override_reason=reason,
                 sizes_above=found.sizes_above)


# --- The analyst's queue --------------------------------------------------------------------

def queue_condition(user):
    """SQL condition of the accepted requests in ``user``'s queue.

    Analysts: their teams' accepted requests and the central ones (every analyst works the
    central triage queue's requests), never confidential ones (those are for leads and the
    assignee). Leads: their teams' and the central requests when they serve teams, otherwise
    every team's.
    """
    accepted = Request.state == "accepted"
    team_ids = user.team_ids
    if user.role == "lead" and not team_ids:
        return accepted
    mine = Request.team_id.in_(team_ids) if team_ids else false()
    central = Request.team_id.in_(_teams_with_central_backlog())
    condition = and_(accepted, or_(mine, central))
    if user.role != "lead":
        # A team with central requests has requests of its own too: an analyst serves the
        # central ones, and none confidential.
        condition = and_(condition, served_requests(user))
    return condition


def _shown_to(user, row):
    """Whether a row of the ranked teams belongs in ``user``'s queue (the teams were loaded
    whole so that positions count every request)."""
    if user.role == "lead":
        return True
    return not row.is_confidential and (row.team_id in user.team_ids or row.is_central)


def _queue_teams(user, ranking):
    """The teams of ``ranking`` with a request in ``queue_condition(user)``: the same teams,
    decided in Python over the rows a Ranking holds (tests compare the two)."""
    team_ids = ranking.team_ids()
    if user.role == "lead" and not user.team_ids:
        return team_ids
    mine = set(user.team_ids)
    central = {team_id for team_id in team_ids
               if any(row.is_central for row in ranking.queue(team_id).rows)}
    chosen = (mine | central) & team_ids
    if user.role == "lead":
        return chosen
    if not allowed(user, "triage"):
        return set()
    return {team_id for team_id in chosen
            if any(not row.is_confidential and (row.is_central or row.team_id in mine)
                   for row in ranking.queue(team_id).rows)}


def analyst_queue(user, now, *, team=None, sla=None, values=None, ranking=None):
    """``user``'s queue: the work assigned to them, then their teams' backlog in queue order.

    ``working`` holds Entries (loaded) of the requests in progress or blocked assigned to
    ``user``, by score (delivered requests await the requester, they are not work).
    ``up_next`` holds Entries (rows, not loaded: call ``load`` for the page shown) of the
    accepted requests of ``queue_condition(user)``, merged across teams; ``team`` (an id) and
    ``sla`` (a status of SLA_FILTERS) narrow it. With ``ranking`` (a ``Ranking`` of this
    moment, e.g. for a run of digests) the teams come ranked from it: one statement (the
    work), plus the ranking's own once per run. Without, the ranking this process keeps
    (``current_ranking``): two statements when it is kept, three when it is made; or, when
    the settings weigh the track record, three statements (four with the track records) that
    load and rank only the user's teams. Plus the settings when ``values`` is None.
    """
    if ranking is not None:
        values = ranking.values
    values = values if values is not None else settings.current()
    if ranking is None and keeps_ranking(values):
        ranking = current_ranking(now, values)
    utc_now, now = now, localtime.local_now(now, values)
    working = db.session.scalars(
        db.select(Request).where(Request.assignee_id == user.id,
                                 Request.state.in_(IN_WORK_STATES))
        .options(joinedload(Request.team), joinedload(Request.requester),
                 joinedload(Request.assignee))).all()
    # A team chosen: the other teams' queues show nothing, so they are left unranked.
    if ranking is not None:
        served = _queue_teams(user, ranking)
        queues = {team_id: ranking.queue(team_id) for team_id in served
                  if team is None or team_id == team}
        scoring = ranking.scoring_for({req.team_id for req in working})
    else:
        # Whole teams are loaded so positions count every accepted request of the team.
        teams = db.select(Request.team_id).where(queue_condition(user)).scalar_subquery()
        rows = _load_rows(and_(Request.state == "accepted", Request.team_id.in_(teams)), now,
                          with_sla=True)
        records = track_records({req.team_id for req in working} | {row.team_id for row in rows},
                                utc_now, values)
        scoring = Scoring(now, records, values)
        served = {row.team_id for row in rows}
        queues = _rank_teams([row for row in rows if team is None or row.team_id == team],
                             scoring)
    working_entries = sorted((scoring.entry(req, request=req) for req in working),
                             key=_by_score)
    team_ids = sorted(set(user.team_ids) | served)

    def wanted(row):
        return (_shown_to(user, row) and (team is None or row.team_id == team)
                and (sla is None or row.sla_status == sla))

    up_next = Ranked((entry for entry in merge(queues.values()) if wanted(entry.row)),
                     sum(1 for queue in queues.values() for row in queue.rows if wanted(row)))
    return AnalystQueue(working=working_entries, up_next=up_next, team_ids=team_ids)


# --- The leads' backlog ---------------------------------------------------------------------

def backlog(now, *, team=None, analyst=None, kind=None, sla=None, state=None, values=None):
    """The whole backlog for leads: requests being worked, then the accepted queue.

    Order: the requests in progress or blocked first, by score (they are being worked and
    have no queue position), then the accepted requests merged across teams (see the module's
    docstring), each with its position in its team's queue. Filters: ``team`` (id),
    ``analyst`` (assignee id, or "none" for nobody), ``kind``, ``sla`` (SLA status), ``state``
    (one of COMMITTED_STATES; None: all three). The rows come from ``current_ranking``: one SQL
    statement when it is kept, two when it is made (three when the settings weigh the track
    record); the filters apply in Python, since positions need every accepted request of each
    team anyway.
    """
    values = values if values is not None else settings.current()
    ranking = current_ranking(now, values)
    rows = ranking.rows
    # A team chosen: the other teams' queues show nothing.
    team_queues = [ranking.queue(team_id) for team_id in sorted(ranking.team_ids())
                   if team is None or team_id == team]
    working = ranking.working()

    def kept(row):
        """The filters other than team and SLA status."""
        return not ((analyst is not None and (row.assignee_id is not None if analyst == "none"
                                              else row.assignee_id != analyst))
                    or (kind is not None and row.kind != kind)
                    or (state is not None and row.state != state))

    sla_counts = dict.fromkeys(SLA_FILTERS, 0)
    team_counts = defaultdict(int)
    matching = 0
    # One pass over the rows (every committed request is either worked or in a team's
    # queue): each count is what choosing that filter value would show (every other filter
    # applied), and ``matching`` how many entries match them all.
    for row in rows:
        if row.state not in COMMITTED_STATES or not kept(row):
            continue
        in_team = team is None or row.team_id == team
        in_sla = sla is None or row.sla_status == sla
        if in_team and row.sla_status in sla_counts:
            sla_counts[row.sla_status] += 1
        if in_sla:
            team_counts[row.team_id] += 1
            matching += in_team

    def wanted(row):
        return (kept(row) and (team is None or row.team_id == team)
                and (sla is None or row.sla_status == sla))

    everything = chain(working, merge(team_queues))
    return Backlog(entries=Ranked((entry for entry in everything if wanted(entry.row)), matching),
                   sla_counts=sla_counts, team_counts=dict(team_counts))


def teams_by_id(team_ids):
    """{team id: Team} for ``team_ids``, in one SQL statement (filters and counts name them)."""
    team_ids = list(team_ids)
    if not team_ids:
        return {}
    return {team.id: team for team in db.session.scalars(
        db.select(Team).where(Team.id.in_(team_ids)).order_by(Team.name))}


# --- Lead overrides -------------------------------------------------------------------------

def can_override(request, user):
    """Leads move requests in the queue, while the request is open and not yet delivered."""
    return allowed(user, "override", request)


def check_in_queue(request):
    """Raise InvalidTransition when ``request`` is delivered or closed: no longer in a queue."""
    if request.state not in OPEN_STATES:
        raise lifecycle.InvalidTransition(
            f"This request is {request.state_label.lower()}: it is no longer in a queue.")


def override_rank(request, actor, position, reason, now, expected_version=None):
    """Give ``request`` the queue position ``position`` (1 is the top; None clears it).

    Leads only (NotAllowed otherwise), with a ``reason`` (MissingInput 'reason'), a position
    from 1 to MAX_POSITION (MissingInput 'position'), on a request not yet delivered
    (InvalidTransition). Writes an immutable ``override`` event whose text is the reason and
    whose data holds ``{"position": [old, new]}``. A request changed since ``expected_version``
    raises ConcurrentChange. The override takes effect while the request is accepted. Flushes;
    the caller commits. Returns the event.
    """
    if not allowed(actor, "override"):
        raise lifecycle.NotAllowed("Only a lead may move a request in the queue.")
    lifecycle.check_version(
        request, expected_version,
        "Someone else changed this request while you were looking at it. Nothing was "
        "changed; review it and try again.")
    check_in_queue(request)
    if position is not None and (isinstance(position, bool) or not isinstance(position, int)
                                 or not 1 <= position <= MAX_POSITION):
        raise lifecycle.MissingInput(
            "position", f"Enter a whole number from 1 to {MAX_POSITION}.")
    reason = (reason or "").replace("\x00", "").strip()
    if not reason:
        raise lifecycle.MissingInput(
            "reason", "Say why: the team and the requester see the reason.")
    old = request.rank_override
    if position == old:
        raise lifecycle.MissingInput(
            "position", "It has no position override to clear." if old is None
            else f"It is already set to position {old}.")
    request.rank_override = position
    request.updated_at = now
    event = Event(request=request, actor=actor, kind="override", text=reason,
                  data={"position": [old, position]}, created_at=now)
    db.session.add(event)
    lifecycle.flush_or_conflict(request)
    return event


# --- The request page -----------------------------------------------------------------------

def detail_context(request, user, now, values=None):
    """Extra template values for the request page: queue position and rank override."""
    # Work already started has no place to move to: the form shows where a position matters
    # (waiting requests), or where one is set and might be cleared.
    shown = request.state not in IN_WORK_STATES or request.rank_override is not None
    return {
        "queue_place": place(request, now, values),
        "can_override": can_override(request, user) and shown,
    }


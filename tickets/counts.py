"""The counting words of DESIGN.md, defined once: what each count counts, its label, its SQL.

"Open" once meant three things: the digest counted every request not closed (delivered ones
included), the backlog page what is accepted or being worked, the forecast the six states
before delivery. Every page, digest, report, export and forecast that shows one of these
numbers now asks this module, and says which word it counts with the label here ("12 open
(before delivery)"); ``tests/test_counts.py`` builds a team with a request in every state and
checks that they agree.

The words (their states are the sets of ``models``):

- **open**: before delivery (submitted, needs info, waitlisted, accepted, in progress, blocked);
- **backlog**: open and not started (submitted, needs info, waitlisted, accepted);
- **queue**: accepted, waiting for an analyst (the team's queue, ``queues``);
- **in work**: in progress or blocked;
- **waiting on the requester**: needs info, or delivered and waiting to be confirmed;
- **delivered**: delivered, not confirmed yet (neither open nor closed);
- **closed**: resolved, declined, duplicate or cancelled.

Open = backlog + in work. Counts are by current state (one grouped statement); ``at`` counts
by the state each request had at a past moment, from its events (DESIGN.md: the state is the
result of the events), so "open a week ago" uses the same definition as "open now".
"""
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func

from .extensions import db
from .models import (BACKLOG_STATES, CLOSED_STATES, IN_WORK_STATES, OPEN_STATES, STATES,
                     WAITING_ON_REQUESTER_STATES, Event, Request)


@dataclass(frozen=True)
class Word:
    """One counting word: its states, its plain label, and what it means in a sentence."""

    key: str
    states: frozenset
    label: str  # follows the number: "12 open (before delivery)"
    title: str  # a column or card heading: "Open (before delivery)"
    meaning: str

    def phrase(self, count):
        """'12 open (before delivery)'."""
        return f"{count} {self.label}"


def _states(states):
    return ", ".join(STATES[state].lower() for state in STATES if state in states)


WORDS = {word.key: word for word in (
    Word("open", OPEN_STATES, "open (before delivery)", "Open (before delivery)",
         f"not delivered yet: {_states(OPEN_STATES)}"),
    Word("backlog", BACKLOG_STATES, "in the backlog (not started)",
         "Backlog (not started)", f"open and not started: {_states(BACKLOG_STATES)}"),
    Word("queue", frozenset({"accepted"}), "in the queue (accepted, not started)",
         "Queue (accepted)", "accepted and waiting for an analyst"),
    Word("in_work", IN_WORK_STATES, "in work (in progress or blocked)", "In work",
         f"being worked on: {_states(IN_WORK_STATES)}"),
    Word("waiting_on_requester", WAITING_ON_REQUESTER_STATES,
         "waiting on the requester", "Waiting on the requester",
         "a question to answer, or a delivery to confirm"),
    Word("delivered", frozenset({"delivered"}), "delivered (to confirm)",
         "Delivered (to confirm)", "delivered and not confirmed yet: neither open nor closed"),
    Word("closed", CLOSED_STATES, "closed", "Closed", f"finished: {_states(CLOSED_STATES)}"),
)}


def phrase(count, word):
    """``count`` with ``word``'s label: phrase(12, "open") is '12 open (before delivery)'."""
    return WORDS[word].phrase(count)


def condition(word, state=Request.state):
    """SQL: the request is counted by ``word`` (by its current ``state`` column)."""
    return state.in_(sorted(WORDS[word].states))


@dataclass(frozen=True)
class Counts:
    """Requests per state, and every counting word's number from them."""

    by_state: dict = field(default_factory=dict)

    def __getitem__(self, word):
        return sum(self.by_state.get(state, 0) for state in WORDS[word].states)

    def __add__(self, other):
        return Counts(dict(Counter(self.by_state) + Counter(other.by_state)))

    @property
    def open(self):
        return self["open"]

    @property
    def backlog(self):
        return self["backlog"]

    @property
    def queue(self):
        return self["queue"]

    @property
    def in_work(self):
        return self["in_work"]

    @property
    def waiting_on_requester(self):
        return self["waiting_on_requester"]

    @property
    def delivered(self):
        return self["delivered"]

    @property
    def closed(self):
        return self["closed"]

    def phrase(self, word):
        """This count of ``word`` with its label: '12 open (before delivery)'."""
        return phrase(self[word], word)


def _grouped(rows, team_ids):
    found = {team_id: Counter() for team_id in team_ids or ()}
    for team_id, state, count in rows:
        found.setdefault(team_id, Counter())[state] += count
    return {team_id: Counts(dict(counter)) for team_id, counter in found.items()}


def by_team(team_ids=None, *where):
    """{team id: Counts} of the requests matching ``where`` (SQL conditions on Request), for
    ``team_ids`` (every team given gets its Counts, empty ones included) or every team with
    requests (None). One grouped SQL statement."""
    query = (db.select(Request.team_id, Request.state, func.count())
             .where(*where).group_by(Request.team_id, Request.state))
    if team_ids is not None:
        team_ids = list(team_ids)
        if not team_ids:
            return {}
        query = query.where(Request.team_id.in_(team_ids))
    return _grouped(db.session.execute(query), team_ids)


def unclosed_by_team(team_ids=None):
    """``by_team`` of the requests not closed (open or delivered): everything a count strip
    shows, read from the requests' state index instead of every request of the history
    (``Counts.closed`` is 0)."""
    return by_team(team_ids, Request.state.in_(sorted(set(STATES) - CLOSED_STATES)))


def total(*where):
    """Counts of every request matching ``where`` (SQL conditions on Request). One statement."""
    rows = db.session.execute(
        db.select(Request.state, func.count()).where(*where).group_by(Request.state))
    return Counts({state: count for state, count in rows})


def at(moment, team_ids=None):
    """{team id: Counts} by the state each request had at ``moment`` (aware): the state its
    latest event with a state (creation or transition) at or before ``moment`` led to.
    Requests created later are not counted. One SQL statement."""
    latest = (db.select(func.max(Event.id).label("id"))
              .where(Event.to_state.is_not(None), Event.created_at <= moment)
              .group_by(Event.request_id).subquery("latest"))
    query = (db.select(Request.team_id, Event.to_state, func.count())
             .select_from(latest).join(Event, Event.id == latest.c.id)
             .join(Request, Request.id == Event.request_id)
             .group_by(Request.team_id, Event.to_state))
    if team_ids is not None:
        team_ids = list(team_ids)
        if not team_ids:
            return {}
        query = query.where(Request.team_id.in_(team_ids))
    return _grouped(db.session.execute(query), team_ids)


def summed(counts):
    """The Counts of several teams together (``counts``: Counts, e.g. ``by_team``'s values)."""
    result = Counts()
    for each in counts:
        result = result + each
    return result

"""The request lists (My requests, my teams', all): which requests a list holds for a person,
its filters and its sorts, for the pages, their CSV exports and the REST API alike.

A page of a list is chosen by number (``views.helpers.paginate``); the API pages by cursor
(``after``): a cursor holds the sort's values of the last row given, so the next page starts
right after it whatever was added or changed before it meanwhile.
"""
import base64
import binascii
import json
from datetime import date, datetime

from sqlalchemy import and_, false, or_, true
from sqlalchemy.types import TypeDecorator

from . import counts
from .models import CLOSED_STATES, KINDS, STATES, Request
from .policy import allowed, visible_requests
from .queries import MAX_ID, contains_text, few, id_matches, unindexed

SCOPES = {
    "mine": "My requests",
    "team": "My team's requests",
    "all": "All requests",
}
# Each sort: its label, and its keys as (column, descending, may be NULL); the last is the id,
# so every row has one place.
SORTS = {
    "newest": ("Newest first", ((Request.created_at, True, False), (Request.id, True, False))),
    "oldest": ("Oldest first", ((Request.created_at, False, False), (Request.id, False, False))),
    # NULLS LAST, not "deadline IS NULL" first: PostgreSQL reads ix_requests_deadline in order.
    "deadline": ("Deadline soonest", ((Request.deadline, False, True),
                                      (Request.id, False, False))),
    "updated": ("Recently updated", ((Request.updated_at, True, False),
                                     (Request.id, True, False))),
    "impact": ("Highest impact", ((Request.business_impact, True, False),
                                  (Request.created_at, False, False), (Request.id, False, False))),
}
DEFAULT_FILTERS = {"state": "open", "team": None, "kind": "", "assignee": None, "q": "",
                   "sort": "newest"}


class BadCursor(ValueError):
    """A cursor this list did not give (changed by hand, or of another sort)."""


def may_list(user, scope):
    """Whether ``user`` may open the list ``scope`` (all requests: leads and admins)."""
    return scope in SCOPES and (scope != "all" or allowed(user, "see_all"))


def select_requests(select, user, scope, filters):
    """``select`` (of Request) narrowed to list ``scope`` of ``user`` with ``filters``
    (DEFAULT_FILTERS' keys; values already checked), in the sort's order."""
    query = select.where(visible_requests(user))
    if scope == "mine":
        query = query.where(or_(Request.requester_id == user.id, Request.assignee_id == user.id))
    elif scope == "team":
        # No teams, no rows: said plainly, since an empty IN is not (SQLite reads every row).
        query = query.where(Request.team_id.in_(user.team_ids) if user.team_ids else false())
    state = filters["state"]
    if state in ("open", "closed") or state in STATES:
        query = query.where(_state_condition(state, hint=scope != "mine"))
    if filters["team"] is not None:
        query = query.where(id_matches(Request.team_id, filters["team"]))
    if filters["kind"] in KINDS:
        query = query.where(Request.kind == filters["kind"])
    if filters["assignee"] == "none":
        query = query.where(Request.assignee_id.is_(None))
    elif filters["assignee"] is not None:
        query = query.where(id_matches(Request.assignee_id, filters["assignee"]))
    if filters["q"]:
        # Words in titles match few requests: hinted so, the planner reads the table once
        # rather than look up every request in the sort's order until a page is full.
        searched = contains_text(Request.title, filters["q"])
        query = query.where(few(searched) if scope != "mine" else searched)
    return query.order_by(*order_of(filters["sort"]))


def _state_condition(state, hint):
    """The list's state filter (a counting word or one state), with, when ``hint``, how many
    rows it keeps for the planner: closed requests are most of them (they only grow), the
    others a few (open work is bounded by the teams). My requests are fewer still: there the
    planner is left to start from the person."""
    closed = state == "closed" or state in CLOSED_STATES
    column = unindexed(Request.state) if hint and closed else Request.state
    found = (counts.condition(state, column) if state in ("open", "closed")
             else column == state)
    return few(found) if hint and not closed else found


def order_of(sort):
    """The ORDER BY of ``sort``."""
    order = []
    for column, descending, nullable in SORTS[sort][1]:
        key = column.desc() if descending else column.asc()
        order.append(key.nulls_last() if nullable else key)
    return order


# What a cursor says when it was not given by the list it is sent to.
NOT_GIVEN = "This cursor was not given by this list."


def encode_cursor(value):
    """``value`` (JSON-able) as an opaque cursor, for a URL."""
    text = json.dumps(value, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor):
    """What ``encode_cursor`` wrote in ``cursor``; BadCursor if it is not one."""
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, binascii.Error, TypeError, UnicodeDecodeError):
        raise BadCursor(NOT_GIVEN) from None


def cursor_of(request, sort):
    """The cursor of the page after ``request`` in ``sort`` order (opaque to the caller)."""
    return encode_cursor([sort, [_plain(getattr(request, column.key))
                                 for column, _, _ in SORTS[sort][1]]])


def after(cursor, sort):
    """The condition of the rows after ``cursor`` in ``sort`` order; BadCursor if it is not one
    this list gave."""
    keys = SORTS[sort][1]
    try:
        found_sort, values = decode_cursor(cursor)
    except (ValueError, TypeError):
        raise BadCursor(NOT_GIVEN) from None
    if found_sort != sort or not isinstance(values, list) or len(values) != len(keys):
        raise BadCursor("This cursor belongs to another sort: start again without it.")
    try:
        values = [_parsed(value, column) for value, (column, _, _) in zip(values, keys)]
    except (ValueError, TypeError):
        raise BadCursor(NOT_GIVEN) from None
    conditions, ties = [], []
    for value, (column, descending, _) in zip(values, keys):
        if value is None:  # NULLs come last: only a tie can follow one
            beyond = false()
            tie = column.is_(None)
        else:
            beyond = column < value if descending else column > value
            if column.nullable:
                beyond = or_(beyond, column.is_(None))
            tie = column == value
        conditions.append(and_(*ties, beyond) if ties else beyond)
        ties.append(tie)
    return or_(*conditions) if conditions else true()


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _parsed(value, column):
    """A cursor's value back as the column's type (checked: a cursor comes from outside)."""
    if value is None:
        if not column.nullable:
            raise ValueError("a NULL key")
        return None
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    python_type = kind.python_type
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    if python_type is int:
        if not isinstance(value, int) or isinstance(value, bool) or not -MAX_ID <= value <= MAX_ID:
            raise ValueError("not an id")
        return value
    if not isinstance(value, str) or len(value) > 100:
        raise ValueError("not a key")
    return value

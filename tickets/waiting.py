"""What waits on a person as a requester (DESIGN.md, "waiting on the requester"): questions to
answer, deliveries to confirm, follow-ups to answer; each with the one thing to do.

"My requests" shows these first. One SQL statement, whatever their number.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select, union_all
from sqlalchemy.orm import joinedload

from .extensions import db
from .models import WAITING_ON_REQUESTER_STATES, Event, FollowUp, Request
from .outcomes import waiting_condition
from .policy import visible_requests

# How many the list shows; more are counted as "and more" (the lists filter the rest).
LIMIT = 20

# Per kind of wait: what waits, the one action (its button) and where on the request page it is
# taken (the anchor).
KINDS = {
    "question": ("The data team asked you a question", "Answer the question", "reply"),
    "delivery": ("Delivered: check it, then confirm it or reopen it", "Check the delivery",
                 "h-actions"),
    "follow_up": ("Was the data used, and what was decided?", "Answer the follow-up", "outcome"),
}


@dataclass(frozen=True)
class Wait:
    """One thing waiting on the person: ``kind`` (of KINDS), its request, since when, and for a
    question the question's text."""

    kind: str
    request: Request
    since: datetime | None
    question: str = ""

    @property
    def what(self):
        return KINDS[self.kind][0]

    @property
    def action(self):
        return KINDS[self.kind][1]

    @property
    def anchor(self):
        return KINDS[self.kind][2]


def waiting_on(user, limit=LIMIT):
    """What waits on ``user`` (see the module), questions first (work stops until they are
    answered), then deliveries, then follow-ups; the oldest first in each. Returns (up to
    ``limit`` Waits, whether there are more). One SQL statement."""
    if user is None or not user.is_authenticated:
        return [], False
    question = (select(Event.text)
                .where(Event.request_id == Request.id, Event.kind == "transition",
                       Event.action == "ask")
                .order_by(Event.id.desc()).limit(1).correlate(Request).scalar_subquery())
    own = and_(Request.requester_id == user.id,
               Request.state.in_(sorted(WAITING_ON_REQUESTER_STATES)))
    # The requests it may be, each found through an index (the person's requests; their
    # follow-ups): "own or followed up" across two tables could only be read row by row.
    candidates = union_all(select(Request.id).where(own),
                           select(FollowUp.request_id).where(waiting_condition(user)))
    rank = case((Request.state == "needs_info", 0), (Request.state == "delivered", 1), else_=2)
    rows = db.session.execute(
        select(Request, question, FollowUp.asked_at)
        .outerjoin(FollowUp, FollowUp.request_id == Request.id)
        .where(Request.id.in_(candidates), visible_requests(user),
               or_(own, waiting_condition(user)))
        .options(joinedload(Request.team))
        .order_by(rank, func.coalesce(FollowUp.asked_at, Request.updated_at), Request.id)
        .limit(limit + 1)).all()
    waits = [_wait(req, text, asked_at, user) for req, text, asked_at in rows[:limit]]
    return waits, len(rows) > limit


def _wait(req, question, asked_at, user):
    if req.requester_id == user.id and req.state == "needs_info":
        return Wait("question", req, req.updated_at, question or "")
    if req.requester_id == user.id and req.state == "delivered":
        return Wait("delivery", req, req.delivered_at)
    return Wait("follow_up", req, asked_at)

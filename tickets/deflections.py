"""Deflections: would-be requests that ended before submission because something already
answered them, and the suggestions on the intake form that make them happen.

While a requester fills in the intake form, ``suggestions`` finds the active catalogue assets
and delivered (or resolved) requests they may see that are most like what they typed. When one
answers their question, ``record`` ends the draft and records a Deflection.

Counted honestly: a deflection only counts as a *true* deflection when the same person does
not ask the same thing anyway within ``REASK_DAYS`` days. ``undo_if_resubmitted`` runs at every
submission (intake.submit_request) and marks the person's recent deflections that the new
request repeats (``is_reasked``), so the reports count them as raw but not true.

"Repeats" is decided on words, the same words search uses (``search.terms``): a deflection is
re-asked when at least ``REASK_SHARE`` (half) of its terms appear in the new request's title and
data needed. Half, because a person re-asking rephrases: the thing they look for (churn,
region, weekly) stays while the filler changes; a request sharing fewer of the words is most
likely about something else, and counting it would make deflections look worse than they are.
"""
import hashlib
from datetime import timedelta

from sqlalchemy import select

from . import search
from .errors import Refusal
from .extensions import db
from .models import Asset, Deflection, Request, Team, utcnow
from .policy import visible_assets, visible_requests

SUGGESTIONS = 5  # at most this many suggestions on the intake form
REASK_DAYS = 7  # a deflection re-asked within this many days is no true deflection
REASK_SHARE = 0.5  # the share of a deflection's words a new request must repeat to re-ask it
MAX_TEXT = 5200  # a deflection keeps at most this much of the text typed (title + data needed)
KINDS = ("asset", "request")


class NotAnAnswer(Refusal):
    """The asset or request named as the answer does not exist, or the person may not see it,
    or it answers nothing yet (400)."""


def draft_text(title, data_needed):
    """The text the suggestions look at: the title, then the data needed."""
    return f"{(title or '').strip()} {(data_needed or '').strip()}".strip()


def draft_key(title, data_needed):
    """A short fingerprint of the words suggestions were computed from: the intake form keeps
    it once the requester has seen the suggestions for that text, so the next post submits."""
    words = " ".join(search.terms(draft_text(title, data_needed)))
    return hashlib.sha256(words.encode()).hexdigest()[:16]


def suggestions(user, title, data_needed):
    """Up to SUGGESTIONS active assets and delivered or resolved requests ``user`` may see,
    most like the draft first (search Hits); the last word is matched as a prefix, as the
    requester may still be typing it."""
    return search.similar(user, draft_text(title, data_needed), types=("request", "asset"),
                          request_condition=search.answers_condition(),
                          asset_condition=search.active_assets_condition(),
                          limit=SUGGESTIONS, prefix=True)


def _answer(user, kind, ref_id):
    """The asset or request ``ref_id`` that ``user`` says answers their question, or refuse."""
    if kind == "asset":
        found = db.session.scalar(select(Asset).where(
            Asset.id == ref_id, visible_assets(user)))
        if found is None:
            raise NotAnAnswer(f"There is no catalogue asset #{ref_id} that you can see.")
        if found.status != "active":
            raise NotAnAnswer(f"\u201c{found.title}\u201d is deprecated: it no longer answers "
                              "questions. Ask the data team instead.")
        return found
    found = db.session.scalar(select(Request).where(Request.id == ref_id,
                                                    visible_requests(user)))
    if found is None:
        raise NotAnAnswer(f"There is no request #{ref_id} that you can see.")
    if found.state not in ("delivered", "resolved"):
        raise NotAnAnswer(f"Request #{found.id} has not been delivered yet, so it cannot "
                          "answer your question.")
    return found


def record(user, kind, ref_id, *, team_id, text, now=None):
    """Record that ``user`` ended a draft (``text``: its title and data needed) because the
    asset or request ``ref_id`` (``kind``) answers it; return the Deflection.

    The team is the one chosen on the form when it is an active team, else the person's first
    team. Refuses (NotAnAnswer) what does not exist, what ``user`` may not see, a deprecated
    asset and a request not delivered.
    """
    if kind not in KINDS:
        raise NotAnAnswer("Choose an asset or a request that answers your question.")
    answer = _answer(user, kind, ref_id)
    team = db.session.get(Team, team_id) if team_id else None
    if team is None or not team.is_active:
        team_ids = user.team_ids
        team_id = team_ids[0] if team_ids else None
    deflection = Deflection(
        user_id=user.id, team_id=team_id, text=(text or "")[:MAX_TEXT],
        asset_id=answer.id if kind == "asset" else None,
        answer_request_id=answer.id if kind == "request" else None,
        created_at=now or utcnow())
    db.session.add(deflection)
    db.session.flush()
    return deflection


def is_reasked(deflection_text, request_text):
    """Tell whether a request of ``request_text`` asks again what a deflection of
    ``deflection_text`` was about: at least REASK_SHARE of the deflection's words (its first
    ``search.MAX_TERMS``, as searched) are among the request's words. A deflection without a
    searchable word is re-asked only by the same words."""
    asked = search.terms(deflection_text)
    if not asked:
        return search.normalise(deflection_text) == search.normalise(request_text)
    words = set(search.terms(request_text, limit=10_000))
    return sum(word in words for word in asked) / len(asked) >= REASK_SHARE


def undo_if_resubmitted(request, now=None):
    """Mark the deflections its requester recorded in the REASK_DAYS days before ``now`` that
    the new ``request`` asks again (``is_reasked``): they were not true deflections. Return
    those deflections."""
    now = now or utcnow()
    recent = db.session.scalars(select(Deflection).where(
        Deflection.user_id == request.requester_id,
        Deflection.resubmitted_request_id.is_(None),
        Deflection.created_at >= now - timedelta(days=REASK_DAYS),
        Deflection.created_at <= now).order_by(Deflection.id)).all()
    text = draft_text(request.title, request.data_needed)
    undone = [deflection for deflection in recent if is_reasked(deflection.text, text)]
    for deflection in undone:
        deflection.resubmitted_request_id = request.id
    if undone:
        db.session.flush()
    return undone


def record_intake_miss(user, title, now=None):
    """Remember that the intake form suggested nothing for a draft that was submitted (what
    people ask for and the catalogue lacks); once per draft, at its submission."""
    return search.record_miss(user, title, source="intake", now=now)

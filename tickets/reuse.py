"""Reuse at the moments an analyst closes a request (issue 12, DESIGN.md "Reuse").

Delivering adds the deliverable to the catalogue (prefilled from the request) or links the
existing asset it is; declining as self-serve points the requester at an asset or a delivered
request they may see; marking a duplicate points at an open request. Both of the latter are
chosen with a search picker: the page sends a pick ("request:12", "asset:7"), a number typed
("12", "#12") or, without JavaScript, words, which come back as candidates to choose from
(``PickNeeded``). A delivery the requester could have done themselves, and every self-serve
decline, records a platform gap (``gaps``). Each function runs the lifecycle transition and the
catalogue and gap work in the caller's transaction: a refusal anywhere leaves nothing behind.
"""
import re
from dataclasses import dataclass

from markupsafe import Markup

from . import catalogue, gaps, lifecycle, mail, search
from .errors import Refusal
from .extensions import db
from .models import OPEN_STATES, Asset, Request
from .policy import allowed, sees_asset, visible_assets, visible_requests
from .queries import id_matches

# What each picker finds: the requests and assets it offers, and what to call them.
PURPOSES = {
    "duplicate": ("request",),  # open requests: the original of a duplicate
    "answer": ("request", "asset"),  # delivered or resolved requests and active assets
    "asset": ("asset",),  # an active asset of the catalogue (delivering an existing asset)
}
CANDIDATES = 5

_PICK = re.compile(r"^\s*(request|asset):(\d{1,20})\s*$")
# A request number typed: "12", "#12", or "#12 Weekly churn" (a picked label kept as text).
_NUMBER = re.compile(r"^\s*#?\s*(\d{1,20})\s*$|^\s*#(\d{1,20})\b")


@dataclass(frozen=True)
class Pick:
    """What a picker chose: a request or an asset, by id."""

    kind: str  # request, asset
    id: int


@dataclass(frozen=True)
class Candidate:
    """One thing words typed without a pick may mean, for the person to choose (plain values:
    they outlive the rolled-back transaction that found them)."""

    kind: str
    id: int
    value: str  # the pick it makes: "request:12"
    title: Markup  # escaped, matched words marked
    snippet: Markup
    label: str  # "#12 · Delivered" or "Dashboard"


class PickNeeded(Refusal):
    """Words were typed but nothing picked: ``candidates`` are what they may mean (400)."""

    def __init__(self, message, field, candidates=()):
        super().__init__(message, field)
        self.candidates = list(candidates)


class ReuseRefusal(Refusal):
    """A pick or an input the reuse rules refuse; ``field`` names the input (400)."""


def parse_pick(value):
    """The Pick in a picker's value ("request:12", "asset:7"), a typed number ("12", "#12",
    "#12 Weekly churn": a request), or None. The id may be out of the database's range:
    lookups go through ``queries.id_matches``."""
    value = value if isinstance(value, str) else ""
    found = _PICK.match(value)
    if found:
        return Pick(found.group(1), int(found.group(2)))
    found = _NUMBER.match(value)
    return Pick("request", int(found.group(1) or found.group(2))) if found else None


def resolve_pick(user, request, purpose, *, text="", ref="", choice="", field):
    """The Pick a picker's inputs make on ``request``'s page: a candidate chosen, else a
    number typed (it wins over a stale pick), else the pick. Words alone raise PickNeeded with
    the candidates they find; nothing at all raises it without any."""
    for value in (choice, text if _NUMBER.match(text or "") else "", ref, text):
        pick = parse_pick(value)
        if pick is not None and pick.kind in PURPOSES[purpose]:
            return pick
    words = (text or "").strip()
    if not words:
        raise PickNeeded(_NOTHING_TYPED[purpose], field)
    found = candidates(user, request, purpose, words)
    if not found:
        raise PickNeeded(f"Nothing you can see matches \u201c{words[:80]}\u201d: try other words"
                         + (" or the request's number." if "request" in PURPOSES[purpose] else "."),
                         field)
    raise PickNeeded("Several things match these words: choose one below.", field, found)


_NOTHING_TYPED = {
    "duplicate": "Find the original request: type words from its title, or its number.",
    "answer": "Find what answers it: type words from the asset's or delivered request's title.",
    "asset": "Find the existing asset: type words from its title.",
}


def candidates(user, request, purpose, text, limit=CANDIDATES):
    """What ``text`` may mean for ``purpose`` on ``request``: up to ``limit`` Candidates that
    ``user`` may see, best first."""
    hits = search.similar(user, text, limit=limit, **_scope(purpose, request))
    return [Candidate(kind=hit.kind, id=hit.id, value=f"{hit.kind}:{hit.id}", title=hit.title,
                      snippet=hit.snippet, label=_label(hit)) for hit in hits]


def _scope(purpose, request):
    if purpose == "duplicate":
        return {"types": ("request",), "request_condition": Request.state.in_(OPEN_STATES),
                "exclude_request_id": request.id}
    if purpose == "asset":
        return {"types": ("asset",), "asset_condition": search.active_assets_condition()}
    return {"types": ("request", "asset"), "request_condition": search.answers_condition(),
            "asset_condition": search.active_assets_condition(),
            "exclude_request_id": request.id}


def _label(hit):
    if hit.kind == "request":
        return f"#{hit.id} \u00b7 {hit.item.state_label} \u00b7 {hit.item.team.name}"
    return f"{hit.item.kind_label} \u00b7 {hit.item.team.name}"


# --- the three actions ---------------------------------------------------------------------------

def _check_may(request, name, actor, expected_version):
    """Refuse before anything else, as the transition would: a changed request (409), one that
    moved on (409), an actor who may not (403)."""
    t = lifecycle.TRANSITIONS[name]
    lifecycle.check_version(request, expected_version)
    lifecycle.check_possible(request, t)
    if not allowed(actor, t, request):
        raise lifecycle.NotAllowed(f"You may not {t.label.lower()} this request.")


def mark_duplicate(request, actor, now, *, expected_version, original, note=""):
    """Mark ``request`` a duplicate of the open request ``original`` (a Pick) that ``actor``
    may see; return the event."""
    _check_may(request, "mark_duplicate", actor, expected_version)
    found = db.session.scalars(db.select(Request).where(
        id_matches(Request.id, original.id), visible_requests(actor))).first()
    if found is None:
        raise ReuseRefusal(f"There is no request #{original.id} that you can see.", "original")
    if found.id != request.id and found.state != "duplicate" and found.state not in OPEN_STATES:
        raise ReuseRefusal(
            f"Request #{found.id} is {found.state_label.lower()}, not open: a duplicate points "
            "at a request still being worked on. If it answers this one, decline as "
            "self-serve pointing at it.", "original")
    return lifecycle.transition(request, "mark_duplicate", actor, now,
                                expected_version=expected_version, original=found, note=note)


def decline(request, actor, now, *, expected_version, reason, note, answer=None, gap=None):
    """Decline ``request``; as self-serve, pointing the requester at ``answer`` (a Pick: an
    active asset or a delivered request both ``actor`` and the requester may see) and recording
    the platform ``gap`` ({"category_id", "note", "hours"}). Return the event."""
    _check_may(request, "decline", actor, expected_version)
    if reason != "self_serve":
        return lifecycle.transition(request, "decline", actor, now,
                                    expected_version=expected_version, reason=reason, note=note)
    if answer is None:
        raise ReuseRefusal(_NOTHING_TYPED["answer"], "answer")
    if gap is None:
        raise gaps.GapRefusal("Choose what was missing for the requester to do it themselves.",
                              "gap_category")
    found = _answer(request, actor, answer)
    url = found.url if answer.kind == "asset" else mail.absolute_url(f"/requests/{found.id}")
    event = lifecycle.transition(request, "decline", actor, now,
                                 expected_version=expected_version, reason=reason, note=note,
                                 url=url, answer={"kind": answer.kind, "id": found.id})
    if answer.kind == "asset":
        catalogue.link(found, request, actor, how="pointed", now=now)
    gaps.record(request, actor, gap.get("category_id"), gap.get("note"), gap.get("hours"),
                "decline", now)
    return event


def _answer(request, actor, answer):
    """The asset or request ``answer`` picks, checked: ``actor`` sees it, it answers (an active
    asset, a delivered or resolved request), and the requester may open it too."""
    requester = request.requester
    if answer.kind == "asset":
        asset = _visible_asset(answer.id, actor, "answer")
        if not sees_asset(requester, asset):
            raise ReuseRefusal(
                f"{requester.name} may not see \u201c{asset.title}\u201d (it answered requests "
                "hidden from them): point them at something they can open.", "answer")
        return asset
    found = db.session.scalars(db.select(Request).where(
        id_matches(Request.id, answer.id), visible_requests(actor))).first()
    if found is None:
        raise ReuseRefusal(f"There is no request #{answer.id} that you can see.", "answer")
    if found.id == request.id:
        raise ReuseRefusal("A request cannot answer itself.", "answer")
    if found.state not in ("delivered", "resolved"):
        raise ReuseRefusal(f"Request #{found.id} is {found.state_label.lower()}: only a "
                           "delivered or resolved request answers someone else's.", "answer")
    if not allowed(requester, "see", found):
        raise ReuseRefusal(f"{requester.name} may not see request #{found.id}: point them at "
                           "something they can open.", "answer")
    return found


def _visible_asset(asset_id, actor, field):
    asset = catalogue.get_visible_asset(asset_id, actor)
    if asset is None:
        raise ReuseRefusal("There is no such asset in the catalogue that you can see.", field)
    if asset.is_deprecated:
        raise ReuseRefusal(f"\u201c{asset.title}\u201d is deprecated: choose an active asset.",
                           field)
    return asset


def deliver(request, actor, now, *, expected_version, url, note, add_to_catalogue=None,
            existing_asset=None, gap=None):
    """Deliver ``request``: the link and note, and the catalogue: a new asset from
    ``add_to_catalogue`` ({"title", "kind", "description", "tags"}; its link is the delivery
    link) or ``existing_asset`` (a Pick; the delivery link defaults to its link), linked
    how="delivered"; with ``gap`` a platform gap of context "delivery". Return the event."""
    _check_may(request, "deliver", actor, expected_version)
    asset = None
    if existing_asset is not None:
        if existing_asset.kind != "asset":
            raise ReuseRefusal("Choose an asset of the catalogue, not a request.",
                               "existing_asset")
        asset = _visible_asset(existing_asset.id, actor, "existing_asset")
        url = url or asset.url
    elif add_to_catalogue is not None:
        lifecycle.check_url(url)  # the asset's link: refused as the delivery's, before it
        asset = catalogue.add_asset(
            actor, title=add_to_catalogue.get("title"), url=url,
            kind=add_to_catalogue.get("kind"), team_id=request.team_id,
            description=add_to_catalogue.get("description", ""),
            tags=add_to_catalogue.get("tags", ""), now=now)
    event = lifecycle.transition(request, "deliver", actor, now,
                                 expected_version=expected_version, url=url, note=note,
                                 asset_id=asset.id if asset is not None else None)
    if asset is not None:
        catalogue.link(asset, request, actor, how="delivered", now=now)
    if gap is not None:
        gaps.record(request, actor, gap.get("category_id"), gap.get("note"), gap.get("hours"),
                    "delivery", now)
    db.session.flush()
    return event


# --- what triage sees -----------------------------------------------------------------------------

def neighbours(request, user):
    """The request's neighbours for those who triage it while it is open: ``duplicates``
    (similar open requests) and ``answers`` (similar delivered or resolved requests and active
    assets) that ``user`` may see, up to 5 each, as search Hits; None for anyone else."""
    if request.state not in OPEN_STATES or not lifecycle.may_take(
            lifecycle.TRANSITIONS["mark_duplicate"], request, user):
        return None
    text = f"{request.title} {request.data_needed}"
    return search.similar_in(user, text, {"duplicates": _scope("duplicate", request),
                                          "answers": _scope("answer", request)},
                             limit=CANDIDATES)


def prefill_pick(user, value, purpose):
    """A pick given in a page's address (a neighbour's "mark as duplicate of this"), as
    (value, text) for the picker's inputs when ``user`` may see it, else None."""
    pick = parse_pick(value)
    if pick is None or pick.kind not in PURPOSES[purpose]:
        return None
    if pick.kind == "request":
        found = db.session.scalars(db.select(Request).where(
            id_matches(Request.id, pick.id), visible_requests(user))).first()
        text = found and f"#{found.id} {found.title}"
    else:
        found = db.session.scalars(db.select(Asset).where(
            id_matches(Asset.id, pick.id), visible_assets(user))).first()
        text = found and found.title
    return (f"{pick.kind}:{pick.id}", text) if found is not None else None

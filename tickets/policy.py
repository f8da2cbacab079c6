"""Who may see and do what (DESIGN.md, Roles): every permission rule, in one place.

- ``relations(request, user)``: what ``user`` is to ``request`` (requester, team member, the
  team's analyst, assignee, lead, admin; "system" when there is no user). Watching is a
  relation too, but it reads the request's watchers, so ``watches`` answers it apart and only
  the rule of seeing asks it, last.
- ``allowed(user, action, request=None)``: whether ``user`` may take ``action``. With a request,
  the action's rule on that request (the relation and the request's state, and always: seeing
  it); without, whether the user's role may take the action at all (a page, or a view refusing
  before it looks the request up). A lifecycle ``Transition`` is an action too: its row names
  who may take it in relations of ``relations``; the lifecycle checks the state it starts from.
- ``visible_requests(user)``: the rule of seeing as an SQL condition, for every list, and
  ``served_requests(user)`` the team analyst's relation as one, for triage and queues;
  ``people_who_see(request)`` the same rule turned around: the users who may see one request
  (whom a comment may mention).

A request a user may not see is answered with 404 (its existence is not revealed); an action on
a request they may see but not take is answered with 403. An export is its page's data: a CSV
asks the action of its page and lists only what the user may see.
"""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.orm import aliased

from .extensions import db
from .models import (BACKLOG_STATES, OPEN_STATES, ROLES, Asset, AssetLink, Attachment, Request,
                     Team, User, Watcher)
from .queries import id_matches

EVERYONE = frozenset(ROLES)

# Which roles may take each action at all. The actions about one request have a rule on the
# request too (REQUEST_RULES).
ROLE_RULES = {
    # Not about one request: pages and administration.
    "see_all": frozenset({"lead", "admin"}),  # every request; every team's reports and forecast
    "triage": frozenset({"analyst", "lead"}),  # the triage page
    "work": frozenset({"analyst", "lead"}),  # a queue, claimed or assigned work, a WIP limit
    "view_backlog": frozenset({"lead", "admin"}),
    "view_reports": frozenset({"analyst", "lead", "admin"}),
    "view_forecast": frozenset({"analyst", "lead", "admin"}),
    "preview_any_digest": frozenset({"lead", "admin"}),  # one's own: everyone
    "manage_people": frozenset({"lead", "admin"}),  # teams, users, roles, analyst embedding
    "manage_admins": frozenset({"admin"}),  # create, change or grant the admin role
    "manage_settings": frozenset({"lead", "admin"}),
    # About one request.
    "see": EVERYONE,
    "edit": EVERYONE,
    "comment": EVERYONE,
    "change_kind": frozenset({"analyst", "lead"}),
    "edit_triaged_fields": frozenset({"analyst", "lead"}),  # without going back to triage
    "override": frozenset({"lead"}),  # a request's place in its team's queue
    "set_sla_class": frozenset({"lead"}),
    # Reuse (issue 12): everyone searches and reads the catalogue (what they may see of it);
    # the data team adds, edits, deprecates and verifies assets and records platform gaps.
    "search": EVERYONE,
    "see_catalogue": EVERYONE,
    "edit_catalogue": frozenset({"analyst", "lead"}),
    "record_gap": frozenset({"analyst", "lead"}),
    "manage_gap_categories": frozenset({"lead"}),
    # Outcomes (issue 13): whoever is asked answers a follow-up (the requester, or the watcher
    # it was handed to); leads read the impact ledger (admins see everything).
    "answer_follow_up": EVERYONE,
    "view_impact": frozenset({"lead", "admin"}),
    # Attachments (issue 14): whoever may comment adds files; a file is removed by its
    # uploader while the request is open (removes_attachment), or by a lead at any time.
    "attach": EVERYONE,
    "remove_any_attachment": frozenset({"lead"}),
    # Import (issue 16): bringing past requests in from a spreadsheet, with the people and
    # teams they name; the command line runs as the operator.
    "import_requests": frozenset({"lead", "admin"}),
    # Integrations (issue 16): everyone may make access tokens of their own for the REST API,
    # which then does what its owner may, and no more (token_permits).
    "use_api": EVERYONE,
    # Webhooks (issue 16): leads and admins register endpoints; only an admin lets one call
    # private or loopback addresses (webhooks.py's guard against requests into the network).
    "manage_webhooks": frozenset({"lead", "admin"}),
    "allow_private_webhooks": frozenset({"admin"}),
}

# Who may be given a request to work on.
WORKER_ROLES = tuple(sorted(ROLE_RULES["work"]))

# Who triages a request: its team's analysts, and leads.
TRIAGERS = frozenset({"team_analyst", "lead"})


def _edits(request, found):
    """Requesters edit their own request until work starts (the backlog states); leads edit
    any request not closed."""
    return not request.is_closed and ("lead" in found or (
        "requester" in found and request.state in BACKLOG_STATES))


# action -> rule(request, relations): when the action applies to one request (seeing it is
# checked for every one of them).
REQUEST_RULES = {
    "see": lambda request, found: True,
    "edit": _edits,
    "comment": lambda request, found: not request.is_closed,
    "change_kind": lambda request, found: (request.state in OPEN_STATES
                                           and bool(TRIAGERS & found)),
    "edit_triaged_fields": lambda request, found: bool(TRIAGERS & found),
    "override": lambda request, found: "lead" in found and request.state in OPEN_STATES,
    "set_sla_class": lambda request, found: "lead" in found and request.state in OPEN_STATES,
    # Who is asked is the follow-up's (answers_follow_up); only a resolved request has one.
    "answer_follow_up": lambda request, found: request.state == "resolved",
    "attach": lambda request, found: not request.is_closed,
    "remove_any_attachment": lambda request, found: "lead" in found,
}


def answers_follow_up(user, follow_up):
    """Tell whether ``user`` may answer ``follow_up``: the person it asks (the requester, or
    the watcher it was handed to), active, who can still see the request."""
    return (user is not None and getattr(user, "is_authenticated", False) and user.is_active
            and user.id == follow_up.recipient_id
            and allowed(user, "answer_follow_up", follow_up.request))


def removes_attachment(user, attachment):
    """Tell whether ``user`` may remove ``attachment``: a lead, or its uploader while its
    request is open; either only while they may see the request, and only once."""
    if user is None or not getattr(user, "is_authenticated", False) or attachment.is_removed:
        return False
    request = attachment.request
    if allowed(user, "remove_any_attachment", request):
        return True
    return (user.id == attachment.uploader_id and request.state in OPEN_STATES
            and allowed(user, "see", request))


def relations(request, user):
    """Return the relations ``user`` holds to ``request`` (a frozenset; None is the system).

    requester: submitted it. team_member: in its team. lead, admin: by role. assignee: the
    analyst or lead working on it. team_analyst: an analyst or lead who triages and works it:
    its assignee, or (unless it is confidential) one serving its team or, for a central
    request (its team had no embedded analyst), any of them.
    """
    user = _real(user)
    if user is None:
        return frozenset({"system"})
    if not user.is_authenticated:
        return frozenset()
    found = set()
    team_ids = user.team_ids
    if user.id == request.requester_id:
        found.add("requester")
    if request.team_id in team_ids:
        found.add("team_member")
    if user.role in ("lead", "admin"):
        found.add(user.role)
    if user.role in WORKER_ROLES:
        if user.id == request.assignee_id:
            found.update({"assignee", "team_analyst"})
        elif not request.is_confidential and (request.is_central or request.team_id in team_ids):
            found.add("team_analyst")
    return frozenset(found)


def watches(request, user):
    """Tell whether ``user``'s e-mail address watches ``request`` (reads its watchers)."""
    return any(watcher.email == user.email for watcher in request.watchers)


def _sees(request, user, found):
    """The rule of seeing in Python; ``visible_requests`` is the same rule in SQL."""
    if user.role in ROLE_RULES["see_all"]:
        return True
    if user.id in (request.requester_id, request.assignee_id):
        return True
    if request.is_confidential:
        return False
    return "team_member" in found or "team_analyst" in found or watches(request, user)


def _real(user):
    """The user behind Flask-Login's ``current_user`` (a proxy that looks the user up again on
    every attribute read: a thousand times on a page of 25 rows), or ``user`` itself."""
    resolve = getattr(user, "_get_current_object", None)
    return resolve() if resolve is not None else user


def allowed(user, action, request=None):
    """Tell whether ``user`` may take ``action`` (a name of ROLE_RULES, or a lifecycle
    Transition) on ``request``, or at all when ``request`` is None."""
    user = _real(user)
    if not isinstance(action, str):
        # A transition's row names who takes it; its source states are the lifecycle's.
        return request is not None and bool(action.actors & relations(request, user))
    roles = ROLE_RULES[action]
    if user is None or not user.is_authenticated or user.role not in roles:
        return False
    if request is None:
        return True
    found = relations(request, user)
    return REQUEST_RULES[action](request, found) and _sees(request, user, found)


# The HTTP methods that only read: all a token of scope "read" may call.
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token_permits(token, method):
    """Whether access token ``token`` lets its owner make an API call with HTTP ``method``:
    a "read" token only reads; a "write" token does whatever its owner may."""
    return token.scope == "write" or method in READING_METHODS


def can(action, request=None):
    """``allowed`` for the logged-in user: what templates ask before they offer a link."""
    return allowed(current_user, action, request)


def visible_requests(user, of=Request):
    """Return a SQL condition selecting the requests ``user`` may see (DESIGN.md, Roles);
    ``of`` is the Request entity to test (an alias, inside another query of requests).

    Leads and admins see everything. Others see their own requests, those assigned to them,
    and the non-confidential requests of their teams or that they watch; analysts also see the
    non-confidential requests of the central triage queue (teams without an embedded analyst).
    """
    user = _real(user)
    if user is None or not user.is_authenticated:
        return false()
    if allowed(user, "see_all"):
        return true()
    not_confidential = of.is_confidential.is_(False)
    conditions = [of.requester_id == user.id, of.assignee_id == user.id]
    team_ids = user.team_ids
    if team_ids:
        conditions.append(and_(of.team_id.in_(team_ids), not_confidential))
    conditions.append(
        and_(not_confidential,
             of.watchers.any(Watcher.email == user.email))
    )
    if allowed(user, "triage"):
        conditions.append(and_(not_confidential, of.is_central.is_(True)))
    return or_(*conditions)


# The aliases the conditions below use in their EXISTS subqueries (an outer query may join
# requests or asset links itself). Made once: an alias builds a proxy of every column of its
# table on first use (0.4 ms for Request), and the conditions are built several times a page.
_ATTACHED = aliased(Request, name="attached_request")
_ANSWERED = aliased(Request, name="answered_request")
_ANSWER_LINK = aliased(AssetLink, name="answer_link")


def visible_attachments(user, of=Attachment):
    """Return a SQL condition selecting the attachments ``user`` may see: those of the
    requests they may see (an EXISTS over the request, so the database never lists every
    visible request)."""
    if user is None or not user.is_authenticated:
        return false()
    if allowed(user, "see_all"):
        return true()
    request = _ATTACHED
    return select(request.id).where(request.id == of.request_id,
                                    visible_requests(user, request)).exists()


def people_who_see(request, of=User):
    """Return a SQL condition selecting the users who may see ``request``: the rule of seeing
    (``visible_requests``) turned around, for one request; ``of`` is the User entity to test.

    Leads and admins, its requester and its assignee; unless it is confidential, also the
    members of its team, the people whose e-mail address watches it and, for a central
    request, every analyst. Whether the account is active is the caller's question.
    """
    conditions = [of.role.in_(sorted(ROLE_RULES["see_all"])), of.id == request.requester_id]
    if request.assignee_id is not None:
        conditions.append(of.id == request.assignee_id)
    if not request.is_confidential:
        conditions.append(of.teams.any(Team.id == request.team_id))
        conditions.append(select(Watcher.id).where(Watcher.request_id == request.id,
                                                   Watcher.email == of.email).exists())
        if request.is_central:
            conditions.append(of.role.in_(sorted(ROLE_RULES["triage"])))
    return or_(*conditions)


def served_requests(user):
    """Return a SQL condition selecting the requests ``user`` serves as their team's analyst
    or as a lead (the relations that triage and claim, assignment aside): leads every one;
    analysts the non-confidential requests of their teams and of the central queue; nobody
    else any."""
    user = _real(user)
    if not allowed(user, "triage"):
        return false()
    if user.role == "lead":
        return true()
    team_ids = user.team_ids
    mine = Request.team_id.in_(team_ids) if team_ids else false()
    return and_(Request.is_confidential.is_(False), or_(Request.is_central.is_(True), mine))


def visible_assets(user, of=Asset):
    """Return a SQL condition selecting the catalogue assets ``user`` may see.

    An asset follows the requests it answered (delivered for, or linked to afterwards): it is
    visible to whoever may see at least one of them, so an asset delivered only for a
    confidential request, or only for another team's request, stays as hidden as that request.
    Being pointed to by a self-serve decline shares an asset (a company-wide dashboard stays
    company-wide); it never hides one. An asset that answered no request (catalogued directly)
    is for everyone. Leads and admins see every asset.
    """
    if user is None or not user.is_authenticated:
        return false()
    if allowed(user, "see_all"):
        return true()
    answered, link = _ANSWERED, _ANSWER_LINK
    delivered = and_(link.asset_id == of.id, link.how != "pointed")
    # EXISTS over a join, not "request_id IN (the visible requests)": the IN form makes the
    # database list every request the user may see for each asset (seconds at 100,000).
    # OFFSET 0: PostgreSQL may otherwise turn the second EXISTS into a hashed subplan, which
    # lists every visible request linked to any asset (a scan of the requests) before the
    # first row; with it, each asset's own links are looked up (as SQLite always does).
    return or_(
        ~select(link.id).where(delivered).exists(),
        select(link.id).join(answered, answered.id == link.request_id)
        .where(delivered, visible_requests(user, answered)).offset(0).exists())


def sees_asset(user, asset):
    """``visible_assets`` in Python, for one loaded asset (its links and their requests)."""
    if user is None or not user.is_authenticated:
        return False
    delivered = [link for link in asset.links if link.how != "pointed"]
    if allowed(user, "see_all") or not delivered:
        return True
    return any(allowed(user, "see", link.request) for link in delivered)


def get_visible_request_or_404(request_id, user, *options):
    """Load a request ``user`` may see, with loader ``options``, or abort with 404."""
    query = db.select(Request).where(id_matches(Request.id, request_id), visible_requests(user))
    if options:
        query = query.options(*options)
    found = db.session.scalars(query).first()
    if found is None:
        abort(404)
    return found


def require(action):
    """View decorator: log in first, then refuse (403) users whose role may not take
    ``action`` (ROLE_RULES)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not allowed(current_user, action):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator

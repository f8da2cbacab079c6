"""The catalogue (DESIGN.md, Reuse): the assets the data team delivered or maintains.

An asset is added at delivery (one tick on the delivery form, prefilled from the request), by
linking a delivery or a self-serve decline to an existing asset, or directly by an analyst or
lead. Who sees an asset follows the requests it answered (``policy.visible_assets``).
"""
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, func, or_, true
from sqlalchemy.orm import aliased, joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from .errors import Conflict, Refusal
from .extensions import db
from .models import (ASSET_KINDS, ASSET_LINK_KINDS, ASSET_STATUSES, FORMAT_ASSET_KINDS,
                     NOT_USED_REASONS, OUTCOMES, USED_OUTCOMES, Asset, AssetLink, FollowUp,
                     Request, Team, utcnow)
from .policy import allowed, visible_assets, visible_requests
from .queries import MAX_ID, id_matches

MAX_TAGS = 12
MAX_DESCRIPTION = 10000
MAX_REASON = 300
ASSET_CHANGED = ("Someone else changed this asset while you were looking at it. Nothing of "
                 "yours was saved; review it as it is now and try again.")
_TAG = re.compile(r"[^\w\- ]+")


class CatalogueRefusal(Refusal):
    """An asset that cannot be saved as given; ``field`` names the input at fault (400)."""


class NotAllowed(CatalogueRefusal):
    """Someone outside the data team tried to change the catalogue (403)."""

    status = 403


class AssetChanged(Conflict):
    """The asset changed between the page and the post (409)."""


def normalise_tags(text):
    """Tags as stored: lower-case, trimmed, each once, between commas (",churn,retention,");
    "" for none. Accepts commas or new lines between tags."""
    found = []
    for raw in re.split(r"[,\n;]+", text or ""):
        tag = " ".join(_TAG.sub(" ", raw).split()).casefold()[:40]
        if tag and tag not in found:
            found.append(tag)
    if len(found) > MAX_TAGS:
        raise CatalogueRefusal(f"Use at most {MAX_TAGS} tags.", "tags")
    return f",{','.join(found)}," if found else ""


def check_link(url):
    """Refuse a link that is not a full http(s) address (no javascript:, data:, ...)."""
    url = (url or "").strip()
    if not url:
        raise CatalogueRefusal("Give the link to the asset.", "url")
    if len(url) > 500:
        raise CatalogueRefusal("Keep the link under 500 characters.", "url")
    if not re.match(r"^https?://[^\s/$.?#][^\s]*$", url, re.IGNORECASE):
        raise CatalogueRefusal("Enter a full link starting with https://", "url")
    return url


def prefill_from_request(request):
    """What the catalogue tick on the delivery form proposes for ``request``'s deliverable."""
    return {
        "title": request.title,
        "url": request.delivered_url or "",
        "kind": FORMAT_ASSET_KINDS.get(request.format, "report"),
        "team_id": request.team_id,
        "description": (request.data_needed or "")[:1000],
        "tags": "",
    }


def add_asset(actor, *, title, url, kind, team_id, description="", tags="", status="active",
              last_verified_on=None, now=None, request=None, how="delivered", today=None):
    """Catalogue a new asset (and link it to ``request`` when it answered one); flush; return it.

    ``tags`` is text as typed ("churn, retention"). ``last_verified_on`` defaults to ``today``
    (the date of ``now`` when not given): a new asset is as good as verified by the person
    adding it; a date in the future is refused.
    """
    now = now or utcnow()
    today = today or now.date()
    _check_may_edit(actor)
    fields = _checked(title=title, url=url, kind=kind, team_id=team_id, description=description,
                      tags=tags, status=status, last_verified_on=last_verified_on or today,
                      today=today)
    asset = Asset(**fields, created_by=actor, created_at=now, updated_at=now)
    db.session.add(asset)
    if request is not None:
        link(asset, request, actor, how=how, now=now)
    db.session.flush()
    return asset


def update_asset(asset, actor, *, title, url, kind, team_id, description, tags, status,
                 last_verified_on, expected_version=None, now, today):
    """Save an edit of ``asset`` (the same checks as a new one); refuse a stale edit (409)."""
    _check_may_edit(actor)
    check_version(asset, expected_version)
    fields = _checked(title=title, url=url, kind=kind, team_id=team_id, description=description,
                      tags=tags, status=status, last_verified_on=last_verified_on, today=today,
                      current_team_id=asset.team_id)
    changed = {name: value for name, value in fields.items() if getattr(asset, name) != value}
    for name, value in changed.items():
        setattr(asset, name, value)
    if changed:
        asset.updated_at = now
    flush_or_conflict(asset)
    return asset


def verify(asset, actor, today, expected_version=None, now=None):
    """Record that ``actor`` checked ``asset`` still works and says what it shows, ``today``."""
    _check_may_edit(actor)
    check_version(asset, expected_version)
    asset.last_verified_on = today
    asset.updated_at = now or utcnow()
    flush_or_conflict(asset)
    return asset


def set_status(asset, actor, status, reason, expected_version=None, now=None):
    """Deprecate or reactivate ``asset``, with a short reason kept at the end of its
    description ("Deprecated on 3 Mar 2026 by Ana: replaced by ..."), where every reader and
    the search find it. A deprecation needs a reason; a reactivation may give one."""
    now = now or utcnow()
    _check_may_edit(actor)
    check_version(asset, expected_version)
    if status not in ASSET_STATUSES:
        raise CatalogueRefusal("Choose active or deprecated.", "status")
    if status == asset.status:
        raise CatalogueRefusal(f"This asset is already {ASSET_STATUSES[status].lower()}.")
    reason = " ".join((reason or "").split())
    if status == "deprecated" and not reason:
        raise CatalogueRefusal("Say why it is deprecated, and what to use instead.", "reason")
    if len(reason) > MAX_REASON:
        raise CatalogueRefusal(f"Keep the reason under {MAX_REASON} characters.", "reason")
    verb = "Deprecated" if status == "deprecated" else "Reactivated"
    note = f"{verb} on {now:%-d %b %Y} by {actor.name if actor else 'the system'}"
    note = f"{note}: {reason}" if reason else f"{note}."
    asset.description = "\n\n".join(part for part in (asset.description.rstrip(), note) if part)
    asset.status = status
    asset.updated_at = now
    flush_or_conflict(asset)
    return asset


def link_request(asset, actor, request_id, how="linked", expected_version=None, now=None):
    """Link ``asset`` to request number ``request_id`` by hand: one ``actor`` may see, not yet
    linked. Return the link."""
    _check_may_edit(actor)
    check_version(asset, expected_version)
    if how not in ASSET_LINK_KINDS:
        raise CatalogueRefusal("Choose how the asset answered the request.", "how")
    found = None
    if isinstance(request_id, int) and 0 < request_id <= MAX_ID:
        found = db.session.scalars(db.select(Request).where(
            Request.id == request_id, visible_requests(actor))).first()
    if found is None:
        raise CatalogueRefusal("There is no request with that number that you can see.",
                               "request_id")
    if any(existing.request_id == found.id for existing in asset.links):
        raise CatalogueRefusal(f"It is already linked to request #{found.id}.", "request_id")
    made = link(asset, found, actor, how=how, now=now)
    asset.updated_at = now or utcnow()
    flush_or_conflict(asset)
    return made


def check_version(asset, expected_version):
    """Refuse (409) when ``asset`` changed since the version the person saw (None: no check)."""
    if expected_version is not None and expected_version != asset.version:
        raise AssetChanged(ASSET_CHANGED)


def flush_or_conflict(asset):
    """Flush pending changes; turn a lost race on ``asset`` into AssetChanged."""
    try:
        db.session.flush()
    except StaleDataError as error:
        raise AssetChanged(ASSET_CHANGED) from error


def _check_may_edit(actor):
    if actor is not None and not allowed(actor, "edit_catalogue"):
        raise NotAllowed("Only the data team changes the catalogue.")


def _checked(*, title, url, kind, team_id, description, tags, status, last_verified_on, today,
             current_team_id=None):
    """The columns of an asset from what was typed, or a CatalogueRefusal naming the field."""
    title = " ".join((title or "").split())
    if not title:
        raise CatalogueRefusal("Give the asset a title.", "title")
    if len(title) > 200:
        raise CatalogueRefusal("Keep the title under 200 characters.", "title")
    if kind not in ASSET_KINDS:
        raise CatalogueRefusal("Choose what kind of asset it is.", "kind")
    if status not in ASSET_STATUSES:
        raise CatalogueRefusal("Choose active or deprecated.", "status")
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise CatalogueRefusal(f"Keep the description under {MAX_DESCRIPTION:,} characters.",
                               "description")
    if last_verified_on is not None and last_verified_on > today:
        raise CatalogueRefusal("The last verified date cannot be in the future.",
                               "last_verified_on")
    return {"title": title, "url": check_link(url), "kind": kind,
            "team_id": _check_team(team_id, current_team_id), "description": description,
            "tags": normalise_tags(tags), "status": status, "last_verified_on": last_verified_on}


def _check_team(team_id, current_team_id=None):
    """An active team's id (or the team the asset already belongs to, active or not)."""
    team = None
    if isinstance(team_id, int) and 0 < team_id <= MAX_ID:
        team = db.session.get(Team, team_id)
    if team is None or not (team.is_active or team.id == current_team_id):
        raise CatalogueRefusal("Choose the team that owns it.", "team_id")
    return team.id


def link(asset, request, actor, how="linked", now=None):
    """Record that ``asset`` answered ``request`` (once: linking again returns the link)."""
    if how not in ASSET_LINK_KINDS:
        raise ValueError(f"unknown link kind {how!r}")
    for existing in asset.links:
        if existing.request_id == request.id or existing.request is request:
            return existing
    found = AssetLink(asset=asset, request=request, how=how, linked_by=actor,
                      created_at=now or utcnow())
    db.session.add(found)
    return found


def get_visible_asset(asset_id, user, *options):
    """The asset ``asset_id`` if ``user`` may see it (with loader ``options``), else None."""
    if not isinstance(asset_id, int) or not 0 < asset_id <= MAX_ID:
        return None
    return db.session.scalars(
        db.select(Asset).where(Asset.id == asset_id, visible_assets(user)).options(*options)).first()


def assets_of_request(request_id, user):
    """The assets ``user`` may see that answered request ``request_id`` (its page's panel)."""
    return db.session.scalars(
        db.select(Asset).join(AssetLink, AssetLink.asset_id == Asset.id)
        .where(AssetLink.request_id == request_id, visible_assets(user))
        .order_by(Asset.title)).all()


# --- The list ---------------------------------------------------------------------------------

# An asset nobody checked for this long may no longer show what it says (flagged to the team).
STALE_AFTER_DAYS = 90
LIST_SORTS = {"verified": "Recently verified", "title": "Title", "used": "Most used"}
LIST_STATUSES = {"active": "Active", "deprecated": "Deprecated", "any": "Any status"}


def filter_condition(*, kind=None, team_id=None, status="active", tag=None, stale_on=None):
    """The SQL condition of the catalogue's filters (visibility aside): ``kind``, owning
    ``team_id``, ``status`` (a key of LIST_STATUSES), one ``tag`` as typed, and, with
    ``stale_on`` (today), only the assets that need verifying."""
    conditions = []
    if kind in ASSET_KINDS:
        conditions.append(Asset.kind == kind)
    if team_id is not None:
        conditions.append(id_matches(Asset.team_id, team_id))
    if status in ASSET_STATUSES:
        conditions.append(Asset.status == status)
    tag = tag_key(tag)
    if tag:
        escaped = tag.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(Asset.tags.like(f"%,{escaped},%", escape="\\"))
    if stale_on is not None:
        conditions.append(or_(Asset.last_verified_on.is_(None),
                              Asset.last_verified_on < stale_on - timedelta(days=STALE_AFTER_DAYS)))
    return and_(true(), *conditions)


def tag_key(text):
    """One tag as stored (lower case, cleaned), from a tag as typed or clicked; "" for none."""
    first = re.split(r"[,\n;]+", text or "")[0]
    return normalise_tags(first).strip(",")


def listing(user, condition, sort="verified"):
    """The assets ``user`` may see matching ``condition``, in ``sort`` order (LIST_SORTS),
    their owning team eager-loaded: one statement a page, whatever the page holds."""
    uses = _uses(user) if sort == "used" else None
    query = db.select(Asset).where(visible_assets(user), condition)
    if uses is not None:
        query = query.outerjoin(uses, uses.c.asset_id == Asset.id)
    return _ordered(query, sort, uses).options(selectinload(Asset.team))


def _ordered(query, sort, uses):
    if sort == "title":
        return query.order_by(func.lower(Asset.title), Asset.id)
    if sort == "used":
        return query.order_by(func.coalesce(uses.c.uses, 0).desc(), func.lower(Asset.title),
                              Asset.id)
    return query.order_by(Asset.last_verified_on.desc().nulls_last(), Asset.id.desc())


# Aliases of the requests an asset answered, made once (an alias proxies every column of its
# table on first use: 0.4 ms a call for Request).
_USED_BY = aliased(Request, name="used_by_request")
_OUTCOME_OF = aliased(Request, name="outcome_request")


def _uses(user):
    """A grouped subquery (asset_id, uses): how many requests ``user`` may see each asset
    answered (a hidden request is not counted either)."""
    answered = _USED_BY
    return (db.select(AssetLink.asset_id, func.count().label("uses"))
            .join(answered, answered.id == AssetLink.request_id)
            .where(visible_requests(user, answered))
            .group_by(AssetLink.asset_id).subquery())


def use_counts(user, asset_ids):
    """{asset id: requests ``user`` may see that it answered} for ``asset_ids``, in one
    statement (0 for an asset that answered none)."""
    counts = dict.fromkeys(asset_ids, 0)
    if counts:
        uses = _uses(user)
        counts.update(db.session.execute(
            db.select(uses.c.asset_id, uses.c.uses).where(uses.c.asset_id.in_(list(counts)))).all())
    return counts


def export_query(user, condition, sort="verified"):
    """The statement of the catalogue's CSV, to run while the file streams (500 rows at a
    time): (id, title, kind, team name, status, tags, last verified, uses, url) of what
    ``listing`` selects."""
    uses = _uses(user)
    query = (db.select(Asset.id, Asset.title, Asset.kind, Team.name, Asset.status, Asset.tags,
                       Asset.last_verified_on, func.coalesce(uses.c.uses, 0), Asset.url)
             .select_from(Asset).join(Team, Team.id == Asset.team_id)
             .outerjoin(uses, uses.c.asset_id == Asset.id)
             .where(visible_assets(user), condition))
    return _ordered(query, sort, uses).execution_options(yield_per=500)


def days_since_verified(asset, today):
    """Whole days since ``asset`` was last verified (None: never)."""
    if asset.last_verified_on is None:
        return None
    return max(0, (today - asset.last_verified_on).days)


def needs_verifying(asset, today):
    """Whether ``asset`` was last verified more than STALE_AFTER_DAYS ago (or never)."""
    days = days_since_verified(asset, today)
    return days is None or days > STALE_AFTER_DAYS


def links_seen_by(asset, user):
    """The links of ``asset`` to requests ``user`` may see (the asset page's list), newest
    first, each with its request and team loaded: one statement."""
    return db.session.scalars(
        db.select(AssetLink).join(Request, Request.id == AssetLink.request_id)
        .where(AssetLink.asset_id == asset.id, visible_requests(user))
        .options(joinedload(AssetLink.request).joinedload(Request.team))
        .order_by(AssetLink.created_at.desc(), AssetLink.id.desc())).all()


# --- What became of it (DESIGN.md, Outcomes) --------------------------------------------------

LATEST_DECISIONS = 5  # the latest answers quoted on an asset's page


@dataclass
class AssetOutcomes:
    """The requests an asset answered (that a person may see) and what became of them: their
    count, the follow-up answers by outcome, and the latest answers (newest first)."""

    answered: int
    counts: dict  # {outcome: requests whose latest answer it is}, every outcome
    latest: list  # [LatestDecision]

    @property
    def answers(self):
        return sum(self.counts.values())

    @property
    def used(self):
        return sum(self.counts[outcome] for outcome in USED_OUTCOMES)


@dataclass
class LatestDecision:
    """One request's latest follow-up answer, as the asset page quotes it."""

    request_id: int
    title: str
    outcome: str
    decision: str
    reason: str
    answered_at: object

    @property
    def outcome_label(self):
        return OUTCOMES[self.outcome]

    @property
    def reason_label(self):
        return NOT_USED_REASONS.get(self.reason, "")


def outcomes_of(asset, user):
    """What became of the requests ``asset`` answered that ``user`` may see: two statements
    (the counts, grouped; the latest answers), whatever the number of requests."""
    answered = _OUTCOME_OF
    seen = and_(AssetLink.asset_id == asset.id, visible_requests(user, answered))
    counts = dict.fromkeys(OUTCOMES, 0)
    total = 0
    for outcome, count in db.session.execute(
            db.select(FollowUp.outcome, func.count(func.distinct(answered.id)))
            .select_from(AssetLink).join(answered, answered.id == AssetLink.request_id)
            .outerjoin(FollowUp, FollowUp.request_id == answered.id)
            .where(seen).group_by(FollowUp.outcome)):
        total += count
        if outcome in counts:
            counts[outcome] += count
    latest = [LatestDecision(*row) for row in db.session.execute(
        db.select(answered.id, answered.title, FollowUp.outcome, FollowUp.decision,
                  FollowUp.not_used_reason, FollowUp.answered_at)
        .select_from(AssetLink).join(answered, answered.id == AssetLink.request_id)
        .join(FollowUp, FollowUp.request_id == answered.id)
        .where(seen, FollowUp.outcome.is_not(None))
        .distinct()
        .order_by(FollowUp.answered_at.desc(), answered.id.desc())
        .limit(LATEST_DECISIONS))]
    return AssetOutcomes(total, counts, latest)

"""The catalogue (DESIGN.md, Reuse): the assets the data team delivered or maintains.

An asset is added at delivery (one tick on the delivery form, prefilled from the request), by
linking a delivery or a self-serve decline to an existing asset, or directly by an analyst or
lead. Who sees an asset follows the requests it answered (``policy.visible_assets``).
"""
import re

from .errors import Refusal
from .extensions import db
from .models import (ASSET_KINDS, ASSET_LINK_KINDS, ASSET_STATUSES, FORMAT_ASSET_KINDS, Asset,
                     AssetLink, utcnow)
from .policy import allowed, visible_assets
from .queries import MAX_ID

MAX_TAGS = 12
_TAG = re.compile(r"[^\w\- ]+")


class CatalogueRefusal(Refusal):
    """An asset that cannot be saved as given; ``field`` names the input at fault (400)."""


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
              last_verified_on=None, now=None, request=None, how="delivered"):
    """Catalogue a new asset (and link it to ``request`` when it answered one); flush; return it.

    ``tags`` is text as typed ("churn, retention"). ``last_verified_on`` defaults to today's
    date of ``now``: a new asset is as good as verified by the person adding it.
    """
    now = now or utcnow()
    if actor is not None and not allowed(actor, "edit_catalogue"):
        raise CatalogueRefusal("Only the data team adds assets to the catalogue.")
    title = (title or "").strip()
    if not title:
        raise CatalogueRefusal("Give the asset a title.", "title")
    if len(title) > 200:
        raise CatalogueRefusal("Keep the title under 200 characters.", "title")
    if kind not in ASSET_KINDS:
        raise CatalogueRefusal("Choose what kind of asset it is.", "kind")
    if status not in ASSET_STATUSES:
        raise CatalogueRefusal("Choose active or deprecated.", "status")
    if team_id is None:
        raise CatalogueRefusal("Choose the team that owns it.", "team_id")
    asset = Asset(title=title, url=check_link(url), kind=kind, team_id=team_id,
                  description=(description or "").strip(), tags=normalise_tags(tags),
                  status=status, last_verified_on=last_verified_on or now.date(),
                  created_by=actor, created_at=now, updated_at=now)
    db.session.add(asset)
    if request is not None:
        link(asset, request, actor, how=how, now=now)
    db.session.flush()
    return asset


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


def get_visible_asset(asset_id, user):
    """The asset ``asset_id`` if ``user`` may see it, else None."""
    if not isinstance(asset_id, int) or not 0 < asset_id <= MAX_ID:
        return None
    return db.session.scalars(
        db.select(Asset).where(Asset.id == asset_id, visible_assets(user))).first()


def assets_of_request(request_id, user):
    """The assets ``user`` may see that answered request ``request_id`` (its page's panel)."""
    return db.session.scalars(
        db.select(Asset).join(AssetLink, AssetLink.asset_id == Asset.id)
        .where(AssetLink.request_id == request_id, visible_assets(user))
        .order_by(Asset.title)).all()

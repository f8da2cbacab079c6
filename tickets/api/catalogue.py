"""The REST API's catalogue (issue 16): everyone reads and searches what they may see of it;
analysts and leads add and edit assets, through the catalogue page's form and rules."""
from flask import request, url_for
from flask.views import MethodView
from sqlalchemy.orm import joinedload

from .. import catalogue, localtime, people, search
from ..errors import attempt
from ..extensions import db
from ..forms.catalogue import AssetForm, EditAssetForm
from ..models import Asset, Team, utcnow
from ..policy import allowed
from .problems import ApiProblem
from .schemas import AssetIn, AssetListQuery, AssetOut, AssetPage, AssetPatch
from .views import (TAG_CATALOGUE, answers, body, bp, current, expected_version, form_problem,
                    formdata, page_cursor, page_of, refusal_problem, spec, with_etag)


def asset_document(asset):
    """The AssetOut of ``asset`` (its team loaded)."""
    return AssetOut(
        id=asset.id, title=asset.title, url=asset.url, kind=asset.kind,
        team={"id": asset.team.id, "name": asset.team.name}, description=asset.description,
        tags=asset.tag_list, status=asset.status, last_verified_on=asset.last_verified_on,
        created_at=asset.created_at, updated_at=asset.updated_at, version=asset.version,
        page=url_for("catalogue.detail", asset_id=asset.id, _external=True))


def _asset_or_404(asset_id, user):
    asset = catalogue.get_visible_asset(asset_id, user, joinedload(Asset.team))
    if asset is None:
        raise ApiProblem(404, "No asset you may see has this id.")
    return asset


@bp.route("/catalogue")
@spec.validate(query=AssetListQuery, resp=answers(("HTTP_200", AssetPage), 400),
               tags=[TAG_CATALOGUE])
def list_assets():
    """List or search the catalogue

    What you may see of the catalogue, filtered; with ``q``, the best matches first.
    """
    query, user = request.context.query, current()
    page = page_of(query.cursor)
    condition = catalogue.filter_condition(kind=query.kind, team_id=query.team,
                                           status=query.status, tag=query.tag)
    if search.terms(query.q):
        results = search.search(user, query.q, types=("asset",), asset_condition=condition,
                                page=page, per_page=query.limit)
        items = [hit.item for hit in results.hits] if results.page == page else []
        more = page * query.limit < min(results.total, search.MAX_PAGE * query.limit)
    else:
        select = catalogue.listing(user, condition, query.sort)
        found = db.session.scalars(select.limit(query.limit + 1)
                                   .offset((page - 1) * query.limit)).all()
        items, more = found[:query.limit], len(found) > query.limit
    # The owners in one statement: each asset's team then comes from the session, not a query.
    db.session.scalars(db.select(Team).where(Team.id.in_({a.team_id for a in items}))).all()
    return AssetPage(items=[asset_document(asset) for asset in items],
                     next_cursor=page_cursor(page + 1) if more and items else None)


def _asset_form(form_class, values, **kwargs):
    """The catalogue page's form filled from an API body."""
    return form_class(formdata=formdata(values, {"tags": ", "}), meta={"csrf": False},
                      **kwargs)


FIELDS = ("title", "url", "kind", "team_id", "description", "tags", "status",
          "last_verified_on")


def _fields(form):
    return {name: form[name].data for name in FIELDS}


@bp.route("/catalogue", methods=["POST"])
@spec.validate(json=AssetIn, resp=answers(("HTTP_201", AssetOut), 400, 415),
               tags=[TAG_CATALOGUE])
def create_asset():
    """Add an asset (analysts and leads)

    The catalogue page's fields and rules. Answers 201 with the asset and its address in
    Location.
    """
    user = current()
    if not allowed(user, "edit_catalogue"):
        raise ApiProblem(403, "Only the data team (analysts and leads) adds to the catalogue.")
    today = localtime.local_today(utcnow())
    values = body().model_dump()
    if values["last_verified_on"] is None:
        values["last_verified_on"] = today
    form = _asset_form(AssetForm, values, today=today, teams=people.active_teams())
    if not form.validate():
        raise form_problem(form)
    done = attempt(lambda: catalogue.add_asset(user, **_fields(form), now=utcnow(),
                                               today=today))
    if not done:
        raise refusal_problem(done.refusal)
    asset = _asset_or_404(done.result.id, user)
    return with_etag(asset_document(asset), asset, 201, {
        "Location": url_for("api.asset", asset_id=asset.id, _external=True)})


@spec.validate(resp=answers(("HTTP_200", AssetOut), 404), tags=[TAG_CATALOGUE])
def get_asset(asset_id):
    """Read an asset

    What it is, where it lives and who owns it. The ETag is its version.
    """
    asset = _asset_or_404(asset_id, current())
    return with_etag(asset_document(asset), asset)


@spec.validate(json=AssetPatch,
               resp=answers(("HTTP_200", AssetOut), 400, 404, 409, 412, 415),
               tags=[TAG_CATALOGUE])
def edit_asset(asset_id):
    """Edit an asset (analysts and leads)

    Only the fields sent change. Send the ETag you read as If-Match, and a change made
    meanwhile is refused (412) instead of overwritten.
    """
    user = current()
    asset = _asset_or_404(asset_id, user)
    if not allowed(user, "edit_catalogue"):
        raise ApiProblem(403, "Only the data team (analysts and leads) edits the catalogue.")
    version = expected_version(asset)
    today = localtime.local_today(utcnow())
    values = {name: getattr(asset, name) for name in FIELDS}
    values["tags"] = asset.tag_list
    values.update(body().model_dump(exclude_unset=True))
    values["version"] = version if version is not None else asset.version
    form = _asset_form(EditAssetForm, values, today=today,
                       teams=people.active_teams(keep=asset.team))
    form.keep_unchanged_verified_on(asset.last_verified_on)
    if not form.validate():
        raise form_problem(form)
    done = attempt(lambda: catalogue.update_asset(
        asset, user, **_fields(form), expected_version=form.version.data, now=utcnow(),
        today=form.today))
    if not done:
        raise refusal_problem(done.refusal)
    asset = _asset_or_404(asset_id, user)
    return with_etag(asset_document(asset), asset)


class AssetItem(MethodView):
    """One asset: read (GET) and edit (PATCH) under one rule (see views.RequestItem)."""

    get = staticmethod(get_asset)
    patch = staticmethod(edit_asset)


bp.add_url_rule("/catalogue/<int:asset_id>", view_func=AssetItem.as_view("asset"))

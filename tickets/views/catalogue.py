"""The catalogue: the list of assets people come to find things in, an asset's page, and the
data team's form to add or edit one (DESIGN.md, Reuse)."""
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination
from markupsafe import Markup
from sqlalchemy.orm import joinedload, selectinload

from .. import catalogue, localtime, people, search
from ..errors import run_action
from ..extensions import db
from ..forms.catalogue import AssetForm, EditAssetForm, LinkForm, StatusForm, VerifyForm
from ..models import ASSET_KINDS, ASSET_LINK_KINDS, ASSET_STATUSES, OUTCOMES, Asset, utcnow
from ..policy import allowed, require
from ..queries import MAX_ID
from .helpers import paginate, text_arg
from .reports import csv_response

bp = Blueprint("catalogue", __name__)

PAGE_SIZE = 25
# A CSV of a text search holds its best matches, this many at most (a plain list: every row).
CSV_SEARCH_ROWS = 2000
CSV_COLUMNS = ("ID", "Title", "Kind", "Owning team", "Status", "Tags", "Last verified",
               "Requests answered", "Link", "Catalogue page")


@dataclass
class Row:
    """One asset of the list, with what its row says about it."""

    asset: Asset
    uses: int
    days: int | None  # since last verified; None: never
    is_stale: bool
    title: Markup | str  # with the searched words marked when the list is a search
    snippet: Markup | str = ""


class HitsPage(Pagination):
    """A page of search hits with the attributes of Flask-SQLAlchemy's pages (the
    ``pagination`` macro renders it)."""

    def _query_items(self):
        return self._query_args["items"]

    def _query_count(self):
        return self._query_args["total"]


def _filters(can_edit):
    """The list's filters from the query string; anything unexpected is ignored."""
    args = request.args
    try:
        team = int(args.get("team", ""))
    except ValueError:
        team = None
    status = args.get("status", "active")
    sort = args.get("sort", "verified")
    return {
        "q": text_arg("q", 1000),
        "kind": args.get("kind") if args.get("kind") in ASSET_KINDS else "",
        "team": team if team is not None and 0 < team <= MAX_ID else None,
        "status": status if status in catalogue.LIST_STATUSES else "active",
        "tag": catalogue.tag_key(text_arg("tag", 200)),
        "sort": sort if sort in catalogue.LIST_SORTS else "verified",
        "stale": can_edit and args.get("stale") == "1",
    }


def _page_arg():
    try:
        return min(max(1, int(request.args.get("page", 1))), search.MAX_PAGE)
    except ValueError:
        return 1


@bp.route("/catalogue")
@require("see_catalogue")
def index():
    """The assets the person may see, filtered, searched, sorted and paged (a constant number
    of SQL statements a page), or as a CSV download."""
    can_edit = allowed(current_user, "edit_catalogue")
    today = localtime.local_today(utcnow())
    filters = _filters(can_edit)
    condition = catalogue.filter_condition(
        kind=filters["kind"], team_id=filters["team"], status=filters["status"],
        tag=filters["tag"], stale_on=today if filters["stale"] else None)
    searching = bool(search.terms(filters["q"]))
    notice = ""
    if filters["q"] and not searching:
        notice = search.search(current_user, filters["q"], types=("asset",)).notice
    as_csv = request.args.get("format") == "csv"
    if searching:
        results = search.search(current_user, filters["q"], types=("asset",),
                                asset_condition=condition,
                                page=1 if as_csv else _page_arg(),
                                per_page=CSV_SEARCH_ROWS if as_csv else PAGE_SIZE)
        notice = results.notice
        if as_csv:
            return _csv_of_hits(results.hits, today)
        total = min(results.total, search.MAX_PAGE * PAGE_SIZE)
        page = HitsPage(page=results.page, per_page=PAGE_SIZE, max_per_page=None,
                        error_out=False, items=results.hits, total=total)
        counts = catalogue.use_counts(current_user, [hit.id for hit in results.hits])
        rows = [_row(hit.item, counts, today, hit.title, hit.snippet) for hit in results.hits]
    else:
        if as_csv:
            return _csv(catalogue.export_query(current_user, condition, filters["sort"]), today)
        page = paginate(catalogue.listing(current_user, condition, filters["sort"]), PAGE_SIZE)
        counts = catalogue.use_counts(current_user, [asset.id for asset in page.items])
        rows = [_row(asset, counts, today) for asset in page.items]
    teams = people.active_teams()
    return render_template(
        "catalogue/index.html", page=page, rows=rows, filters=filters, searching=searching,
        notice=notice, teams=teams, can_edit=can_edit, kinds=ASSET_KINDS,
        statuses=catalogue.LIST_STATUSES, sorts=catalogue.LIST_SORTS,
        stale_after=catalogue.STALE_AFTER_DAYS)


def _row(asset, counts, today, title=None, snippet=""):
    return Row(asset=asset, uses=counts.get(asset.id, 0),
               days=catalogue.days_since_verified(asset, today),
               is_stale=catalogue.needs_verifying(asset, today),
               title=title if title is not None else asset.title, snippet=snippet)


def _csv(query, today):
    page_link = url_for("catalogue.detail", asset_id=0, _external=True)[:-1]

    def lines():
        for row in db.session.execute(query):
            yield [row[0], row.title, ASSET_KINDS[row.kind], row[3], ASSET_STATUSES[row.status],
                   ", ".join(tag for tag in row.tags.split(",") if tag), row.last_verified_on,
                   row[7], row.url, f"{page_link}{row[0]}"]

    return csv_response(f"catalogue_{today.isoformat()}.csv", CSV_COLUMNS, lines())


def _csv_of_hits(hits, today):
    counts = catalogue.use_counts(current_user, [hit.id for hit in hits])
    page_link = url_for("catalogue.detail", asset_id=0, _external=True)[:-1]
    lines = ([hit.item.id, hit.item.title, hit.item.kind_label, hit.item.team.name,
              hit.item.status_label, ", ".join(hit.item.tag_list), hit.item.last_verified_on,
              counts.get(hit.id, 0), hit.item.url, f"{page_link}{hit.id}"] for hit in hits)
    return csv_response(f"catalogue-search_{today.isoformat()}.csv", CSV_COLUMNS, lines)


# --- An asset's page and its actions ------------------------------------------------------------

def _asset_or_404(asset_id):
    asset = catalogue.get_visible_asset(
        asset_id, current_user, joinedload(Asset.team), joinedload(Asset.created_by),
        selectinload(Asset.links))
    if asset is None:
        abort(404)
    return asset


@bp.route("/catalogue/<int:asset_id>")
@require("see_catalogue")
def detail(asset_id):
    """An asset: what it is, where it lives, who owns it, the requests it answered that the
    person may see; for the data team, its actions."""
    return _render_detail(_asset_or_404(asset_id))


def _render_detail(asset, status=200, **forms):
    today = localtime.local_today(utcnow())
    if allowed(current_user, "edit_catalogue"):
        version = {"version": asset.version}
        forms.setdefault("verify_form", VerifyForm(prefix="verify", formdata=None, data=version))
        forms.setdefault("status_form", StatusForm(prefix="status", formdata=None, data=version))
        forms.setdefault("link_form", LinkForm(prefix="link", formdata=None, data=version))
    return render_template(
        "catalogue/detail.html", asset=asset, links=catalogue.links_seen_by(asset, current_user),
        outcomes=catalogue.outcomes_of(asset, current_user), outcome_labels=OUTCOMES,
        days=catalogue.days_since_verified(asset, today),
        is_stale=catalogue.needs_verifying(asset, today), link_kinds=ASSET_LINK_KINDS,
        stale_after=catalogue.STALE_AFTER_DAYS, **forms), status


def _act(asset, form_name, form, call, success):
    """Run an asset page action from ``form``: back to the page when done, else the page again
    with what was refused (400, or 409 when the asset changed meanwhile)."""
    if form.validate_on_submit():
        done = run_action(call, form=form, success=success)
        if done:
            return redirect(url_for("catalogue.detail", asset_id=asset.id))
        status = done.status
    else:
        status = 400
    if form.version.errors:
        flash("This page was out of date: look at the asset as it is now and try again.",
              "warning")
    return _render_detail(_asset_or_404(asset.id), status, **{form_name: form})


@bp.route("/catalogue/<int:asset_id>/verify", methods=["POST"])
@require("edit_catalogue")
def verify(asset_id):
    """Mark the asset verified today: someone checked it still works and says what it shows."""
    asset = _asset_or_404(asset_id)
    form = VerifyForm(prefix="verify")
    return _act(asset, "verify_form", form, lambda: catalogue.verify(
        asset, current_user, localtime.local_today(utcnow()), form.version.data, now=utcnow()),
        "Marked as verified today.")


@bp.route("/catalogue/<int:asset_id>/status", methods=["POST"])
@require("edit_catalogue")
def set_status(asset_id):
    """Deprecate the asset (with a reason) or make it active again."""
    asset = _asset_or_404(asset_id)
    form = StatusForm(prefix="status")
    return _act(asset, "status_form", form, lambda: catalogue.set_status(
        asset, current_user, form.status.data, form.reason.data, form.version.data, now=utcnow()),
        lambda changed: ("Deprecated: it stays findable, marked as no longer maintained."
                         if changed.is_deprecated else "Active again."))


@bp.route("/catalogue/<int:asset_id>/link", methods=["POST"])
@require("edit_catalogue")
def link(asset_id):
    """Link the asset to a request it answered, by the request's number."""
    asset = _asset_or_404(asset_id)
    form = LinkForm(prefix="link")
    return _act(asset, "link_form", form, lambda: catalogue.link_request(
        asset, current_user, form.request_id.data, form.how.data, form.version.data,
        now=utcnow()), lambda made: f"Linked to request #{made.request_id}.")


# --- The form -----------------------------------------------------------------------------------

def _asset_fields(form):
    return {name: form[name].data for name in (
        "title", "url", "kind", "team_id", "description", "tags", "status", "last_verified_on")}


@bp.route("/catalogue/new", methods=["GET", "POST"])
@require("edit_catalogue")
def new():
    """Catalogue an asset that did not come from a delivery (or was delivered long ago)."""
    today = localtime.local_today(utcnow())
    form = AssetForm(today=today, teams=people.active_teams())
    if request.method == "GET":
        form.last_verified_on.data = today
        home = next((team for team in current_user.teams if team.is_active), None)
        if home is not None:
            form.team_id.data = home.id
    status = 200
    if form.validate_on_submit():
        done = run_action(
            lambda: catalogue.add_asset(current_user, **_asset_fields(form), now=utcnow(),
                                        today=today),
            form=form, success=lambda made: f"\u201c{made.title}\u201d is in the catalogue.")
        if done:
            return redirect(url_for("catalogue.detail", asset_id=done.result.id))
        status = done.status
    elif request.method == "POST":
        status = 400
    return render_template("catalogue/form.html", form=form, asset=None), status


@bp.route("/catalogue/<int:asset_id>/edit", methods=["GET", "POST"])
@require("edit_catalogue")
def edit(asset_id):
    """Change an asset; an edit of a version someone else changed meanwhile is refused (409)."""
    asset = _asset_or_404(asset_id)
    today = localtime.local_today(utcnow())
    form = EditAssetForm(obj=asset, today=today, teams=people.active_teams(keep=asset.team))
    if request.method == "GET":
        form.tags.data = ", ".join(asset.tag_list)
    form.keep_unchanged_verified_on(asset.last_verified_on)
    status = 200
    if form.validate_on_submit():
        done = run_action(
            lambda: catalogue.update_asset(asset, current_user, **_asset_fields(form),
                                           expected_version=form.version.data, now=utcnow(),
                                           today=form.today),
            form=form, success="Your changes are saved.")
        if done:
            return redirect(url_for("catalogue.detail", asset_id=asset.id))
        status = done.status
        if status == 409:
            # The text typed stays; sending it again replaces the other change, knowingly.
            form.version.raw_data = [str(asset.version)]
            flash("Your text is still in the form below. Open the asset in another tab to see "
                  "the other change; send the form again to replace it with yours.", "info")
    elif request.method == "POST":
        status = 400
    return render_template("catalogue/form.html", form=form, asset=asset), status

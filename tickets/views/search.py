"""Search: the header's one search box (/search) over requests and the catalogue, and the
pickers' JSON (/search/pick.json) that the duplicate and self-serve forms use to choose a
request or an asset by typing words (static/js/picker.js).

Both ask ``search`` (the databases' full-text engines), in which visibility is part of every
query, so nothing a person may not see is ranked, counted or shown. Any text is a valid query;
bad filters are not used and say so; a search that finds nothing is remembered as a catalogue
gap (``search.record_miss``).
"""
from flask import Blueprint, jsonify, render_template, request, url_for
from flask_login import current_user, login_required

from .. import people, search
from ..errors import run_action
from ..forms.search import SearchForm
from ..models import OPEN_STATES, STATES, Request, utcnow
from ..policy import allowed, require
from ..queries import MAX_ID

bp = Blueprint("search", __name__)

# Hits the picker lists at most.
PICK_LIMIT = 8
# What each picker chooses: the permission it needs (None: anyone logged in).
PICKERS = {"duplicate": "triage", "answer": None}


@bp.route("/search")
@require("search")
def index():
    """Requests and catalogue assets matching the words, ranked, filtered and paged."""
    teams = people.active_teams()
    form = SearchForm(request.args, teams=teams)
    filters = form.filters
    results = None
    if filters.q:
        request_condition, asset_condition = search.filter_conditions(
            kind=filters.kind, state_group=filters.state, team_id=filters.team_id)
        results = search.search(current_user, filters.q, types=filters.types,
                                request_condition=request_condition,
                                asset_condition=asset_condition,
                                page=request.args.get("page", 1),
                                count_types=("request", "asset"))
        first_page = request.args.get("page", "1").strip() in ("", "1")
        if results.total == 0 and results.terms and first_page and not filters.narrows:
            # What people look for and cannot find is a catalogue gap (the lead's report); a
            # later page or a filtered search would count the same search again.
            run_action(lambda: search.record_miss(current_user, filters.q, "search", utcnow()))
    return render_template("search/index.html", form=form, filters=filters, results=results,
                           max_page=search.MAX_PAGE)


@bp.route("/search/pick.json")
@login_required
def pick():
    """Up to PICK_LIMIT requests or assets for a picker, as JSON: open requests for a
    duplicate (``for=duplicate``), delivered requests and active assets for an answer
    (``for=answer``; ``kinds=asset`` or ``kinds=request`` narrows it), never the request being
    acted on (``request=<id>``)."""
    purpose = request.args.get("for", "")
    if purpose not in PICKERS:
        return _bad_pick("Say what to pick: for=duplicate or for=answer.", 400)
    needs = PICKERS[purpose]
    if needs is not None and not allowed(current_user, needs):
        return _bad_pick("Only the data team marks duplicates.", 403)
    exclude = request.args.get("request", "").strip()
    if exclude and not (exclude.isascii() and exclude.isdigit() and 0 < int(exclude) <= MAX_ID):
        return _bad_pick("request must be the number of a request.", 400)
    text = request.args.get("q", "").replace("\x00", " ")[:search.MAX_QUERY_CHARS]
    if purpose == "duplicate":
        hits = search.similar(current_user, text, types=("request",),
                              request_condition=Request.state.in_(sorted(OPEN_STATES)),
                              exclude_request_id=int(exclude) if exclude else None,
                              limit=PICK_LIMIT, prefix=True)
    else:
        kinds = request.args.get("kinds", "")
        types = (kinds,) if kinds in ("asset", "request") else ("request", "asset")
        hits = search.similar(current_user, text, types=types,
                              request_condition=search.answers_condition(),
                              asset_condition=search.active_assets_condition(),
                              exclude_request_id=int(exclude) if exclude else None,
                              limit=PICK_LIMIT, prefix=True)
    message = "" if hits else _nothing_to_pick(text, purpose)
    return jsonify({"results": [_picked(hit) for hit in hits], "message": message})


def _bad_pick(message, status):
    return jsonify({"results": [], "message": message}), status


def _nothing_to_pick(text, purpose):
    if not search.terms(text):
        return "Type a few words of its title or description."
    if purpose == "duplicate":
        return "No open request you can see matches those words."
    return "No delivered request or active catalogue asset matches those words."


def _picked(hit):
    """A hit as the picker shows and submits it."""
    item = hit.item
    if hit.kind == "request":
        label = f"Request #{item.id} · {STATES[item.state]} · {item.team.name}"
        url = url_for("requests.detail", request_id=item.id)
        state, state_label = item.state, STATES[item.state]
    else:
        label = f"{item.kind_label} · {item.team.name}"
        if item.is_deprecated:
            label += " · Deprecated"
        url = url_for("catalogue.detail", asset_id=item.id)
        state, state_label = item.status, item.status_label
    return {"kind": hit.kind, "id": hit.id, "value": f"{hit.kind}:{hit.id}",
            "title": item.title, "title_html": str(hit.title),
            "snippet_html": str(hit.snippet), "label": label, "url": url,
            "state": state, "state_label": state_label}

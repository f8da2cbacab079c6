"""The REST API, ``/api/v1`` (issue 16): requests (list, read, create, edit, transitions,
comments) for scripts, notebooks and bots, with a personal access token.

Every call names its token in ``Authorization: Bearer ddp_...``; browser sessions are not
accepted, so no cross-site request can act through a logged-in browser (the API needs no CSRF
token). The token's owner is the user of the call: the pages' permissions apply through the
one policy module, and a "read" token only reads (policy.token_permits). Bodies go through
the pages' forms, so a field's rules and messages are the same as on the page. The OpenAPI
document is written by spectree from the routes and tickets/api/schemas.py.
"""
import copy
from datetime import date

from flask import Blueprint, current_app, g, render_template, request, url_for
from flask.views import MethodView
from spectree import Response, SecurityScheme, SecuritySchemeData, SpecTree
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.datastructures import MultiDict

from .. import conversation, intake, lifecycle, localtime, people, request_lists, tokens
from ..errors import attempt
from ..extensions import csrf, db
from ..forms.requests import CommentForm, RequestForm
from ..forms.transitions import TRANSITION_FORMS, prepare_form, refused_field, take
from ..models import Event, Request, utcnow
from ..policy import allowed, get_visible_request_or_404, token_permits
from .problems import MEDIA_TYPE, ApiProblem, from_exception, problem_response
from .schemas import (CommentIn, EventOut, Me, Problem, RequestDetail, RequestIn,
                      RequestListQuery, RequestPage, RequestPatch, RequestSummary, TransitionIn)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

TAG_REQUESTS = "Requests"
TAG_CATALOGUE = "Catalogue"
TAG_WORK = "Queues and reports"
TAG_ACCOUNT = "Account"


def _refuse_body(req, resp, req_validation_error, instance, model_adapter=None):
    """spectree's hook: a body or query that does not have the documented shape is a 400
    problem naming each field."""
    if req_validation_error is None:
        return
    errors = {}
    for error in req_validation_error.errors():
        field = ".".join(str(part) for part in error["loc"]) or "body"
        errors.setdefault(field, error["msg"])
    document, status, headers = problem_response(400, "Correct the fields named below.",
                                                  errors)
    resp.set_data(document)
    resp.status_code = status
    resp.headers.update(headers)


spec = SpecTree(
    "flask", mode="strict", before=_refuse_body, validation_error_status=400,
    validation_error_model=Problem, page_templates={},
    # Not the API's own prefix: spectree leaves out the routes under its path.
    path="api/v1/spec", title="Datadesk REST API", version="1",
    description=("Requests to the data team (list, read, submit, edit, move through their "
                 "lifecycle, comment), the catalogue of what was delivered, the queues in "
                 "priority order and every report, as the owner of a personal access token "
                 "(made on Preferences \u2192 API access tokens). Errors are RFC 9457 problem "
                 "documents."),
    security_schemes=[SecurityScheme(name="token", data=SecuritySchemeData(
        type="http", scheme="bearer",
        description="A personal access token: Authorization: Bearer ddp_\u2026"))],
    security={"token": []},
)
PROBLEMS = {f"HTTP_{status}": Problem for status in (401, 403, 429)}


def answers(status_ok, *statuses):
    """spectree's Response: ``status_ok`` (an (HTTP_xxx, model) pair), the problems every
    call may meet, and ``statuses``."""
    return Response(**dict([status_ok]), **PROBLEMS,
                    **{f"HTTP_{status}": Problem for status in statuses})


# The calls a token makes are counted only once it is known; these need none.
OPEN_ENDPOINTS = ("api.reference", "api.openapi")


def register_limits(app, limiter):
    """Limit each token's calls (RATELIMIT_API). Wrapped here, not decorated, as each app has
    its own limiter (views.auth.register_login_limits says why)."""
    limit = limiter.shared_limit(lambda: current_app.config["RATELIMIT_API"], scope="api-token",
                                 key_func=lambda: f"token:{g.api_token.id}")
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith("api.") and endpoint not in OPEN_ENDPOINTS:
            app.view_functions[endpoint] = limit(view)


@bp.before_request
def authenticate():
    """Find the token's owner, or refuse: 401 without a valid token, 403 when a "read"
    token would change something."""
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    found = None
    if scheme.lower() == "bearer" and secret.strip():
        found = tokens.authenticate(secret.strip(), utcnow())
    if found is None:
        db.session.rollback()
        raise ApiProblem(401, "Send a valid personal access token as \u201cAuthorization: "
                              "Bearer ddp_\u2026\u201d. Make one on Preferences \u2192 API "
                              "access tokens.",
                         headers={"WWW-Authenticate": 'Bearer realm="datadesk"'})
    token, user = found
    db.session.commit()  # the token's last use
    if not token_permits(token, request.method):
        raise ApiProblem(403, "This token may only read: make a token that may read and write "
                              "to change anything.")
    g.api_token = token
    g._login_user = user  # Flask-Login's current user for this call only: no session
    return None


@bp.errorhandler(ApiProblem)
def api_problem(error):
    return from_exception(error)


@bp.after_request
def no_cookies(response):
    """A call with a token is not a browser session: nothing is stored for it."""
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["Vary"] = "Authorization"
    return response


def current():
    return g._login_user


# The deepest page a list paged by number gives (a script reads on with filters instead).
MAX_PAGE = 10_000


# --- Documents --------------------------------------------------------------------------------

def person(user):
    """A person in a document: id and name (None: Datadesk itself, or nobody)."""
    return None if user is None else {"id": user.id, "name": user.name}


def summary(req):
    """A request in a list (RequestSummary's fields)."""
    return {
        "id": req.id, "title": req.title, "state": req.state, "kind": req.kind,
        "team": {"id": req.team.id, "name": req.team.name},
        "requester": person(req.requester), "assignee": person(req.assignee),
        "business_impact": req.business_impact, "deadline": req.deadline,
        "is_short_notice": req.is_short_notice, "is_confidential": req.is_confidential,
        "created_at": req.created_at, "updated_at": req.updated_at, "version": req.version,
        "url": url_for("requests.detail", request_id=req.id, _external=True),
    }


def event_document(event):
    """One step of a request's history (its actor loaded)."""
    return EventOut(id=event.id, kind=event.kind, action=event.action,
                    from_state=event.from_state, to_state=event.to_state,
                    actor=person(event.actor), text=event.text, created_at=event.created_at)


def _detail(req, user):
    return RequestDetail(
        **summary(req),
        **{name: getattr(req, name) for name in (
            "data_needed", "format", "usage", "lever_result", "lever_expected_shape",
            "lever_extraction", "lever_decision", "is_exec_sponsored", "exec_sponsor", "size")},
        delivered_url=req.delivered_url, watchers=req.watcher_emails,
        actions=[t.name for t in lifecycle.available_transitions(req, user)],
        events=[event_document(event) for event in req.events])


def _request_whole(request_id, user):
    """Request ``request_id`` as ``user`` may see it, with what its document shows (404
    otherwise); a constant number of SQL statements."""
    return get_visible_request_or_404(
        request_id, user, joinedload(Request.team), joinedload(Request.requester),
        joinedload(Request.assignee), selectinload(Request.watchers),
        selectinload(Request.events).joinedload(Event.actor))


def with_etag(document, req, status=200, headers=None):
    """``document`` of ``req`` with its version as the ETag (If-Match takes it back)."""
    return document, status, {"ETag": f'"{req.version}"', **(headers or {})}


def expected_version(req):
    """The version If-Match names (``req``: a request or an asset) (None: the header was not sent, the change applies to the
    request as it is); 412 when it names another version than the request's."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    wanted = header.strip().removeprefix("W/").strip('"')
    if header.strip() == "*":
        return None
    if wanted != str(req.version):
        raise ApiProblem(412, f"It is at version {req.version}, not {wanted}: read it again, "
                              "then send your change with its new ETag.")
    return req.version


def body():
    """The JSON body spectree checked; 415 when the body was not sent as JSON."""
    found = request.context.json
    if found is None:
        raise ApiProblem(415, "Send the body as JSON, with Content-Type: application/json.")
    return found


def form_problem(form, field_of=None):
    """The 400 problem of an invalid form, its fields named as in the body."""
    errors = {}
    for name, messages in form.errors.items():
        if messages:
            errors[(field_of or {}).get(name, name)] = " ".join(map(str, messages))
    return ApiProblem(400, "Correct the fields named below.", errors=errors)


def refusal_problem(refusal, names=None):
    if refusal.status == 403:
        return ApiProblem(403, str(refusal))
    errors = {(names or {}).get(field, field): message
              for field, message in refusal.messages.items()}
    return ApiProblem(refusal.status, str(refusal), errors=errors or None)


def page_cursor(page):
    """The cursor of page ``page`` of a list paged by number (the catalogue, the queues)."""
    return request_lists.encode_cursor({"page": page})


def page_of(cursor):
    """The page number ``cursor`` names (1 without one); a 400 on the cursor if it is not one
    ``page_cursor`` gave."""
    if not cursor:
        return 1
    try:
        page = request_lists.decode_cursor(cursor)["page"]
    except (request_lists.BadCursor, TypeError, KeyError):
        page = None
    if not isinstance(page, int) or isinstance(page, bool) or not 1 < page <= MAX_PAGE:
        message = request_lists.NOT_GIVEN
        raise ApiProblem(400, message, errors={"cursor": message})
    return page


# --- Account ----------------------------------------------------------------------------------

@bp.route("/me")
@spec.validate(resp=answers(("HTTP_200", Me)), tags=[TAG_ACCOUNT])
def me():
    """Who the token acts as

    The token's owner, their teams, and what the token may do.
    """
    user, token = current(), g.api_token
    return Me(id=user.id, name=user.name, email=user.email, role=user.role,
              teams=[{"id": team.id, "name": team.name} for team in user.teams],
              token_scope=token.scope, token_expires_at=token.expires_at)


# --- Requests ---------------------------------------------------------------------------------

@bp.route("/requests")
@spec.validate(query=RequestListQuery, resp=answers(("HTTP_200", RequestPage), 400),
               tags=[TAG_REQUESTS])
def list_requests():
    """List requests

    The lists of the pages (yours, your teams', all) with their filters and sorts, a page at a
    time: pass ``next_cursor`` as ``cursor`` for the next page.
    """
    query, user = request.context.query, current()
    if not request_lists.may_list(user, query.scope):
        raise ApiProblem(403, "Only leads and admins list every request: use scope=team.")
    filters = {"state": "" if query.state == "any" else query.state, "team": query.team,
               "kind": query.kind or "", "assignee": query.assignee, "q": query.q.strip(),
               "sort": query.sort}
    select = request_lists.select_requests(db.select(Request), user, query.scope, filters)
    if query.cursor:
        try:
            select = select.where(request_lists.after(query.cursor, query.sort))
        except request_lists.BadCursor as problem:
            raise ApiProblem(400, str(problem), errors={"cursor": str(problem)}) from None
    rows = db.session.scalars(select.options(
        joinedload(Request.team), joinedload(Request.requester), joinedload(Request.assignee))
        .limit(query.limit + 1)).unique().all()
    page = rows[:query.limit]
    more = len(rows) > query.limit
    return RequestPage(items=[RequestSummary(**summary(req)) for req in page],
                       next_cursor=request_lists.cursor_of(page[-1], query.sort)
                       if more else None)


@spec.validate(resp=answers(("HTTP_200", RequestDetail), 404), tags=[TAG_REQUESTS])
def get_request(request_id):
    """Read a request

    Its fields, its history, and the transitions you may take now. The ETag is its version.
    """
    user = current()
    req = _request_whole(request_id, user)
    return with_etag(_detail(req, user), req)


def formdata(values, joined=None):
    """An API body's ``values`` as a browser posts the page's form: a ticked box as "y" (an
    unticked one left out), a date in ISO form, a list joined by ``joined[name]`` (what its
    text field splits on), a null left out (as if left empty: the form says what it needs),
    anything else as text."""
    data = MultiDict()
    for name, value in values.items():
        if value is None or value is False:
            continue
        if value is True:
            data.add(name, "y")
        elif isinstance(value, list):
            data.add(name, joined[name].join(value))
        elif isinstance(value, date):
            data.add(name, value.isoformat())
        else:
            data.add(name, str(value))
    return data


def _intake_form(values, teams):
    """The page's request form filled from an API body (``values``: the intake fields); a
    null deadline is "No hard deadline"."""
    values = {**values, "no_deadline": "deadline" in values and values["deadline"] is None}
    return RequestForm(formdata=formdata(values, {"watchers": "\n"}), meta={"csrf": False},
                       today=localtime.local_today(utcnow()), teams=teams)


@bp.route("/requests", methods=["POST"])
@spec.validate(json=RequestIn, resp=answers(("HTTP_201", RequestDetail), 400, 415),
               tags=[TAG_REQUESTS])
def create_request():
    """Submit a request

    The intake form's fields, with the same rules: an ad-hoc request over its team's weekly
    budget is waitlisted. Answers 201 with the request and its address in Location.
    """
    user = current()
    form = _intake_form(body().model_dump(), people.active_teams())
    if not form.validate():
        raise form_problem(form)
    done = attempt(lambda: intake.submit_request(user, form.intake_fields(),
                                                 watchers=form.watcher_list))
    if not done:
        raise refusal_problem(done.refusal)
    req = _request_whole(done.result.id, user)
    return with_etag(_detail(req, user), req, 201, {
        "Location": url_for("api.request", request_id=req.id, _external=True)})


@spec.validate(json=RequestPatch,
               resp=answers(("HTTP_200", RequestDetail), 400, 404, 409, 412, 415),
               tags=[TAG_REQUESTS])
def edit_request(request_id):
    """Edit a request

    Only the fields sent change, with the page's rules: once triaged, some changes send the
    request back to triage and others are refused. Send the ETag you read as If-Match, and
    a change made meanwhile is refused (412) instead of overwritten.
    """
    user = current()
    req = _request_whole(request_id, user)
    if not allowed(user, "edit", req):
        raise ApiProblem(403, "You may not edit this request.")
    version = expected_version(req)
    sent = body().model_dump(exclude_unset=True)
    values = {name: getattr(req, name) for name in intake.INTAKE_FIELDS}
    values["watchers"] = req.watcher_emails
    values.update(sent)
    teams = people.active_teams(keep=req.team)
    form = _intake_form(values, teams)
    form.keep_unchanged_deadline(req.deadline)
    if not form.validate():
        raise form_problem(form)
    done = attempt(lambda: intake.edit_request(
        req, user, form.intake_fields(), watchers=form.watcher_list,
        expected_version=version if version is not None else req.version, now=utcnow()))
    if not done:
        raise refusal_problem(done.refusal)
    req = _request_whole(request_id, user)
    return with_etag(_detail(req, user), req)


class RequestItem(MethodView):
    """One request: read (GET) and edit (PATCH) under one rule, so that an id no request can
    have is not found whatever the method (two rules would answer 405 for one of them)."""

    get = staticmethod(get_request)
    patch = staticmethod(edit_request)


bp.add_url_rule("/requests/<int:request_id>", view_func=RequestItem.as_view("request"))


@bp.route("/requests/<int:request_id>/comments", methods=["POST"])
@spec.validate(json=CommentIn, resp=answers(("HTTP_201", EventOut), 400, 404, 409, 415),
               tags=[TAG_REQUESTS])
def comment(request_id):
    """Comment on a request

    ``@[Name]`` mentions a person who may see it. While the request waits on your answer to
    its question, the comment is that answer, and the work goes on.
    """
    user = current()
    req = get_visible_request_or_404(request_id, user)
    if not allowed(user, "comment", req):
        raise ApiProblem(403, "You may not comment on this request.")
    form = CommentForm(formdata=MultiDict({"text": body().text}),
                       meta={"csrf": False})
    if not form.validate():
        raise form_problem(form)
    done = attempt(lambda: conversation.post(req, user, form.text.data, utcnow()))
    if not done:
        raise refusal_problem(done.refusal)
    return event_document(done.result), 201


# The body's names for the form's picker inputs.
PICKERS = {"existing_asset": "existing_asset", "answer": "answer", "original": "original"}


def _transition_form(name, inputs, version):
    """The page's form of transition ``name`` filled from an API body's ``inputs``."""
    form_class = TRANSITION_FORMS[name]
    unknown = [key for key in inputs if key not in form_class()._fields]
    if unknown:
        raise ApiProblem(400, f"The {name} transition does not take these fields.",
                         errors={key: f"Not an input of {name}." for key in unknown})
    # A picker's text is also its pick, as the page's script sends it.
    picks = {f"{key}_ref": inputs[key] for key in PICKERS if key in inputs}
    data = formdata({**inputs, **picks, "version": version})
    return prepare_form(form_class(formdata=data, meta={"csrf": False}), name)


@bp.route("/requests/<int:request_id>/transitions/<name>", methods=["POST"])
@spec.validate(json=TransitionIn,
               resp=answers(("HTTP_200", RequestDetail), 400, 404, 409, 412, 415),
               tags=[TAG_REQUESTS],
               path_parameter_descriptions={"name": "A transition the request's actions list "
                                                    "names: accept, claim, deliver, ..."})
def take_transition(request_id, name):
    """Move a request through its lifecycle

    Take one of the transitions its ``actions`` name, with the inputs its form on the page
    asks for (a question's text, a delivery's link, a decline's reason, ...).
    """
    user = current()
    t = lifecycle.TRANSITIONS.get(name)
    req = _request_whole(request_id, user)
    if t is None or not t.is_action or name not in TRANSITION_FORMS:
        raise ApiProblem(404, f"There is no transition {name!r}: take one the request's "
                              "actions name.")
    if not allowed(user, t, req):
        raise ApiProblem(403, f"You may not take {name} on this request.")
    version = expected_version(req)
    possible = attempt(lambda: lifecycle.check_possible(req, t), commit=False)
    if not possible:
        raise refusal_problem(possible.refusal)
    inputs = body().model_dump(exclude_none=True)
    form = _transition_form(name, inputs, version if version is not None else req.version)
    if not form.validate():
        raise form_problem(form)
    field_of = refused_field(t)
    done = attempt(lambda: take(t, req, user, form, utcnow()))
    if not done:
        names = ({field: field_of(field) for field in done.refusal.messages}
                 if field_of else None)
        raise refusal_problem(done.refusal, names)
    req = _request_whole(request_id, user)
    return with_etag(_detail(req, user), req)


# --- The document and its reference -----------------------------------------------------------

def document():
    """The OpenAPI 3.1 document: spectree's, with the errors' media type said as sent
    (spectree names every body application/json)."""
    if "document" not in _DOCUMENT:
        found = copy.deepcopy(spec.spec)
        for methods in found.get("paths", {}).values():
            for operation in methods.values():
                for status, answer in operation.get("responses", {}).items():
                    content = answer.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        content[MEDIA_TYPE] = content.pop("application/json")
        _DOCUMENT["document"] = found
    return _DOCUMENT["document"]


_DOCUMENT = {}


@bp.route("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of this API (no token needed: it holds no data)."""
    return document(), 200, {"Cache-Control": "public, max-age=300"}


@bp.route("/docs")
def reference():
    """The API's reference, readable without anything from the internet: every operation
    with its parameters, body and answers, from the OpenAPI document."""
    found = document()
    return render_template("api/reference.html", document=found,
                           schemas=found.get("components", {}).get("schemas", {}),
                           operations=_operations(found)), 200, {"Cache-Control": "no-cache"}


def _operations(document):
    """The document's operations in their order, grouped by tag: [(tag, [operation])]."""
    groups = {}
    for path, methods in document.get("paths", {}).items():
        for method, operation in methods.items():
            tag = (operation.get("tags") or ["Other"])[0]
            groups.setdefault(tag, []).append({**operation, "method": method.upper(),
                                               "path": path})
    return list(groups.items())


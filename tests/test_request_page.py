"""The request page (tickets/views/request_page.py): every action on it that is refused comes back
to it, with the error on its field, the input as sent and its form open; a conflict shows the
page as it is now, with fresh forms."""
from types import SimpleNamespace

import pytest

from tickets.extensions import db
from tickets.models import Request

# A real path of transitions (who, name, inputs) from submission to each state.
PATHS = {
    "submitted": [],
    "waitlisted": [("system", "waitlist", {"note": "Over budget."})],
    "needs_info": [("analyst", "ask", {"note": "Which regions?"})],
    "accepted": [("analyst", "accept", {"size": "M"})],
    "in_progress": [("analyst", "accept", {"size": "M"}), ("analyst", "claim", {})],
    "blocked": [("analyst", "accept", {"size": "M"}), ("analyst", "claim", {}),
                ("analyst", "block", {"note": "No access."})],
    "delivered": [("analyst", "accept", {"size": "M"}), ("analyst", "claim", {}),
                  ("analyst", "deliver", {"url": "https://bi.example.com/d", "note": "Here."})],
}

LONG = " ".join(["kept words"] * 1000)  # 10,999 characters: too long for any note


def case(action, state, who, fields, error_field, message, kept=None, *, path=None,
         prefix=None, open_panel=None, version=True, id=None):
    """One action sent back to the request page: ``fields`` (without the form's prefix) put
    ``message`` on field ``error_field``; ``kept`` must show again; ``open_panel`` is the id
    of the panel that must be open (default: the transition's)."""
    prefix = action if prefix is None else prefix
    return pytest.param(SimpleNamespace(
        action=action, state=state, who=who, fields=fields, error_field=error_field,
        message=message, kept=kept, prefix=prefix, version=version,
        path=path or f"/requests/{{id}}/actions/{action}",
        open_panel=open_panel if open_panel is not None else f"action-{action}"),
        id=id or action)


INVALID = [
    case("accept", "submitted", "analyst", {"note": "kept accept note"}, "accept-size",
         "Choose a size estimate.", "kept accept note"),
    case("approve", "waitlisted", "lead", {"size": "XXL", "note": "kept approve note"},
         "approve-size", "Choose a size estimate.", "kept approve note"),
    case("ask", "submitted", "analyst", {"note": LONG}, "ask-note", "longer than 10000", LONG),
    # The answer form of an older page: the reply box beside the question shows its error.
    case("answer", "needs_info", "requester", {"note": LONG}, "reply-text", "longer than 10000",
         LONG, open_panel=""),
    case("reply", "needs_info", "requester", {"text": LONG}, "reply-text",
         "Keep your reply under 10,000 characters.", LONG, path="/requests/{id}/reply",
         version=False, open_panel=""),
    case("claim", "accepted", "analyst", {}, "claim-version", "This form is out of date",
         version=False, open_panel=""),
    case("assign", "accepted", "lead", {"assignee": ""}, "assign-assignee",
         "Choose who works on the request."),
    case("block", "in_progress", "analyst", {"note": LONG}, "block-note", "longer than 10000",
         LONG),
    case("unblock", "blocked", "analyst", {}, "unblock-version", "This form is out of date",
         version=False, open_panel=""),
    case("unclaim", "in_progress", "analyst", {}, "unclaim-version", "This form is out of date",
         version=False, open_panel=""),
    case("deliver", "in_progress", "analyst", {"url": "not a link", "note": "kept delivery note"},
         "deliver-url", "Enter a full link starting with https://", "kept delivery note"),
    case("confirm", "delivered", "requester", {"rating": "9", "note": "kept feedback"},
         "confirm-rating", "Choose a rating from 1 to 5.", "kept feedback"),
    case("reopen", "delivered", "requester", {"note": LONG}, "reopen-note", "longer than 10000",
         LONG),
    case("decline", "submitted", "analyst", {"reason": "", "note": "kept explanation"},
         "decline-reason", "Choose why the request is declined.", "kept explanation"),
    case("mark_duplicate", "submitted", "analyst", {"original": "abc", "note": "kept dup note"},
         "mark_duplicate-original", "Nothing you can see matches \u201cabc\u201d", "kept dup note"),
    case("cancel", "submitted", "requester", {"note": LONG}, "cancel-note",
         "Keep it under 10,000 characters.", LONG),
    case("comment", "submitted", "requester", {"text": LONG}, "text",
         "Keep comments under 10,000 characters.", LONG, path="/requests/{id}/comments",
         prefix="", version=False, open_panel=""),
    case("kind", "submitted", "analyst", {"kind": "nonsense", "note": "kept kind note"},
         "kind-kind", "Choose the kind of request.", "kept kind note",
         path="/requests/{id}/kind", open_panel="change-kind"),
    case("sla_class", "submitted", "lead", {"sla_class": "bogus", "reason": "kept sla reason"},
         "sla-sla_class", "Choose high, standard, low or follow priority.", "kept sla reason",
         path="/requests/{id}/sla-class", prefix="sla", open_panel="sla-class-form"),
    case("rank", "accepted", "lead", {"position": "abc", "reason": "kept rank reason"},
         "rank-position", "Enter a whole number from 1 to 1000.", "kept rank reason",
         path="/requests/{id}/rank", open_panel="override-form"),
]

# Valid forms the domain refuses (errors.Refusal with a field): the same way back.
REFUSED = [
    case("mark_duplicate", "submitted", "analyst", {"original": "99999", "note": "kept dup"},
         "mark_duplicate-original", "There is no request #99999 that you can see.", "kept dup",
         id="mark_duplicate-of-an-unknown-request"),
    case("kind", "submitted", "analyst", {"kind": "ad_hoc", "note": "kept kind note"},
         "kind-kind", "It is already ad-hoc: choose another kind.", "kept kind note",
         path="/requests/{id}/kind", open_panel="change-kind", id="kind-unchanged"),
    case("sla_class", "submitted", "lead", {"sla_class": "", "reason": "kept sla reason"},
         "sla-sla_class", "That is the class it has already.", "kept sla reason",
         path="/requests/{id}/sla-class", prefix="sla", open_panel="sla-class-form",
         id="sla_class-unchanged"),
]


@pytest.fixture
def desk(make):
    """A team with a requester and an embedded analyst, and a lead."""
    team = make.team("Marketing")
    return SimpleNamespace(team=team, requester=make.user("requester", teams=[team]),
                           analyst=make.user("analyst", teams=[team]), lead=make.user("lead"))


def request_in(make, desk, state):
    request_id = make.request(desk.requester, desk.team)
    for who, name, inputs in PATHS[state]:
        make.act(request_id, name, None if who == "system" else getattr(desk, who), **inputs)
    return request_id


def version_of(app, request_id):
    with app.app_context():
        return db.session.get(Request, request_id).version


def send(app, auth, request_id, sent, version=None):
    """Post ``sent``'s fields as the request page's form does (prefix, token, and the version
    the page showed: ``version``, by default the current one)."""
    mark = f"{sent.prefix}-" if sent.prefix else ""
    data = {f"{mark}csrf_token": auth.token}
    if sent.version:
        data[f"{mark}version"] = version if version is not None else version_of(app, request_id)
    data.update({f"{mark}{key}": value for key, value in sent.fields.items()})
    return auth.client.post(sent.path.format(id=request_id), data=data)


@pytest.mark.parametrize("sent", INVALID + REFUSED)
def test_a_refused_action_shows_the_request_page_with_its_error_its_input_and_its_form_open(
        app, make, auth, desk, errors, sent):
    request_id = request_in(make, desk, sent.state)
    before = version_of(app, request_id)
    auth.login(getattr(desk, sent.who))
    response = send(app, auth, request_id, sent)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"Request #{request_id}" in page and 'id="timeline"' in page  # the request page
    shown = errors(response)
    assert sent.message in shown.get(sent.error_field, ""), shown
    assert set(shown) == {sent.error_field}  # no other form shows an error
    if sent.kept:
        assert sent.kept in page
    if sent.open_panel:
        assert f'class="collapse show" id="{sent.open_panel}"' in page
    assert page.count('class="collapse show"') == (1 if sent.open_panel else 0)
    assert version_of(app, request_id) == before  # nothing was written


STALE = [case("accept", "submitted", "analyst", {"size": "M"}, None, None),
         case("kind", "submitted", "analyst", {"kind": "project"}, None, None,
              path="/requests/{id}/kind"),
         case("sla_class", "submitted", "lead", {"sla_class": "high", "reason": "Board ask."},
              None, None, path="/requests/{id}/sla-class", prefix="sla"),
         case("rank", "accepted", "lead", {"position": "1", "reason": "Board ask."}, None, None,
              path="/requests/{id}/rank")]


@pytest.mark.parametrize("sent", STALE)
def test_a_form_sent_on_a_request_that_changed_meanwhile_shows_the_page_as_it_is_now(
        app, make, auth, desk, errors, sent):
    request_id = request_in(make, desk, sent.state)
    seen = version_of(app, request_id)
    make.act(request_id, "ask", desk.analyst, note="Which regions?")  # someone else, meanwhile
    auth.login(getattr(desk, sent.who))
    response = send(app, auth, request_id, sent, version=seen)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Nothing was changed" in page and 'id="timeline"' in page
    assert errors(response) == {}  # fresh forms: what was sent is out of date
    assert 'class="collapse show"' not in page
    if sent.action != "accept":  # not offered while the requester is asked a question
        now = version_of(app, request_id)
        assert f'name="{sent.prefix}-version" type="hidden" value="{now}"' in page


def test_a_long_history_shows_its_latest_events_with_a_link_to_all_of_them(app, make, auth):
    from datetime import timedelta

    from tickets.models import Event, utcnow

    team = make.team("Marketing")
    requester = make.user("requester", teams=[team])
    request_id = make.request(requester, team)
    with app.app_context():
        start = utcnow()
        db.session.add_all([Event(request_id=request_id, actor_id=requester, kind="comment",
                                  text=f"Comment number {n}.", data={},
                                  created_at=start + timedelta(minutes=n))
                            for n in range(1, 61)])
        db.session.commit()
    auth.login(requester)
    page = auth.client.get(f"/requests/{request_id}").get_data(as_text=True)
    assert page.count('class="timeline-item') == 50
    assert "Comment number 60." in page and "Comment number 11." in page
    assert "Comment number 10." not in page and "submitted the request" not in page
    assert "The latest 50 of 61 events." in page
    assert f'href="/requests/{request_id}?history=all#timeline"' in page
    assert "Show the whole history (61 events)" in page
    whole = auth.client.get(f"/requests/{request_id}?history=all").get_data(as_text=True)
    assert whole.count('class="timeline-item') == 61
    assert "Comment number 1." in whole and "submitted the request" in whole
    assert "Show the whole history" not in whole


def test_a_short_history_shows_whole_without_a_link(app, make, auth):
    team = make.team("Marketing")
    requester = make.user("requester", teams=[team])
    request_id = make.request(requester, team)
    auth.login(requester)
    page = auth.client.get(f"/requests/{request_id}").get_data(as_text=True)
    assert page.count('class="timeline-item') == 1 and "Show the whole history" not in page

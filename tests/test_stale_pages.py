"""A form sent from a page that is out of date (the request moved on, or the page lost its
version) is answered with a message the person can see, never a page that silently refuses.

Found by the fuzz suite (tests/fuzz): the request page shows a form only while it applies, so
errors on a form it no longer shows, or on its hidden version input, were shown nowhere.
"""
from types import SimpleNamespace

import pytest

from tickets.extensions import db
from tickets.models import Event, Request

from tests.fuzz.world import Context, build_world


@pytest.fixture
def desk(app, make):
    world = build_world(make)
    return SimpleNamespace(world=world, context=Context(app, make, world))


def stored(app, make, request_id):
    """The request's state and version, and its number of events, as stored."""
    req = make.get(Request, request_id)
    with app.app_context():
        events = db.session.scalar(db.select(db.func.count(Event.id))
                                   .where(Event.request_id == request_id))
    return req.state, req.version, events


def message(response):
    """The warning the page flashes (the text of its alert), or None."""
    html = response.get_data(as_text=True)
    start = html.find('<div class="alert alert-warning')
    if start < 0:
        return None
    return html[html.index(">", start) + 1:html.index("<button", start)].strip()


def test_action_with_a_mistake_sent_after_the_request_moved_on_says_it_is_no_longer_possible(
        app, make, auth, desk):
    request_id = desk.context.request_in("delivered")
    before = stored(app, make, request_id)
    auth.login(desk.world.analyst)
    response = auth.act(request_id, "block", note="")  # the page still offered "Mark blocked"
    assert response.status_code == 409
    assert message(response) == ("This request is now delivered, so \u201cMark blocked\u201d is no "
                                 "longer possible. Nothing was changed.")
    assert stored(app, make, request_id) == before


def test_queue_move_with_a_mistake_sent_for_a_closed_request_says_it_is_no_longer_queued(
        app, make, auth, desk, client):
    request_id = desk.context.request_in("delivered")
    make.act(request_id, "confirm", desk.world.requester)
    before = stored(app, make, request_id)
    auth.login(desk.world.lead)
    response = client.post(f"/requests/{request_id}/rank", data={
        "rank-csrf_token": auth.token, "rank-position": "first", "rank-reason": "Urgent",
        "rank-version": str(before[1])})
    assert response.status_code == 409
    assert message(response) == "This request is resolved: it is no longer in a queue."
    assert stored(app, make, request_id) == before


def test_queue_move_with_a_mistake_on_a_request_someone_started_shows_the_error(
        app, make, auth, desk, client, errors):
    request_id = desk.context.request_in("in_progress")  # the page showed it accepted
    before = stored(app, make, request_id)
    auth.login(desk.world.lead)
    response = client.post(f"/requests/{request_id}/rank", data={
        "rank-csrf_token": auth.token, "rank-position": "first", "rank-reason": "Urgent",
        "rank-version": str(before[1])})
    assert response.status_code == 400
    assert errors(response) == {"rank-position": "Enter a whole number from 1 to 1000."}
    assert stored(app, make, request_id) == before


@pytest.mark.parametrize("version", [None, "", "abc", "1.5"])
def test_action_without_a_readable_version_asks_to_reload(app, make, auth, desk, errors, client,
                                                          version):
    request_id = desk.context.request_in("accepted")
    before = stored(app, make, request_id)
    auth.login(desk.world.analyst)
    data = {"claim-csrf_token": auth.token}
    if version is not None:
        data["claim-version"] = version
    response = client.post(f"/requests/{request_id}/actions/claim", data=data)
    assert response.status_code == 400
    assert errors(response) == {
        "claim-version": "This form is out of date: reload the page and send it again."}
    assert stored(app, make, request_id) == before


@pytest.mark.parametrize(("path", "prefix", "fields"), [
    ("rank", "rank", {"position": "2", "reason": "Board meeting"}),
    ("sla-class", "sla", {"sla_class": "high", "reason": "Board meeting"}),
])
def test_panel_form_without_a_version_asks_to_reload(app, make, auth, desk, errors, client, path,
                                                     prefix, fields):
    request_id = desk.context.request_in("accepted")
    before = stored(app, make, request_id)
    auth.login(desk.world.lead)
    response = client.post(f"/requests/{request_id}/{path}", data={
        f"{prefix}-csrf_token": auth.token, **{f"{prefix}-{k}": v for k, v in fields.items()}})
    assert response.status_code == 400
    assert errors(response)[f"{prefix}-version"] == (
        "This form is out of date: reload the page and send it again.")
    assert stored(app, make, request_id) == before


def test_action_without_a_picker_sent_from_a_page_someone_else_changed_says_so(app, make, auth,
                                                                                 desk):
    # Found by the fuzz suite: the refusal of a form without a search picker (ask, block,
    # reopen...) failed with a 500 while the view looked for the picker's candidates.
    request_id = desk.context.request_in("accepted")
    before = stored(app, make, request_id)
    auth.login(desk.world.analyst)
    response = auth.act(request_id, "ask", version=before[1] - 1, note="Which regions?")
    assert response.status_code == 409
    assert message(response) == ("Someone else changed this request while you were looking at "
                                 "it (it is now accepted). Nothing was changed; review it and "
                                 "try again.")
    assert stored(app, make, request_id) == before

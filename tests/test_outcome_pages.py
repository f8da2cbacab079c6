"""The pages where people answer follow-ups (issue 13): the mail's one-click answer link (no
log-in, a GET changes nothing, one answer only, every broken link refused with a clear page),
the full answer on the request page, the list of follow-ups waiting, the navigation's prompt,
and the "I will know by" day at confirmation."""
import re
import time
from datetime import date, timedelta
from unittest import mock

import pytest

from tests.fuzz.world import differences, snapshot
from tickets import localtime, outcomes
from tickets.extensions import db
from tickets.models import Event, FollowUp, utcnow

DELIVERY = {"url": "https://bi.example.com/churn", "note": "Filter by region."}


@pytest.fixture
def world(make):
    team = make.team("Marketing")
    other_team = make.team("Finance")
    return {
        "team": team,
        "requester": make.user("requester", teams=[team], name="Rita Requester"),
        "colleague": make.user("requester", teams=[team], name="Carl Colleague"),
        "outsider": make.user("requester", teams=[other_team], name="Olga Outsider"),
        "analyst": make.user("analyst", teams=[team], name="Ana Analyst"),
    }


def delivered(make, world, **fields):
    request_id = make.request(world["requester"], world["team"], **fields)
    make.act(request_id, "accept", world["analyst"], size="S")
    make.act(request_id, "claim", world["analyst"])
    make.act(request_id, "deliver", world["analyst"], **DELIVERY)
    return request_id


def resolved(make, world, **fields):
    """A request confirmed by its requester; returns (request id, follow-up id)."""
    request_id = delivered(make, world, **fields)
    make.act(request_id, "confirm", world["requester"])
    with make.app.app_context():
        return request_id, db.session.scalar(
            db.select(FollowUp.id).where(FollowUp.request_id == request_id))


def ask_all(app):
    """Ask every scheduled follow-up now (as `flask followups send --force`)."""
    with app.app_context():
        result = outcomes.send_due(utcnow(), force=True)
        db.session.commit()
        return result


def token(app, follow_up_id, outcome, days_old=0):
    """The answer link's token as a follow-up mail carries it, signed ``days_old`` days ago."""
    real = time.time
    with app.app_context(), mock.patch("time.time", lambda: real() - days_old * 86400):
        return outcomes.link_token(db.session.get(FollowUp, follow_up_id), outcome)


def follow_up_row(make, follow_up_id):
    return make.get(FollowUp, follow_up_id)


def outcome_events(app, request_id):
    with app.app_context():
        return [(e.actor_id, e.data, e.text) for e in outcomes.history(request_id)]


def csrf_of(page):
    return re.search(r'name="(?:[\w-]+-)?csrf_token" type="hidden" value="([^"]+)"',
                     page.get_data(as_text=True)).group(1)


def today(app):
    with app.app_context():
        return localtime.local_today(utcnow())


def post_link(client, link_token, **fields):
    """Open the answer link's page, then press its button with ``fields`` (as a browser)."""
    landing = client.get(f"/follow-ups/answer/{link_token}")
    data = {"csrf_token": csrf_of(landing) if landing.status_code == 200
            else _any_csrf(client), **fields}
    return client.post(f"/follow-ups/answer/{link_token}", data=data)


def _any_csrf(client):
    """A CSRF token of this client's session (from the log-in form, or once logged in, from
    the intake form)."""
    page = client.get("/login")
    return csrf_of(client.get("/requests/new") if page.status_code == 302 else page)


# --- The answer link ----------------------------------------------------------------------------

def test_the_answer_link_page_shows_the_question_and_a_get_changes_nothing(app, make, world,
                                                                            client):
    request_id, follow_up_id = resolved(make, world)
    link = token(app, follow_up_id, "decided_not_to_act")
    before = snapshot(app)
    page = client.get(f"/follow-ups/answer/{link}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Weekly churn by region" in html
    assert "Retention in the south region." in html  # the levers they stated
    assert "Move retention budget to the worst region." in html
    assert re.search(r'<input[^>]*checked[^>]*value="decided_not_to_act"', html)
    assert html.count('type="submit"') == 1 and "Record my answer" in html
    assert not differences(before, snapshot(app))
    assert follow_up_row(make, follow_up_id).outcome is None


def test_the_link_records_the_first_answer_without_logging_in(app, make, world, client):
    request_id, follow_up_id = resolved(make, world)
    page = post_link(client, token(app, follow_up_id, "acted"), outcome="acted", reason="")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "your answer is recorded" in html and "Acted on it" in html
    assert f'/login?next=/requests/{request_id}%23outcome' in html
    row = follow_up_row(make, follow_up_id)
    assert (row.status, row.outcome, row.answered_by_id) == ("answered", "acted",
                                                             world["requester"])
    assert outcome_events(app, request_id) == [
        (world["requester"], {"follow_up_id": follow_up_id, "outcome": "acted", "via": "mail"},
         "")]


def test_the_person_may_change_the_links_answer_on_its_page_before_sending(app, make, world,
                                                                           client):
    request_id, follow_up_id = resolved(make, world)
    page = post_link(client, token(app, follow_up_id, "acted"), outcome="not_used",
                     reason="too_late")
    assert page.status_code == 200 and "(it came too late for the decision)" in page.get_data(as_text=True)
    row = follow_up_row(make, follow_up_id)
    assert (row.outcome, row.not_used_reason) == ("not_used", "too_late")


def test_not_used_without_a_reason_is_a_field_error_and_nothing_changes(app, make, world, client,
                                                                        errors):
    _, follow_up_id = resolved(make, world)
    link = token(app, follow_up_id, "not_used")
    landing = client.get(f"/follow-ups/answer/{link}")
    before = snapshot(app)
    page = client.post(f"/follow-ups/answer/{link}",
                       data={"csrf_token": csrf_of(landing), "outcome": "not_used", "reason": ""})
    assert page.status_code == 400
    assert "Say why it was not used" in errors(page)["reason"]
    assert not differences(before, snapshot(app))


def _forged(app, follow_up_id):
    good = token(app, follow_up_id, "acted")
    return good[:-3] + ("abc" if not good.endswith("abc") else "xyz")


@pytest.mark.parametrize("case, status, words", [
    ("forged", 400, "This link is not valid"),
    ("expired", 410, "This link has expired"),
    ("used", 409, "has an answer already"),
    ("foreign", 403, "sent to someone else"),
])
def test_a_broken_link_is_refused_with_a_clear_page_and_nothing_changes(
        app, make, world, client, auth, case, status, words):
    request_id, follow_up_id = resolved(make, world)
    link = {
        "forged": lambda: _forged(app, follow_up_id),
        "expired": lambda: token(app, follow_up_id, "acted", days_old=outcomes.LINK_DAYS + 1),
        "used": lambda: token(app, follow_up_id, "not_yet"),
        "foreign": lambda: token(app, follow_up_id, "acted"),
    }[case]()
    if case == "used":
        assert post_link(client, token(app, follow_up_id, "acted"),
                         outcome="acted").status_code == 200
    if case == "foreign":
        auth.login(world["colleague"])
    before = snapshot(app)
    for page in (client.get(f"/follow-ups/answer/{link}"),
                 client.post(f"/follow-ups/answer/{link}",
                             data={"csrf_token": _any_csrf(client), "outcome": "not_yet"})):
        html = page.get_data(as_text=True)
        assert page.status_code == status
        assert words in html and 'role="alert"' in html
        assert "Record my answer" not in html
    assert not differences(before, snapshot(app))
    if case == "used":  # it says what was answered, and where to change it
        assert "the answer recorded is <strong class=\"recorded-outcome\">Acted on it" in html
        assert f"/login?next=/requests/{request_id}%23outcome" in html
    else:
        assert "Weekly churn by region" not in html


def test_a_second_answer_through_another_link_is_refused_as_used(app, make, world, client):
    request_id, follow_up_id = resolved(make, world)
    first = token(app, follow_up_id, "acted")
    second = token(app, follow_up_id, "not_yet")
    # Both pages opened before either button is pressed: the second press comes too late.
    second_page = client.get(f"/follow-ups/answer/{second}")
    assert post_link(client, first, outcome="acted").status_code == 200
    page = client.post(f"/follow-ups/answer/{second}",
                       data={"csrf_token": csrf_of(second_page), "outcome": "not_yet"})
    assert page.status_code == 409
    assert follow_up_row(make, follow_up_id).outcome == "acted"
    assert len(outcome_events(app, request_id)) == 1


def test_the_recipient_logged_in_goes_straight_to_the_request_page(app, make, world, auth):
    request_id, follow_up_id = resolved(make, world)
    auth.login(world["requester"])
    page = post_link(auth.client, token(app, follow_up_id, "acted"), outcome="acted")
    assert f'href="/requests/{request_id}#outcome"' in page.get_data(as_text=True)


# --- The request page -------------------------------------------------------------------------

def answers_stored(app):
    """The follow-ups and events stored (what an answer would change)."""
    stored = snapshot(app)
    return stored["follow_ups"], stored["events"]


def log_in_as(auth, user_id):
    """Log the client in as ``user_id``, whoever was logged in before."""
    auth.logout()
    auth.login(user_id)


def answer_on_page(auth, request_id, **fields):
    return auth.post(f"/requests/{request_id}/outcome",
                     data={f"outcome-{key}": value for key, value in fields.items()})


def test_the_request_page_shows_levers_beside_what_happened_and_the_form_for_the_person_asked(
        app, make, world, auth):
    request_id, follow_up_id = resolved(make, world)
    ask_all(app)
    auth.login(world["requester"])
    html = auth.client.get(f"/requests/{request_id}").get_data(as_text=True)
    assert 'id="outcome"' in html and "Levers stated" in html and "What happened" in html
    assert "Not answered yet — we asked Rita Requester on" in html
    assert 'class="collapse show" id="outcome-answer"' in html  # waiting: open
    assert "Datadesk</strong>" in html and "asked Rita Requester whether the data was used" in html
    log_in_as(auth, world["analyst"])
    html = auth.client.get(f"/requests/{request_id}").get_data(as_text=True)
    assert "What happened" in html and 'id="outcome-answer"' not in html


def test_a_scheduled_follow_up_says_when_we_ask(app, make, world, auth):
    request_id, follow_up_id = resolved(make, world)
    auth.login(world["colleague"])
    html = auth.client.get(f"/requests/{request_id}").get_data(as_text=True)
    with app.app_context():
        day = localtime.local_today(db.session.get(FollowUp, follow_up_id).due_at)
    assert f"we ask Rita Requester on {day.strftime('%a %-d %b %Y')}" in html


def test_only_the_person_asked_answers_on_the_page(app, make, world, auth):
    request_id, follow_up_id = resolved(make, world)
    before = answers_stored(app)
    auth.login(world["analyst"])
    assert answer_on_page(auth, request_id, outcome="acted").status_code == 403
    log_in_as(auth, world["colleague"])  # sees the request (same team), was not asked
    assert answer_on_page(auth, request_id, outcome="acted").status_code == 403
    log_in_as(auth, world["outsider"])
    assert answer_on_page(auth, request_id, outcome="acted").status_code == 404
    assert answers_stored(app) == before  # logging in changed the users' rows, nothing else


def test_the_answer_on_the_page_can_be_updated_and_keeps_its_history(app, make, world, auth):
    request_id, follow_up_id = resolved(make, world)
    auth.login(world["requester"])
    first = answer_on_page(auth, request_id, outcome="not_yet")
    assert first.status_code == 302 and first.location.endswith(f"/requests/{request_id}#outcome")
    second = answer_on_page(auth, request_id, outcome="acted",
                            decision="Moved the budget to the south", note="Saved a quarter")
    assert second.status_code == 302
    row = follow_up_row(make, follow_up_id)
    assert (row.outcome, row.decision, row.note) == ("acted", "Moved the budget to the south",
                                                     "Saved a quarter")
    events = outcome_events(app, request_id)
    assert [(data["outcome"], data["via"], data.get("previous")) for _, data, _ in events] == [
        ("not_yet", "page", None), ("acted", "page", "not_yet")]
    html = auth.client.get(f"/requests/{request_id}").get_data(as_text=True)
    assert "changed from Not used yet" in html
    assert "Moved the budget to the south" in html and "Saved a quarter" in html
    assert "Change the answer" in html and 'class="collapse" id="outcome-answer"' in html


def test_an_incomplete_answer_on_the_page_shows_the_field_error_with_the_form_open(
        app, make, world, auth, errors):
    request_id, _ = resolved(make, world)
    auth.login(world["requester"])
    before = snapshot(app)
    page = answer_on_page(auth, request_id, outcome="not_used", reason="", decision="kept words")
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "Say why it was not used" in errors(page)["outcome-reason"]
    assert 'class="collapse show" id="outcome-answer"' in html and "kept words" in html
    assert not differences(before, snapshot(app))
    page = answer_on_page(auth, request_id, outcome="sideways")
    assert page.status_code == 400 and "Choose what became" in errors(page)["outcome-outcome"]
    page = answer_on_page(auth, request_id, outcome="acted", decision="x" * 2001)
    assert page.status_code == 400 and "under 2,000" in errors(page)["outcome-decision"]


# --- Waiting follow-ups and the prompt ----------------------------------------------------------

def test_follow_ups_waiting_are_listed_counted_in_the_navigation_and_on_my_requests(
        app, make, world, auth):
    auth.login(world["requester"])
    empty = auth.client.get("/follow-ups").get_data(as_text=True)
    assert "No follow-up is waiting for you" in empty
    assert "waiting-on-you" not in auth.client.get("/requests/mine").get_data(as_text=True)
    request_id, _ = resolved(make, world)
    resolved(make, world, title="Signups by channel")  # scheduled, not asked yet: not waiting
    assert "follow-ups-link" not in auth.client.get("/requests/mine").get_data(as_text=True)
    ask_all(app)
    html = auth.client.get("/follow-ups").get_data(as_text=True)
    assert html.count('class="card shadow-sm mb-3 follow-up-item"') == 2
    assert f'href="/requests/{request_id}#outcome"' in html
    assert "Retention in the south region." in html
    mine = auth.client.get("/requests/mine").get_data(as_text=True)
    assert re.search(r'Follow-ups <span class="badge[^"]*">2</span>', mine)
    # My requests puts what waits on the requester first, each follow-up with its answer link.
    assert mine.count("waiting-item waiting-follow_up") == 2
    assert f'href="/requests/{request_id}#outcome">Answer the follow-up' in mine
    log_in_as(auth, world["colleague"])
    assert "follow-ups-link" not in auth.client.get("/requests/mine").get_data(as_text=True)
    assert "No follow-up is waiting" in auth.client.get("/follow-ups").get_data(as_text=True)


def test_the_follow_ups_page_costs_the_same_statements_with_more_waiting(app, make, world, auth,
                                                                        statements):
    resolved(make, world)
    ask_all(app)
    auth.login(world["requester"])
    auth.client.get("/follow-ups")
    few = statements[-1]
    for n in range(3):
        resolved(make, world, title=f"More data {n}")
    ask_all(app)
    page = auth.client.get("/follow-ups")
    assert page.get_data(as_text=True).count("follow-up-item") == 4
    assert statements[-1] == few


def test_the_request_page_with_a_follow_up_costs_the_same_statements_with_more_answers(
        app, make, world, auth, statements):
    request_id, _ = resolved(make, world)
    ask_all(app)
    auth.login(world["requester"])
    answer_on_page(auth, request_id, outcome="not_yet")
    auth.client.get(f"/requests/{request_id}")
    few = statements[-1]
    for outcome in ("acted", "not_used", "decided_not_to_act"):
        answer_on_page(auth, request_id, outcome=outcome, reason="too_late", note="n")
    auth.client.get(f"/requests/{request_id}")
    assert statements[-1] == few


# --- "I will know by" at confirmation ---------------------------------------------------------

def test_confirming_with_a_know_by_day_schedules_the_follow_up_on_it(app, make, world, auth):
    request_id = delivered(make, world)
    auth.login(world["requester"])
    page = auth.client.get(f"/requests/{request_id}").get_data(as_text=True)
    assert "When will you know whether it was used? (optional)" in page
    assert "asked 5 business days after confirming (the usual for ad-hoc requests)" in page
    day = today(app) + timedelta(days=40)
    assert auth.act(request_id, "confirm", know_by=day.isoformat()).status_code == 302
    with app.app_context():
        row = db.session.scalar(db.select(FollowUp).where(FollowUp.request_id == request_id))
        assert row.know_by == day
        event = db.session.scalars(db.select(Event).where(
            Event.request_id == request_id, Event.action == "confirm")).one()
        assert event.data["know_by"] == day.isoformat()
    page = auth.client.get(f"/requests/{request_id}").get_data(as_text=True)
    assert f"Will know whether it was used by {day:%a %-d %b %Y}" in page


@pytest.mark.parametrize("day, message", [
    (lambda today: today.isoformat(), "Choose a day after today."),
    (lambda today: (today - timedelta(days=3)).isoformat(), "Choose a day after today."),
    (lambda today: (today + timedelta(days=400)).isoformat(), "Choose a day within a year."),
    (lambda today: "31/02/2027", "Not a valid date value."),
])
def test_a_know_by_day_out_of_range_is_a_field_error(app, make, world, auth, errors, day,
                                                     message):
    request_id = delivered(make, world)
    auth.login(world["requester"])
    page = auth.act(request_id, "confirm", know_by=day(today(app)))
    assert page.status_code == 400
    assert message in errors(page)["confirm-know_by"]
    assert make.state(request_id) == "delivered"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(FollowUp)) == 0


def test_confirming_without_a_day_asks_after_the_kinds_default(app, make, world, auth):
    request_id = delivered(make, world, kind="project")
    auth.login(world["requester"])
    html = auth.client.get(f"/requests/{request_id}").get_data(as_text=True)
    assert "asked 20 business days after confirming (the usual for project requests)" in html
    assert auth.act(request_id, "confirm", know_by="").status_code == 302
    with app.app_context():
        row = db.session.scalar(db.select(FollowUp).where(FollowUp.request_id == request_id))
        assert row.know_by is None
        # 20 business days: four weeks at least.
        assert row.due_at.date() >= date.today() + timedelta(days=26)

"""WIP limits (DESIGN.md, Limits) and lead assignment: claim and assign are refused once the
analyst who would work on the request holds their limit of requests in progress or blocked."""
import threading
from types import SimpleNamespace

import pytest

from tickets import lifecycle
from tickets import wip as wip_limits
from tickets.extensions import db
from tickets.models import Event, Request, User
from tickets.wip import wip_count


@pytest.fixture
def desk(make):
    """Finance, a requester, two Finance analysts, a Marketing analyst and a lead."""
    finance = make.team("Finance")
    marketing = make.team("Marketing")
    requester = make.user("requester", teams=[finance])
    return SimpleNamespace(
        finance=finance, requester=requester,
        analyst=make.user("analyst", teams=[finance], name="Priya Nair"),
        colleague=make.user("analyst", teams=[finance], name="Sam Okafor"),
        outsider=make.user("analyst", teams=[marketing], name="Lena Berg"),
        lead=make.user("lead", name="Dana Lead"),
    )


def accepted(make, desk, **fields):
    request_id = make.request(desk.requester, desk.finance, **fields)
    make.act(request_id, "accept", desk.lead, size="M")
    return request_id


def claimed(make, desk, analyst, count):
    """``count`` requests claimed by ``analyst``; return their ids."""
    ids = []
    for _ in range(count):
        request_id = accepted(make, desk)
        make.act(request_id, "claim", analyst)
        ids.append(request_id)
    return ids


def attempt(app, request_id, name, actor, **inputs):
    """Take ``name``; return the error it raised (None when it was taken), rolling back on error."""
    with app.app_context():
        req = db.session.get(Request, request_id)
        if "assignee" in inputs:
            inputs["assignee"] = db.session.get(User, inputs["assignee"])
        try:
            lifecycle.transition(req, name, db.session.get(User, actor), **inputs)
            db.session.commit()
        except lifecycle.TransitionError as error:
            db.session.rollback()
            return error
    return None


def wip(app, user_id):
    with app.app_context():
        return wip_count(db.session.get(User, user_id))


# --- Claim --------------------------------------------------------------------------------

def test_claim_is_refused_at_the_default_limit_with_the_numbers(app, make, desk):
    claimed(make, desk, desk.analyst, 3)
    request_id = accepted(make, desk)
    error = attempt(app, request_id, "claim", desk.analyst)
    assert isinstance(error, lifecycle.LimitReached)
    assert str(error) == ("You have 3 of 3 requests in progress or blocked; "
                          "finish or unclaim one first.")
    after = make.get(Request, request_id)
    assert (after.state, after.assignee_id) == ("accepted", None)
    assert wip(app, desk.analyst) == 3


def test_claim_follows_the_analysts_own_limit_and_the_changed_default(app, make, desk):
    make.wip_limit(desk.analyst, 1)
    claimed(make, desk, desk.analyst, 1)
    error = attempt(app, accepted(make, desk), "claim", desk.analyst)
    assert "1 of 1" in str(error)

    with app.app_context():
        from tickets import settings
        settings.update({"wip_limit_default": 2}, None, lifecycle.utcnow())
        db.session.commit()
    claimed(make, desk, desk.colleague, 2)
    error = attempt(app, accepted(make, desk), "claim", desk.colleague)
    assert "2 of 2" in str(error)

    make.wip_limit(desk.analyst, 5)  # an own limit above the default
    assert attempt(app, accepted(make, desk), "claim", desk.analyst) is None


def test_blocked_requests_count_toward_wip(app, make, desk):
    first, *_ = claimed(make, desk, desk.analyst, 3)
    make.act(first, "block", desk.analyst, note="No access to the ledger.")
    assert wip(app, desk.analyst) == 3
    assert isinstance(attempt(app, accepted(make, desk), "claim", desk.analyst),
                      lifecycle.LimitReached)


def test_delivered_requests_do_not_count(app, make, desk):
    first, *_ = claimed(make, desk, desk.analyst, 3)
    make.act(first, "deliver", desk.analyst, url="https://bi.example.com/d/1", note="Here.")
    assert wip(app, desk.analyst) == 2
    assert attempt(app, accepted(make, desk), "claim", desk.analyst) is None


def test_unclaim_frees_capacity(app, make, desk):
    first, *_ = claimed(make, desk, desk.analyst, 3)
    make.act(first, "unclaim", desk.analyst)
    assert attempt(app, accepted(make, desk), "claim", desk.analyst) is None
    assert wip(app, desk.analyst) == 3


def test_the_claim_refusal_answers_409_with_the_message(app, make, desk, auth):
    claimed(make, desk, desk.analyst, 3)
    request_id = accepted(make, desk)
    auth.login(desk.analyst)
    response = auth.act(request_id, "claim")
    assert response.status_code == 409
    assert "You have 3 of 3 requests in progress or blocked" in response.get_data(as_text=True)
    assert make.state(request_id) == "accepted"


def test_the_request_page_shows_the_analysts_wip_next_to_claim(app, make, desk, auth):
    claimed(make, desk, desk.analyst, 2)
    request_id = accepted(make, desk)
    auth.login(desk.analyst)
    html = auth.client.get(f"/requests/{request_id}").get_data(as_text=True)
    assert f'/requests/{request_id}/actions/claim' in html
    assert "2 of 3 in progress" in html


# --- Assign -------------------------------------------------------------------------------

def test_lead_assigns_an_accepted_request_and_the_event_names_the_analyst(app, make, desk, auth):
    request_id = accepted(make, desk)
    auth.login(desk.lead)
    response = auth.act(request_id, "assign", assignee=desk.analyst)
    assert response.status_code == 302
    after = make.get(Request, request_id)
    assert (after.state, after.assignee_id) == ("in_progress", desk.analyst)
    with app.app_context():
        event = db.session.scalars(db.select(Event).where(
            Event.request_id == request_id, Event.action == "assign")).one()
        assert (event.actor_id, event.from_state, event.to_state) == (
            desk.lead, "accepted", "in_progress")
        assert event.data == {"assignee_id": desk.analyst, "assignee_name": "Priya Nair"}
    html = auth.client.get(f"/requests/{request_id}").get_data(as_text=True)
    assert "assigned the request to Priya Nair" in html


def test_a_lead_may_assign_an_analyst_of_another_team(app, make, desk):
    request_id = accepted(make, desk)
    assert attempt(app, request_id, "assign", desk.lead, assignee=desk.outsider) is None
    assert make.get(Request, request_id).assignee_id == desk.outsider


def test_the_assign_form_lists_active_analysts_and_leads_with_their_wip(app, make, desk, auth):
    claimed(make, desk, desk.analyst, 2)
    make.wip_limit(desk.colleague, 4)
    make.user("analyst", teams=[desk.finance], name="Gone Away", is_active=False)
    make.user("requester", teams=[desk.finance], name="Rita Requester")
    request_id = accepted(make, desk)
    auth.login(desk.lead)
    html = auth.client.get(f"/requests/{request_id}").get_data(as_text=True)
    assert "Priya Nair (2 of 3)" in html
    assert "Sam Okafor (0 of 4)" in html
    assert "Lena Berg (0 of 3)" in html
    assert "Dana Lead (0 of 3)" in html
    assert "Gone Away" not in html and "Rita Requester" not in html


def test_assign_is_refused_past_the_assignees_limit_naming_them(app, make, desk, auth):
    claimed(make, desk, desk.analyst, 3)
    request_id = accepted(make, desk)
    error = attempt(app, request_id, "assign", desk.lead, assignee=desk.analyst)
    assert isinstance(error, lifecycle.LimitReached)
    assert "Priya Nair has 3 of 3 requests in progress or blocked" in str(error)
    auth.login(desk.lead)
    response = auth.act(request_id, "assign", assignee=desk.analyst)
    assert response.status_code == 409
    assert "Priya Nair has 3 of 3" in response.get_data(as_text=True)
    after = make.get(Request, request_id)
    assert (after.state, after.assignee_id) == ("accepted", None)


@pytest.mark.parametrize("who", ["requester", "inactive", "nobody"])
def test_assign_needs_an_active_analyst_or_lead(app, make, desk, who):
    request_id = accepted(make, desk)
    assignee = {"requester": desk.requester,
                "inactive": make.user("analyst", teams=[desk.finance], is_active=False)}.get(who)
    inputs = {"assignee": assignee} if assignee else {}
    error = attempt(app, request_id, "assign", desk.lead, **inputs)
    assert isinstance(error, lifecycle.MissingInput)
    assert error.field == "assignee"
    assert make.state(request_id) == "accepted"


def test_assign_form_refuses_someone_not_offered(app, make, desk, auth):
    request_id = accepted(make, desk)
    auth.login(desk.lead)
    response = auth.act(request_id, "assign", assignee=desk.requester)
    assert response.status_code == 400
    assert make.state(request_id) == "accepted"


def test_an_analyst_cannot_assign(app, make, desk, auth):
    request_id = accepted(make, desk)
    auth.login(desk.analyst)
    response = auth.act(request_id, "assign", assignee=desk.colleague)
    assert response.status_code == 403
    assert make.state(request_id) == "accepted"
    assert isinstance(attempt(app, request_id, "assign", desk.analyst, assignee=desk.colleague),
                      lifecycle.NotAllowed)


def test_assigning_a_confidential_request_makes_it_visible_to_the_assignee(app, make, desk,
                                                                          auth):
    request_id = accepted(make, desk, is_confidential=True)
    auth.login(desk.analyst)
    assert auth.client.get(f"/requests/{request_id}").status_code == 404
    assert attempt(app, request_id, "assign", desk.lead, assignee=desk.analyst) is None
    response = auth.client.get(f"/requests/{request_id}")
    assert response.status_code == 200
    assert "Deliver" in response.get_data(as_text=True)


def test_the_request_page_costs_the_same_sql_whatever_the_number_of_people(app, make, desk,
                                                                           auth, statements):
    request_id = accepted(make, desk)
    auth.login(desk.lead)

    def cost():
        auth.client.get(f"/requests/{request_id}")  # warm
        del statements[:]
        assert auth.client.get(f"/requests/{request_id}").status_code == 200
        return statements[-1]

    small = cost()
    for _ in range(6):
        analyst = make.user("analyst", teams=[desk.finance])
        claimed(make, desk, analyst, 2)
    large = cost()
    assert small == large


# --- Races --------------------------------------------------------------------------------

def test_two_claims_at_once_by_an_analyst_one_below_the_limit_reach_it_and_no_more(app, make,
                                                                                   desk):
    claimed(make, desk, desk.analyst, 2)  # limit 3: room for exactly one more
    requests = [accepted(make, desk), accepted(make, desk)]
    barrier = threading.Barrier(2)
    outcomes = [None, None]

    def claim(index):
        with app.app_context():
            req = db.session.get(Request, requests[index])
            analyst = db.session.get(User, desk.analyst)
            barrier.wait()
            try:
                lifecycle.transition(req, "claim", analyst)
                db.session.commit()
                outcomes[index] = "claimed"
            except lifecycle.LimitReached:
                db.session.rollback()
                outcomes[index] = "limit"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["claimed", "limit"]
    assert wip(app, desk.analyst) == 3
    states = sorted(make.state(request_id) for request_id in requests)
    assert states == ["accepted", "in_progress"]


def test_a_stale_count_is_caught_after_the_change_and_rolled_back(app, make, desk,
                                                                  monkeypatch):
    """The second line of defence: whatever the first count said, the claim that takes the
    analyst past their limit is refused once it is written, and nothing of it stays."""
    claimed(make, desk, desk.analyst, 3)
    request_id = accepted(make, desk)
    monkeypatch.setattr(wip_limits, "check_wip", lambda user, actor=None: None)  # a stale "room left"
    error = attempt(app, request_id, "claim", desk.analyst)
    assert isinstance(error, lifecycle.LimitReached)
    assert "3 of 3" in str(error)
    after = make.get(Request, request_id)
    assert (after.state, after.assignee_id) == ("accepted", None)
    assert wip(app, desk.analyst) == 3

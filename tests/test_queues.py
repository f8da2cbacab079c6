"""Queues (issue 3, Priority): the analyst's queue, the leads' backlog, queue positions for
requesters, and leads' rank overrides with a reason; and the SQL cost of each page."""
import html
import re
import threading
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import update

from tests.conftest import AuthActions
from tickets import conversation, lifecycle, priority, queues, settings
from tickets.extensions import db
from tickets.models import Event, RankingVersion, Request, User, utcnow


@pytest.fixture
def desk(make):
    """Marketing and Finance served by Ana, Sales by Sam, People by nobody (central), a lead."""
    marketing, finance, sales = make.team("Marketing"), make.team("Finance"), make.team("Sales")
    people_team = make.team("People")
    return SimpleNamespace(
        marketing=marketing, finance=finance, sales=sales, people=people_team,
        requester=make.user("requester", teams=[marketing], name="Rita Requester"),
        colleague=make.user("requester", teams=[marketing], name="Carl Colleague"),
        finance_requester=make.user("requester", teams=[finance], name="Fred Finance"),
        sales_requester=make.user("requester", teams=[sales], name="Sid Sales"),
        people_requester=make.user("requester", teams=[people_team], name="Pat People"),
        analyst=make.user("analyst", teams=[marketing, finance], name="Ana Analyst"),
        sales_analyst=make.user("analyst", teams=[sales], name="Sam Sales-Analyst"),
        lead=make.user("lead", name="Leo Lead"),
    )


def accepted(make, desk, team=None, requester=None, size="M", **fields):
    """An accepted request (accepted by the lead, who may triage any team's)."""
    request_id = make.request(requester or desk.requester, team or desk.marketing, **fields)
    make.act(request_id, "accept", desk.lead, size=size)
    return request_id


def set_columns(app, request_id, **values):
    """Change stored columns directly, for situations the factories do not build."""
    with app.app_context():
        db.session.execute(update(Request).where(Request.id == request_id).values(**values))
        db.session.commit()


def override(app, request_id, actor, position, reason="The CFO needs it for the board.",
             expected_version=None):
    """Call queues.override_rank; return the error raised, or None when it was saved."""
    with app.app_context():
        req = db.session.get(Request, request_id)
        try:
            queues.override_rank(req, db.session.get(User, actor), position, reason, utcnow(),
                                 expected_version=expected_version)
            db.session.commit()
        except lifecycle.TransitionError as error:
            db.session.rollback()
            return error
    return None


def backlog_ids(app, **filters):
    with app.app_context():
        return [entry.id for entry in queues.backlog(utcnow(), **filters).entries]


def up_next_ids(app, user_id, **filters):
    with app.app_context():
        user = db.session.get(User, user_id)
        return [entry.id for entry in queues.analyst_queue(user, utcnow(), **filters).up_next]


def row_ids(response, table_class):
    """Ids of the requests in the table of class ``table_class``, in page order."""
    page = response.get_data(as_text=True)
    match = re.search(rf'<table class="[^"]*{table_class}[^"]*">(.*?)</table>', page, re.S)
    if match is None:
        return []
    return [int(i) for i in re.findall(r'href="/requests/(\d+)" class="fw-semibold',
                                       match.group(1))]


def text_of(response):
    """The page's text as a reader sees it: no tags, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ",
                                                    response.get_data(as_text=True))))


# --- Order --------------------------------------------------------------------------------

def test_a_team_queue_is_in_score_order(app, make, desk):
    low = accepted(make, desk, business_impact=1, size="L", title="Low")
    high = accepted(make, desk, business_impact=5, size="S", title="High")
    middle = accepted(make, desk, business_impact=3, size="M", title="Middle")
    assert backlog_ids(app) == [high, middle, low]
    assert up_next_ids(app, desk.analyst) == [high, middle, low]


def test_a_close_deadline_and_an_exec_sponsor_raise_a_request(app, make, desk):
    plain = accepted(make, desk, deadline=date.today() + timedelta(days=60))
    sponsored = accepted(make, desk, deadline=date.today() + timedelta(days=60),
                         is_exec_sponsored=True, exec_sponsor="The CEO")
    urgent = accepted(make, desk, deadline=date.today() + timedelta(days=2))
    assert backlog_ids(app) == [urgent, sponsored, plain]


def test_several_team_queues_merge_by_score_keeping_each_teams_order(app, make, desk):
    m_high = accepted(make, desk, business_impact=5, size="S")
    m_low = accepted(make, desk, business_impact=1, size="XL")
    f_mid = accepted(make, desk, team=desk.finance, requester=desk.finance_requester,
                     business_impact=3, size="M")
    assert up_next_ids(app, desk.analyst) == [m_high, f_mid, m_low]
    # A lead pins Marketing's weakest request to the top of Marketing's queue: across teams it
    # now waits for nothing of Marketing's, but Finance's stronger request still comes first.
    assert override(app, m_low, desk.lead, 1) is None
    assert up_next_ids(app, desk.analyst) == [f_mid, m_low, m_high]
    with app.app_context():
        entries = {e.id: e for e in queues.analyst_queue(
            db.session.get(User, desk.analyst), utcnow()).up_next}
    assert (entries[m_low].position, entries[m_low].total) == (1, 2)
    assert (entries[m_high].position, entries[m_high].total) == (2, 2)
    assert (entries[f_mid].position, entries[f_mid].total) == (1, 1)


def test_work_in_progress_comes_first_in_the_backlog_and_is_not_in_any_queue(app, make, desk):
    waiting = accepted(make, desk, business_impact=5, size="S")
    worked = accepted(make, desk, business_impact=1, size="L")
    make.act(worked, "claim", desk.analyst)
    with app.app_context():
        entries = queues.backlog(utcnow()).entries
    assert [e.id for e in entries] == [worked, waiting]
    assert (entries[0].position, entries[1].position, entries[1].total) == (None, 1, 1)


def test_every_entry_explains_its_score(app, make, desk):
    request_id = accepted(make, desk, business_impact=5, size="S", is_exec_sponsored=True,
                          exec_sponsor="CFO", deadline=date.today() + timedelta(days=3))
    with app.app_context():
        entry = queues.backlog(utcnow()).entries[0]
    assert entry.id == request_id
    assert entry.explanation.text == (
        "impact 8 + urgency 5 (due in 3 days) + sponsor 2, / size S (1) + ageing 0.0 = 15.0")


def test_ranking_with_scores_given_is_ranking_with_scores_computed(app, make, desk):
    made = [accepted(make, desk, business_impact=1 + i % 5, size="SMLX"[i % 4].replace("X", "XL"))
            for i in range(8)]
    now = utcnow()
    with app.app_context():
        reqs = db.session.scalars(db.select(Request).where(Request.id.in_(made))).all()
        overrides = {made[5]: 1, made[2]: 3}
        given = {req.id: priority.priority_score(req, now) for req in reqs}
        assert priority.rank(reqs, now, overrides, scores=given) == \
            priority.rank(reqs, now, overrides)


# --- Overrides ----------------------------------------------------------------------------

def test_a_lead_moves_a_request_to_a_position_and_the_event_keeps_the_reason(app, make, desk):
    first = accepted(make, desk, business_impact=5)
    second = accepted(make, desk, business_impact=4)
    third = accepted(make, desk, business_impact=1)
    assert override(app, third, desk.lead, 2, reason="Board meeting on Monday.") is None
    assert backlog_ids(app) == [first, third, second]
    stored = make.get(Request, third)
    assert stored.rank_override == 2
    with app.app_context():
        event = db.session.scalars(db.select(Event).where(
            Event.request_id == third, Event.kind == "override")).one()
        assert (event.actor_id, event.text, event.data) == (
            desk.lead, "Board meeting on Monday.", {"position": [None, 2]})


def test_clearing_an_override_puts_the_request_back_in_score_order(app, make, desk):
    first = accepted(make, desk, business_impact=5)
    last = accepted(make, desk, business_impact=1)
    assert override(app, last, desk.lead, 1) is None
    assert backlog_ids(app) == [last, first]
    assert override(app, last, desk.lead, None, reason="The board moved.") is None
    assert backlog_ids(app) == [first, last]
    with app.app_context():
        data = db.session.scalars(db.select(Event.data).where(
            Event.request_id == last, Event.kind == "override").order_by(Event.id)).all()
    assert data == [{"position": [None, 1]}, {"position": [1, None]}]


def test_an_override_past_the_end_of_the_queue_puts_the_request_last(app, make, desk):
    top = accepted(make, desk, business_impact=5)
    other = accepted(make, desk, business_impact=3)
    assert override(app, top, desk.lead, 40) is None
    assert backlog_ids(app) == [other, top]


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_override_needs_a_reason(app, make, desk, reason):
    request_id = accepted(make, desk)
    error = override(app, request_id, desk.lead, 1, reason=reason)
    assert isinstance(error, lifecycle.MissingInput) and error.field == "reason"
    assert make.get(Request, request_id).rank_override is None


@pytest.mark.parametrize("position", [0, -1, 1001, True, "2"])
def test_an_override_position_is_a_whole_number_from_1_to_1000(app, make, desk, position):
    error = override(app, accepted(make, desk), desk.lead, position)
    assert isinstance(error, lifecycle.MissingInput) and error.field == "position"


def test_clearing_without_an_override_is_refused(app, make, desk):
    error = override(app, accepted(make, desk), desk.lead, None)
    assert isinstance(error, lifecycle.MissingInput)
    assert str(error) == "It has no position override to clear."


@pytest.mark.parametrize("who", ["analyst", "requester", "sales_analyst"])
def test_only_a_lead_overrides_the_rank(app, make, desk, who):
    request_id = accepted(make, desk)
    assert isinstance(override(app, request_id, getattr(desk, who), 1), lifecycle.NotAllowed)
    assert make.get(Request, request_id).rank_override is None


def test_an_override_on_a_stale_version_is_refused(app, make, desk):
    request_id = accepted(make, desk)
    seen = make.get(Request, request_id).version
    make.act(request_id, "ask", desk.analyst, note="Which regions?")
    error = override(app, request_id, desk.lead, 1, expected_version=seen)
    assert isinstance(error, lifecycle.ConcurrentChange)
    assert make.get(Request, request_id).rank_override is None


def test_a_delivered_request_cannot_be_moved(app, make, desk):
    request_id = accepted(make, desk)
    make.act(request_id, "claim", desk.analyst)
    make.act(request_id, "deliver", desk.analyst, url="https://bi.example.com/1", note="Here.")
    assert isinstance(override(app, request_id, desk.lead, 1), lifecycle.InvalidTransition)


def test_a_lead_overrides_from_the_request_page(client, auth, make, desk):
    first = accepted(make, desk, business_impact=5)
    moved = accepted(make, desk, business_impact=1)
    auth.login(desk.lead)
    version = make.get(Request, moved).version
    response = auth.post(f"/requests/{moved}/rank", {
        "rank-csrf_token": auth.token, "rank-version": version, "rank-position": "1",
        "rank-reason": "Needed for Friday's pricing decision."})
    assert response.status_code == 302
    assert response.location == f"/requests/{moved}#queue-place"
    page = text_of(client.get(f"/requests/{moved}"))
    assert "Position 1 of 2 in Marketing\u2019s queue" in page
    assert "A lead moved it: Needed for Friday's pricing decision." in page
    assert "Leo Lead moved it to position 1 in the team's queue" in page
    assert "Position 2 of 2" in text_of(client.get(f"/requests/{first}"))

    version = make.get(Request, moved).version
    response = auth.post(f"/requests/{moved}/rank", {
        "rank-csrf_token": auth.token, "rank-version": version, "rank-clear": "y",
        "rank-reason": "The decision moved to next month."})
    assert response.status_code == 302
    assert make.get(Request, moved).rank_override is None
    page = text_of(client.get(f"/requests/{moved}"))
    assert "Leo Lead cleared the queue position override" in page
    assert "Position 2 of 2" in page


@pytest.mark.parametrize("fields, field_id, message", [
    ({"rank-position": "2", "rank-reason": ""}, "rank-reason", "Say why you move it."),
    ({"rank-position": "top", "rank-reason": "Urgent"}, "rank-position",
     "Enter a whole number from 1 to 1000."),
    ({"rank-position": "0", "rank-reason": "Urgent"}, "rank-position",
     "Enter a whole number from 1 to 1000."),
    ({"rank-position": "", "rank-reason": "Urgent"}, "rank-position",
     "Enter a whole number from 1 to 1000."),
])
def test_bad_override_input_gets_a_field_error(client, auth, make, desk, errors, fields,
                                               field_id, message):
    request_id = accepted(make, desk)
    auth.login(desk.lead)
    response = auth.post(f"/requests/{request_id}/rank", {
        "rank-csrf_token": auth.token, "rank-version": make.get(Request, request_id).version,
        **fields})
    assert response.status_code == 400
    assert errors(response)[field_id] == message
    assert make.get(Request, request_id).rank_override is None


def test_an_override_sent_on_a_stale_page_is_refused_with_a_message(client, auth, make, desk):
    request_id = accepted(make, desk)
    version = make.get(Request, request_id).version
    make.act(request_id, "ask", desk.analyst, note="Which regions?")
    auth.login(desk.lead)
    response = auth.post(f"/requests/{request_id}/rank", {
        "rank-csrf_token": auth.token, "rank-version": version, "rank-position": "1",
        "rank-reason": "Urgent"})
    assert response.status_code == 409
    assert "Someone else changed this request" in response.get_data(as_text=True)
    assert make.get(Request, request_id).rank_override is None


@pytest.mark.parametrize("who", ["analyst", "requester", "sales_analyst"])
def test_only_leads_may_post_an_override(client, auth, make, desk, who):
    request_id = accepted(make, desk)
    auth.login(getattr(desk, who))
    response = auth.post(f"/requests/{request_id}/rank", {
        "rank-csrf_token": auth.token, "rank-version": make.get(Request, request_id).version,
        "rank-position": "1", "rank-reason": "Mine first"})
    assert response.status_code == 403
    assert make.get(Request, request_id).rank_override is None


def test_only_leads_see_the_override_form(client, auth, make, desk):
    request_id = accepted(make, desk)
    auth.login(desk.analyst)
    assert "Move in the queue" not in client.get(f"/requests/{request_id}").get_data(as_text=True)
    auth.logout()
    auth.login(desk.lead)
    assert "Move in the queue" in client.get(f"/requests/{request_id}").get_data(as_text=True)


# --- Positions for requesters ---------------------------------------------------------------

def test_requesters_see_the_position_of_their_accepted_requests(client, auth, make, desk):
    accepted(make, desk, requester=desk.colleague, business_impact=5)
    mine = accepted(make, desk, business_impact=3)
    accepted(make, desk, requester=desk.colleague, business_impact=1)
    waiting = make.request(desk.requester, desk.marketing)
    accepted(make, desk, team=desk.finance, requester=desk.finance_requester, business_impact=5)
    auth.login(desk.requester)
    page = client.get("/requests/mine").get_data(as_text=True)
    assert re.search(rf'href="/requests/{mine}".*?2nd of 3 in queue', page, re.S)
    assert page.count("in queue</div>") == 1, "only accepted requests have a position"
    detail = text_of(client.get(f"/requests/{mine}"))
    assert "Position 2 of 3 in Marketing\u2019s queue" in detail
    assert "Move in the queue" not in detail
    assert "in Marketing\u2019s queue" not in text_of(client.get(f"/requests/{waiting}"))


def test_positions_count_confidential_requests_of_the_team(app, make, desk):
    secret = accepted(make, desk, requester=desk.colleague, business_impact=5,
                      is_confidential=True)
    mine = accepted(make, desk, business_impact=1)
    with app.app_context():
        reqs = db.session.scalars(db.select(Request).where(Request.id.in_([secret, mine]))).all()
        assert queues.positions(reqs, utcnow()) == {secret: (1, 2), mine: (2, 2)}


@pytest.mark.parametrize("number, text", [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"),
                                          (11, "11th"), (12, "12th"), (13, "13th"),
                                          (21, "21st"), (102, "102nd"), (111, "111th")])
def test_ordinals(number, text):
    assert queues.ordinal(number) == text


# --- /queue ---------------------------------------------------------------------------------

def test_the_queue_shows_wip_own_work_then_the_teams_backlog(client, auth, make, desk):
    working = accepted(make, desk, title="Churn deep dive")
    make.act(working, "claim", desk.analyst)
    blocked = accepted(make, desk, team=desk.finance, requester=desk.finance_requester)
    make.act(blocked, "claim", desk.analyst)
    make.act(blocked, "block", desk.analyst, note="Waiting for the warehouse.")
    delivered = accepted(make, desk)
    make.act(delivered, "claim", desk.analyst)
    make.act(delivered, "deliver", desk.analyst, url="https://bi.example.com/2", note="Done.")
    top = accepted(make, desk, business_impact=5, size="S")
    second = accepted(make, desk, team=desk.finance, requester=desk.finance_requester)
    other_team = accepted(make, desk, team=desk.sales, requester=desk.sales_requester)
    auth.login(desk.analyst)
    response = client.get("/queue")
    assert response.status_code == 200
    page = text_of(response)
    assert "2 of 3 in progress" in page
    assert sorted(row_ids_working(response)) == sorted([working, blocked])
    assert row_ids(response, "up-next") == [top, second]
    assert other_team not in row_ids(response, "up-next")
    assert delivered not in row_ids_working(response)
    markup = response.get_data(as_text=True)
    assert f'action="/requests/{top}/actions/claim"' in markup
    assert "How the score and the order work" in markup and "/help#priority" in markup


def row_ids_working(response):
    page = response.get_data(as_text=True)
    section = page.split('id="h-working"')[1].split('id="h-next"')[0]
    return [int(i) for i in re.findall(r'href="/requests/(\d+)" class="fw-semibold', section)]


def test_the_queue_shows_position_score_explanation_and_override(client, auth, make, desk):
    accepted(make, desk, business_impact=5, size="S")
    moved = accepted(make, desk, business_impact=1, size="L", deadline=None)
    override(app=client.application, request_id=moved, actor=desk.lead, position=1,
             reason="Legal asked for it.")
    auth.login(desk.analyst)
    response = client.get("/queue")
    page = text_of(response)
    assert row_ids(response, "up-next")[0] == moved
    assert "Overridden by a lead: Legal asked for it." in page
    assert "impact 1 + urgency 0 (no hard deadline), / size L (8) + ageing 0.0 = 0.1" in page
    assert re.search(r"1 of 2 Marketing", page)


def test_analysts_see_their_teams_and_the_central_backlog_only(client, auth, make, desk):
    marketing = accepted(make, desk)
    central = accepted(make, desk, team=desk.people, requester=desk.people_requester)
    sales = accepted(make, desk, team=desk.sales, requester=desk.sales_requester)
    secret = accepted(make, desk, requester=desk.colleague, is_confidential=True)
    set_columns(client.application, central, is_central=True)
    auth.login(desk.analyst)
    shown = row_ids(client.get("/queue"), "up-next")
    assert set(shown) == {marketing, central}
    assert sales not in shown and secret not in shown
    auth.logout()
    auth.login(desk.sales_analyst)
    assert set(row_ids(client.get("/queue"), "up-next")) == {sales, central}


def test_a_lead_without_teams_sees_every_teams_backlog_in_the_queue(client, auth, make, desk):
    made = {accepted(make, desk), accepted(make, desk, team=desk.sales,
                                           requester=desk.sales_requester),
            accepted(make, desk, is_confidential=True)}
    auth.login(desk.lead)
    assert set(row_ids(client.get("/queue"), "up-next")) == made


def test_the_queue_filters_by_team_and_sla_status(client, auth, make, desk):
    marketing = accepted(make, desk)
    finance = accepted(make, desk, team=desk.finance, requester=desk.finance_requester)
    auth.login(desk.analyst)
    assert row_ids(client.get(f"/queue?team={desk.finance}"), "up-next") == [finance]
    now = utcnow()
    set_columns(client.application, marketing, sla_at_risk_at=now - timedelta(hours=2),
                sla_due_at=now - timedelta(hours=1))
    set_columns(client.application, finance, sla_at_risk_at=now + timedelta(days=2),
                sla_due_at=now + timedelta(days=3))
    assert row_ids(client.get("/queue?sla=breached"), "up-next") == [marketing]
    assert row_ids(client.get("/queue?sla=on_track"), "up-next") == [finance]
    assert row_ids(client.get("/queue?sla=at_risk"), "up-next") == []
    # Unknown filter values are ignored, never an error.
    assert set(row_ids(client.get("/queue?sla=nope&team=x"), "up-next")) == {marketing, finance}
    assert set(row_ids(client.get("/queue?team=99999999999"), "up-next")) == {marketing, finance}


def test_the_queue_is_paginated_after_ranking(client, auth, make, desk):
    made = [accepted(make, desk, business_impact=1 + i % 5, size="M") for i in range(27)]
    auth.login(desk.analyst)
    first = row_ids(client.get("/queue"), "up-next")
    second = row_ids(client.get("/queue?page=2"), "up-next")
    assert len(first) == 25 and len(second) == 2
    assert set(first) | set(second) == set(made)
    assert first + second == up_next_ids(client.application, desk.analyst)
    assert row_ids(client.get("/queue?page=9"), "up-next") == []
    assert client.get("/queue?page=abc").status_code == 200


def test_claiming_from_the_queue_starts_the_work(client, auth, make, desk):
    request_id = accepted(make, desk)
    auth.login(desk.analyst)
    markup = client.get("/queue").get_data(as_text=True)
    version = re.search(r'name="claim-version" value="(\d+)"', markup).group(1)
    token = re.search(r'name="claim-csrf_token" value="([^"]+)"', markup).group(1)
    response = client.post(f"/requests/{request_id}/actions/claim", data={
        "claim-csrf_token": token, "claim-version": version, "next": "/queue"})
    assert (response.status_code, response.location) == (302, "/queue")
    assert make.state(request_id) == "in_progress"
    assert row_ids_working(client.get("/queue")) == [request_id]


def test_claim_buttons_are_disabled_at_the_wip_limit(client, auth, make, desk):
    make.wip_limit(desk.analyst, 1)
    make.act(accepted(make, desk), "claim", desk.analyst)
    accepted(make, desk)
    auth.login(desk.analyst)
    page = client.get("/queue").get_data(as_text=True)
    assert "1 of 1 in progress" in page
    assert 'disabled title="You are at your WIP limit"' in page


# --- /backlog -------------------------------------------------------------------------------

@pytest.fixture
def backlog_data(app, make, desk):
    """A Marketing project and ad-hoc request, a Finance one in progress, a Sales one blocked."""
    data = SimpleNamespace(
        project=accepted(make, desk, kind="project", business_impact=4),
        ad_hoc=accepted(make, desk, business_impact=2),
        in_progress=accepted(make, desk, team=desk.finance, requester=desk.finance_requester),
        blocked=accepted(make, desk, team=desk.sales, requester=desk.sales_requester),
        submitted=make.request(desk.requester, desk.marketing),
    )
    make.act(data.in_progress, "claim", desk.analyst)
    make.act(data.blocked, "claim", desk.sales_analyst)
    make.act(data.blocked, "block", desk.sales_analyst, note="No access.")
    now = utcnow()
    set_columns(app, data.ad_hoc, sla_at_risk_at=now - timedelta(hours=1),
                sla_due_at=now + timedelta(hours=1))
    set_columns(app, data.project, sla_at_risk_at=now + timedelta(days=1),
                sla_due_at=now + timedelta(days=2))
    set_columns(app, data.in_progress, sla_at_risk_at=now - timedelta(days=2),
                sla_due_at=now - timedelta(days=1))
    set_columns(app, data.blocked, sla_at_risk_at=now + timedelta(days=1),
                sla_due_at=now + timedelta(days=2))
    return data


def test_the_backlog_lists_work_then_queues_with_filters(client, auth, desk, backlog_data):
    b = backlog_data
    auth.login(desk.lead)
    everything = row_ids(client.get("/backlog"), "backlog-table")
    assert set(everything[:2]) == {b.in_progress, b.blocked}
    assert everything[2:] == [b.project, b.ad_hoc]
    assert b.submitted not in everything

    def shown(query):
        return set(row_ids(client.get(f"/backlog?{query}"), "backlog-table"))

    assert shown(f"team={desk.marketing}") == {b.project, b.ad_hoc}
    assert shown(f"analyst={desk.analyst}") == {b.in_progress}
    assert shown("analyst=none") == {b.project, b.ad_hoc}
    assert shown("kind=project") == {b.project}
    assert shown("sla=at_risk") == {b.ad_hoc}
    assert shown("sla=breached") == {b.in_progress}
    assert shown("sla=on_track") == {b.project, b.blocked}
    assert shown("state=blocked") == {b.blocked}
    assert shown(f"state=accepted&team={desk.marketing}&sla=on_track") == {b.project}
    assert shown("state=resolved&kind=nope&analyst=x&sla=y&team=z") == set(everything)


def test_the_backlog_counts_per_sla_status_and_team(client, app, auth, desk, backlog_data):
    with app.app_context():
        found = queues.backlog(utcnow())
        assert found.sla_counts == {"on_track": 2, "at_risk": 1, "breached": 1, "paused": 0}
        assert found.team_counts == {desk.marketing: 2, desk.finance: 1, desk.sales: 1}
        # Each count is what its filter would show: the SLA counts follow the team filter,
        # the team counts do not.
        found = queues.backlog(utcnow(), team=desk.marketing)
        assert found.sla_counts == {"on_track": 1, "at_risk": 1, "breached": 0, "paused": 0}
        assert found.team_counts == {desk.marketing: 2, desk.finance: 1, desk.sales: 1}
    auth.login(desk.lead)
    page = client.get(f"/backlog?team={desk.marketing}&kind=project").get_data(as_text=True)
    # Count links keep the other filters.
    assert f'href="/backlog?team={desk.marketing}&amp;kind=project&amp;sla=on_track"' in page


def test_the_backlog_shows_position_assignee_age_and_override(client, auth, make, desk,
                                                              backlog_data):
    override(client.application, backlog_data.ad_hoc, desk.lead, 1, reason="Press release.")
    auth.login(desk.lead)
    page = text_of(client.get("/backlog"))
    assert "Overridden by a lead: Press release." in page
    assert "Ana Analyst" in page and "0 d" in page
    assert re.search(r"1 of 2 Marketing", page)


def test_admins_see_the_backlog(client, auth, make, desk, backlog_data):
    auth.login(make.user("admin"))
    assert client.get("/backlog").status_code == 200


# --- Permissions ----------------------------------------------------------------------------

@pytest.mark.parametrize("who, path, status", [
    ("requester", "/queue", 403), ("requester", "/backlog", 403),
    ("analyst", "/backlog", 403), ("analyst", "/queue", 200),
    ("lead", "/queue", 200), ("lead", "/backlog", 200),
])
def test_who_may_open_the_queue_and_the_backlog(client, auth, desk, who, path, status):
    auth.login(getattr(desk, who))
    assert client.get(path).status_code == status


def test_anonymous_users_are_sent_to_log_in(client, desk):
    for path in ("/queue", "/backlog"):
        assert client.get(path).status_code == 302


def test_an_admin_has_no_queue(client, auth, make):
    auth.login(make.user("admin"))
    assert client.get("/queue").status_code == 403


# --- SQL cost -------------------------------------------------------------------------------

def test_queue_pages_cost_the_same_number_of_sql_statements_whatever_the_data_size(
        app, make, desk, statements):
    make.wip_limit(desk.analyst, 50)
    pages = [("analyst", "/queue"), ("analyst", f"/queue?team={desk.marketing}&sla=on_track"),
             ("lead", "/queue"), ("lead", "/backlog"), ("lead", "/backlog?sla=on_track"),
             ("lead", f"/backlog?team={desk.finance}&analyst=none&state=accepted"),
             ("requester", "/requests/mine")]
    clients = {}
    for role in ("analyst", "lead", "requester"):
        clients[role] = AuthActions(app.test_client(), app)
        clients[role].login(getattr(desk, role))

    def populate(count):
        for i in range(count):
            team, requester = [(desk.marketing, desk.requester),
                               (desk.finance, desk.finance_requester)][i % 2]
            request_id = accepted(make, desk, team=team, requester=requester,
                                  business_impact=1 + i % 5)
            if i % 4 == 1:
                make.act(request_id, "claim", desk.analyst)
            if i % 5 == 2:
                override(app, request_id, desk.lead, 1 + i % 3)

    def cost():
        result = {}
        for role, path in pages:
            clients[role].client.get(path)
            del statements[:]
            response = clients[role].client.get(path)
            assert response.status_code == 200
            result[role, path] = statements[-1]
        return result

    populate(6)
    small = cost()
    populate(40)
    large = cost()
    assert small == large
    assert max(large.values()) <= 12


# --- The fast path: cheap scores, lazy explanations, one ranking per run --------------------

def test_the_cheap_score_equals_the_explained_total_for_many_random_requests():
    import random
    from datetime import UTC, datetime

    from tickets.priority import TrackRecord
    rng = random.Random(15)
    now = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    records = {1: TrackRecord(used=3, answered=7), 2: TrackRecord(used=0, answered=2),
               3: TrackRecord(used=10, answered=10)}
    for with_records in (None, records):
        scoring = queues.Scoring(now, with_records)
        for request_id in range(3000):
            row = SimpleNamespace(
                id=request_id, team_id=rng.choice([1, 2, 3, 4]),
                business_impact=rng.randint(1, 5),
                deadline=(None if rng.random() < 0.3
                          else now.date() + timedelta(days=rng.randint(-40, 90))),
                is_exec_sponsored=rng.random() < 0.1,
                size=rng.choice([None, "S", "M", "L", "XL"]),
                created_at=now - timedelta(seconds=rng.randint(-3600, 90 * 86400)))
            record = with_records.get(row.team_id) if with_records else None
            expected = priority.explain(row, now, track_record=record)
            assert scoring.score(row) == expected.total
            assert scoring.explain(row) == expected


def test_entries_explain_their_score_only_when_asked(app, make, desk, monkeypatch):
    for impact in (1, 3, 5):
        accepted(make, desk, business_impact=impact)
    calls = []
    real = priority.explain
    monkeypatch.setattr(priority, "explain",
                        lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs))
    with app.app_context():
        entries = queues.backlog(utcnow()).entries
        assert calls == []
        first = entries[0]
        assert first.explanation.total == first.score
        assert first.explanation is first.explanation
        assert len(calls) == 1


def _queue_view(found):
    return [(entry.id, entry.position, entry.total, entry.score, entry.sla_status)
            for entry in found.up_next], [entry.id for entry in found.working]


def test_a_runs_ranking_gives_every_user_the_queue_they_get_alone(app, make, desk):
    for i in range(12):
        team = [desk.marketing, desk.finance, desk.sales, desk.people][i % 4]
        requester = [desk.requester, desk.finance_requester, desk.sales_requester,
                     desk.people_requester][i % 4]
        request_id = accepted(make, desk, team=team, requester=requester,
                              business_impact=1 + i % 5, is_confidential=(i % 5 == 3))
        if i % 6 == 1:
            override(app, request_id, desk.lead, 2)
        if i % 7 == 2:
            make.act(request_id, "claim", desk.lead if i % 4 > 1 else desk.analyst)
    team_lead = make.user("lead", teams=[desk.sales], name="Tess Team-Lead")
    with app.app_context():
        now = utcnow()
        ranking = queues.Ranking(now)
        for user_id in (desk.analyst, desk.sales_analyst, desk.lead, team_lead):
            user = db.session.get(User, user_id)
            alone = queues.analyst_queue(user, now)
            shared = queues.analyst_queue(user, now, ranking=ranking)
            assert _queue_view(shared) == _queue_view(alone)
            assert shared.team_ids == alone.team_ids
            sql_teams = set(db.session.scalars(
                db.select(Request.team_id).where(queues.queue_condition(user))))
            assert queues._queue_teams(user, ranking) == sql_teams
        waiting = db.session.scalars(db.select(Request).where(Request.state == "accepted")).all()
        assert queues.spots(waiting, now, ranking=ranking) == queues.spots(waiting, now)


def test_a_runs_ranking_ranks_each_team_once(app, make, desk, monkeypatch):
    accepted(make, desk)
    accepted(make, desk, team=desk.finance, requester=desk.finance_requester)
    ranked = []
    real = queues._rank_team
    monkeypatch.setattr(queues, "_rank_team",
                        lambda rows, scoring: ranked.append(len(rows)) or real(rows, scoring))
    with app.app_context():
        now = utcnow()
        ranking = queues.Ranking(now)
        user = db.session.get(User, desk.analyst)
        for _ in range(3):
            queues.analyst_queue(user, now, ranking=ranking)
        assert len(ranked) == 2


def test_a_lazy_page_of_the_backlog_is_the_top_of_the_full_ranking(app, make, desk):
    for i in range(30):
        team, requester = [(desk.marketing, desk.requester), (desk.finance, desk.finance_requester),
                           (desk.sales, desk.sales_requester)][i % 3]
        request_id = accepted(make, desk, team=team, requester=requester,
                              business_impact=1 + i % 5, size=["S", "M", "L", "XL"][i % 4])
        if i % 7 == 3:
            override(app, request_id, desk.lead, 1 + i % 4)
        if i % 9 == 4:
            make.act(request_id, "claim", desk.analyst)
    with app.app_context():
        now = utcnow()
        full = list(queues.backlog(now).entries)
        lazy = queues.backlog(now).entries
        assert len(lazy) == len(full) == 30
        assert [entry.id for entry in lazy[5:12]] == [entry.id for entry in full[5:12]]
        assert [(e.id, e.position, e.total) for e in lazy] == [
            (e.id, e.position, e.total) for e in full]
        assert lazy == full
        # Positions are exact: every team's accepted requests read 1..n in their queue's order.
        for team_id in {entry.row.team_id for entry in full if entry.position}:
            queue = [entry for entry in full if entry.position and entry.row.team_id == team_id]
            assert [entry.position for entry in queue] == list(range(1, len(queue) + 1))
            assert {entry.total for entry in queue} == {len(queue)}
            rows = [entry.row for entry in queue]
            overrides = {row.id: row.rank_override for row in rows if row.rank_override}
            assert [row.id for row in priority.rank(rows, queue[0].scoring.now, overrides)] == [
                row.id for row in rows]
        filtered = queues.backlog(now, team=desk.finance, state="accepted")
        assert len(filtered.entries) == len(list(filtered.entries))
        assert list(filtered.entries) == [entry for entry in full
                                          if entry.row.team_id == desk.finance
                                          and entry.row.state == "accepted"]


# --- The lead's weights and the oldest-first rule reach the queues (issue 15) ---------------

def test_a_request_waiting_past_the_oldest_first_limit_goes_first_across_teams(app, make, desk):
    strong = accepted(make, desk, business_impact=5, size="S", title="Strong and new")
    old_weak = accepted(make, desk, team=desk.finance, requester=desk.finance_requester,
                        business_impact=1, size="XL", title="Weak and old")
    older_weak = accepted(make, desk, business_impact=1, size="XL", title="Weaker and older")
    # 30 and 40 calendar days ago: past 15 working days whatever the holidays.
    set_columns(app, old_weak, created_at=utcnow() - timedelta(days=30))
    set_columns(app, older_weak, created_at=utcnow() - timedelta(days=40))
    assert backlog_ids(app) == [older_weak, old_weak, strong]
    assert up_next_ids(app, desk.analyst) == [older_weak, old_weak, strong]
    with app.app_context():
        entries = {e.id: e for e in queues.backlog(utcnow()).entries}
        place = queues.place(db.session.get(Request, strong), utcnow())
    assert entries[old_weak].explanation.text.startswith(
        "waiting 15+ working days: goes first, oldest first (score impact 1 + urgency ")
    assert not entries[strong].explanation.text.startswith("waiting")
    # Positions are per team: the strong request is second in Marketing's queue.
    assert (place.position, place.total) == (2, 2)


def test_switching_the_oldest_first_rule_off_ranks_old_requests_by_score_again(app, make, desk):
    from tickets import settings
    strong = accepted(make, desk, business_impact=5, size="S")
    old_weak = accepted(make, desk, business_impact=1, size="XL")
    set_columns(app, old_weak, created_at=utcnow() - timedelta(days=30))
    assert backlog_ids(app) == [old_weak, strong]
    with app.app_context():
        settings.update({"priority_oldest_first_after": 0}, None, utcnow())
        db.session.commit()
    assert backlog_ids(app) == [strong, old_weak]


def test_the_leads_weights_order_the_queue_and_show_in_the_explanation(app, make, desk):
    from tickets import settings
    # Impact 4 (Medium) size M, no deadline: 4 / 3 = 1.3; impact 1 due in 2 days: (1 + 7) / 3.
    medium = accepted(make, desk, business_impact=3, size="M", deadline=None)
    due = accepted(make, desk, business_impact=1, size="M",
                   deadline=date.today() + timedelta(days=2))
    assert backlog_ids(app) == [due, medium]
    with app.app_context():
        settings.update({"priority_impact_weight": 3, "priority_urgency_weight": 0.5},
                        None, utcnow())
        db.session.commit()
    # Now 4 x 3 / 3 = 4.0 against (1 x 3 + 7 x 0.5) / 3 = 2.2.
    assert backlog_ids(app) == [medium, due]
    with app.app_context():
        entry = {e.id: e for e in queues.backlog(utcnow()).entries}[medium]
        scored = queues.explain(db.session.get(Request, medium), utcnow())
    assert entry.score == pytest.approx(4.0)
    assert "impact 4 (\u00d7 3)" in entry.explanation.text
    assert scored.total == pytest.approx(entry.score)


# --- The ranking each process keeps (queues.current_ranking) ---------------------------------

def kept_ranking(app, now=None):
    with app.app_context():
        return queues.current_ranking(now or utcnow(), settings.current())


def ranking_version(app):
    with app.app_context():
        return db.session.scalar(db.select(RankingVersion.version))


def test_the_ranking_is_kept_until_something_it_ranks_changes(app, make, desk):
    first = accepted(make, desk, business_impact=1, title="First")
    ranking = kept_ranking(app)
    assert kept_ranking(app) is ranking  # nothing changed: kept, no rows loaded again
    assert backlog_ids(app) == [first]

    # A comment changes nothing the queues rank: the ranking is kept.
    version = ranking_version(app)
    with app.app_context():
        conversation.post(db.session.get(Request, first), db.session.get(User, desk.analyst),
                          "Looking at it tomorrow.")
        db.session.commit()
    assert ranking_version(app) == version
    assert kept_ranking(app) is ranking

    # A new accepted request, a claim, a change of deadline: each raises the version once,
    # and the next page ranks again and shows it.
    second = accepted(make, desk, business_impact=5, size="S", title="Second")
    assert ranking_version(app) > version
    assert kept_ranking(app) is not ranking
    assert backlog_ids(app) == [second, first]
    make.act(first, "claim", desk.analyst)
    assert backlog_ids(app) == [first, second]  # work in progress first
    assert up_next_ids(app, desk.analyst) == [second]
    before = ranking_version(app)
    with app.app_context():
        req = db.session.get(Request, second)
        req.deadline = date.today() + timedelta(days=400)
        db.session.commit()
    assert ranking_version(app) == before + 1


def test_a_change_committed_by_another_process_is_seen(app, make, desk, make_app):
    first = accepted(make, desk, business_impact=1)
    assert backlog_ids(app) == [first]
    other = make_app()  # another worker on the same database
    second = accepted(make, desk, business_impact=5, size="S")
    with other.app_context():
        db.session.get(Request, second).state = "accepted"  # no change: no new version
        db.session.commit()
    assert backlog_ids(app) == [second, first]
    with other.app_context():
        req = db.session.get(Request, second)
        req.rank_override = 2
        db.session.commit()
    assert backlog_ids(app) == [first, second]


def test_a_rolled_back_change_does_not_raise_the_version(app, make, desk):
    request_id = accepted(make, desk)
    version = ranking_version(app)
    with app.app_context():
        db.session.get(Request, request_id).business_impact = 5
        db.session.flush()
        db.session.rollback()
        db.session.get(Request, request_id).title = "Only the title"
        db.session.commit()
    assert ranking_version(app) == version


def test_a_bulk_update_of_requests_raises_the_version(app, make, desk):
    request_id = accepted(make, desk)
    version = ranking_version(app)
    set_columns(app, request_id, business_impact=5)
    assert ranking_version(app) == version + 1


def test_the_kept_ranking_expires_and_is_never_from_the_future(app, make, desk):
    accepted(make, desk)
    now = utcnow()
    ranking = kept_ranking(app, now)
    seconds = app.config["RANKING_CACHE_SECONDS"]
    assert kept_ranking(app, now + timedelta(seconds=seconds - 1)) is ranking
    later = kept_ranking(app, now + timedelta(seconds=seconds))
    assert later is not ranking
    assert kept_ranking(app, now) is not later  # asked for an earlier moment: made again


def test_settings_changes_and_the_track_record_are_never_served_from_a_kept_ranking(
        app, make, desk):
    accepted(make, desk)
    ranking = kept_ranking(app)
    with app.app_context():
        settings.update({"priority_ageing_cap": 3}, None, utcnow())
        db.session.commit()
    weighted = kept_ranking(app)
    assert weighted is not ranking and weighted.scoring.weights.ageing_cap == 3
    with app.app_context():
        settings.update({"track_record_in_priority": True}, None, utcnow())
        db.session.commit()
    assert kept_ranking(app) is not kept_ranking(app)


def test_without_a_ranking_cache_every_page_ranks(app, make, desk, make_app):
    accepted(make, desk)
    other = make_app(RANKING_CACHE_SECONDS=0)
    assert kept_ranking(other) is not kept_ranking(other)


def test_pages_show_the_same_queues_with_the_ranking_kept_or_not(app, make, desk, make_app):
    for impact, size in ((1, "L"), (5, "S"), (3, "M"), (4, "XL")):
        accepted(make, desk, business_impact=impact, size=size)
    make.act(accepted(make, desk, team=desk.finance), "claim", desk.analyst)
    uncached = make_app(RANKING_CACHE_SECONDS=0)
    for user, path in ((desk.lead, "/backlog"), (desk.analyst, "/queue"),
                       (desk.lead, f"/backlog?team={desk.marketing}")):
        pages = []
        for browser_app in (app, app, uncached):  # made and kept, then kept, then not kept
            browser = browser_app.test_client()
            AuthActions(browser, browser_app).login(user)
            page = browser.get(path).get_data(as_text=True)
            pages.append(re.sub(r'(name="[\w-]*csrf_token"[^>]*value=)"[^"]*"', r"\1", page))
        assert "score" in pages[0]
        assert pages[0] == pages[1] == pages[2]


def test_a_savepoint_leaves_the_version_to_its_transaction(app, make, desk):
    request_id = accepted(make, desk)
    version = ranking_version(app)
    with app.app_context():
        with db.session.begin_nested():
            db.session.get(Request, request_id).business_impact = 5
        assert db.session.scalar(db.select(RankingVersion.version)) == version
        db.session.commit()
    assert ranking_version(app) == version + 1


def test_concurrent_changes_each_raise_the_version_and_both_land(app, make, desk):
    """Two workers change two requests at the same moment: the version row is each
    transaction's last write, so neither deadlocks or fails, and both count."""
    first, second = accepted(make, desk), accepted(make, desk)
    version = ranking_version(app)
    barrier = threading.Barrier(2)
    errors = []
    with app.app_context():
        # PostgreSQL locks rows: both hold their request's row, then both commit. SQLite has
        # one writer: the second flush waits for the first commit (busy timeout).
        row_locks = db.engine.dialect.name == "postgresql"

    def change(request_id, impact):
        try:
            with app.app_context():
                db.session.get(Request, request_id).business_impact = impact
                if not row_locks:
                    barrier.wait(timeout=10)
                db.session.flush()
                if row_locks:
                    barrier.wait(timeout=10)
                db.session.commit()
        except Exception as error:  # reported below
            errors.append(error)

    workers = [threading.Thread(target=change, args=(first, 5)),
               threading.Thread(target=change, args=(second, 1))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert errors == []
    assert ranking_version(app) == version + 2
    assert backlog_ids(app) == [first, second]

"""Triage (issue 3): routing to a team's or the central queue, the /triage page, and every
triage action taken from it, with who may take them."""
import re
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from tests.conftest import AuthActions, intake_fields, intake_form
from tickets import catalogue, intake, triage
from tickets.extensions import db
from tickets.models import Event, GapCategory, Request, User, utcnow


@pytest.fixture
def desk(make):
    """Marketing and Finance each with an embedded analyst; People with none (central)."""
    marketing = make.team("Marketing")
    finance = make.team("Finance")
    people = make.team("People")
    return SimpleNamespace(
        marketing=marketing, finance=finance, people=people,
        rita=make.user("requester", teams=[marketing], name="Rita Requester"),
        fred=make.user("requester", teams=[finance], name="Fred Finance"),
        nadia=make.user("requester", teams=[people], name="Nadia People"),
        priya=make.user("analyst", teams=[marketing], name="Priya Analyst"),
        sam=make.user("analyst", teams=[finance], name="Sam Analyst"),
        lead=make.user("lead", name="Lena Lead"),
    )


def login(app, user_id):
    actions = AuthActions(app.test_client(), app)
    actions.login(user_id)
    return actions


def html(response):
    return response.get_data(as_text=True)


def created_event(app, request_id):
    with app.app_context():
        return db.session.scalars(db.select(Event).where(
            Event.request_id == request_id, Event.kind == "created")).one()


def events(app, request_id, kind=None):
    with app.app_context():
        query = db.select(Event).where(Event.request_id == request_id).order_by(Event.id)
        if kind:
            query = query.where(Event.kind == kind)
        found = db.session.scalars(query).all()
        for event in found:
            db.session.expunge(event)
        return found


def row_ids(response):
    """The request ids listed on a triage page, in order."""
    return [int(n) for n in re.findall(r'<tr class="triage-row" id="request-(\d+)"', html(response))]


def triage_post(actions, request_id, name, next_="/triage", **fields):
    """Post an action's form as the triage page renders it (same field names, plus next)."""
    with actions.app.app_context():
        version = db.session.get(Request, request_id).version
    data = {f"{name}-csrf_token": actions.token, f"{name}-version": version, "next": next_}
    data.update({f"{name}-{key}": value for key, value in fields.items()})
    return actions.client.post(f"/requests/{request_id}/actions/{name}", data=data)


def kind_post(actions, request_id, kind, note="", next_=None, version=None):
    if version is None:
        with actions.app.app_context():
            version = db.session.get(Request, request_id).version
    data = {"kind-csrf_token": actions.token, "kind-version": version, "kind-kind": kind,
            "kind-note": note}
    if next_ is not None:
        data["next"] = next_
    return actions.client.post(f"/requests/{request_id}/kind", data=data)


# --- Routing --------------------------------------------------------------------------------

def test_a_team_with_an_embedded_analyst_triages_its_own_requests(app, make, desk):
    request_id = make.request(desk.rita, desk.marketing)
    assert make.get(Request, request_id).is_central is False
    assert created_event(app, request_id).data == {"routed": "team"}


def test_a_team_without_an_embedded_analyst_routes_to_the_central_queue(app, make, desk):
    request_id = make.request(desk.nadia, desk.people)
    assert make.get(Request, request_id).is_central is True
    assert created_event(app, request_id).data == {"routed": "central"}


def test_inactive_analysts_and_leads_do_not_count_as_embedded(app, make, desk):
    make.user("analyst", teams=[desk.people], is_active=False)
    make.user("lead", teams=[desk.people])
    assert make.get(Request, make.request(desk.nadia, desk.people)).is_central is True
    make.user("analyst", teams=[desk.people])
    assert make.get(Request, make.request(desk.nadia, desk.people)).is_central is False


def test_the_requester_is_told_who_triages_it(app, desk):
    rita, nadia = login(app, desk.rita), login(app, desk.nadia)
    team = rita.post("/requests/new", intake_form(desk.marketing), follow_redirects=True)
    assert "analysts will triage it." in html(team)
    central = nadia.post("/requests/new", intake_form(desk.people), follow_redirects=True)
    assert "People has no embedded analyst, so the central data team will triage it." in \
        html(central)


# --- Who sees the central queue ------------------------------------------------------------

def test_every_analyst_sees_and_may_triage_a_central_request(app, make, desk):
    request_id = make.request(desk.nadia, desk.people)
    sam = login(app, desk.sam)
    assert sam.client.get(f"/requests/{request_id}").status_code == 200
    assert triage_post(sam, request_id, "accept", size="S", business_impact=3).status_code == 302
    assert make.state(request_id) == "accepted"


def test_a_confidential_central_request_stays_with_its_requester_and_the_leads(app, make, desk):
    request_id = make.request(desk.nadia, desk.people, is_confidential=True,
                              title="Pay equity review")
    sam = login(app, desk.sam)
    assert sam.client.get(f"/requests/{request_id}").status_code == 404
    assert "Pay equity review" not in html(sam.client.get("/triage?section=central"))
    assert triage_post(sam, request_id, "accept", size="S").status_code == 404
    lead = login(app, desk.lead)
    assert "Pay equity review" in html(lead.client.get("/triage?section=central"))


def test_an_analyst_of_another_team_may_not_triage_a_teams_request(app, make, desk):
    request_id = make.request(desk.rita, desk.marketing)
    sam = login(app, desk.sam)
    assert triage_post(sam, request_id, "accept", size="S").status_code == 404  # not visible
    # Watching a request makes it visible, not theirs to triage.
    with app.app_context():
        email = db.session.get(User, desk.sam).email
    visible = make.request(desk.rita, desk.marketing, watchers=[email])
    assert sam.client.get(f"/requests/{visible}").status_code == 200
    assert triage_post(sam, visible, "accept", size="S").status_code == 403
    assert kind_post(sam, visible, "project").status_code == 403
    assert make.state(visible) == "submitted"


def test_the_pending_condition_selects_each_users_triage_queue(app, make, desk):
    mine = make.request(desk.rita, desk.marketing)
    theirs = make.request(desk.fred, desk.finance)
    central = make.request(desk.nadia, desk.people)
    secret = make.request(desk.rita, desk.marketing, is_confidential=True)
    accepted = make.request(desk.rita, desk.marketing)
    make.act(accepted, "accept", desk.priya, size="S")

    def pending(user_id):
        with app.app_context():
            user = db.session.get(User, user_id)
            return set(db.session.scalars(db.select(Request.id).where(
                triage.pending_condition(user))))

    assert pending(desk.priya) == {mine, central}
    assert pending(desk.sam) == {theirs, central}
    assert pending(desk.lead) == {mine, theirs, central, secret}
    assert pending(desk.rita) == set()


# --- The /triage page ----------------------------------------------------------------------

def test_requesters_may_not_open_triage_and_visitors_must_log_in(app, client, desk):
    assert client.get("/triage").status_code == 302
    assert login(app, desk.rita).client.get("/triage").status_code == 403


def test_triage_lists_the_analysts_teams_oldest_first_with_what_matters(app, make, desk):
    now = utcnow()
    with app.app_context():
        rita = db.session.get(User, desk.rita)
        fields_for = intake_fields
        old = intake.submit_request(rita, fields_for(desk.marketing, title="Old churn question",
                                                     deadline=date.today() + timedelta(days=1)),
                                    now=now - timedelta(days=3, hours=2))
        new = intake.submit_request(rita, fields_for(desk.marketing, title="New funnel question",
                                                     kind="project"),
                                    now=now - timedelta(hours=5))
        db.session.commit()
        old_id, new_id = old.id, new.id
    make.request(desk.fred, desk.finance, title="Finance only")
    priya = login(app, desk.priya)
    response = priya.client.get("/triage")
    assert response.status_code == 200
    page = html(response)
    assert row_ids(response) == [old_id, new_id]
    assert "Finance only" not in page
    old_row = page[page.index(f'id="request-{old_id}"'):page.index(f'id="request-{new_id}"')]
    for text in ("Old churn question", "Marketing", "Rita Requester", "3 days", "Ad-hoc",
                 "Short notice", (date.today() + timedelta(days=1)).strftime("%-d %b %Y"),
                 "sla-badge"):
        assert text in old_row, text
    assert "5 hours" in page and "Project" in page
    assert re.search(r'Your teams <span[^>]*>2</span>', page)
    assert re.search(r'Central queue <span[^>]*>0</span>', page)
    assert "Waitlisted over budget" not in page  # leads only


def test_triage_has_a_central_section_and_opens_on_the_first_with_requests(app, make, desk):
    central = make.request(desk.nadia, desk.people, title="Headcount by level")
    priya = login(app, desk.priya)
    response = priya.client.get("/triage")
    assert row_ids(response) == [central]  # "Your teams" is empty
    assert 'aria-current="page" href="/triage?section=central"' in html(response)
    assert row_ids(priya.client.get("/triage?section=team")) == []


def test_triage_filters_by_team_and_kind(app, make, desk):
    ad_hoc = make.request(desk.rita, desk.marketing)
    project = make.request(desk.rita, desk.marketing, kind="project")
    finance = make.request(desk.fred, desk.finance)
    lead = login(app, desk.lead)
    assert row_ids(lead.client.get("/triage")) == [ad_hoc, project, finance]
    assert row_ids(lead.client.get(f"/triage?team={desk.marketing}")) == [ad_hoc, project]
    assert row_ids(lead.client.get(f"/triage?team={desk.marketing}&kind=project")) == [project]
    assert row_ids(lead.client.get("/triage?kind=bogus&team=x&section=nope&page=-3")) == \
        [ad_hoc, project, finance]
    assert "No request here matches these filters" in html(
        lead.client.get(f"/triage?team={desk.finance}&kind=data_issue"))


def test_an_empty_triage_page_says_so_with_a_hint(app, desk):
    page = html(login(app, desk.priya).client.get("/triage"))
    assert "Nothing waiting for triage" in page
    assert "teams without an embedded analyst" in page and 'href="/queue"' in page


def test_triage_pages_through_many_requests(app, make, desk):
    ids = [make.request(desk.rita, desk.marketing) for _ in range(27)]
    priya = login(app, desk.priya)
    assert row_ids(priya.client.get("/triage")) == ids[:25]
    assert row_ids(priya.client.get("/triage?page=2")) == ids[25:]


def test_the_action_forms_are_rendered_once_in_a_dialog_that_each_row_opens(app, make, desk):
    first = make.request(desk.rita, desk.marketing, business_impact=4, is_exec_sponsored=True,
                         exec_sponsor="Maria Chen")
    second = make.request(desk.rita, desk.marketing)
    page = html(login(app, desk.priya).client.get("/triage"))
    # One form of each action, for request 0: the script points it at the chosen request.
    for name in ("accept", "ask", "decline", "mark_duplicate"):
        assert page.count(f'/actions/{name}"') == 1, name
        assert f'action="/requests/0/actions/{name}"' in page
    assert page.count('action="/requests/0/kind"') == 1
    assert "approve" not in re.findall(r'/actions/(\w+)"', page)
    assert re.search(r'<dialog [^>]*aria-labelledby="triage-dialog-title"', page)
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "ids must be unique on the page"
    # Each row's link carries what the script fills in, and leads to the request's own triage
    # page without JavaScript.
    for request_id in (first, second):
        link = re.search(rf'<a [^>]*data-request-id="{request_id}"[^>]*>', page).group(0)
        assert f'href="/triage/{request_id}?next=/triage"' in link
        assert f'data-version="{make.get(Request, request_id).version}"' in link and \
            'data-actions="accept ask decline mark_duplicate kind"' in link
    link = re.search(rf'<a [^>]*data-request-id="{first}"[^>]*>', page).group(0)
    assert 'data-impact="4"' in link and 'data-exec="y"' in link and \
        'data-exec-sponsor="Maria Chen"' in link
    assert "M \u2014 Medium, 2 to 3 days" in page
    assert 'type="hidden" name="next" value="/triage"' in page


def test_a_requests_triage_page_offers_its_forms_without_javascript(app, make, desk):
    first = make.request(desk.rita, desk.marketing, business_impact=4, is_exec_sponsored=True,
                         exec_sponsor="Maria Chen")
    priya = login(app, desk.priya)
    response = priya.client.get(f"/triage/{first}?next=/triage%3Fkind%3Dad_hoc")
    assert response.status_code == 200
    page = html(response)
    for name in ("accept", "ask", "decline", "mark_duplicate"):
        assert f'action="/requests/{first}/actions/{name}"' in page
    assert f'action="/requests/{first}/kind"' in page
    assert page.count('type="hidden" name="next" value="/triage?kind=ad_hoc"') == 5
    # The accept form starts from the requester's priority inputs.
    assert re.search(r'id="accept-business_impact-3"[^>]*checked', page) or \
        re.search(r'checked[^>]*id="accept-business_impact-3"', page)
    assert re.search(r'id="accept-is_exec_sponsored"[^>]*checked', page) or \
        re.search(r'checked[^>]*id="accept-is_exec_sponsored"', page)
    assert 'value="Maria Chen"' in page
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "ids must be unique on the page"
    # What it sends is what the dialog sends: it comes back to the triage page.
    done = triage_post(priya, first, "ask", next_="/triage?kind=ad_hoc", note="Which weeks?")
    assert done.headers["Location"] == "/triage?kind=ad_hoc"
    # An unsafe next falls back to /triage; requesters and other teams' analysts may not.
    assert 'name="next" value="/triage"' in html(
        priya.client.get(f"/triage/{first}?next=https://evil.example.com/"))
    assert login(app, desk.rita).client.get(f"/triage/{first}").status_code == 403
    assert login(app, desk.sam).client.get(f"/triage/{first}").status_code == 404
    # Asked, it waits on the requester: it may no longer be accepted from here.
    after = html(priya.client.get(f"/triage/{first}"))
    assert "/actions/accept" not in after and f'action="/requests/{first}/kind"' in after


# --- Actions from the triage page ----------------------------------------------------------

def test_accept_from_triage_sets_size_and_priority_inputs_and_returns_to_triage(app, make, desk):
    request_id = make.request(desk.rita, desk.marketing, business_impact=3)
    priya = login(app, desk.priya)
    response = triage_post(priya, request_id, "accept", next_="/triage?team=%d" % desk.marketing,
                           size="L", business_impact="5", is_exec_sponsored="y",
                           exec_sponsor="Maria Chen (CFO)", note="Big one.")
    assert response.status_code == 302
    assert response.headers["Location"] == "/triage?team=%d" % desk.marketing
    after = make.get(Request, request_id)
    assert (after.state, after.size, after.business_impact, after.is_exec_sponsored,
            after.exec_sponsor) == ("accepted", "L", 5, True, "Maria Chen (CFO)")
    accept = events(app, request_id, "transition")[-1]
    assert accept.data == {"size": [None, "L"], "impact": [3, 5],
                           "is_exec_sponsored": [False, True],
                           "exec_sponsor": ["", "Maria Chen (CFO)"]}
    page = html(priya.client.get("/triage"))
    assert f"#{request_id} Weekly churn by region: Accepted into the backlog." in page
    timeline = html(priya.client.get(f"/requests/{request_id}"))
    assert "Business impact: Medium" in timeline and "Critical" in timeline
    assert "Exec sponsor: (none)" in timeline


def test_accept_records_only_the_priority_inputs_that_changed(app, make, desk):
    request_id = make.request(desk.rita, desk.marketing, business_impact=4,
                              is_exec_sponsored=True, exec_sponsor="Maria Chen")
    priya = login(app, desk.priya)
    triage_post(priya, request_id, "accept", size="S", business_impact="4",
                is_exec_sponsored="y", exec_sponsor="Maria Chen")
    assert events(app, request_id, "transition")[-1].data == {"size": [None, "S"]}
    after = make.get(Request, request_id)
    assert (after.business_impact, after.is_exec_sponsored) == (4, True)


def test_an_accept_form_without_priority_inputs_keeps_the_requesters_values(app, make, desk, auth):
    request_id = make.request(desk.rita, desk.marketing, is_exec_sponsored=True,
                              exec_sponsor="Maria Chen")
    auth.login(desk.priya)
    assert auth.act(request_id, "accept", size="M").status_code == 302
    after = make.get(Request, request_id)
    assert (after.is_exec_sponsored, after.exec_sponsor) == (True, "Maria Chen")


def test_the_request_pages_accept_form_is_prefilled_too(app, make, desk, auth):
    request_id = make.request(desk.rita, desk.marketing, business_impact=2)
    auth.login(desk.priya)
    page = html(auth.client.get(f"/requests/{request_id}"))
    assert re.search(r'<input checked[^>]*id="accept-business_impact-1"', page) or \
        re.search(r'id="accept-business_impact-1"[^>]*checked', page)


def test_bad_accept_input_from_triage_shows_the_request_page_with_field_errors(
        app, make, desk, errors):
    request_id = make.request(desk.rita, desk.marketing)
    priya = login(app, desk.priya)
    response = triage_post(priya, request_id, "accept", business_impact="9",
                           is_exec_sponsored="y", exec_sponsor="")
    assert response.status_code == 400
    assert errors(response) == {"accept-size": "Choose a size estimate.",
                                "accept-business_impact": "Choose the business impact.",
                                "accept-exec_sponsor": "Name the executive who sponsors it."}
    assert 'class="collapse show" id="action-accept"' in html(response)
    assert make.state(request_id) == "submitted"


def test_an_unsafe_next_is_ignored(app, make, desk):
    request_id = make.request(desk.rita, desk.marketing)
    priya = login(app, desk.priya)
    response = triage_post(priya, request_id, "ask", next_="https://evil.example.com/",
                           note="Which regions?")
    assert response.headers["Location"] == f"/requests/{request_id}"


def test_ask_from_triage(app, make, desk):
    request_id = make.request(desk.rita, desk.marketing)
    priya = login(app, desk.priya)
    response = triage_post(priya, request_id, "ask", note="Which regions do you mean?")
    assert response.headers["Location"] == "/triage"
    assert make.state(request_id) == "needs_info"
    assert events(app, request_id, "transition")[-1].text == "Which regions do you mean?"


def test_decline_as_self_serve_from_triage_needs_what_answers_it_and_the_gap(app, make, desk,
                                                                               errors):
    request_id = make.request(desk.rita, desk.marketing)
    with app.app_context():
        asset = catalogue.add_asset(None, title="Churn dashboard", kind="dashboard",
                                    url="https://bi.example.com/dashboards/churn",
                                    team_id=desk.marketing).id
        # The migration's categories are there until the first test empties the tables.
        category = db.session.scalars(db.select(GapCategory)).first() or GapCategory(
            name="No access")
        db.session.add(category)
        db.session.commit()
        category = category.id
    priya = login(app, desk.priya)
    missing = triage_post(priya, request_id, "decline", reason="self_serve", note="Use it.",
                          gap_category="")
    assert missing.status_code == 400
    assert set(errors(missing)) == {"decline-answer", "decline-gap_category"}
    done = triage_post(priya, request_id, "decline", reason="self_serve", note="Use it.",
                       answer="Churn dashboard", answer_ref=f"asset:{asset}",
                       gap_category=category, gap_hours="1")
    assert done.headers["Location"] == "/triage"
    after = make.get(Request, request_id)
    assert (after.state, after.decline_reason, after.delivered_url) == (
        "declined", "self_serve", "https://bi.example.com/dashboards/churn")


def test_mark_duplicate_from_triage(app, make, desk, errors):
    original = make.request(desk.rita, desk.marketing)
    request_id = make.request(desk.rita, desk.marketing)
    priya = login(app, desk.priya)
    unknown = triage_post(priya, request_id, "mark_duplicate", original="99999")
    assert errors(unknown)["mark_duplicate-original"] == "There is no request #99999 that you can see."
    done = triage_post(priya, request_id, "mark_duplicate", original=str(original))
    assert done.headers["Location"] == "/triage"
    assert make.get(Request, request_id).duplicate_of_id == original


def test_a_stale_form_from_triage_changes_nothing(app, make, desk):
    request_id = make.request(desk.rita, desk.marketing)
    priya = login(app, desk.priya)
    with app.app_context():
        stale = db.session.get(Request, request_id).version
    make.act(request_id, "ask", desk.lead, note="Which weeks?")
    data = {"accept-csrf_token": priya.token, "accept-version": stale, "accept-size": "S",
            "next": "/triage"}
    response = priya.client.post(f"/requests/{request_id}/actions/accept", data=data)
    assert response.status_code == 409
    assert make.state(request_id) == "needs_info"


# --- Changing the kind ---------------------------------------------------------------------

def test_change_kind_from_triage_records_an_edit_with_the_note(app, make, desk):
    request_id = make.request(desk.rita, desk.marketing)
    priya = login(app, desk.priya)
    response = kind_post(priya, request_id, "project", note="A recurring dashboard.",
                         next_="/triage")
    assert response.status_code == 302 and response.headers["Location"] == "/triage"
    assert make.get(Request, request_id).kind == "project"
    edit = events(app, request_id, "edit")[-1]
    assert (edit.actor_id, edit.data, edit.text) == (
        desk.priya, {"changes": {"kind": ["ad_hoc", "project"]}}, "A recurring dashboard.")
    assert "is now project" in html(priya.client.get("/triage"))


def test_change_kind_from_the_request_page_returns_there(app, make, desk):
    request_id = make.request(desk.rita, desk.marketing)
    lead = login(app, desk.lead)
    page = html(lead.client.get(f"/requests/{request_id}"))
    assert 'id="change-kind"' in page and 'name="kind-kind"' in page
    response = kind_post(lead, request_id, "data_issue")
    assert response.headers["Location"] == f"/requests/{request_id}"
    timeline = html(lead.client.get(f"/requests/{request_id}"))
    assert "Ad-hoc" in timeline and "Data issue" in timeline


def test_who_may_change_the_kind(app, make, desk):
    request_id = make.request(desk.rita, desk.marketing)
    central = make.request(desk.nadia, desk.people)
    rita, sam = login(app, desk.rita), login(app, desk.sam)
    assert kind_post(rita, request_id, "project").status_code == 403
    assert 'id="change-kind"' not in html(rita.client.get(f"/requests/{request_id}"))
    assert kind_post(sam, request_id, "project").status_code == 404
    assert kind_post(sam, central, "project").status_code == 302
    assert make.get(Request, request_id).kind == "ad_hoc"


def test_change_kind_refuses_bad_input_stale_forms_and_delivered_requests(
        app, make, desk, errors):
    request_id = make.request(desk.rita, desk.marketing)
    priya = login(app, desk.priya)
    same = kind_post(priya, request_id, "ad_hoc")
    assert same.status_code == 400
    assert errors(same) == {"kind-kind": "It is already ad-hoc: choose another kind."}
    bogus = kind_post(priya, request_id, "nonsense")
    assert errors(bogus) == {"kind-kind": "Choose the kind of request."}
    no_csrf = priya.client.post(f"/requests/{request_id}/kind",
                                data={"kind-kind": "project", "kind-version": 1})
    assert no_csrf.status_code == 400
    stale = kind_post(priya, request_id, "project", version=0)
    assert stale.status_code == 409 and "Nothing was changed" in html(stale)
    assert make.get(Request, request_id).kind == "ad_hoc"
    make.act(request_id, "accept", desk.priya, size="S")
    make.act(request_id, "claim", desk.priya)
    make.act(request_id, "deliver", desk.priya, url="https://bi.example.com/x", note="Here.")
    assert kind_post(priya, request_id, "project").status_code == 403
    assert login(app, desk.priya).client.get(f"/requests/{request_id}/kind").status_code == 403


def test_the_change_kind_page_works_without_javascript(app, make, desk):
    request_id = make.request(desk.rita, desk.marketing)
    priya = login(app, desk.priya)
    page = priya.client.get(f"/requests/{request_id}/kind?next=/triage")
    assert page.status_code == 200
    assert 'name="next" value="/triage"' in html(page)
    assert priya.client.get("/requests/99999/kind").status_code == 404


# --- Cost ----------------------------------------------------------------------------------

def test_triage_costs_the_same_sql_statements_for_3_and_40_requests(app, make, desk, statements):
    from tickets import settings as settings_module

    with app.app_context():
        from tickets.models import Team
        settings_module.set_team_budget(db.session.get(Team, desk.marketing), 100, None, utcnow())
        db.session.commit()
    clients = {"priya": login(app, desk.priya), "lead": login(app, desk.lead)}
    teams = [(desk.rita, desk.marketing), (desk.fred, desk.finance), (desk.nadia, desk.people)]

    def populate(count):
        for n in range(count):
            requester, team = teams[n % 3]
            make.request(requester, team, kind=("ad_hoc", "project")[n % 2],
                         is_exec_sponsored=n % 4 == 0, exec_sponsor="Exec" if n % 4 == 0 else "")

    def cost():
        result = {}
        for name, actions in clients.items():
            for path in ("/triage", "/triage?section=central", f"/triage?team={desk.marketing}"):
                actions.client.get(path)
                del statements[:]
                response = actions.client.get(path)
                assert response.status_code == 200
                assert row_ids(response), (name, path)
                result[name, path] = statements[-1]
        return result

    populate(3)
    small = cost()
    populate(37)
    large = cost()
    assert small == large
    # Three of them: the track records of every team shown, the navigation's follow-ups count
    # and the bell's unread notifications.
    assert max(large.values()) <= 12


def test_age_in_words():
    now = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
    assert triage.age_text(now - timedelta(seconds=20), now) == "just now"
    assert triage.age_text(now - timedelta(minutes=1), now) == "1 minute"
    assert triage.age_text(now - timedelta(minutes=59), now) == "59 minutes"
    assert triage.age_text(now - timedelta(hours=5, minutes=59), now) == "5 hours"
    assert triage.age_text(now - timedelta(days=3, hours=23), now) == "3 days"
    assert triage.age_text(now - timedelta(days=1), now) == "1 day"

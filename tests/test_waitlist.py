"""The weekly ad-hoc budget (DESIGN.md, Limits; issue 3): past it a new ad-hoc request is
waitlisted, a lead may approve it, and places that free up or a new week's budget release the
waitlist in priority order."""
import re
import threading
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from tests.conftest import (AuthActions, counting_sql, intake_fields, intake_form,
                            settings_page_form)
from tickets import budget, cli, intake, lifecycle, settings, triage
from tickets.extensions import db
from tickets.models import Event, Request, Team, User, utcnow

TUESDAY = datetime(2026, 11, 24, 10, tzinfo=UTC)
NEXT_MONDAY = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
NOTE = ("Marketing has used 2 of 2 ad-hoc requests this week. A lead can approve it now; "
        "otherwise it is released in priority order when next week's budget starts.")


@pytest.fixture
def desk(make, app):
    """Marketing with a budget of 2 ad-hoc requests a week, its analyst, a requester, a lead."""
    marketing = make.team("Marketing")
    desk = SimpleNamespace(
        marketing=marketing, finance=make.team("Finance"),
        rita=make.user("requester", teams=[marketing], name="Rita Requester"),
        priya=make.user("analyst", teams=[marketing], name="Priya Analyst"),
        lead=make.user("lead", name="Lena Lead"),
    )
    set_budget(app, marketing, 2)
    return desk


def set_budget(app, team_id, weekly, now=None):
    """Set the team's weekly budget at ``now`` (default: the clock); return the ids of the
    waitlisted requests the change released."""
    with app.app_context():
        change = settings.set_team_budget(db.session.get(Team, team_id), weekly, None,
                                          now or utcnow())
        db.session.commit()
        return [request.id for request in getattr(change, "released", [])]


def submit(app, desk, now, team=None, **fields):
    """Submit an ad-hoc request of Marketing (or ``team``) at ``now``; return its id."""
    fields.setdefault("deadline", None)
    with app.app_context():
        created = intake.submit_request(db.session.get(User, desk.rita),
                                        intake_fields(team or desk.marketing, **fields), now=now)
        db.session.commit()
        return created.id


def get(app, request_id):
    with app.app_context():
        req = db.session.get(Request, request_id)
        db.session.expunge(req)
        return req


def transitions(app, request_id):
    with app.app_context():
        return [(e.action, e.actor_id, e.to_state, e.text) for e in db.session.scalars(
            db.select(Event).where(Event.request_id == request_id, Event.kind == "transition")
            .order_by(Event.id))]


def release(app, now):
    with app.app_context():
        released = [r.id for r in budget.release_waitlisted(now)]
        db.session.commit()
        return released


def usage(app, team_id, now):
    with app.app_context():
        return budget.ad_hoc_usage(db.session.get(Team, team_id), now)


def act(app, request_id, name, actor_id, now, **inputs):
    with app.app_context():
        req = db.session.get(Request, request_id)
        if "original" in inputs:
            inputs["original"] = db.session.get(Request, inputs["original"])
        lifecycle.transition(req, name, db.session.get(User, actor_id) if actor_id else None,
                             now, **inputs)
        db.session.commit()


# --- Waitlisting at submission ---------------------------------------------------------------

def test_ad_hoc_requests_take_places_until_the_budget_is_used_then_wait(app, desk):
    first = submit(app, desk, TUESDAY)
    second = submit(app, desk, TUESDAY + timedelta(hours=1))
    third = submit(app, desk, TUESDAY + timedelta(hours=2))
    assert [get(app, i).budget_counted_at for i in (first, second)] == \
        [TUESDAY, TUESDAY + timedelta(hours=1)]
    waiting = get(app, third)
    assert (waiting.state, waiting.budget_counted_at) == ("waitlisted", None)
    assert transitions(app, third) == [("waitlist", None, "waitlisted", NOTE)]
    assert usage(app, desk.marketing, TUESDAY + timedelta(hours=3)) == (2, 2)


def test_projects_data_issues_and_teams_without_a_budget_never_wait(app, desk):
    for _ in range(2):
        submit(app, desk, TUESDAY)
    project = submit(app, desk, TUESDAY, kind="project")
    issue = submit(app, desk, TUESDAY, kind="data_issue")
    assert [get(app, i).state for i in (project, issue)] == ["submitted", "submitted"]
    assert [get(app, i).budget_counted_at for i in (project, issue)] == [None, None]
    unlimited = [submit(app, desk, TUESDAY, team=desk.finance) for _ in range(5)]
    assert {get(app, i).state for i in unlimited} == {"submitted"}
    assert usage(app, desk.finance, TUESDAY) == (5, None)


def test_a_new_iso_week_starts_a_new_budget(app, desk):
    sunday_night = NEXT_MONDAY - timedelta(seconds=1)
    submit(app, desk, TUESDAY)
    submit(app, desk, sunday_night - timedelta(hours=5))
    assert get(app, submit(app, desk, sunday_night)).state == "waitlisted"
    monday = submit(app, desk, NEXT_MONDAY)
    assert (get(app, monday).state, get(app, monday).budget_counted_at) == ("submitted",
                                                                             NEXT_MONDAY)
    assert usage(app, desk.marketing, NEXT_MONDAY) == (1, 2)


def test_the_week_follows_the_settings_timezone(app, desk):
    with app.app_context():
        settings.update({"timezone": "Europe/Berlin"}, None, utcnow())
        db.session.commit()
    # Sunday 23:30 UTC is Monday 00:30 in Berlin: already next week there.
    submit(app, desk, datetime(2026, 11, 29, 20, tzinfo=UTC))
    submit(app, desk, datetime(2026, 11, 29, 21, tzinfo=UTC))
    assert get(app, submit(app, desk, datetime(2026, 11, 29, 23, 30, tzinfo=UTC))).state == \
        "submitted"


def test_budget_status_counts_places_and_the_waitlist_of_each_team_in_one_statement(app, desk):
    for hour in range(3):  # two places taken, the third waits
        submit(app, desk, TUESDAY + timedelta(hours=hour))
    submit(app, desk, TUESDAY, kind="project")  # never counts
    submit(app, desk, TUESDAY - timedelta(days=7))  # last week's place
    for _ in range(2):
        submit(app, desk, TUESDAY, team=desk.finance)  # no budget: counted, never waits
    with app.app_context():
        values = settings.current()
        with counting_sql(app) as statements:
            status = budget.budget_status_by_team([desk.marketing, desk.finance, 999],
                                                  TUESDAY + timedelta(hours=3), values)
    assert status == {desk.marketing: (2, 1), desk.finance: (2, 0), 999: (0, 0)}
    assert len(statements) == 1
    with app.app_context():
        assert budget.budget_status_by_team([], TUESDAY) == {}


def test_the_requester_is_told_why_it_waits(app, desk):
    for _ in range(2):
        submit(app, desk, utcnow())
    rita = AuthActions(app.test_client(), app)
    rita.login(desk.rita)
    form = rita.client.get("/requests/new").get_data(as_text=True)
    assert "Marketing has used 2 of 2 ad-hoc requests this week" in form
    data = {key: str(value) for key, value in intake_fields(desk.marketing).items()
            if value not in (None, False)}
    data["deadline"] = (date.today() + timedelta(days=30)).isoformat()
    page = rita.post("/requests/new", data, follow_redirects=True).get_data(as_text=True)
    assert "so it is waitlisted" in page and "a lead can approve it now" in page
    assert "Waitlisted over the ad-hoc budget" in page
    assert "Marketing has used 2 of 2 ad-hoc requests this week. A lead can approve it now" in page
    assert "The team&#39;s ad-hoc budget for this week is used up" in page  # the next step
    form = rita.client.get("/requests/new").get_data(as_text=True)
    assert "Marketing has used 2 of 2 ad-hoc requests this week; 1 waiting on the waitlist" in form


# --- Approval --------------------------------------------------------------------------------

def test_a_lead_approves_a_waitlisted_request_which_then_counts(app, desk, auth):
    for _ in range(2):
        submit(app, desk, utcnow())
    waiting = submit(app, desk, utcnow(), business_impact=2)
    priya = AuthActions(app.test_client(), app)
    priya.login(desk.priya)
    assert priya.act(waiting, "approve", size="S").status_code == 403
    auth.login(desk.lead)
    before = utcnow()
    with app.app_context():
        version = db.session.get(Request, waiting).version
    response = auth.client.post(f"/requests/{waiting}/actions/approve", data={
        "approve-csrf_token": auth.token, "approve-version": version, "approve-size": "S",
        "approve-business_impact": "4", "approve-note": "The board meets on Friday.",
        "next": "/triage?section=waitlisted"})
    assert response.headers["Location"] == "/triage?section=waitlisted"
    approved = get(app, waiting)
    assert (approved.state, approved.size, approved.business_impact) == ("accepted", "S", 4)
    assert approved.budget_counted_at >= before
    assert transitions(app, waiting)[-1][:3] == ("approve", desk.lead, "accepted")
    assert usage(app, desk.marketing, utcnow())[0] == 3  # over budget, by a lead's decision


def test_leads_see_the_waitlist_on_triage_with_approve_and_analysts_do_not(app, desk):
    for _ in range(2):
        submit(app, desk, utcnow())
    waiting = submit(app, desk, utcnow(), title="Campaign ROI this week")
    lead = AuthActions(app.test_client(), app)
    lead.login(desk.lead)
    page = lead.client.get("/triage?section=waitlisted").get_data(as_text=True)
    assert "Waitlisted over budget" in page and "Campaign ROI this week" in page
    # Its row opens the dialog with approve among its actions (the forms are rendered once).
    assert re.search(rf'data-request-id="{waiting}"[^>]*data-actions="approve[^"]*"', page)
    assert 'action="/requests/0/actions/approve"' in page
    assert "Over budget" in page
    priya = AuthActions(app.test_client(), app)
    priya.login(desk.priya)
    page = priya.client.get("/triage?section=waitlisted").get_data(as_text=True)
    assert "Waitlisted over budget" not in page and "Campaign ROI this week" not in page


def test_ad_hoc_requests_of_a_team_past_its_budget_carry_the_badge(app, desk, make):
    now = utcnow()
    counted = [submit(app, desk, now) for _ in range(2)]
    project = submit(app, desk, now, kind="project")
    lead = AuthActions(app.test_client(), app)
    lead.login(desk.lead)
    assert "Over budget" not in lead.client.get("/triage").get_data(as_text=True)
    with app.app_context():  # a lead turns a project into ad-hoc work: the team is now past it
        triage.change_kind(db.session.get(Request, project), db.session.get(User, desk.lead),
                           "ad_hoc", now)
        db.session.commit()
    page = lead.client.get("/triage").get_data(as_text=True)
    assert page.count('class="badge over-budget') == 3
    assert "Marketing has used 3 of 2 ad-hoc requests this week" in page
    assert counted


# --- Release ---------------------------------------------------------------------------------

def waitlist_three(app, desk):
    """Fill this week's budget on Tuesday, then three waitlisted requests of rising priority."""
    for _ in range(2):
        submit(app, desk, TUESDAY)
    low = submit(app, desk, TUESDAY + timedelta(hours=1), business_impact=1, title="Low")
    high = submit(app, desk, TUESDAY + timedelta(hours=2), business_impact=5, title="High")
    medium = submit(app, desk, TUESDAY + timedelta(hours=3), business_impact=3, title="Medium")
    assert {get(app, i).state for i in (low, high, medium)} == {"waitlisted"}
    return low, high, medium


def test_nothing_is_released_while_the_week_is_full(app, desk):
    waitlist_three(app, desk)
    assert release(app, TUESDAY + timedelta(days=1)) == []


def test_next_weeks_budget_releases_the_waitlist_in_priority_order_as_far_as_it_goes(app, desk):
    low, high, medium = waitlist_three(app, desk)
    assert release(app, NEXT_MONDAY) == [high, medium]
    for request_id in (high, medium):
        released = get(app, request_id)
        assert (released.state, released.budget_counted_at) == ("submitted", NEXT_MONDAY)
        action, actor, to_state, text = transitions(app, request_id)[-1]
        assert (action, actor, to_state) == ("release", None, "submitted")
        assert "Marketing" in text
    assert get(app, low).state == "waitlisted"
    assert usage(app, desk.marketing, NEXT_MONDAY) == (2, 2)


def test_release_is_idempotent(app, desk):
    low, high, medium = waitlist_three(app, desk)
    assert release(app, NEXT_MONDAY) == [high, medium]
    assert release(app, NEXT_MONDAY) == []
    assert release(app, NEXT_MONDAY + timedelta(days=2)) == []
    assert release(app, NEXT_MONDAY + timedelta(days=7)) == [low]


def test_raising_the_budget_releases_the_waitlist_at_once_as_far_as_it_goes(app, desk):
    # Issue 14: in the same transaction as the change, not at the next hourly run.
    low, high, medium = waitlist_three(app, desk)
    wednesday = TUESDAY + timedelta(days=1)
    assert set_budget(app, desk.marketing, 3, now=wednesday) == [high]
    assert get(app, high).state == "submitted"
    assert usage(app, desk.marketing, wednesday) == (3, 3)
    assert sorted(set_budget(app, desk.marketing, None, now=wednesday)) == sorted([low, medium])
    assert release(app, wednesday) == []


def test_lowering_the_budget_releases_nothing(app, desk):
    low, high, medium = waitlist_three(app, desk)
    assert set_budget(app, desk.marketing, 1, now=TUESDAY + timedelta(days=1)) == []
    assert {get(app, i).state for i in (low, high, medium)} == {"waitlisted"}


def test_the_settings_page_says_what_a_bigger_budget_released(app, desk, auth):
    now = utcnow()  # the page changes the budget at the clock's time: fill this week's
    for _ in range(2):
        submit(app, desk, now)
    waiting = submit(app, desk, now, title="Churn by region")
    assert get(app, waiting).state == "waitlisted"
    auth.login(desk.lead)

    response = auth.post("/settings", data=settings_page_form(
        **{f"budget_{desk.marketing}": "3"}), follow_redirects=True)

    page = response.get_data(as_text=True)
    assert ("Saved 1 change. The bigger budget released 1 waitlisted request to triage at "
            f"once: #{waiting} Churn by region.") in page
    assert get(app, waiting).state == "submitted"


def test_the_cli_releases_the_waitlist(app, desk, runner, monkeypatch):
    for _ in range(2):
        submit(app, desk, TUESDAY)
    waiting = submit(app, desk, TUESDAY + timedelta(seconds=1))
    assert get(app, waiting).state == "waitlisted"
    monkeypatch.setattr(cli, "utcnow", lambda: NEXT_MONDAY)  # the command runs in the next week
    result = runner.invoke(args=["budgets", "release"])
    assert result.exit_code == 0, result.output
    assert f"Released #{waiting} (Marketing)" in result.output
    assert "1 request released." in result.output
    assert runner.invoke(args=["budgets", "release"]).output == "0 requests released.\n"


def test_cancelling_a_counted_request_releases_the_next_waitlisted_one(app, desk):
    first = submit(app, desk, TUESDAY)
    submit(app, desk, TUESDAY)
    low, high, medium = waitlist_three_after(app, desk)
    act(app, first, "cancel", desk.rita, TUESDAY + timedelta(days=1))
    assert get(app, high).state == "submitted"
    assert {get(app, i).state for i in (low, medium)} == {"waitlisted"}


def waitlist_three_after(app, desk):
    low = submit(app, desk, TUESDAY + timedelta(hours=1), business_impact=1)
    high = submit(app, desk, TUESDAY + timedelta(hours=2), business_impact=5)
    medium = submit(app, desk, TUESDAY + timedelta(hours=3), business_impact=3)
    return low, high, medium


def test_a_duplicate_frees_its_place_but_a_decline_does_not(app, desk):
    first = submit(app, desk, TUESDAY)
    second = submit(app, desk, TUESDAY)
    low, high, medium = waitlist_three_after(app, desk)
    act(app, second, "decline", desk.priya, TUESDAY + timedelta(hours=4), reason="low_value",
        note="Not now.")
    assert get(app, high).state == "waitlisted"
    act(app, first, "mark_duplicate", desk.priya, TUESDAY + timedelta(hours=5), original=second)
    assert get(app, high).state == "submitted"


def test_cancelling_last_weeks_request_frees_nothing_this_week(app, desk):
    old = submit(app, desk, TUESDAY - timedelta(days=7))
    submit(app, desk, TUESDAY)
    submit(app, desk, TUESDAY)
    waiting = submit(app, desk, TUESDAY)
    act(app, old, "cancel", desk.rita, TUESDAY + timedelta(hours=1))
    assert get(app, waiting).state == "waitlisted"


# --- Changing the kind -----------------------------------------------------------------------

def change_kind(app, request_id, actor_id, kind, now):
    with app.app_context():
        triage.change_kind(db.session.get(Request, request_id), db.session.get(User, actor_id),
                           kind, now)
        db.session.commit()


def test_an_ad_hoc_request_that_is_really_a_project_gives_its_place_back(app, desk):
    first = submit(app, desk, TUESDAY)
    submit(app, desk, TUESDAY)
    waiting = submit(app, desk, TUESDAY)
    change_kind(app, first, desk.priya, "project", TUESDAY + timedelta(hours=1))
    assert get(app, first).budget_counted_at is None
    released = get(app, waiting)
    assert (released.state, released.budget_counted_at) == ("submitted",
                                                            TUESDAY + timedelta(hours=1))
    assert usage(app, desk.marketing, TUESDAY + timedelta(hours=2)) == (2, 2)


def test_a_project_that_is_really_ad_hoc_counts_without_waiting(app, desk):
    for _ in range(2):
        submit(app, desk, TUESDAY)
    project = submit(app, desk, TUESDAY, kind="project")
    change_kind(app, project, desk.priya, "ad_hoc", TUESDAY + timedelta(hours=1))
    after = get(app, project)
    assert (after.kind, after.state, after.budget_counted_at) == (
        "ad_hoc", "submitted", TUESDAY + timedelta(hours=1))
    assert usage(app, desk.marketing, TUESDAY + timedelta(hours=2)) == (3, 2)


def test_a_waitlisted_request_that_is_not_ad_hoc_goes_to_triage(app, desk):
    for _ in range(2):
        submit(app, desk, TUESDAY)
    waiting = submit(app, desk, TUESDAY)
    change_kind(app, waiting, desk.lead, "project", TUESDAY + timedelta(hours=1))
    after = get(app, waiting)
    assert (after.kind, after.state, after.budget_counted_at) == ("project", "submitted", None)
    assert transitions(app, waiting)[-1][:3] == ("release", None, "submitted")


def test_a_requester_editing_the_kind_moves_the_budget_the_same_way(app, desk):
    first = submit(app, desk, TUESDAY)
    submit(app, desk, TUESDAY)
    waiting = submit(app, desk, TUESDAY)
    with app.app_context():
        intake.edit_request(db.session.get(Request, first), db.session.get(User, desk.rita),
                            {"kind": "project"}, now=TUESDAY + timedelta(hours=1))
        db.session.commit()
    assert get(app, first).budget_counted_at is None
    assert get(app, waiting).state == "submitted"


# --- Changing the team or kind after triage (issue 10, Security 3) ----------------------------

def edit(app, request_id, actor_id, now, **fields):
    with app.app_context():
        intake.edit_request(db.session.get(Request, request_id), db.session.get(User, actor_id),
                            fields, now=now)
        db.session.commit()


def test_an_accepted_request_moved_by_its_requester_to_a_full_team_waits_there(app, desk):
    first = submit(app, desk, TUESDAY)
    submit(app, desk, TUESDAY)
    waiting = submit(app, desk, TUESDAY)
    set_budget(app, desk.finance, 1)
    submit(app, desk, TUESDAY, team=desk.finance)
    act(app, first, "accept", desk.priya, TUESDAY + timedelta(hours=1), size="M")

    edit(app, first, desk.rita, TUESDAY + timedelta(hours=2), team_id=desk.finance)

    moved = get(app, first)
    assert (moved.team_id, moved.state, moved.budget_counted_at) == (
        desk.finance, "waitlisted", None)
    assert [step[:3] for step in transitions(app, first)[-2:]] == [
        ("retriage", desk.rita, "submitted"), ("waitlist", None, "waitlisted")]
    assert get(app, waiting).state == "submitted"  # the place it left in Marketing
    later = TUESDAY + timedelta(hours=3)
    assert (usage(app, desk.marketing, later), usage(app, desk.finance, later)) == ((2, 2), (1, 1))


def test_an_accepted_request_moved_by_its_requester_to_a_team_with_room_takes_a_place(app, desk):
    first = submit(app, desk, TUESDAY)
    set_budget(app, desk.finance, 2)
    act(app, first, "accept", desk.priya, TUESDAY + timedelta(hours=1), size="M")
    edit(app, first, desk.rita, TUESDAY + timedelta(hours=2), team_id=desk.finance)
    moved = get(app, first)
    assert (moved.state, moved.budget_counted_at) == ("submitted", TUESDAY + timedelta(hours=2))
    later = TUESDAY + timedelta(hours=3)
    assert (usage(app, desk.marketing, later), usage(app, desk.finance, later)) == ((0, 2), (1, 2))


def test_an_accepted_project_its_requester_makes_ad_hoc_is_checked_against_the_budget(app, desk):
    for _ in range(2):
        submit(app, desk, TUESDAY)
    project = submit(app, desk, TUESDAY, kind="project")
    act(app, project, "accept", desk.priya, TUESDAY + timedelta(hours=1), size="M")
    edit(app, project, desk.rita, TUESDAY + timedelta(hours=2), kind="ad_hoc")
    after = get(app, project)
    assert (after.kind, after.state, after.budget_counted_at) == ("ad_hoc", "waitlisted", None)
    assert usage(app, desk.marketing, TUESDAY + timedelta(hours=3)) == (2, 2)


def test_an_accepted_ad_hoc_request_its_requester_makes_a_project_frees_its_place(app, desk):
    first = submit(app, desk, TUESDAY)
    submit(app, desk, TUESDAY)
    waiting = submit(app, desk, TUESDAY)
    act(app, first, "accept", desk.priya, TUESDAY + timedelta(hours=1), size="M")
    edit(app, first, desk.rita, TUESDAY + timedelta(hours=2), kind="project")
    after = get(app, first)
    assert (after.state, after.budget_counted_at) == ("submitted", None)
    assert get(app, waiting).state == "submitted"
    assert usage(app, desk.marketing, TUESDAY + timedelta(hours=3)) == (2, 2)


def test_a_lead_moving_an_accepted_request_frees_its_place_in_the_old_team(app, desk):
    first = submit(app, desk, TUESDAY)
    submit(app, desk, TUESDAY)
    waiting = submit(app, desk, TUESDAY)
    act(app, first, "accept", desk.priya, TUESDAY + timedelta(hours=1), size="M")
    edit(app, first, desk.lead, TUESDAY + timedelta(hours=2), team_id=desk.finance)
    moved = get(app, first)
    assert (moved.state, moved.budget_counted_at) == ("accepted", TUESDAY)  # a lead decided
    assert get(app, waiting).state == "submitted"
    later = TUESDAY + timedelta(hours=3)
    assert (usage(app, desk.marketing, later), usage(app, desk.finance, later)) == (
        (2, 2), (1, None))


# --- Races -----------------------------------------------------------------------------------

def test_two_submissions_racing_for_the_last_place_one_waits(app, desk):
    submit(app, desk, utcnow())  # one place left
    sessions = []
    for _ in range(2):
        actions = AuthActions(app.test_client(), app)
        actions.login(desk.rita)
        sessions.append(actions)
    data = {key: str(value) for key, value in intake_fields(desk.marketing).items()
            if value not in (None, False)}
    data["deadline"] = (date.today() + timedelta(days=30)).isoformat()
    barrier = threading.Barrier(2)
    responses = [None, None]

    def post(index):
        barrier.wait()
        responses[index] = sessions[index].post("/requests/new", dict(data, title=f"Race {index}"))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [r.status_code for r in responses] == [302, 302]
    with app.app_context():
        states = sorted(db.session.scalars(db.select(Request.state).where(
            Request.title.like("Race %"))))
    assert states == ["submitted", "waitlisted"]
    assert usage(app, desk.marketing, utcnow()) == (2, 2)


# --- Budget before submit (issue 14) ----------------------------------------------------------

def test_the_intake_form_says_before_submitting_that_an_ad_hoc_request_will_wait_and_where(
        app, desk, auth):
    now = utcnow()
    for _ in range(3):
        submit(app, desk, now)  # two take the places, one waits
    auth.login(desk.rita)

    page = auth.client.get("/requests/new").get_data(as_text=True)

    notice = page.split('id="team_id-waitlist-notice"')[1].split("</div>")[0]
    assert "hidden" not in notice.split(">")[0]
    assert "If you submit it now, this request will be waitlisted" in notice
    assert ("Marketing has used 2 of 2 ad-hoc requests this week, so an ad-hoc request goes on "
            "the waitlist, at position 2 (1 request waits before it; the waitlist is released "
            "in priority order, so an urgent request may go sooner).") in notice
    assert "What you can do:" in notice
    assert "at the latest when the budget period ends" in notice
    assert "choose a deadline after" in notice
    assert "ask a lead to approve it over budget" in notice
    # Every team's outlook travels with the form, for the script to follow the choices.
    assert f'"{desk.finance}": {{"line": "", "notice": null}}' in page


def test_without_javascript_the_notice_follows_the_kind_sent_back(app, desk, auth):
    now = utcnow()
    for _ in range(2):
        submit(app, desk, now)
    auth.login(desk.rita)

    project = auth.post("/requests/new", intake_form(desk.marketing, kind="project", title=""))
    ad_hoc = auth.post("/requests/new", intake_form(desk.marketing, kind="ad_hoc", title=""))
    assert project.status_code == ad_hoc.status_code == 400  # the title is missing
    project, ad_hoc = project.get_data(as_text=True), ad_hoc.get_data(as_text=True)

    def shown(html):
        return "hidden" not in html.split('id="team_id-waitlist-notice"')[1].split(">")[0]

    assert not shown(project) and shown(ad_hoc)
    assert "at position 1 (nobody waits before it)" in ad_hoc


def test_a_team_with_room_shows_only_its_budget_line(app, desk, auth):
    submit(app, desk, utcnow())
    auth.login(desk.rita)
    page = auth.client.get("/requests/new").get_data(as_text=True)
    assert "Marketing has used 1 of 2 ad-hoc requests this week" in page
    assert "hidden" in page.split('id="team_id-waitlist-notice"')[1].split(">")[0]


def test_the_waitlist_notice_names_the_end_of_the_budget_period(app, desk):
    with app.app_context():
        team = db.session.get(Team, desk.marketing)
        notice = budget.waitlist_notice(team, 2, 0, TUESDAY)
    assert notice["options"][0] == (
        "It is released to triage as soon as a place in the budget frees up, and at the latest "
        "when the budget period ends (Sun 29 Nov 2026): next week's budget starts on Mon 30 Nov "
        "2026, in priority order.")
    assert notice["options"][1] == ("If it can wait, choose a deadline after Mon 30 Nov 2026: "
                                    "it is then released before it is needed.")


def test_a_request_waitlisted_past_the_oldest_first_limit_is_released_first(app, desk):
    low, high, medium = waitlist_three(app, desk)
    # Released four weeks later: all three have waited 15+ working days, so they go oldest
    # first whatever their scores, and the waitlist says so before the release.
    later = NEXT_MONDAY + timedelta(weeks=3)
    with app.app_context():
        assert budget.waitlist_position(db.session.get(Request, low), later) == (1, 3)
    assert release(app, later) == [low, high]
    # Switched off, the waitlist goes by score again.
    with app.app_context():
        settings.update({"priority_oldest_first_after": 0}, None, later)
        db.session.commit()
        assert budget.waitlist_position(db.session.get(Request, medium), later) == (1, 1)

"""Intake through the browser's eyes: the form, its errors, edits, comments and the timeline.

Everything goes through the Flask test client as a logged-in user would: GET a page, POST a form
with its CSRF token, read the HTML that comes back.
"""
import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from markupsafe import escape

from tickets import intake, lifecycle, queues, triage
from tickets.extensions import db
from tickets.models import Event, Request, User, utcnow

TODAY = date.today()
IN_A_MONTH = (TODAY + timedelta(days=30)).isoformat()
XSS = "<script>alert(1)</script>"
ESCAPED_XSS = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def desk(make):
    """Two teams, a Marketing requester logged in nowhere yet, an analyst and a lead."""
    finance = make.team("Finance")
    marketing = make.team("Marketing")
    return SimpleNamespace(
        finance=finance, marketing=marketing,
        requester=make.user("requester", teams=[marketing], email="rita@example.com",
                            name="Rita Requester"),
        analyst=make.user("analyst", teams=[marketing], name="Ana Analyst"),
        lead=make.user("lead", name="Leo Lead"),
    )


def answers(desk, **changes):
    """A complete, valid intake form as a browser posts it, with ``changes`` applied."""
    data = {
        "title": "Weekly churn by region",
        "team_id": str(desk.marketing),
        "data_needed": "Churned accounts per region per week since January.",
        "format": "spreadsheet",
        "usage": "Reviewed in the Monday growth meeting.",
        "lever_result": "Retention in the south region.",
        "lever_expected_shape": "Churn around 3% a week, higher in the south.",
        "lever_extraction": "Compare regions week over week.",
        "lever_decision": "Move retention budget to the worst region.",
        "deadline": IN_A_MONTH,
        "kind": "ad_hoc",
        "business_impact": "3",
        "exec_sponsor": "",
        "watchers": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def submit(auth, desk, **changes):
    """Submit the intake form; return the new request's id."""
    response = auth.post("/requests/new", answers(desk, **changes))
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.fullmatch(r"/requests/(\d+)", response.location)
    assert match, response.location
    return int(match.group(1))


def request_count(app):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(Request.id)))


def events_of(app, request_id):
    with app.app_context():
        return [SimpleNamespace(kind=e.kind, action=e.action, actor_id=e.actor_id, text=e.text,
                                from_state=e.from_state, to_state=e.to_state, data=e.data)
                for e in db.session.scalars(db.select(Event).where(Event.request_id == request_id)
                                            .order_by(Event.id))]


def page(client, path):
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def timeline(html):
    """The HTML of the request page's timeline."""
    match = re.search(r'<ol class="timeline.*?</ol>', html, re.S)
    assert match, "no timeline on the page"
    return match.group(0)


def in_order(html, *parts):
    """Tell whether every part occurs in ``html``, each after the one before."""
    position = 0
    for part in parts:
        found = html.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True


def selected_team(html):
    match = re.search(r'<select[^>]*name="team_id".*?</select>', html, re.S)
    chosen = re.findall(r'<option selected value="(\d+)"', match.group(0))
    return [int(value) for value in chosen]


# --- The empty form ----------------------------------------------------------------------

def test_intake_form_defaults_the_team_to_the_requesters_team(client, auth, desk):
    auth.login(desk.requester)
    assert selected_team(page(client, "/requests/new")) == [desk.marketing]


def test_intake_form_offers_every_active_team_but_no_inactive_one(client, auth, make, desk):
    make.team("Old team", is_active=False)
    auth.login(desk.requester)
    html = page(client, "/requests/new")
    assert ">Finance</option>" in html and ">Marketing</option>" in html
    assert "Old team" not in html


def test_intake_form_explains_each_question_with_a_hint(client, auth, desk):
    auth.login(desk.requester)
    html = page(client, "/requests/new")
    for field, hint in [
        ("title", "A short name for the request"),
        ("team_id", "Its embedded analysts will pick it up"),
        ("data_needed", "Which numbers, for which period"),
        ("lever_result", "The business number or outcome you want to move"),
        ("lever_expected_shape", "Your best guess of the answer"),
        ("lever_extraction", "What you will compare or look for"),
        ("lever_decision", "What you will do differently"),
        ("deadline", "Ask early"),
        ("watchers", "at most 20"),
    ]:
        assert re.search(rf'id="{field}-hint"[^>]*>[^<]*{re.escape(hint)}', html), field
        assert f'aria-describedby="{field}-hint"' in html, field


# --- A valid submission ------------------------------------------------------------------

def test_valid_request_is_created_with_its_created_event_and_watchers(app, client, auth, desk):
    auth.login(desk.requester)
    response = auth.post("/requests/new", answers(
        desk, watchers="Ann@Example.COM, bob@example.com\ncarol@EXAMPLE.com; ann@example.com",
        business_impact="4", kind="project", format="dashboard", is_confidential="y"))

    assert response.status_code == 302
    request_id = int(re.fullmatch(r"/requests/(\d+)", response.location).group(1))
    with app.app_context():
        req = db.session.get(Request, request_id)
        assert (req.title, req.team_id, req.requester_id, req.state) == (
            "Weekly churn by region", desk.marketing, desk.requester, "submitted")
        assert (req.format, req.kind, req.business_impact) == ("dashboard", "project", 4)
        assert req.deadline.isoformat() == IN_A_MONTH
        assert req.is_confidential and not req.is_exec_sponsored
        assert req.lever_decision == "Move retention budget to the worst region."
        assert req.watcher_emails == ["ann@example.com", "bob@example.com", "carol@example.com"]
    [created] = events_of(app, request_id)
    assert (created.kind, created.actor_id, created.to_state) == ("created", desk.requester,
                                                                  "submitted")
    html = page(client, response.location)
    assert "submitted the request" in timeline(html)
    assert "Rita Requester" in timeline(html)


def test_request_with_no_hard_deadline_is_stored_without_a_date(app, auth, desk):
    auth.login(desk.requester)
    request_id = submit(auth, desk, deadline="", no_deadline="y")
    with app.app_context():
        assert db.session.get(Request, request_id).deadline is None


def test_deadline_today_is_accepted(app, auth, desk):
    auth.login(desk.requester)
    request_id = submit(auth, desk, deadline=TODAY.isoformat())
    with app.app_context():
        assert db.session.get(Request, request_id).deadline == TODAY


def test_exec_sponsor_is_kept_with_the_request_it_sponsors(app, auth, desk):
    auth.login(desk.requester)
    request_id = submit(auth, desk, is_exec_sponsored="y", exec_sponsor="  Carla CFO ")
    with app.app_context():
        req = db.session.get(Request, request_id)
        assert (req.is_exec_sponsored, req.exec_sponsor) == (True, "Carla CFO")


def test_a_sponsor_name_without_the_sponsored_tick_is_not_stored(app, auth, desk):
    auth.login(desk.requester)
    request_id = submit(auth, desk, exec_sponsor="Carla CFO")
    with app.app_context():
        req = db.session.get(Request, request_id)
        assert (req.is_exec_sponsored, req.exec_sponsor) == (False, "")


def test_text_answers_are_stored_without_surrounding_whitespace(app, auth, desk):
    auth.login(desk.requester)
    request_id = submit(auth, desk, title="  Weekly churn  ", lever_result="\n Retention \n")
    with app.app_context():
        req = db.session.get(Request, request_id)
        assert (req.title, req.lever_result) == ("Weekly churn", "Retention")


# --- One clear message per wrong answer --------------------------------------------------

def twenty_one_watchers():
    return ", ".join(f"person{n}@example.com" for n in range(21))


INVALID = [
    ("deadline-in-the-past", {"deadline": (TODAY - timedelta(days=1)).isoformat()},
     "deadline", "The deadline is in the past. Choose today or a later date."),
    ("deadline-not-a-date", {"deadline": "31/12/2027"},
     "deadline", "Enter the date as YYYY-MM-DD."),
    ("deadline-impossible-date", {"deadline": "2027-02-30"},
     "deadline", "Enter the date as YYYY-MM-DD."),
    ("deadline-missing", {"deadline": ""},
     "deadline", "Give a deadline, or tick \u201cNo hard deadline\u201d."),
    ("deadline-and-no-deadline", {"no_deadline": "y"},
     "deadline", "You ticked \u201cNo hard deadline\u201d: remove the date or untick it."),
    ("lever-result-empty", {"lever_result": ""},
     "lever_result", "Say which result this should help you influence."),
    ("lever-shape-empty", {"lever_expected_shape": ""},
     "lever_expected_shape", "Describe what you expect the data to look like."),
    ("lever-extraction-empty", {"lever_extraction": ""},
     "lever_extraction", "Say how you will read the answer from the data."),
    ("lever-decision-empty", {"lever_decision": ""},
     "lever_decision", "Say which decision or action the result will drive."),
    ("lever-result-blank", {"lever_result": "   \r\n "},
     "lever_result", "Say which result this should help you influence."),
    ("lever-shape-blank", {"lever_expected_shape": "\t"},
     "lever_expected_shape", "Describe what you expect the data to look like."),
    ("lever-extraction-blank", {"lever_extraction": "  "},
     "lever_extraction", "Say how you will read the answer from the data."),
    ("lever-decision-blank", {"lever_decision": " \n"},
     "lever_decision", "Say which decision or action the result will drive."),
    ("title-empty", {"title": "  "}, "title", "Give the request a short title."),
    ("title-201-characters", {"title": "t" * 201},
     "title", "Keep the title under 200 characters."),
    ("data-needed-too-long", {"data_needed": "d" * 5001},
     "data_needed", "Keep this under 5,000 characters."),
    ("team-unknown", {"team_id": "999999"}, "team_id", "Choose one of the teams in the list."),
    ("team-not-a-number", {"team_id": "abc"}, "team_id", "Choose one of the teams in the list."),
    ("team-empty", {"team_id": ""}, "team_id", "Choose one of the teams in the list."),
    ("format-unknown", {"format": "pdf"}, "format", "Choose one of the formats in the list."),
    ("kind-unknown", {"kind": "urgent"}, "kind", "Choose the kind of request."),
    ("impact-unknown", {"business_impact": "9"}, "business_impact", "Choose the business impact."),
    ("impact-zero", {"business_impact": "0"}, "business_impact", "Choose the business impact."),
    ("impact-not-a-number", {"business_impact": "abc"},
     "business_impact", "Choose the business impact."),
    ("watcher-malformed", {"watchers": "ann@example.com, bob-at-example"},
     "watchers", "These are not valid e-mail addresses: bob-at-example"),
    ("more-than-20-watchers", {"watchers": twenty_one_watchers()},
     "watchers", "Add at most 20 people."),
    ("exec-sponsored-without-name", {"is_exec_sponsored": "y", "exec_sponsor": " "},
     "exec_sponsor", "Name the executive who sponsors it."),
]


@pytest.mark.parametrize("changes, field, message",
                         [pytest.param(c, f, m, id=name) for name, c, f, m in INVALID])
def test_wrong_answer_gets_its_own_message_and_keeps_the_rest_of_the_input(
        app, auth, desk, errors, changes, field, message):
    auth.login(desk.requester)
    typed = answers(desk, title="Churn for the Q3 review", usage="Shown to the board in March.",
                    lever_decision="Cut the worst campaign.", exec_sponsor="Carla CFO",
                    is_confidential="y")
    typed.update(changes)

    response = auth.post("/requests/new", typed)

    assert response.status_code == 400
    assert errors(response) == {field: message}
    assert request_count(app) == 0
    html = response.get_data(as_text=True)
    assert 'id="error-summary"' in html
    for name, value in [("title", "Churn for the Q3 review"), ("usage", "Shown to the board in March."),
                        ("lever_decision", "Cut the worst campaign.")]:
        if name not in changes:
            assert value in html, f"{name} was not kept"
    if "exec_sponsor" not in changes:
        assert 'value="Carla CFO"' in html
    assert re.search(r'<input[^>]*checked[^>]*id="is_confidential"', html)
    if "team_id" not in changes:
        assert selected_team(html) == [desk.marketing]


def test_several_wrong_answers_each_get_their_message(auth, desk, errors):
    auth.login(desk.requester)
    response = auth.post("/requests/new", answers(desk, title="", lever_result="", deadline=""))
    assert response.status_code == 400
    assert set(errors(response)) == {"title", "lever_result", "deadline"}


def test_twenty_watchers_are_accepted(app, auth, desk):
    auth.login(desk.requester)
    request_id = submit(auth, desk, watchers="\n".join(f"p{n}@example.com" for n in range(20)))
    with app.app_context():
        assert len(db.session.get(Request, request_id).watchers) == 20


def test_a_title_of_exactly_200_characters_is_accepted(app, auth, desk):
    auth.login(desk.requester)
    request_id = submit(auth, desk, title="t" * 200)
    with app.app_context():
        assert db.session.get(Request, request_id).title == "t" * 200


def test_inactive_team_cannot_be_chosen(app, auth, make, desk, errors):
    closed = make.team("Old team", is_active=False)
    auth.login(desk.requester)
    response = auth.post("/requests/new", answers(desk, team_id=str(closed)))
    assert response.status_code == 400
    assert errors(response) == {"team_id": "Choose one of the teams in the list."}


GARBAGE = {
    "impact-letters": {"business_impact": "abc"},
    "impact-huge-number": {"business_impact": "9" * 5000},
    "team-empty": {"team_id": ""},
    "team-negative": {"team_id": "-1"},
    "team-float": {"team_id": "1.5"},
    "huge-title": {"title": "x" * 100_000},
    "huge-levers": {"lever_result": "y" * 100_000, "lever_decision": "z" * 100_000},
    "huge-watchers": {"watchers": "a" * 100_000},
    "huge-deadline": {"deadline": "9" * 10_000},
    "year-ten-thousand": {"deadline": "10000-01-01"},
    "kind-empty": {"kind": ""},
    "format-empty": {"format": ""},
    "nul-byte": {"title": "churn\x00report"},
    "everything-missing": {key: None for key in answers(SimpleNamespace(marketing=0))},
}


@pytest.mark.parametrize("changes", [pytest.param(c, id=name) for name, c in GARBAGE.items()])
def test_garbage_input_is_answered_with_the_form_not_an_error_page(app, auth, desk, errors,
                                                                   changes):
    auth.login(desk.requester)
    response = auth.post("/requests/new", answers(desk, **changes))
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert errors(response), "a refused form must say which field is wrong"
        assert request_count(app) == 0


def test_nul_bytes_in_typed_text_are_refused_next_to_their_field(app, auth, desk, errors):
    auth.login(desk.requester)
    response = auth.post("/requests/new", answers(desk, title="Churn\x00 report",
                                                  lever_result="Retention\x00"))
    assert response.status_code == 400
    assert errors(response) == {
        "title": "Use one line without control characters.",
        "lever_result": "Remove the control characters (such as NUL) from this text."}
    assert request_count(app) == 0
    request_id = submit(auth, desk)
    response = auth.post(f"/requests/{request_id}/comments", {"text": "See\x00 this"})
    assert response.status_code == 400
    assert [event.kind for event in events_of(app, request_id)] == ["created"]


# --- Editing -----------------------------------------------------------------------------

def edit_form(desk, version, **changes):
    data = answers(desk, **changes)
    data["version"] = str(version)
    return data


def version_of(app, request_id):
    with app.app_context():
        return db.session.get(Request, request_id).version


def test_requester_edit_records_one_event_with_old_and_new_values(app, client, auth, desk):
    auth.login(desk.requester)
    request_id = submit(auth, desk, watchers="ann@example.com")
    edit_page = page(client, f"/requests/{request_id}/edit")
    assert f'name="version" value="{version_of(app, request_id)}"' in edit_page
    assert "ann@example.com" in edit_page

    response = auth.post(f"/requests/{request_id}/edit", edit_form(
        desk, version_of(app, request_id), title="Weekly churn by region and plan",
        team_id=str(desk.finance), business_impact="4", watchers="ann@example.com, Bob@Example.com"))

    assert response.status_code == 302
    assert response.location == f"/requests/{request_id}"
    created, edit = events_of(app, request_id)
    assert (edit.kind, edit.actor_id) == ("edit", desk.requester)
    assert edit.data == {"changes": {
        "title": ["Weekly churn by region", "Weekly churn by region and plan"],
        "team": ["Marketing", "Finance"],
        "business_impact": [3, 4],
        "watchers": [["ann@example.com"], ["ann@example.com", "bob@example.com"]],
    }}
    with app.app_context():
        req = db.session.get(Request, request_id)
        assert (req.title, req.team_id, req.business_impact) == (
            "Weekly churn by region and plan", desk.finance, 4)
        assert req.watcher_emails == ["ann@example.com", "bob@example.com"]

    shown = timeline(page(client, f"/requests/{request_id}"))
    assert "edited the request" in shown
    assert in_order(shown, "team", "<del>Marketing</del>", "<ins>Finance</ins>")
    assert in_order(shown, "business impact", "<del>Medium</del>", "<ins>High</ins>")
    assert "<ins>Weekly churn by region and plan</ins>" in shown


def test_saving_an_unchanged_form_writes_no_edit_event(app, auth, desk):
    auth.login(desk.requester)
    request_id = submit(auth, desk)
    response = auth.post(f"/requests/{request_id}/edit",
                         edit_form(desk, version_of(app, request_id)))
    assert response.status_code == 302
    assert [e.kind for e in events_of(app, request_id)] == ["created"]


def test_requester_may_edit_while_the_data_team_waits_for_an_answer(app, auth, make, desk):
    auth.login(desk.requester)
    request_id = submit(auth, desk)
    make.act(request_id, "ask", desk.analyst, note="Which regions?")
    response = auth.post(f"/requests/{request_id}/edit", edit_form(
        desk, version_of(app, request_id), data_needed="Churn for north and south only."))
    assert response.status_code == 302
    assert events_of(app, request_id)[-1].data == {"changes": {"data_needed": [
        "Churned accounts per region per week since January.", "Churn for north and south only."]}}


def test_editing_with_a_stale_version_is_refused_and_keeps_the_input(app, auth, make, desk):
    auth.login(desk.requester)
    request_id = submit(auth, desk)
    seen = version_of(app, request_id)
    make.act(request_id, "ask", desk.analyst, note="Which regions?")  # meanwhile, someone else

    response = auth.post(f"/requests/{request_id}/edit",
                         edit_form(desk, seen, title="My better title"))

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert 'value="My better title"' in html
    assert "Someone else changed this request" in html
    assert f'name="version" value="{version_of(app, request_id)}"' in html
    with app.app_context():
        assert db.session.get(Request, request_id).title == "Weekly churn by region"
    assert [e.kind for e in events_of(app, request_id)] == ["created", "transition"]


def test_edit_with_a_wrong_answer_gets_a_field_message_and_saves_nothing(app, auth, desk, errors):
    auth.login(desk.requester)
    request_id = submit(auth, desk)
    response = auth.post(f"/requests/{request_id}/edit", edit_form(
        desk, version_of(app, request_id), title="Renamed", lever_decision=" "))
    assert response.status_code == 400
    assert errors(response) == {"lever_decision": "Say which decision or action the result will drive."}
    assert 'value="Renamed"' in response.get_data(as_text=True)
    assert [e.kind for e in events_of(app, request_id)] == ["created"]


def test_a_deadline_that_has_passed_since_submission_can_be_kept_while_editing(app, auth, make,
                                                                                 desk):
    last_week = TODAY - timedelta(days=7)
    request_id = make.request(desk.requester, desk.marketing, deadline=last_week)
    auth.login(desk.requester)
    response = auth.post(f"/requests/{request_id}/edit", edit_form(
        desk, version_of(app, request_id), deadline=last_week.isoformat(), title="Renamed"))
    assert response.status_code == 302
    assert events_of(app, request_id)[-1].data == {"changes": {"title": [
        "Weekly churn by region", "Renamed"]}}


@pytest.mark.parametrize("state_path", [
    pytest.param(["accept", "claim"], id="in_progress"),
    pytest.param(["accept", "claim", "deliver"], id="delivered"),
    pytest.param(["cancel"], id="cancelled"),
])
def test_requester_cannot_edit_once_work_has_started_or_ended(app, client, auth, make, desk,
                                                             state_path):
    request_id = make.request(desk.requester, desk.marketing)
    inputs = {"accept": {"size": "M"}, "claim": {}, "cancel": {},
              "deliver": {"url": "https://bi.example.com/d/1", "note": "Here."}}
    for name in state_path:
        actor = desk.requester if name == "cancel" else desk.analyst
        make.act(request_id, name, actor, **inputs[name])
    auth.login(desk.requester)

    assert client.get(f"/requests/{request_id}/edit").status_code == 403
    response = auth.post(f"/requests/{request_id}/edit",
                         edit_form(desk, version_of(app, request_id), title="Too late"))
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(Request, request_id).title == "Weekly churn by region"
    assert "edit" not in [e.kind for e in events_of(app, request_id)]
    assert f'href="/requests/{request_id}/edit"' not in page(client, f"/requests/{request_id}")


def test_another_requester_of_the_team_cannot_edit(app, client, auth, make, desk):
    request_id = make.request(desk.requester, desk.marketing)
    auth.login(make.user("requester", teams=[desk.marketing]))
    assert client.get(f"/requests/{request_id}/edit").status_code == 403


def test_an_edit_is_one_change_of_the_requests_version(app, make, desk):
    request_id = make.request(desk.requester, desk.marketing, watchers=["ann@example.com"])
    before = version_of(app, request_id)
    with app.app_context():  # fresh session: team and watchers are loaded lazily, mid-edit
        req = db.session.get(Request, request_id)
        intake.edit_request(req, req.requester, {"title": "Renamed", "team_id": desk.finance},
                            watchers=["bob@example.com"])
        db.session.commit()
    assert version_of(app, request_id) == before + 1


def test_an_edit_losing_a_race_is_a_concurrent_change_and_saves_nothing(app, make, desk):
    request_id = make.request(desk.requester, desk.marketing, watchers=["ann@example.com"])
    with app.app_context():
        req = db.session.get(Request, request_id)  # read before the other change
        make.act(request_id, "ask", desk.analyst, note="Which regions?")  # another session
        with pytest.raises(lifecycle.ConcurrentChange):
            intake.edit_request(req, req.requester, {"title": "Renamed", "team_id": desk.finance},
                                watchers=["bob@example.com"])
        db.session.rollback()
    with app.app_context():
        req = db.session.get(Request, request_id)
        assert (req.title, req.team_id, req.watcher_emails) == (
            "Weekly churn by region", desk.marketing, ["ann@example.com"])
    assert [e.kind for e in events_of(app, request_id)] == ["created", "transition"]


# --- Editing after triage (issue 10, Security 3) -----------------------------------------

LOCKED_MESSAGE = "Business impact was set at triage. Ask the data team in a comment if it changed."


def accepted(make, desk, **fields):
    """A Marketing request of the requester, accepted by the team's analyst; return its id."""
    request_id = make.request(desk.requester, desk.marketing, **fields)
    make.act(request_id, "accept", desk.analyst, size="M")
    return request_id


def stored(app, request_id):
    """What the database holds about a request's intake fields, state and history."""
    with app.app_context():
        req = db.session.get(Request, request_id)
        columns = {name: getattr(req, name) for name in intake.INTAKE_FIELDS}
        return SimpleNamespace(columns=columns, state=req.state, version=req.version,
                               assignee_id=req.assignee_id, watchers=req.watcher_emails,
                               events=len(req.events))


def stored_answers(app, desk, request_id, **changes):
    """The edit form as the page posts it for the request as stored (read-only fields are not
    posted), with ``changes`` applied."""
    with app.app_context():
        req = db.session.get(Request, request_id)
        data = answers(desk, title=req.title, team_id=str(req.team_id), kind=req.kind,
                       deadline=req.deadline.isoformat(), business_impact=None,
                       exec_sponsor=None)
        data["version"] = str(req.version)
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_every_intake_field_has_a_rule_after_triage():
    assert set(intake.AFTER_TRIAGE) == {*intake.INTAKE_FIELDS, "watchers"}
    assert {rule.rule for rule in intake.AFTER_TRIAGE.values()} == {
        intake.FREE, intake.REQUEUE, intake.REFUSE}


def test_requester_changing_the_team_after_acceptance_sends_it_to_the_new_teams_triage(
        app, client, auth, make, desk):
    finance_analyst = make.user("analyst", teams=[desk.finance])
    request_id = accepted(make, desk)
    auth.login(desk.requester)

    response = auth.post(f"/requests/{request_id}/edit",
                         stored_answers(app, desk, request_id, team_id=str(desk.finance)))

    assert response.status_code == 302
    *_, edit, back = events_of(app, request_id)
    assert (edit.kind, edit.data) == ("edit", {"changes": {"team": ["Marketing", "Finance"]}})
    assert (back.kind, back.action, back.actor_id, back.from_state, back.to_state, back.text) == (
        "transition", "retriage", desk.requester, "accepted", "submitted",
        "Team changed by the requester: back to triage")
    with app.app_context():
        req = db.session.get(Request, request_id)
        assert (req.state, req.team_id, req.is_central, req.assignee_id) == (
            "submitted", desk.finance, False, None)
        in_triage = {user: db.session.scalars(db.select(Request.id).where(
            triage.pending_condition(db.session.get(User, user)))).all()
            for user in (finance_analyst, desk.analyst)}
        marketing_queue = queues.analyst_queue(db.session.get(User, desk.analyst), utcnow())
    assert in_triage == {finance_analyst: [request_id], desk.analyst: []}
    assert marketing_queue.up_next == []
    shown = page(client, f"/requests/{request_id}")
    assert "back in triage" in shown
    assert in_order(timeline(shown), "sent the request back to triage", "Accepted",
                    "Submitted", "Team changed by the requester: back to triage")


def test_a_crafted_post_changing_business_impact_after_acceptance_is_refused_on_its_field(
        app, auth, make, desk, errors):
    request_id = accepted(make, desk)
    before = stored(app, request_id)
    auth.login(desk.requester)

    response = auth.post(f"/requests/{request_id}/edit", stored_answers(
        app, desk, request_id, title="Renamed", business_impact="5"))

    assert response.status_code == 400
    assert errors(response) == {"business_impact": LOCKED_MESSAGE}
    html = response.get_data(as_text=True)
    assert 'value="Renamed"' in html  # the rest of the input is kept to fix and send again
    assert 'name="business_impact"' not in html  # shown read-only, at its stored value
    assert "Medium" in html
    assert stored(app, request_id) == before


@pytest.mark.parametrize("changes, field, message", [
    pytest.param({"is_exec_sponsored": "y", "exec_sponsor": "The CFO"}, "is_exec_sponsored",
                 "Exec sponsorship was set at triage.", id="sponsorship"),
    pytest.param({"exec_sponsor": "The CEO"}, "exec_sponsor",
                 "The executive sponsor was set at triage.", id="sponsor-name"),
])
def test_exec_sponsorship_is_locked_after_acceptance_too(app, auth, make, desk, errors, changes,
                                                         field, message):
    sponsored = {"is_exec_sponsored": True, "exec_sponsor": "The CFO"} \
        if field == "exec_sponsor" else {}
    request_id = accepted(make, desk, **sponsored)
    before = stored(app, request_id)
    auth.login(desk.requester)
    data = stored_answers(app, desk, request_id, **changes)
    if field == "exec_sponsor":
        data["is_exec_sponsored"] = "y"
    response = auth.post(f"/requests/{request_id}/edit", data)
    assert response.status_code == 400
    assert errors(response)[field].startswith(message)
    assert stored(app, request_id) == before


def test_the_edit_form_shows_locked_fields_read_only_and_what_a_team_change_does(
        app, client, auth, make, desk):
    request_id = accepted(make, desk, business_impact=4, is_exec_sponsored=True,
                          exec_sponsor="The CFO")
    auth.login(desk.requester)
    html = page(client, f"/requests/{request_id}/edit")
    for name in ("business_impact", "is_exec_sponsored", "exec_sponsor"):
        assert f'name="{name}"' not in html
    assert LOCKED_MESSAGE in html
    assert "The CFO" in html and "High" in html
    assert 'name="team_id"' in html and 'name="kind"' in html
    assert "Changing it sends the request back to triage." in html


def test_saving_the_edit_form_as_shown_after_acceptance_keeps_the_locked_values(app, auth, make,
                                                                                 desk):
    request_id = accepted(make, desk, business_impact=4, is_exec_sponsored=True,
                          exec_sponsor="The CFO")
    auth.login(desk.requester)
    response = auth.post(f"/requests/{request_id}/edit", stored_answers(
        app, desk, request_id, data_needed="Churn for north and south only."))
    assert response.status_code == 302
    after = stored(app, request_id)
    assert after.state == "accepted"
    assert {key: after.columns[key] for key in ("business_impact", "is_exec_sponsored",
                                                "exec_sponsor", "data_needed")} == {
        "business_impact": 4, "is_exec_sponsored": True, "exec_sponsor": "The CFO",
        "data_needed": "Churn for north and south only."}
    assert events_of(app, request_id)[-1].data == {"changes": {"data_needed": [
        "Churned accounts per region per week since January.", "Churn for north and south only."]}}


def test_requester_changing_the_kind_after_acceptance_sends_it_back_to_triage(app, auth, make,
                                                                               desk):
    request_id = accepted(make, desk)
    auth.login(desk.requester)
    response = auth.post(f"/requests/{request_id}/edit",
                         stored_answers(app, desk, request_id, kind="project"))
    assert response.status_code == 302
    back = events_of(app, request_id)[-1]
    assert (back.action, back.text) == ("retriage", "Kind changed by the requester: back to triage")
    assert stored(app, request_id).state == "submitted"


def test_deadline_and_confidentiality_stay_the_requesters_after_acceptance(app, auth, make, desk):
    request_id = accepted(make, desk)
    later = (TODAY + timedelta(days=60)).isoformat()
    auth.login(desk.requester)
    response = auth.post(f"/requests/{request_id}/edit", stored_answers(
        app, desk, request_id, deadline=later, is_confidential="y"))
    assert response.status_code == 302
    after = stored(app, request_id)
    assert (after.state, after.columns["deadline"].isoformat(), after.columns["is_confidential"]) \
        == ("accepted", later, True)


def test_bringing_the_deadline_forward_after_acceptance_sends_it_back_to_triage(app, auth, make,
                                                                               desk):
    request_id = accepted(make, desk)
    sooner = (TODAY + timedelta(days=2)).isoformat()
    auth.login(desk.requester)
    response = auth.post(f"/requests/{request_id}/edit",
                         stored_answers(app, desk, request_id, deadline=sooner))
    assert response.status_code == 302
    back = events_of(app, request_id)[-1]
    assert (back.action, back.text) == ("retriage",
                                        "Deadline changed by the requester: back to triage")
    after = stored(app, request_id)
    assert (after.state, after.columns["deadline"].isoformat()) == ("submitted", sooner)


def test_dropping_the_hard_deadline_after_acceptance_is_saved_without_triage(app, auth, make,
                                                                             desk):
    request_id = accepted(make, desk)
    auth.login(desk.requester)
    response = auth.post(f"/requests/{request_id}/edit",
                         stored_answers(app, desk, request_id, deadline="", no_deadline="y"))
    assert response.status_code == 302
    after = stored(app, request_id)
    assert (after.state, after.columns["deadline"]) == ("accepted", None)


def test_the_edit_form_says_that_an_earlier_deadline_goes_back_to_triage(app, client, auth,
                                                                         make, desk):
    request_id = accepted(make, desk)
    auth.login(desk.requester)
    html = page(client, f"/requests/{request_id}/edit")
    assert "Bringing it forward (or setting one where there was none) sends the request back " \
           "to triage." in html


def test_a_question_after_acceptance_keeps_the_fields_locked_and_a_team_change_retriages(
        app, auth, make, desk, errors):
    request_id = accepted(make, desk)
    make.act(request_id, "ask", desk.analyst, note="Which regions?")
    auth.login(desk.requester)
    refused = auth.post(f"/requests/{request_id}/edit",
                        stored_answers(app, desk, request_id, business_impact="5"))
    assert (refused.status_code, errors(refused)) == (400, {"business_impact": LOCKED_MESSAGE})

    moved = auth.post(f"/requests/{request_id}/edit",
                      stored_answers(app, desk, request_id, team_id=str(desk.finance)))
    assert moved.status_code == 302
    back = events_of(app, request_id)[-1]
    assert (back.action, back.from_state, back.to_state) == ("retriage", "needs_info", "submitted")
    with app.app_context():
        req = db.session.get(Request, request_id)
        assert (req.state, req.resume_state, req.is_central) == ("submitted", None, True)


@pytest.mark.parametrize("state_path", [
    pytest.param([], id="submitted"),
    pytest.param(["ask"], id="needs_info-before-triage"),
])
def test_before_acceptance_the_requester_edits_every_field(app, auth, make, desk, state_path):
    request_id = make.request(desk.requester, desk.marketing)
    for name in state_path:
        make.act(request_id, name, desk.analyst, note="Which regions?")
    state = stored(app, request_id).state
    auth.login(desk.requester)
    response = auth.post(f"/requests/{request_id}/edit", stored_answers(
        app, desk, request_id, team_id=str(desk.finance), kind="project", business_impact="5",
        is_exec_sponsored="y", exec_sponsor="The CFO"))
    assert response.status_code == 302
    after = stored(app, request_id)
    assert after.state == state
    assert {key: after.columns[key] for key in ("team_id", "kind", "business_impact",
                                                "is_exec_sponsored", "exec_sponsor")} == {
        "team_id": desk.finance, "kind": "project", "business_impact": 5,
        "is_exec_sponsored": True, "exec_sponsor": "The CFO"}
    assert "retriage" not in [e.action for e in events_of(app, request_id)]


def test_a_lead_changes_the_triaged_fields_of_an_accepted_request_freely(app, auth, make, desk):
    request_id = accepted(make, desk)
    auth.login(desk.lead)
    response = auth.post(f"/requests/{request_id}/edit", stored_answers(
        app, desk, request_id, team_id=str(desk.finance), kind="project", business_impact="5",
        is_exec_sponsored="y", exec_sponsor="The CFO"))
    assert response.status_code == 302
    after = stored(app, request_id)
    assert (after.state, after.columns["team_id"], after.columns["business_impact"],
            after.columns["exec_sponsor"]) == ("accepted", desk.finance, 5, "The CFO")
    assert events_of(app, request_id)[-1].kind == "edit"


def test_those_who_triage_a_request_are_never_locked(app, make, desk):
    request_id = accepted(make, desk)
    with app.app_context():
        req = db.session.get(Request, request_id)
        rules = {user: intake.edit_rules(req, db.session.get(User, user))
                 for user in (desk.requester, desk.analyst, desk.lead)}
    assert rules[desk.analyst] == rules[desk.lead] == {}
    assert {name: rule.rule for name, rule in rules[desk.requester].items()} == {
        "team_id": "requeue", "deadline": "requeue", "kind": "requeue", "business_impact": "refuse",
        "is_exec_sponsored": "refuse", "exec_sponsor": "refuse"}


def test_the_domain_refuses_a_locked_change_whoever_calls_it(app, make, desk):
    request_id = accepted(make, desk)
    before = stored(app, request_id)
    with app.app_context():
        req = db.session.get(Request, request_id)
        with pytest.raises(intake.FieldsLocked) as refused:
            intake.edit_request(req, req.requester, {"title": "Renamed", "business_impact": 5,
                                                     "is_exec_sponsored": True,
                                                     "exec_sponsor": "The CEO"})
        db.session.rollback()
    assert set(refused.value.messages) == {"business_impact", "is_exec_sponsored", "exec_sponsor"}
    assert stored(app, request_id) == before


def test_a_lead_override_of_the_queue_position_does_not_follow_a_request_back_to_triage(
        app, make, desk):
    request_id = accepted(make, desk)
    with app.app_context():
        req = db.session.get(Request, request_id)
        queues.override_rank(req, db.session.get(User, desk.lead), 1, "Board meeting", utcnow())
        db.session.commit()
        intake.edit_request(req, req.requester, {"team_id": desk.finance})
        db.session.commit()
        assert req.rank_override is None
    assert events_of(app, request_id)[-1].data == {"rank_override": [1, None]}


# --- Comments ----------------------------------------------------------------------------

def test_comment_is_added_to_the_timeline(app, client, auth, make, desk):
    request_id = make.request(desk.requester, desk.marketing)
    auth.login(desk.analyst)
    response = auth.post(f"/requests/{request_id}/comments",
                         {"text": "  I will look at it on Monday.  "})
    assert response.status_code == 302
    assert response.location == f"/requests/{request_id}#timeline"
    comment = events_of(app, request_id)[-1]
    assert (comment.kind, comment.actor_id, comment.text) == (
        "comment", desk.analyst, "I will look at it on Monday.")
    shown = timeline(page(client, f"/requests/{request_id}"))
    assert in_order(shown, "Ana Analyst", "commented", "I will look at it on Monday.")


@pytest.mark.parametrize("text", ["", "   \n  "])
def test_empty_comment_gets_a_field_message(app, auth, make, desk, errors, text):
    request_id = make.request(desk.requester, desk.marketing)
    auth.login(desk.requester)
    response = auth.post(f"/requests/{request_id}/comments", {"text": text})
    assert response.status_code == 400
    assert errors(response) == {"text": "Write something before sending."}
    assert [e.kind for e in events_of(app, request_id)] == ["created"]


def test_comment_on_a_closed_request_is_refused(app, client, auth, make, desk):
    request_id = make.request(desk.requester, desk.marketing)
    make.act(request_id, "cancel", desk.requester)
    auth.login(desk.requester)
    response = auth.post(f"/requests/{request_id}/comments", {"text": "One more thing."})
    assert response.status_code == 403
    assert [e.kind for e in events_of(app, request_id)] == ["created", "transition"]
    assert f'action="/requests/{request_id}/comments"' not in page(client, f"/requests/{request_id}")


# --- The timeline ------------------------------------------------------------------------

def test_timeline_shows_creation_transitions_comments_and_edits_newest_last(app, client, auth,
                                                                             make, desk):
    auth.login(desk.requester)
    request_id = submit(auth, desk)
    # A comment before the question: while it waits on the requester, their comment answers
    # it (tests/test_conversation.py).
    auth.post(f"/requests/{request_id}/comments", {"text": "Let me check with sales."})
    make.act(request_id, "ask", desk.analyst, note="Which regions do you mean?")
    make.act(request_id, "answer", desk.requester, note="North and south only.")
    auth.post(f"/requests/{request_id}/edit", edit_form(
        desk, version_of(app, request_id), title="Weekly churn, north and south"))
    make.act(request_id, "accept", desk.analyst, size="M", note="Fits this week.")
    make.act(request_id, "claim", desk.analyst)
    make.act(request_id, "deliver", desk.analyst, url="https://bi.example.com/d/7",
             note="Filter by region at the top.")

    shown = timeline(page(client, f"/requests/{request_id}"))

    assert in_order(
        shown,
        "Rita Requester", "submitted the request",
        "Rita Requester", "commented", "Let me check with sales.",
        "Ana Analyst", "asked for more information", "Which regions do you mean?",
        "Rita Requester", "answered", "North and south only.",
        "Rita Requester", "edited the request", "<ins>Weekly churn, north and south</ins>",
        "Ana Analyst", "accepted the request", "Size: M", "Fits this week.",
        "Ana Analyst", "claimed the request",
        "Ana Analyst", "delivered", 'href="https://bi.example.com/d/7"',
        "Filter by region at the top.",
    )
    ids = [int(n) for n in re.findall(r'id="event-(\d+)"', shown)]
    assert len(ids) == 8
    assert ids == sorted(ids)


def test_timeline_shows_the_states_a_transition_moved_between(client, auth, make, desk):
    request_id = make.request(desk.requester, desk.marketing)
    make.act(request_id, "accept", desk.analyst, size="S")
    auth.login(desk.requester)
    shown = timeline(page(client, f"/requests/{request_id}"))
    assert in_order(shown, "accepted the request", "state-submitted", "Submitted",
                    "state-accepted", "Accepted")


# --- User text is shown, never run ------------------------------------------------------

def test_title_with_markup_is_escaped_on_the_request_page_and_lists(client, auth, desk):
    auth.login(desk.requester)
    request_id = submit(auth, desk, title=f"Churn {XSS}")
    for path in (f"/requests/{request_id}", "/requests/mine"):
        html = page(client, path)
        assert XSS not in html
        assert ESCAPED_XSS in html


def test_answers_with_markup_are_escaped_on_the_request_page(client, auth, desk):
    auth.login(desk.requester)
    request_id = submit(auth, desk, data_needed=XSS, lever_decision=XSS, exec_sponsor=XSS,
                        is_exec_sponsored="y")
    html = page(client, f"/requests/{request_id}")
    assert XSS not in html
    assert html.count(ESCAPED_XSS) >= 3


def test_comment_with_markup_is_escaped_on_the_timeline(client, auth, make, desk):
    request_id = make.request(desk.requester, desk.marketing)
    auth.login(desk.requester)
    auth.post(f"/requests/{request_id}/comments", {"text": f"See {XSS}"})
    html = page(client, f"/requests/{request_id}")
    assert XSS not in html
    assert f"See {ESCAPED_XSS}" in timeline(html)


def test_edit_and_transition_notes_with_markup_are_escaped_on_the_timeline(app, client, auth,
                                                                           make, desk):
    auth.login(desk.requester)
    request_id = submit(auth, desk)
    auth.post(f"/requests/{request_id}/edit",
              edit_form(desk, version_of(app, request_id), title=XSS))
    make.act(request_id, "ask", desk.analyst, note=XSS)
    html = page(client, f"/requests/{request_id}")
    assert XSS not in html
    assert f"<ins>{ESCAPED_XSS}</ins>" in timeline(html)
    assert timeline(html).count(ESCAPED_XSS) == 2


def test_markup_in_a_refused_form_is_escaped_when_shown_again(auth, desk):
    auth.login(desk.requester)
    response = auth.post("/requests/new", answers(desk, title=XSS, lever_result=""))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert XSS not in html
    assert ESCAPED_XSS in html


def test_markup_quoted_in_an_error_message_is_escaped(auth, desk, errors):
    auth.login(desk.requester)
    response = auth.post("/requests/new", answers(desk, watchers=XSS))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert XSS not in html
    assert errors(response) == {"watchers": f"These are not valid e-mail addresses: {ESCAPED_XSS}"}


def test_intake_form_skips_an_inactive_home_team_when_choosing_the_default(app, client, auth,
                                                                           make, desk):
    archived = make.team("Archive", is_active=False)
    person = make.user("requester", teams=[archived, desk.marketing])
    auth.login(person)
    assert selected_team(page(client, "/requests/new")) == [desk.marketing]


@pytest.mark.parametrize("rating", ["abc", "0", "6"])
def test_confirming_with_a_rating_out_of_range_gets_a_field_error(app, auth, make, desk, errors,
                                                                  rating):
    request_id = make.request(desk.requester, desk.marketing)
    for name, actor, inputs in [("accept", desk.analyst, {"size": "S"}),
                                ("claim", desk.analyst, {}),
                                ("deliver", desk.analyst, {"url": "https://bi.example.com/x",
                                                           "note": "Here it is."})]:
        make.act(request_id, name, actor, **inputs)
    auth.login(desk.requester)
    response = auth.act(request_id, "confirm", rating=rating)
    assert response.status_code == 400
    assert errors(response) == {"confirm-rating": "Choose a rating from 1 to 5."}
    assert make.state(request_id) == "delivered"


def test_request_page_tells_the_requester_what_happens_next(app, client, auth, make, desk):
    request_id = make.request(desk.requester, desk.marketing)
    auth.login(desk.requester)
    html = page(client, f"/requests/{request_id}")
    assert "The team&#39;s analysts will triage it" in html


def test_request_page_explains_the_priority_score_of_an_open_request(app, client, auth, make,
                                                                     desk):
    request_id = make.request(desk.requester, desk.marketing, business_impact=5,
                              is_exec_sponsored=True, exec_sponsor="The CFO")
    auth.login(desk.analyst)
    html = page(client, f"/requests/{request_id}")
    assert "impact 8 + urgency 2 (due in 30 days) + sponsor 2, / size not set, counted as M (3)" in html
    make.act(request_id, "cancel", desk.requester)
    assert "counted as M" not in page(client, f"/requests/{request_id}")


def test_help_page_lists_what_a_requesters_change_does_after_triage(client):
    html = page(client, "/help")
    assert 'id="after-triage"' in html
    for rule in intake.AFTER_TRIAGE.values():
        assert in_order(html, f'<tr class="after-triage-{rule.rule}"><th scope="row" '
                              f'class="fw-normal">{escape(rule.name)}</th>',
                        str(escape(intake.RULE_WORDS[rule.rule])), str(escape(rule.why)))


def test_help_page_documents_the_priority_formula_from_the_live_rules(client):
    html = page(client, "/help")
    assert "score = (impact + urgency + sponsor) / size + ageing" in html
    assert "Due today or within 2 days" in html

"""Feedback into triage (issue 13, point 4): a team's track record on the triage page and the
request page, the optional factor of the priority score a lead switches on in the settings, and
the settings of outcomes."""
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest

from tests.conftest import AuthActions, settings_page_form
from tickets import localtime, outcomes, priority, queues, settings, sla_clocks
from tickets.extensions import db
from tickets.models import FollowUp, Request, SettingChange, User, utcnow

DELIVERY = {"url": "https://bi.example.com/churn", "note": "Filter by region."}


@pytest.fixture
def desk(make):
    """Marketing, Finance and People, each with a requester and an embedded analyst; a lead."""
    names = ("Marketing", "Finance", "People")
    teams = {name: make.team(name) for name in names}
    return SimpleNamespace(
        teams=teams, marketing=teams["Marketing"], finance=teams["Finance"],
        people=teams["People"],
        requesters={name: make.user("requester", teams=[team], name=f"{name} Requester")
                    for name, team in teams.items()},
        analyst=make.user("analyst", teams=list(teams.values()), name="Ana Analyst"),
        lead=make.user("lead", name="Leo Lead"),
    )


def login(app, user_id):
    actions = AuthActions(app.test_client(), app)
    actions.login(user_id)
    return actions


def html(response):
    return response.get_data(as_text=True)


def answered(app, make, desk, team_name, *answers):
    """Deliver and confirm one request of ``team_name`` per answer, and answer its follow-up
    (outcomes.record) a minute ago: the team's track record."""
    team, requester = desk.teams[team_name], desk.requesters[team_name]
    for outcome in answers:
        request_id = make.request(requester, team)
        make.act(request_id, "accept", desk.analyst, size="S")
        make.act(request_id, "claim", desk.analyst)
        make.act(request_id, "deliver", desk.analyst, **DELIVERY)
        make.act(request_id, "confirm", requester)
        with app.app_context():
            follow_up = db.session.scalars(
                db.select(FollowUp).where(FollowUp.request_id == request_id)).one()
            outcomes.record(follow_up, db.session.get(User, requester),
                            utcnow() - timedelta(minutes=1), outcome=outcome,
                            reason="too_late" if outcome == "not_used" else None)
            db.session.commit()


def accepted(make, desk, team_name, **fields):
    """An accepted request of ``team_name`` (medium impact, size M, deadline in 30 days)."""
    request_id = make.request(desk.requesters[team_name], desk.teams[team_name], **fields)
    make.act(request_id, "accept", desk.analyst, size="M")
    return request_id


def switch(app, on):
    with app.app_context():
        settings.update({"track_record_in_priority": on}, None, utcnow())
        db.session.commit()


def backlog_scores(app):
    """[(request id, score, explanation text)] of the leads' backlog, in order."""
    with app.app_context():
        entries = queues.backlog(utcnow()).entries
        return [(entry.id, round(entry.explanation.total, 6), entry.explanation.text)
                for entry in entries]


def plain_scores(app, request_ids):
    """The scores priority.explain gives without any track record."""
    with app.app_context():
        now = localtime.local_now(utcnow())
        return {request_id: round(priority.explain(db.session.get(Request, request_id),
                                                   now).total, 6)
                for request_id in request_ids}


# --- Triage shows the track record ----------------------------------------------------------

def test_triage_shows_each_requesting_teams_track_record(app, make, desk):
    answered(app, make, desk, "Marketing", "acted", "not_used", "decided_not_to_act", "not_yet")
    make.request(desk.requesters["Marketing"], desk.marketing, title="Churn by region")
    make.request(desk.requesters["Finance"], desk.finance, title="Invoices by month")
    page = html(login(app, desk.analyst).client.get("/triage"))
    lines = re.findall(r'<span class="track-record-text">([^<]*)</span>', page)
    assert sorted(lines) == ["Marketing used 2 of its last 4 deliveries (50%)",
                             "No follow-up answered yet"]
    assert (f"The used share of the team&#39;s last {outcomes.TRACK_RECORD_SIZE} answered "
            "follow-ups") in page
    # Information only while the lead has not switched it into the score.
    assert "track-record-weight" not in page
    # The ledger is the leads' (built at /reports/impact).
    assert "/reports/impact?team=" not in page
    lead_page = html(login(app, desk.lead).client.get("/triage"))
    assert f'href="/reports/impact?team={desk.marketing}"' in lead_page


def test_triage_says_what_the_record_does_to_the_score_once_switched_on(app, make, desk):
    answered(app, make, desk, "Marketing", "not_used", "not_used", "acted", "acted")
    answered(app, make, desk, "Finance", "acted")
    make.request(desk.requesters["Marketing"], desk.marketing)
    make.request(desk.requesters["Finance"], desk.finance)
    switch(app, True)
    page = html(login(app, desk.analyst).client.get("/triage"))
    weights = re.findall(r'<span class="track-record-weight">([^<]*)</span>', page)
    assert sorted(weights) == ["priority score \u00d7 0.75",
                               "too few answers to weigh in the score yet"]


def test_triage_costs_the_same_statements_for_one_team_or_three(app, make, desk, statements):
    for name in ("Marketing", "Finance", "People"):
        answered(app, make, desk, name, "acted")
    lead = login(app, desk.lead)

    def cost():
        lead.client.get("/triage")
        del statements[:]
        response = lead.client.get("/triage")
        assert response.status_code == 200
        return statements[-1], html(response).count('class="track-record-text"')

    make.request(desk.requesters["Marketing"], desk.marketing)
    one_team, shown = cost()
    assert shown == 1
    make.request(desk.requesters["Finance"], desk.finance)
    make.request(desk.requesters["People"], desk.people)
    three_teams, shown = cost()
    assert shown == 3
    assert one_team == three_teams


def test_the_request_page_shows_the_record_to_analysts_and_leads_not_requesters(app, make,
                                                                                   desk):
    answered(app, make, desk, "Marketing", "acted", "acted", "not_used")
    request_id = make.request(desk.requesters["Marketing"], desk.marketing)
    path = f"/requests/{request_id}"
    analyst_page = html(login(app, desk.analyst).client.get(path))
    assert "Marketing used 2 of its last 3 deliveries (67%)" in analyst_page
    assert "/reports/impact?team=" not in analyst_page
    lead_page = html(login(app, desk.lead).client.get(path))
    assert "Marketing used 2 of its last 3 deliveries (67%)" in lead_page
    assert f'href="/reports/impact?team={desk.marketing}"' in lead_page
    requester_page = html(login(app, desk.requesters["Marketing"]).client.get(path))
    assert "track-record" not in requester_page and "deliveries (67%)" not in requester_page


# --- The factor in the priority score -------------------------------------------------------

@pytest.fixture
def two_equal_teams(app, make, desk):
    """Marketing used none of its last 3 deliveries, Finance all of its 3; each has one
    accepted request exactly like the other's, Marketing's older (first on a tie)."""
    answered(app, make, desk, "Marketing", "not_used", "not_used", "not_yet")
    answered(app, make, desk, "Finance", "acted", "acted", "decided_not_to_act")
    marketing = accepted(make, desk, "Marketing", business_impact=4)
    finance = accepted(make, desk, "Finance", business_impact=4)
    return SimpleNamespace(marketing=marketing, finance=finance)


def test_switched_off_scores_and_order_are_exactly_as_before(app, make, desk,
                                                             two_equal_teams):
    with app.app_context():
        assert settings.get("track_record_in_priority") is False  # the default
    found = backlog_scores(app)
    ids = [request_id for request_id, _, _ in found]
    assert ids == [two_equal_teams.marketing, two_equal_teams.finance]  # older first on a tie
    assert {request_id: score for request_id, score, _ in found} == plain_scores(app, ids)
    assert not any("track record" in text for _, _, text in found)
    lead = login(app, desk.lead)
    assert "track record" not in html(lead.client.get("/backlog"))
    page = html(lead.client.get(f"/requests/{two_equal_teams.marketing}"))
    assert "\u00d7 track record" not in page


def test_switched_on_a_team_that_used_nothing_drops_below_an_equal_team(app, make, desk,
                                                                        two_equal_teams):
    switch(app, True)
    found = backlog_scores(app)
    assert [request_id for request_id, _, _ in found] == [two_equal_teams.finance,
                                                         two_equal_teams.marketing]
    plain = plain_scores(app, [two_equal_teams.marketing, two_equal_teams.finance])
    scores = {request_id: score for request_id, score, _ in found}
    assert scores[two_equal_teams.finance] == plain[two_equal_teams.finance]  # used all: x 1
    assert scores[two_equal_teams.marketing] < plain[two_equal_teams.marketing]
    texts = {request_id: text for request_id, _, text in found}
    assert "\u00d7 track record 0.50 (used 0 of 3 (0%))" in texts[two_equal_teams.marketing]
    assert "\u00d7 track record 1.00 (used 3 of 3 (100%))" in texts[two_equal_teams.finance]
    # The pages that show a score's parts show the factor too, and the positions follow.
    lead = login(app, desk.lead)
    backlog_page = html(lead.client.get("/backlog"))
    assert "\u00d7 track record 0.50 (used 0 of 3 (0%))" in backlog_page
    analyst_page = html(login(app, desk.analyst).client.get("/queue"))
    assert "\u00d7 track record 0.50 (used 0 of 3 (0%))" in analyst_page
    assert (analyst_page.index(f"/requests/{two_equal_teams.finance}\"")
            < analyst_page.index(f"/requests/{two_equal_teams.marketing}\""))
    page = html(lead.client.get(f"/requests/{two_equal_teams.marketing}"))
    assert "\u00d7 track record 0.50 (used 0 of 3 (0%))" in page


def test_the_factor_leaves_ageing_alone_and_never_moves_the_sla_class(app, make, desk,
                                                                       two_equal_teams):
    with app.app_context():
        req = db.session.get(Request, two_equal_teams.marketing)
        now = localtime.local_now(utcnow())
        before = sla_clocks.sla_class_for(req, now)
        settings.update({"track_record_in_priority": True}, None, utcnow())
        weighed = queues.explain(req, utcnow())
        assert weighed.record_factor == 0.5 and weighed.track_record.answered == 3
        assert weighed.ageing == priority.explain(req, now).ageing
        assert sla_clocks.sla_class_for(req, now) == before
        db.session.rollback()


def test_with_too_few_answers_the_score_is_unchanged_and_says_why(app, make, desk):
    answered(app, make, desk, "Marketing",
             *["not_used"] * (priority.TRACK_RECORD_MIN_ANSWERS - 1))
    request_id = accepted(make, desk, "Marketing")
    switch(app, True)
    [(found_id, score, text)] = backlog_scores(app)
    assert found_id == request_id
    assert score == plain_scores(app, [request_id])[request_id]
    assert "too few to weigh" in text
    page = html(login(app, desk.lead).client.get(f"/requests/{request_id}"))
    assert "too few to weigh" in page


def test_queue_pages_load_the_track_records_in_one_statement_whatever_the_teams(
        app, make, desk, statements):
    switch(app, True)
    lead = login(app, desk.lead)

    def cost(path):
        lead.client.get(path)
        del statements[:]
        assert lead.client.get(path).status_code == 200
        return statements[-1]

    accepted(make, desk, "Marketing")
    small = {path: cost(path) for path in ("/backlog", "/queue")}
    for name in ("Finance", "People", "Marketing"):
        answered(app, make, desk, name, "acted", "not_used", "acted")
        accepted(make, desk, name)
    assert {path: cost(path) for path in small} == small


def test_the_help_page_explains_the_factor_from_the_live_rule(app, client, desk):
    page = html(client.get("/help"))
    assert "now <strong class=\"track-record-state\">off</strong>" in page
    assert f"last {outcomes.TRACK_RECORD_SIZE} answered follow-ups" in page
    assert f"fewer than {priority.TRACK_RECORD_MIN_ANSWERS} answers" in page
    assert f"{priority.TRACK_RECORD_FLOOR} + " in page
    assert "\u00d7 track record 0.75 (used 5 of 10 (50%))" in page
    switch(app, True)
    assert "now <strong class=\"track-record-state\">on</strong>" in html(client.get("/help"))


# --- Settings -------------------------------------------------------------------------------

def outcome_fields(**overrides):
    data = {"follow_up_days_ad_hoc": "5", "follow_up_days_project": "20",
            "follow_up_days_data_issue": "5", "follow_up_reminder_days": "5"}
    data.update(overrides)
    return settings_page_form(**data)


def test_the_settings_page_changes_the_outcome_settings_and_lists_the_changes(app, desk):
    lead = login(app, desk.lead)
    page = html(lead.client.get("/settings"))
    assert 'id="s-outcomes"' in page and 'role="switch"' in page
    assert "every score it changes says so" in page
    response = lead.post("/settings", data=outcome_fields(
        follow_up_days_ad_hoc="8", follow_up_days_project="40", follow_up_reminder_days="3",
        track_record_in_priority="y"))
    assert response.status_code == 302
    with app.app_context():
        values = settings.current()
        assert values["follow_up_business_days"] == {"ad_hoc": 8, "project": 40,
                                                     "data_issue": 5}
        assert values["follow_up_reminder_days"] == 3
        assert values["track_record_in_priority"] is True
        keys = db.session.scalars(db.select(SettingChange.key).order_by(SettingChange.id)).all()
        assert keys == ["follow_up_business_days", "follow_up_reminder_days",
                        "track_record_in_priority"]
    page = html(lead.client.get("/settings"))
    assert re.search(r'name="follow_up_days_project"[^>]*value="40"', page)
    assert re.search(r'checked[^>]*name="track_record_in_priority"', page)
    history = re.sub(r"\s+", " ", page)
    assert ("Follow-up after (business days)</td> <td>Ad-hoc: 5; Project: 20; Data issue: 5 "
            '<span aria-hidden="true">&rarr;</span><span class="visually-hidden">changed to</span> '
            "<strong>Ad-hoc: 8; Project: 40; Data issue: 5</strong>") in history
    assert ('Track record in the priority score</td> <td>off <span aria-hidden="true">&rarr;'
            '</span><span class="visually-hidden">changed to</span> <strong>on</strong>') in history
    # Unticking the switch turns it off again.
    assert lead.post("/settings", data=outcome_fields(follow_up_days_ad_hoc="8",
                                                      follow_up_days_project="40",
                                                      follow_up_reminder_days="3")
                     ).status_code == 302
    with app.app_context():
        assert settings.get("track_record_in_priority") is False


DAYS_ERROR = "Enter the business days before the follow-up: a whole number from 1 to 250."


@pytest.mark.parametrize("field, value, message", [
    ("follow_up_days_ad_hoc", "0", DAYS_ERROR),
    ("follow_up_days_project", "251", DAYS_ERROR),
    ("follow_up_days_data_issue", "2.5", DAYS_ERROR),
    ("follow_up_days_project", "", DAYS_ERROR),
    ("follow_up_reminder_days", "61", "Enter a whole number of days from 1 to 60."),
    ("follow_up_reminder_days", "soon", "Enter a whole number of days from 1 to 60."),
])
def test_bad_outcome_settings_get_a_field_error_and_change_nothing(app, desk, field, value,
                                                                   message):
    lead = login(app, desk.lead)
    response = lead.post("/settings", data=outcome_fields(
        **{field: value}, track_record_in_priority="y"))
    assert response.status_code == 400
    page = html(response)
    assert re.search(rf'id="{field}-error" class="invalid-feedback">{re.escape(message)}<',
                     page)
    assert re.search(rf'name="{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*'
                     rf'name="{field}"', page)
    with app.app_context():
        assert settings.current() == settings.DEFAULTS
        assert db.session.scalar(db.select(db.func.count()).select_from(SettingChange)) == 0


def test_only_leads_and_admins_change_outcome_settings(app, make, desk):
    analyst = login(app, desk.analyst)
    assert analyst.post("/settings", data=outcome_fields(
        track_record_in_priority="y")).status_code == 403
    with app.app_context():
        assert settings.get("track_record_in_priority") is False

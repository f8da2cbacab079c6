"""SLA clocks stored on requests (tickets/sla_clocks.py): the class, first response and resolution
stored when they happen, at-risk and due instants, frozen clocks, status filters, a lead's
class, holidays and recomputation after a settings change.

The calendar is the default one (UTC, Monday to Friday, 09:00-17:00) unless a test changes it.
Times are exact: requests are built through the domain modules with explicit ``now``s.
"""
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from flask import render_template_string
from flask_sqlalchemy.record_queries import get_recorded_queries

from tests.conftest import intake_fields, settings_page_form
from tickets import business_hours, intake, lead_time, lifecycle, settings, sla_clocks
from tickets.extensions import db
from tickets.models import CLOSED_STATES, Event, Request, SettingChange, User

HOUR = 3600


def at(day, hour, minute=0, second=0):
    """An instant of November/December 2026 in UTC: at(23, 9) is Monday 23 November, 09:00."""
    month = 11 if day >= 15 else 12
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


MON, TUE, WED, FRI = 23, 24, 25, 27  # 23-27 November 2026
NEXT_MON, NEXT_TUE, NEXT_WED = 30, 1, 2  # 30 November, 1-2 December


@pytest.fixture
def desk(make):
    """Marketing with its requester and embedded analyst, and a lead."""
    marketing = make.team("Marketing")
    return SimpleNamespace(
        team=marketing,
        requester=make.user("requester", teams=[marketing], name="Rita Requester"),
        analyst=make.user("analyst", teams=[marketing], name="Ana Analyst"),
        lead=make.user("lead", name="Leo Lead"),
    )


class Story:
    """Builds one request's history at exact instants, each step committed."""

    def __init__(self, app, desk):
        self.app, self.desk = app, desk

    def submit(self, when, **fields):
        # Medium-high impact and no deadline: 6 points, the standard class, whatever the date.
        fields = {"business_impact": 4, "deadline": None, "kind": "project", **fields}
        with self.app.app_context():
            requester = db.session.get(User, self.desk.requester)
            created = intake.submit_request(requester, intake_fields(self.desk.team, **fields),
                                            now=when, today=when.date())
            db.session.commit()
            return created.id

    def step(self, request_id, name, who, when, **inputs):
        """Take transition ``name`` as ``who`` (an id, or None for the system) at ``when``."""
        with self.app.app_context():
            req = db.session.get(Request, request_id)
            actor = db.session.get(User, who) if who is not None else None
            if "assignee" in inputs:
                inputs["assignee"] = db.session.get(User, inputs["assignee"])
            lifecycle.transition(req, name, actor, when, **inputs)
            db.session.commit()

    def comment(self, request_id, who, when, text="A comment"):
        with self.app.app_context():
            req = db.session.get(Request, request_id)
            intake.add_comment(req, db.session.get(User, who), text, now=when)
            db.session.commit()

    def edit(self, request_id, when, **fields):
        with self.app.app_context():
            req = db.session.get(Request, request_id)
            intake.edit_request(req, db.session.get(User, self.desk.requester), fields, now=when,
                                today=when.date())
            db.session.commit()

    def load(self, request_id):
        with self.app.app_context():
            req = db.session.get(Request, request_id)
            db.session.expunge(req)
            return req

    def status(self, request_id, now):
        with self.app.app_context():
            values = settings.current()
            return sla_clocks.status(db.session.get(Request, request_id), now, values)

    def events(self, request_id):
        with self.app.app_context():
            events = db.session.scalars(db.select(Event).where(Event.request_id == request_id)
                                        .order_by(Event.id)).all()
            for event in events:
                db.session.expunge(event)
            return events


@pytest.fixture
def story(app, desk):
    return Story(app, desk)


CALENDAR = business_hours.BusinessHours("UTC")


def test_clocks_pause_while_waiting_and_stop_once_delivered_or_closed():
    assert sla_clocks.PAUSED_STATES == {"needs_info", "waitlisted"}
    assert sla_clocks.STOPPED_STATES == CLOSED_STATES | {"delivered"}
    assert sla_clocks.RUNNING_STATES == {"submitted", "accepted", "in_progress", "blocked"}


# --- Stored first response and resolution --------------------------------------------------

def test_first_response_is_stored_once_in_business_seconds_with_the_waitlist_pause_excluded(
        story, desk):
    # Friday 15:00 submitted, waitlisted by the system at 15:30 (the clock pauses), approved
    # by the lead on Monday 10:00: half an hour of the data team's working time.
    rid = story.submit(at(FRI, 15))
    story.step(rid, "waitlist", None, at(FRI, 15, 30), note="Budget used up")
    assert story.load(rid).first_response_at is None  # the system is not a response
    story.step(rid, "approve", desk.lead, at(NEXT_MON, 10), size="M")
    req = story.load(rid)
    assert req.first_response_at == at(NEXT_MON, 10)
    assert req.first_response_seconds == 0.5 * HOUR

    story.comment(rid, desk.analyst, at(NEXT_MON, 11))  # later responses change nothing
    assert story.load(rid).first_response_at == at(NEXT_MON, 10)
    assert story.load(rid).first_response_seconds == 0.5 * HOUR


def test_the_requesters_own_comment_is_not_a_first_response(story, desk):
    rid = story.submit(at(MON, 9))
    story.comment(rid, desk.requester, at(MON, 10), "Any news?")
    assert story.load(rid).first_response_at is None
    story.comment(rid, desk.analyst, at(MON, 11), "Looking at it")
    req = story.load(rid)
    assert (req.first_response_at, req.first_response_seconds) == (at(MON, 11), 2 * HOUR)


def test_resolution_excludes_the_question_pause_and_the_weekend_and_a_redelivery_overwrites_it(
        story, desk):
    rid = story.submit(at(FRI, 15))  # runs 15:00-17:00 on Friday: 2 h
    story.step(rid, "accept", desk.analyst, at(NEXT_MON, 10), size="M")
    story.step(rid, "ask", desk.analyst, at(NEXT_MON, 11), note="Which regions?")  # + 2 h, paused
    story.step(rid, "answer", desk.requester, at(NEXT_TUE, 9, 30), note="All of them")
    story.step(rid, "claim", desk.analyst, at(NEXT_TUE, 10))
    story.step(rid, "deliver", desk.analyst, at(NEXT_TUE, 12), url="https://bi.example.com/1",
               note="Here it is")  # + 2.5 h on Tuesday
    req = story.load(rid)
    assert req.delivered_at == at(NEXT_TUE, 12)
    assert req.resolution_seconds == 6.5 * HOUR
    assert (req.sla_at_risk_at, req.sla_due_at) == (None, None)  # stopped
    assert story.status(rid, at(NEXT_TUE, 13)).status == "stopped"

    story.step(rid, "reopen", desk.requester, at(NEXT_WED, 9), note="Missing the south")
    reopened = story.load(rid)
    assert reopened.sla_due_at is not None  # the resolution clock runs again
    assert reopened.delivered_at == at(NEXT_TUE, 12)  # until the next delivery
    story.step(rid, "deliver", desk.analyst, at(NEXT_WED, 11), url="https://bi.example.com/2",
               note="With the south")  # + 2 h on Wednesday
    req = story.load(rid)
    assert req.delivered_at == at(NEXT_WED, 11)
    assert req.resolution_seconds == 8.5 * HOUR
    assert req.first_response_at == at(NEXT_MON, 10)  # set once, never moved


def test_stored_times_agree_with_the_clock_arithmetic_of_sla(story, desk):
    rid = story.submit(at(FRI, 16, 20))
    story.step(rid, "accept", desk.analyst, at(NEXT_TUE, 10, 5), size="S")
    story.step(rid, "claim", desk.analyst, at(NEXT_TUE, 11))
    story.step(rid, "deliver", desk.analyst, at(NEXT_WED, 14, 45), url="https://x.example.com",
               note="Done")
    events, req = story.events(rid), story.load(rid)
    assert req.first_response_seconds == business_hours.first_response_elapsed(
        events, req.requester_id, at(NEXT_TUE, 10, 5), CALENDAR, sla_clocks.IDLE_STATES)
    assert req.resolution_seconds == business_hours.elapsed_business_seconds(
        events, at(NEXT_WED, 14, 45), CALENDAR, sla_clocks.IDLE_STATES)


# --- At-risk and due instants ----------------------------------------------------------

def test_first_response_instants_are_where_sla_says_the_clock_turns(story):
    rid = story.submit(at(MON, 9))  # standard: first response within 8 business hours
    req = story.load(rid)
    assert req.sla_class == "standard"
    assert req.sla_at_risk_at == business_hours.add_business_seconds(at(MON, 9), 0.75 * 8 * HOUR,
                                                                     CALENDAR)
    assert (req.sla_at_risk_at, req.sla_due_at) == (at(MON, 15), at(MON, 17))

    events = story.events(rid)
    target = 8 * HOUR
    for now, expected in [(at(MON, 14, 59, 59), "on_track"), (at(MON, 15), "at_risk"),
                          (at(MON, 17), "at_risk"), (at(TUE, 9, 0, 1), "breached")]:
        elapsed = business_hours.first_response_elapsed(events, req.requester_id, now, CALENDAR,
                                                        sla_clocks.IDLE_STATES)
        view = story.status(rid, now)
        assert view.status == expected
        assert view.clock == "first response"
        assert view.time_left == pytest.approx(target - elapsed)


def test_a_target_used_up_at_closing_is_breached_after_it(story):
    rid = story.submit(at(MON, 9))
    view = story.status(rid, at(MON, 17, 30))
    assert view.status == "breached"
    assert view.text == "Breached: less than a minute over the first response target"


def test_a_request_submitted_at_the_weekend_starts_its_clock_on_monday_morning(story):
    rid = story.submit(datetime(2026, 11, 21, 22, 0, tzinfo=UTC))  # Saturday night
    req = story.load(rid)
    assert (req.sla_at_risk_at, req.sla_due_at) == (at(MON, 15), at(MON, 17))


def test_after_the_first_response_the_resolution_clock_counts_from_submission(story, desk):
    rid = story.submit(at(MON, 9))
    story.step(rid, "accept", desk.analyst, at(MON, 10), size="M")
    req = story.load(rid)
    # Standard resolution: 80 business hours = ten working days, the same clock since 09:00.
    assert req.sla_due_at == business_hours.add_business_seconds(at(MON, 9), 80 * HOUR,
                                                                 CALENDAR)
    assert req.sla_due_at == at(4, 17)  # Friday 4 December, 17:00
    view = story.status(rid, at(MON, 11))
    assert (view.status, view.clock, view.time_left) == ("on_track", "resolution", 78 * HOUR)
    assert view.text == "On track: 9 d 6 h left on resolution"
    assert view.short == "9 d 6 h left"


def test_status_reads_the_stored_fields_without_any_query(app, story):
    rid = story.submit(at(MON, 9))
    with app.app_context():
        values = settings.current()
        req = db.session.get(Request, rid)
        req.sla_due_at  # loaded
        before = len(get_recorded_queries())
        view = sla_clocks.status(req, at(MON, 16), values)
        assert len(get_recorded_queries()) == before
    assert (view.status, view.time_left) == ("at_risk", HOUR)
    assert view.text == "At risk: 1 h left on first response"


# --- Frozen clocks ---------------------------------------------------------------------

@pytest.mark.parametrize("paused_at, frozen, time_left", [
    (at(MON, 12), "on_track", 5 * HOUR),
    (at(MON, 16), "at_risk", 1 * HOUR),
    (at(TUE, 10), "breached", -1 * HOUR),
])
def test_a_paused_clock_keeps_the_status_and_time_left_it_had_when_it_paused(
        app, story, paused_at, frozen, time_left):
    rid = story.submit(at(MON, 9))
    story.step(rid, "waitlist", None, paused_at, note="Over budget")
    for now in (paused_at + timedelta(minutes=1), at(NEXT_WED, 16), datetime(2030, 1, 1, tzinfo=UTC)):
        view = story.status(rid, now)
        assert (view.status, view.frozen_status, view.clock) == ("paused", frozen, "first response")
        assert view.time_left == pytest.approx(time_left)
        assert view.due_at is None
        was = sla_clocks.SLA_STATUS_LABELS[frozen].lower()
        assert view.text.startswith(f"Paused while waitlisted ({was})")
        with app.app_context():
            def selected(status, **kwargs):
                return db.session.scalars(db.select(Request.id).where(
                    sla_clocks.status_condition(status, now, **kwargs))).all()
            assert selected("paused") == [rid]
            assert selected(frozen) == []  # the running statuses leave paused requests out
            assert selected(frozen, include_paused=True) == [rid]
            for other in {"on_track", "at_risk", "breached"} - {frozen}:
                assert selected(other, include_paused=True) == []


def test_answering_a_question_resumes_the_clock_where_it_stopped(story, desk):
    rid = story.submit(at(MON, 9))
    story.step(rid, "accept", desk.analyst, at(MON, 10), size="M")
    story.step(rid, "ask", desk.analyst, at(MON, 11), note="Which regions?")
    paused = story.status(rid, at(NEXT_MON, 9))
    assert (paused.status, paused.frozen_status, paused.time_left) == ("paused", "on_track",
                                                                       78 * HOUR)
    assert paused.text == ("Paused while waiting for the requester (on track): 9 d 6 h left on "
                           "resolution")
    story.step(rid, "answer", desk.requester, at(NEXT_MON, 9), note="All")
    req = story.load(rid)
    assert req.sla_due_at == business_hours.add_business_seconds(at(NEXT_MON, 9), 78 * HOUR,
                                                                 CALENDAR)
    assert story.status(rid, at(NEXT_MON, 10)).time_left == 77 * HOUR


# --- Selecting by status in SQL ------------------------------------------------------------

def test_status_condition_selects_exactly_the_requests_of_each_status(app, story, desk):
    ids = SimpleNamespace(
        boundary=story.submit(at(MON, 9)),  # first response at risk 15:00, due 17:00
        early=story.submit(at(MON, 14)),  # at risk Tuesday 12:00
        responded=story.submit(at(MON, 9)),
        paused=story.submit(at(MON, 9)),
        delivered=story.submit(at(MON, 9)),
        closed=story.submit(at(MON, 9)),
    )
    story.step(ids.responded, "accept", desk.analyst, at(MON, 9, 30), size="S")
    story.step(ids.paused, "ask", desk.analyst, at(MON, 9, 30), note="Which regions?")
    story.step(ids.delivered, "accept", desk.analyst, at(MON, 9, 10), size="S")
    story.step(ids.delivered, "claim", desk.analyst, at(MON, 9, 20))
    story.step(ids.delivered, "deliver", desk.analyst, at(MON, 9, 40), url="https://x.example.com",
               note="Done")
    story.step(ids.closed, "cancel", desk.requester, at(MON, 9, 5))

    expected = {
        at(MON, 14, 59, 59): {"on_track": {ids.boundary, ids.early, ids.responded}},
        at(MON, 15): {"on_track": {ids.early, ids.responded}, "at_risk": {ids.boundary}},
        at(MON, 17): {"on_track": {ids.early, ids.responded}, "at_risk": {ids.boundary}},
        at(MON, 17, 0, 1): {"on_track": {ids.early, ids.responded}, "breached": {ids.boundary}},
        at(TUE, 12): {"on_track": {ids.responded}, "at_risk": {ids.early},
                      "breached": {ids.boundary}},
    }
    with app.app_context():
        values = settings.current()
        requests = db.session.scalars(db.select(Request)).all()
        for now, statuses in expected.items():
            for status in ("on_track", "at_risk", "breached", "paused"):
                selected = set(db.session.scalars(db.select(Request.id).where(
                    sla_clocks.status_condition(status, now))))
                want = statuses.get(status, set()) | ({ids.paused} if status == "paused" else set())
                assert selected == want, (now, status)
                # The SQL and the Python status of every request agree.
                assert selected == {r.id for r in requests
                                    if sla_clocks.status(r, now, values).status == status}
        assert {sla_clocks.status(r, at(MON, 15), values).status for r in requests
                if r.id in (ids.delivered, ids.closed)} == {"stopped"}


def test_an_unknown_status_is_refused(app):
    with pytest.raises(ValueError):
        sla_clocks.status_condition("late", at(MON, 9))


# --- The class -------------------------------------------------------------------------

@pytest.mark.parametrize("fields, expected", [
    ({"business_impact": 5, "deadline": date(2026, 11, 26)}, "high"),  # 8 + 5 (3 days)
    ({"business_impact": 4, "deadline": date(2026, 11, 30), "is_exec_sponsored": True,
      "exec_sponsor": "Chief"}, "high"),  # 6 + 5 + 2 = 13
    ({"business_impact": 4, "deadline": date(2026, 11, 30)}, "standard"),  # 6 + 5 = 11
    ({"business_impact": 3, "deadline": date(2026, 12, 20)}, "standard"),  # 4 + 2 = 6
    ({"business_impact": 3, "deadline": None}, "low"),  # 4 + 0
    ({"business_impact": 1, "deadline": date(2027, 6, 1)}, "low"),  # 1 + 1
])
def test_the_class_follows_from_the_cost_of_delay(story, fields, expected):
    rid = story.submit(at(MON, 9), **fields)
    req = story.load(rid)
    assert (req.sla_class, req.sla_class_is_set) == (expected, False)
    assert sla_clocks.sla_class_for(req, at(MON, 9)) == expected


def test_the_class_targets_set_the_instants(story):
    rid = story.submit(at(MON, 9), business_impact=5, deadline=date(2026, 11, 26))
    assert story.load(rid).sla_due_at == at(MON, 13)  # high: first response within 4 h


def test_the_class_follows_edits_until_triage_then_stays(story, desk):
    rid = story.submit(at(MON, 9), business_impact=3, deadline=None)
    assert story.load(rid).sla_class == "low"
    story.edit(rid, at(MON, 10), business_impact=5, deadline=date(2026, 11, 26))
    assert story.load(rid).sla_class == "high"
    assert story.load(rid).sla_due_at == at(MON, 13)
    story.step(rid, "accept", desk.analyst, at(MON, 11), size="M", impact=3)
    assert story.load(rid).sla_class == "standard"  # the impact the analyst set at triage
    story.edit(rid, at(MON, 12), deadline=None)
    story.step(rid, "ask", desk.analyst, at(MON, 13), note="?")
    assert story.load(rid).sla_class == "standard"  # fixed since triage


def test_a_request_sent_back_to_triage_follows_its_priority_until_accepted_again(story, desk):
    rid = story.submit(at(MON, 9), business_impact=5, deadline=date(2026, 11, 26))
    story.step(rid, "accept", desk.analyst, at(MON, 10), size="M")
    story.edit(rid, at(MON, 11), deadline=None)
    assert story.load(rid).sla_class == "high"  # fixed at triage (8 + 5)
    story.edit(rid, at(MON, 12), kind="ad_hoc")  # by the requester: back to triage
    assert story.load(rid).state == "submitted"
    assert story.load(rid).sla_class == "standard"  # follows the priority again (8 + 0)
    story.step(rid, "accept", desk.analyst, at(MON, 13), size="M", impact=3)
    story.comment(rid, desk.analyst, at(MON, 14))
    assert story.load(rid).sla_class == "low"  # the new triage's inputs (4 + 0), fixed again


# --- A lead sets the class ------------------------------------------------------------

def post_class(auth, request_id, version, sla_class="high", reason="Board meeting moved up",
               **extra):
    data = {"sla-csrf_token": auth.token, "sla-version": version, "sla-sla_class": sla_class,
            "sla-reason": reason, **extra}
    return auth.client.post(f"/requests/{request_id}/sla-class", data=data)


def test_a_lead_sets_the_class_with_a_reason_recorded_as_an_edit_event(app, auth, make, desk):
    rid = make.request(desk.requester, desk.team, business_impact=3, deadline=None)
    before = make.get(Request, rid)
    assert before.sla_class == "low"
    auth.login(desk.lead)
    response = post_class(auth, rid, before.version)
    assert response.status_code == 302
    after = make.get(Request, rid)
    assert (after.sla_class, after.sla_class_is_set) == ("high", True)
    assert after.version == before.version + 1
    assert after.sla_due_at < before.sla_due_at  # four hours instead of sixteen
    with app.app_context():
        event = db.session.scalars(db.select(Event).where(Event.request_id == rid)
                                   .order_by(Event.id.desc())).first()
        assert (event.kind, event.actor_id, event.text) == ("edit", desk.lead,
                                                            "Board meeting moved up")
        assert event.data["changes"] == {"sla_class": ["low", "high"]}
    page = auth.client.get(f"/requests/{rid}").get_data(as_text=True)
    assert "High class</span> · set by a lead" in page
    assert "SLA class" in page and "Board meeting moved up" in page


def test_follow_priority_returns_the_class_to_the_rule(auth, make, desk):
    rid = make.request(desk.requester, desk.team, business_impact=3, deadline=None)
    auth.login(desk.lead)
    assert post_class(auth, rid, make.get(Request, rid).version).status_code == 302
    response = post_class(auth, rid, make.get(Request, rid).version, sla_class="",
                          reason="Back to normal")
    assert response.status_code == 302
    req = make.get(Request, rid)
    assert (req.sla_class, req.sla_class_is_set) == ("low", False)


def test_the_class_form_needs_a_reason_and_a_class_from_the_list(auth, make, desk, errors):
    rid = make.request(desk.requester, desk.team)
    auth.login(desk.lead)
    version = make.get(Request, rid).version
    response = post_class(auth, rid, version, reason="  ")
    assert response.status_code == 400
    assert errors(response)["sla-reason"] == "Say why the class changes."
    response = post_class(auth, rid, version, sla_class="urgent")
    assert response.status_code == 400
    assert "Choose high, standard, low" in errors(response)["sla-sla_class"]
    same = make.get(Request, rid).sla_class
    response = post_class(auth, rid, version, sla_class="", reason="no change")
    assert response.status_code == 400
    assert errors(response)["sla-sla_class"] == "That is the class it has already."
    assert make.get(Request, rid).sla_class == same
    assert make.get(Request, rid).version == version


def test_only_leads_set_the_class(auth, make, desk):
    rid = make.request(desk.requester, desk.team)
    version = make.get(Request, rid).version
    for who in (desk.analyst, desk.requester):
        auth.login(who)
        assert post_class(auth, rid, version).status_code == 403
        assert "sla-sla_class" not in auth.client.get(f"/requests/{rid}").get_data(as_text=True)
        auth.logout()
    assert make.get(Request, rid).sla_class_is_set is False
    auth.login(desk.lead)
    assert post_class(auth, rid + 100, version).status_code == 404


def test_setting_the_class_needs_the_csrf_token(auth, make, desk):
    rid = make.request(desk.requester, desk.team)
    auth.login(desk.lead)
    response = auth.client.post(f"/requests/{rid}/sla-class", data={
        "sla-version": make.get(Request, rid).version, "sla-sla_class": "high",
        "sla-reason": "x"})
    assert response.status_code == 400
    assert make.get(Request, rid).sla_class_is_set is False


def test_a_stale_version_is_refused_and_nothing_changes(auth, make, desk):
    rid = make.request(desk.requester, desk.team)
    seen = make.get(Request, rid).version
    make.act(rid, "accept", desk.analyst, size="M")  # someone else changes it meanwhile
    auth.login(desk.lead)
    response = post_class(auth, rid, seen)
    assert response.status_code == 409
    assert "Someone else changed this request" in response.get_data(as_text=True)
    assert make.get(Request, rid).sla_class_is_set is False


def test_the_class_of_a_closed_request_cannot_change(auth, make, desk, errors):
    rid = make.request(desk.requester, desk.team)
    make.act(rid, "cancel", desk.requester)
    auth.login(desk.lead)
    response = post_class(auth, rid, make.get(Request, rid).version)
    assert response.status_code == 400
    assert "can no longer change" in errors(response)["sla-sla_class"]


# --- The request page and the badge ------------------------------------------------------

def test_the_request_page_shows_each_clock_and_the_stopped_times_against_their_targets(
        auth, story, desk):
    rid = story.submit(at(MON, 9))
    story.step(rid, "accept", desk.analyst, at(MON, 10), size="M")
    story.step(rid, "claim", desk.analyst, at(MON, 11))
    story.step(rid, "deliver", desk.analyst, at(TUE, 12), url="https://x.example.com",
               note="Done")
    auth.login(desk.requester)
    page = auth.client.get(f"/requests/{rid}").get_data(as_text=True)
    assert "Standard class</span> · from the priority, fixed at triage" in page
    assert "Responded after 1 h of working time" in page
    assert "Delivered after 1 d 3 h of working time" in page
    assert page.count(">Met</span>") == 2
    assert "sla-sla_class" not in page  # requesters see no class form


def test_the_request_page_shows_time_left_and_the_due_date_in_the_teams_timezone(
        app, auth, make, desk):
    with app.app_context():
        settings.update({"timezone": "Europe/Berlin"}, None, datetime.now(UTC))
        db.session.commit()
    rid = make.request(desk.requester, desk.team)
    auth.login(desk.analyst)
    page = auth.client.get(f"/requests/{rid}").get_data(as_text=True)
    assert "left on first response" in page
    assert "left on resolution" in page
    assert " CET</time>" in page or " CEST</time>" in page
    assert "follows the priority until triage" in page


def test_a_paused_request_says_it_waits_for_the_requester(auth, make, desk):
    rid = make.request(desk.requester, desk.team)
    make.act(rid, "ask", desk.analyst, note="Which regions?")
    auth.login(desk.requester)
    page = auth.client.get(f"/requests/{rid}").get_data(as_text=True)
    assert "Paused while waiting for the requester" in page


@pytest.mark.parametrize("status, look, text", [
    ("on_track", "bg-success-subtle", "3 h left"),
    ("at_risk", "text-bg-warning", "3 h left"),
    ("breached", "text-bg-danger", "2 d 4 h over"),
    ("paused", "text-bg-secondary", "paused, 3 h left"),
])
def test_the_sla_badge_shows_the_time_in_words_and_the_full_text_as_title(app, status, look,
                                                                           text):
    view = sla_clocks.SlaView(status, "first response", 0, None, "The full sentence", text)
    with app.test_request_context():
        html = render_template_string(
            '{% from "_macros.html" import sla_badge %}{{ sla_badge(view) }}', view=view)
    assert look in html
    assert 'title="The full sentence"' in html
    assert f"</span>{text}</span>" in html


def test_durations_are_in_working_days_hours_and_minutes():
    day = 8 * HOUR
    assert sla_clocks.duration(3 * HOUR + 20 * 60, day) == "3 h 20 min"
    assert sla_clocks.duration(3 * HOUR + 20 * 60, day, short=True) == "3 h"
    assert sla_clocks.duration(-(2 * day + 4 * HOUR + 59), day, short=True) == "2 d 4 h"
    assert sla_clocks.duration(2 * day, day, short=True) == "2 d"
    assert sla_clocks.duration(25 * 60, day, short=True) == "25 min"
    assert sla_clocks.duration(30, day) == "less than a minute"


def test_the_help_page_explains_the_class_thresholds(client):
    page = client.get("/help").get_data(as_text=True)
    assert 'id="sla"' in page
    assert "12 points or more" in page and "6 to 11 points" in page and "below 6 points" in page


# --- Holidays --------------------------------------------------------------------------

def page_form(**overrides):
    """The settings page as posted with its holidays field (empty unless overridden)."""
    return settings_page_form(**{"holidays": "", **overrides})


def test_holidays_are_saved_sorted_and_deduplicated_and_audited(app, auth, desk):
    auth.login(desk.lead)
    response = auth.post("/settings", page_form(
        holidays="2026-12-25\n\n2026-12-24\r\n 2026-12-25 \n2027-01-01"))
    assert response.status_code == 302
    with app.app_context():
        assert settings.get("holidays") == ["2026-12-24", "2026-12-25", "2027-01-01"]
        change = db.session.scalars(db.select(SettingChange).where(
            SettingChange.key == "holidays")).one()
        assert (change.old_value, change.actor_id) == ([], desk.lead)
    page = auth.client.get("/settings").get_data(as_text=True)
    assert "2026-12-24\n2026-12-25\n2027-01-01</textarea>" in page
    assert "Holidays" in page and "2026-12-24, 2026-12-25, 2027-01-01" in page


@pytest.mark.parametrize("text, message", [
    ("2026-12-24\n25.12.2026", "Line 2: \u201c25.12.2026\u201d is not written YYYY-MM-DD"),
    ("2026-02-30", "Line 1: 2026-02-30 is not a real date."),
    ("2026-12-24\n\n20261225", "Line 3: \u201c20261225\u201d is not written YYYY-MM-DD"),
    ("1899-12-25", "Line 1: 1899-12-25 is out of range"),
    ("\n".join(str(date(2026, 1, 1) + timedelta(days=n)) for n in range(501)),
     "That is 501 dates; keep at most 500"),
])
def test_bad_holidays_get_a_field_error_naming_the_line(app, auth, desk, errors, text, message):
    auth.login(desk.lead)
    response = auth.post("/settings", page_form(holidays=text))
    assert response.status_code == 400
    assert errors(response)["holidays"].startswith(message)
    with app.app_context():
        assert settings.get("holidays") == []


def test_the_holidays_setting_is_validated_by_the_domain_module_too(app):
    with app.app_context():
        for bad in (["2026-13-01"], "2026-12-25", [datetime(2026, 12, 25, tzinfo=UTC)],
                    ["2026-12-25T00:00"]):
            with pytest.raises(settings.SettingError) as error:
                settings.validate("holidays", bad)
            assert error.value.key == "holidays"
        assert settings.validate("holidays", [date(2026, 12, 25), "2026-12-24",
                                              "2026-12-25"]) == ["2026-12-24", "2026-12-25"]


def test_a_holiday_moves_the_clock_and_the_short_notice_cutoff(app, story):
    before = story.load(story.submit(at(FRI, 16)))
    assert before.sla_due_at == at(NEXT_MON, 16)  # 1 h on Friday, 7 h on Monday
    with app.app_context():
        values = settings.current()
        assert lead_time.short_notice_cutoff(date(2026, 11, 27), values) == date(2026, 12, 4)
        settings.update({"holidays": ["2026-11-30"]}, None, at(FRI, 16, 30))
        db.session.commit()
        values = settings.current()
        assert settings.business_hours(values).holidays == frozenset({date(2026, 11, 30)})
        assert lead_time.short_notice_cutoff(date(2026, 11, 27), values) == date(2026, 12, 7)
    assert story.load(before.id).sla_due_at == at(NEXT_TUE, 16)  # recomputed at once
    later = story.load(story.submit(at(FRI, 16)))
    assert later.sla_due_at == at(NEXT_TUE, 16)


# --- Recomputing after a settings change -------------------------------------------------

def test_changing_targets_or_hours_recomputes_open_clocks_without_touching_versions(
        app, story, desk):
    running = story.submit(at(MON, 9))
    paused = story.submit(at(MON, 9))
    story.step(paused, "waitlist", None, at(MON, 11), note="Over budget")  # 6 h left
    done = story.submit(at(MON, 9))
    story.step(done, "accept", desk.analyst, at(MON, 10), size="S")
    story.step(done, "claim", desk.analyst, at(MON, 10))
    story.step(done, "deliver", desk.analyst, at(MON, 12), url="https://x.example.com",
               note="Done")
    versions = {rid: story.load(rid).version for rid in (running, paused, done)}
    targets = settings.DEFAULTS["sla_targets"] | {
        "standard": {"first_response_hours": 4, "resolution_hours": 80}}
    with app.app_context():
        settings.update({"sla_targets": targets}, db.session.get(User, desk.lead), at(MON, 12))
        db.session.commit()
    assert story.load(running).sla_due_at == at(MON, 13)
    assert story.status(paused, at(TUE, 9)).time_left == 2 * HOUR
    assert story.load(done).resolution_seconds == 3 * HOUR  # history is not rewritten
    assert {rid: story.load(rid).version for rid in versions} == versions

    with app.app_context():
        settings.update({"work_start": "08:00"}, None, at(MON, 12))
        db.session.rollback()  # not committed: the clocks stay as they were
    assert story.load(running).sla_due_at == at(MON, 13)
    with app.app_context():
        settings.update({"work_start": "08:00"}, None, at(MON, 12))
        db.session.commit()
    assert story.load(running).sla_due_at == at(MON, 13)  # still 4 h from 09:00 on Monday
    story_submitted = story.load(story.submit(at(TUE, 7)))
    assert story_submitted.sla_due_at == at(TUE, 12)  # the day now starts at 08:00


def test_refresh_all_reads_open_requests_in_chunks_and_counts_the_changed_ones(app, story):
    ids = [story.submit(at(MON, 9)) for _ in range(5)]
    with app.app_context():
        # Nothing to do: every clock is up to date.
        assert sla_clocks.refresh_all(at(MON, 10), chunk_size=2) == 0
        db.session.execute(db.update(Request).values(sla_due_at=None, sla_at_risk_at=None)
                           .execution_options(synchronize_session=False))
        db.session.commit()
        before = len(get_recorded_queries())
        assert sla_clocks.refresh_all(at(MON, 10), chunk_size=2) == 5
        db.session.commit()
        # settings, then three chunks of requests with their events, one closing empty
        # chunk, and one UPDATE per changed request.
        assert len(get_recorded_queries()) - before <= 1 + 2 * 4 + 5
    assert {story.load(rid).sla_due_at for rid in ids} == {at(MON, 17)}


# --- The first start of work ---------------------------------------------------------------

def test_the_first_start_of_work_is_stored_once_and_a_reopen_does_not_move_it(story, desk):
    rid = story.submit(at(MON, 9))
    story.step(rid, "accept", desk.analyst, at(MON, 10), size="S")
    assert story.load(rid).started_at is None
    story.step(rid, "claim", desk.analyst, at(MON, 11))
    assert story.load(rid).started_at == at(MON, 11)
    story.step(rid, "deliver", desk.analyst, at(TUE, 12), url="https://bi.example.com/1",
               note="Here it is")
    story.step(rid, "reopen", desk.requester, at(WED, 9), note="Missing the south")
    story.step(rid, "deliver", desk.analyst, at(WED, 11), url="https://bi.example.com/2",
               note="With the south")
    assert story.load(rid).started_at == at(MON, 11)


def test_an_assignment_starts_work_too(story, desk):
    rid = story.submit(at(MON, 9))
    story.step(rid, "accept", desk.lead, at(MON, 10), size="S")
    story.step(rid, "assign", desk.lead, at(TUE, 14), assignee=desk.analyst)
    assert story.load(rid).started_at == at(TUE, 14)


def test_the_migration_fills_the_first_start_from_the_history(unmigrated_app):
    """Downgrade a database holding started requests to before ``started_at`` and upgrade it
    again (SQLite, or PostgreSQL beside the test database): the column is filled from each
    request's first claim or assignment, and stays empty where work never started."""
    from flask_migrate import downgrade, upgrade

    from tests.conftest import Factory

    with unmigrated_app.app_context():
        upgrade()
    make = Factory(unmigrated_app)
    team = make.team("Finance")
    requester = make.user("requester", teams=[team])
    analyst = make.user("analyst", teams=[team])
    started, waiting = make.request(requester, team), make.request(requester, team)
    for rid in (started, waiting):
        make.act(rid, "accept", analyst, size="S")
    make.act(started, "claim", analyst)
    make.act(started, "deliver", analyst, url="https://bi.example.com/1", note="Done")
    with unmigrated_app.app_context():
        first_claim = db.session.scalar(db.select(Event.created_at).where(
            Event.request_id == started, Event.action == "claim"))
        assert db.session.get(Request, started).started_at == first_claim
        db.session.remove()
        downgrade(revision="c7f2a9d4e1b3")
        upgrade()
        assert db.session.get(Request, started).started_at == first_claim
        assert db.session.get(Request, waiting).started_at is None

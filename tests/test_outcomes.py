"""Outcomes' domain (issue 13): follow-ups scheduled at resolution, asked once and reminded
once, answered by the person asked (by link or on the page), and teams' track records."""
from datetime import date, datetime, timedelta, timezone

import pytest

from tickets import lifecycle, outcomes, priority, settings
from tickets.extensions import db
from tickets.models import Event, FollowUp, OutboxMessage, Request, User

DELIVERY = {"url": "https://bi.example.com/churn", "note": "Filter by region."}
# A Wednesday, so business days are easy to count.
NOW = datetime(2026, 11, 4, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def world(make):
    team = make.team("Marketing")
    requester = make.user("requester", teams=[team], name="Rita Requester")
    analyst = make.user("analyst", teams=[team])
    return {"team": team, "requester": requester, "analyst": analyst}


def delivered(make, world, **fields):
    request_id = make.request(world["requester"], world["team"], **fields)
    make.act(request_id, "accept", world["analyst"], size="S")
    make.act(request_id, "claim", world["analyst"])
    make.act(request_id, "deliver", world["analyst"], **DELIVERY)
    return request_id


def resolve(app, request_id, actor, now=NOW, **inputs):
    with app.app_context():
        req = db.session.get(Request, request_id)
        user = db.session.get(User, actor) if actor else None
        name = "confirm" if actor else "auto_resolve"
        if not actor:
            inputs.setdefault("note", "No answer.")
        lifecycle.transition(req, name, user, now, **inputs)
        db.session.commit()
        return db.session.scalar(db.select(FollowUp).where(FollowUp.request_id == request_id)).id


def follow_up(app, follow_up_id):
    with app.app_context():
        row = db.session.get(FollowUp, follow_up_id)
        db.session.expunge(row)
        return row


def test_resolution_schedules_one_follow_up_after_the_kinds_business_days(app, make, world):
    request_id = delivered(make, world)
    follow_up_id = resolve(app, request_id, world["requester"])
    row = follow_up(app, follow_up_id)
    assert row.status == "scheduled" and row.recipient_id == world["requester"]
    # Ad-hoc: 5 business days after Wednesday 4 Nov is Wednesday 11 Nov, at 09:00 (UTC).
    assert row.due_at == datetime(2026, 11, 11, 9, 0, tzinfo=timezone.utc)


def test_the_requester_says_when_they_will_know(app, make, world):
    request_id = delivered(make, world)
    follow_up_id = resolve(app, request_id, world["requester"], know_by=date(2026, 12, 1))
    row = follow_up(app, follow_up_id)
    assert row.know_by == date(2026, 12, 1)
    assert row.due_at == datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("day, message", [
    (date(2026, 11, 4), "Choose a day after today."),
    (date(2028, 1, 1), "Choose a day within a year."),
])
def test_a_know_by_day_out_of_range_is_refused_and_nothing_changes(app, make, world, day,
                                                                   message):
    request_id = delivered(make, world)
    with app.app_context():
        req = db.session.get(Request, request_id)
        with pytest.raises(lifecycle.MissingInput) as refused:
            lifecycle.transition(req, "confirm", db.session.get(User, world["requester"]), NOW,
                                 know_by=day)
        assert refused.value.field == "know_by" and str(refused.value) == message
        db.session.rollback()
    assert make.get(Request, request_id).state == "delivered"


def test_auto_resolution_schedules_a_follow_up_too(app, make, world):
    request_id = delivered(make, world, kind="project")
    row = follow_up(app, resolve(app, request_id, None))
    # Projects: 20 business days.
    assert row.due_at.date() == date(2026, 12, 2)


def send(app, now, **kwargs):
    with app.app_context():
        result = outcomes.send_due(now, **kwargs)
        db.session.commit()
        return result


def outbox(app):
    with app.app_context():
        return [(m.idempotency_key, m.recipient, m.subject) for m in db.session.scalars(
            db.select(OutboxMessage).where(OutboxMessage.kind == "follow_up")
            .order_by(OutboxMessage.id))]


def test_asked_once_reminded_once_then_left(app, make, world):
    request_id = delivered(make, world)
    follow_up_id = resolve(app, request_id, world["requester"])
    assert send(app, NOW + timedelta(days=1)).asked == 0  # not due yet
    due = datetime(2026, 11, 11, 9, 0, tzinfo=timezone.utc)
    assert send(app, due).asked == 1
    assert send(app, due + timedelta(hours=1)).asked == 0
    assert follow_up(app, follow_up_id).status == "asked"
    assert send(app, due + timedelta(days=4)).reminded == 0
    assert send(app, due + timedelta(days=5)).reminded == 1
    assert send(app, due + timedelta(days=30)).text.startswith("0 follow-up(s) asked, 0 reminded")
    keys = [key for key, _, _ in outbox(app)]
    assert keys == [f"follow-up:{follow_up_id}:ask", f"follow-up:{follow_up_id}:reminder"]
    with app.app_context():
        steps = [e.data["step"] for e in db.session.scalars(
            db.select(Event).where(Event.kind == "follow_up").order_by(Event.id))]
    assert steps == ["asked", "reminded"]


def test_force_asks_now_but_never_twice(app, make, world):
    request_id = delivered(make, world)
    resolve(app, request_id, world["requester"])
    assert send(app, NOW, force=True).asked == 1
    assert send(app, NOW, force=True).asked == 0
    assert len(outbox(app)) == 1


def test_a_disabled_requester_is_not_mailed_the_watcher_of_the_team_is(app, make, world):
    watcher = make.user("requester", teams=[world["team"]], email="wendy@example.com")
    request_id = delivered(make, world, watchers=["wendy@example.com"])
    follow_up_id = resolve(app, request_id, world["requester"])
    with app.app_context():
        db.session.get(User, world["requester"]).is_active = False
        db.session.commit()
    result = send(app, NOW, force=True)
    assert (result.asked, result.handed_over) == (1, 1)
    assert [recipient for _, recipient, _ in outbox(app)] == ["wendy@example.com"]
    assert follow_up(app, follow_up_id).recipient_id == watcher


def test_nobody_left_to_ask_makes_it_unanswerable(app, make, world):
    request_id = delivered(make, world)
    follow_up_id = resolve(app, request_id, world["requester"])
    with app.app_context():
        db.session.get(User, world["requester"]).is_active = False
        db.session.commit()
    assert send(app, NOW, force=True).unanswerable == 1
    assert follow_up(app, follow_up_id).status == "unanswerable"
    assert outbox(app) == []


def answer(app, follow_up_id, user_id, **inputs):
    with app.app_context():
        row = db.session.get(FollowUp, follow_up_id)
        event = outcomes.record(row, db.session.get(User, user_id), NOW, **inputs)
        db.session.commit()
        return event.id


def test_answers_are_events_and_the_latest_is_kept(app, make, world):
    request_id = delivered(make, world)
    follow_up_id = resolve(app, request_id, world["requester"])
    answer(app, follow_up_id, world["requester"], outcome="not_yet")
    answer(app, follow_up_id, world["requester"], outcome="acted",
           decision="Moved budget to the north", note="Saved a quarter")
    row = follow_up(app, follow_up_id)
    assert (row.status, row.outcome, row.decision) == ("answered", "acted",
                                                        "Moved budget to the north")
    with app.app_context():
        events = [(e.data["outcome"], e.data.get("previous")) for e in outcomes.history(request_id)]
    assert events == [("not_yet", None), ("acted", "not_yet")]


def test_not_used_needs_a_reason_and_only_the_person_asked_answers(app, make, world):
    request_id = delivered(make, world)
    follow_up_id = resolve(app, request_id, world["requester"])
    with pytest.raises(outcomes.OutcomeRefusal) as refused:
        answer(app, follow_up_id, world["requester"], outcome="not_used")
    assert refused.value.field == "reason"
    with pytest.raises(outcomes.OutcomeRefusal):
        answer(app, follow_up_id, world["analyst"], outcome="acted")
    assert follow_up(app, follow_up_id).outcome is None


def test_a_link_answers_once_and_is_refused_after(app, make, world):
    request_id = delivered(make, world)
    follow_up_id = resolve(app, request_id, world["requester"])
    with app.app_context():
        row = db.session.get(FollowUp, follow_up_id)
        token = outcomes.link_token(row, "acted")
        other = outcomes.link_token(row, "not_used")
        found, outcome = outcomes.read_link(token)
        assert (found.id, outcome) == (follow_up_id, "acted")
        outcomes.record(found, found.recipient, NOW, outcome=outcome, via="mail", first_only=True)
        db.session.commit()
        with pytest.raises(outcomes.LinkRefused) as refused:
            outcomes.read_link(other)
        assert (refused.value.reason, refused.value.status) == ("used", 409)
        with pytest.raises(outcomes.LinkRefused) as forged:
            outcomes.read_link(token[:-3] + "abc")
        assert forged.value.reason == "forged"
        analyst = db.session.get(User, world["analyst"])
        with pytest.raises(outcomes.LinkRefused) as foreign:
            outcomes.read_link(outcomes.link_token(row, "acted"), viewer=analyst)
        assert foreign.value.reason == "foreign"


def test_track_record_counts_the_teams_last_answers(app, make, world):
    for outcome in ["acted", "not_used", "decided_not_to_act", "not_yet"]:
        request_id = delivered(make, world)
        follow_up_id = resolve(app, request_id, world["requester"])
        answer(app, follow_up_id, world["requester"], outcome=outcome,
               reason="too_late" if outcome == "not_used" else None)
    with app.app_context():
        record = outcomes.track_record(world["team"], NOW + timedelta(minutes=1))
    assert (record.used, record.answered) == (2, 4)
    assert record.factor == pytest.approx(0.75)
    assert "used 2 of its last 4 deliveries (50%)" == record.text


def test_the_track_record_factor_is_explained_in_the_score():
    class Req:
        business_impact, deadline, is_exec_sponsored, size = 4, None, False, "S"
        created_at = NOW

    plain = priority.explain(Req, NOW)
    weighed = priority.explain(Req, NOW, priority.TrackRecord(used=1, answered=4))
    assert weighed.total == pytest.approx(plain.total * 0.625)
    assert "\u00d7 track record 0.62 (used 1 of 4 (25%))" in weighed.text
    too_few = priority.explain(Req, NOW, priority.TrackRecord(used=0, answered=2))
    assert too_few.total == plain.total and "too few to weigh" in too_few.text


def test_settings_validate_follow_up_days(app):
    with app.app_context():
        with pytest.raises(settings.SettingError):
            settings.validate("follow_up_business_days", {"ad_hoc": 0, "project": 1,
                                                          "data_issue": 1})
        assert settings.validate("follow_up_reminder_days", 3) == 3
        with pytest.raises(settings.SettingError):
            settings.validate("track_record_in_priority", "yes")

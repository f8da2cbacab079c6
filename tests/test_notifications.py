"""Notifications (issue 14): who is told what for each kind, in the app and by mail, by each
person's mode (immediately, daily batch, off); watchers with and without an account; batching of
bursts; the daily batch exactly once; unsubscribe and unwatch links; the migration of the old
preferences."""
import base64
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest

from tickets import budget, intake, lifecycle, mail, notifications, settings
from tickets.extensions import db
from tickets.models import (Event, Notification, OutboxMessage, Request, Team, User, Watcher,
                            utcnow)
from tests.smtp import raw_header

NOW = utcnow().replace(microsecond=0)
MORNING = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # a Wednesday, after the 09:00 work start


@pytest.fixture
def people(make):
    team = make.team("Marketing")
    return {
        "team": team,
        "requester": make.user("requester", teams=[team], email="rita@example.com",
                               name="Rita Requester"),
        "analyst": make.user("analyst", teams=[team], email="ana@example.com",
                             name="Ana Analyst"),
        "other analyst": make.user("analyst", teams=[team], email="otto@example.com",
                                   name="Otto Analyst"),
        "lead": make.user("lead", email="lee@example.com", name="Lee Lead"),
        "colleague": make.user("requester", teams=[team], email="wendy@example.com",
                               name="Wendy Watcher"),
        "outsider": make.user("requester", email="oscar@example.com", name="Oscar Outsider"),
    }


def transition(app, request_id, name, actor, now, **inputs):
    with app.app_context():
        req = db.session.get(Request, request_id)
        user = db.session.get(User, actor) if actor else None
        if "assignee" in inputs:
            inputs["assignee"] = db.session.get(User, inputs["assignee"])
        lifecycle.transition(req, name, user, now, **inputs)  # notifies
        db.session.commit()


def comment(app, request_id, author, text, now, mentioned=()):
    with app.app_context():
        req = db.session.get(Request, request_id)
        intake.add_comment(req, db.session.get(User, author), text, now,
                           mentioned=[db.session.get(User, uid) for uid in mentioned])
        db.session.commit()


def outbox(app):
    with app.app_context():
        rows = db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def told(app, **where):
    """(recipient e-mail, kind) of every notification in the app, in order."""
    with app.app_context():
        query = (db.select(User.email, Notification.kind)
                 .join(User, User.id == Notification.recipient_id).order_by(Notification.id))
        for name, value in where.items():
            query = query.where(getattr(Notification, name) == value)
        return [tuple(row) for row in db.session.execute(query)]


def mailed(app):
    """(recipient, [kinds of its items]) of every mail in the outbox, in order."""
    return [(row.recipient, [item["kind"] for item in row.payload.get("items", [])])
            for row in outbox(app)]


def set_modes(app, user_id, **modes):
    with app.app_context():
        notifications.set_modes(db.session.get(User, user_id), modes)
        db.session.commit()


def accepted_request(app, make, people, now=NOW, **fields):
    request_id = make.request(people["requester"], people["team"], **fields)
    transition(app, request_id, "accept", people["analyst"], now, size="S")
    return request_id


def clear(app):
    with app.app_context():
        db.session.execute(db.delete(Notification))
        db.session.execute(db.delete(OutboxMessage))
        db.session.commit()


# --- Who is told what ---------------------------------------------------------------------------

def test_acceptance_tells_the_requester_with_a_forecast_or_that_there_is_no_history_yet(
        app, make, people):
    request_id = accepted_request(app, make, people)
    assert told(app) == [("rita@example.com", "accepted")]
    with app.app_context():
        row = db.session.scalars(db.select(Notification)).one()
        assert row.text == "Forecast: not enough history yet to give a date."
        assert row.actor_id == people["analyst"] and row.read_at is None
        assert row.request_id == request_id and row.event_id is not None
    [message] = outbox(app)
    assert "Forecast: not enough history yet to give a date." in message.text_body
    assert message.subject == f"[Datadesk #{request_id}] Your request is accepted"


def test_acceptance_gives_the_forecast_of_a_team_with_history(app, make, people):
    # Two deliveries a week for four weeks: enough history for a date (forecast.MIN_DELIVERIES).
    for weeks in (1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5):
        done = make.request(people["requester"], people["team"])
        at = NOW - timedelta(weeks=weeks)
        transition(app, done, "accept", people["analyst"], at - timedelta(days=1), size="S")
        transition(app, done, "claim", people["analyst"], at - timedelta(hours=20))
        transition(app, done, "deliver", people["analyst"], at, url="https://bi.example.com/x",
                   note="Done")
    clear(app)
    request_id = accepted_request(app, make, people)
    with app.app_context():
        row = db.session.scalars(db.select(Notification)).one()
        expected = notifications.forecast.for_request(db.session.get(Request, request_id), NOW)
    assert expected is not None
    assert row.text == f"Forecast: {expected.text}."


def test_a_reply_that_mentions_someone_tells_them_as_a_comment_would(app, make, people):
    from tickets import conversation

    request_id = accepted_request(app, make, people)
    transition(app, request_id, "ask", people["other analyst"], NOW, note="Which regions?")
    with app.app_context():
        req = db.session.get(Request, request_id)
        conversation.reply(req, db.session.get(User, people["requester"]),
                           "North and south; @[Lee Lead] knows the rest.", NOW)
        db.session.commit()
    assert told(app)[2:] == [("otto@example.com", "answered"), ("lee@example.com", "mention")]


def test_a_question_tells_the_requester_and_the_answer_tells_the_analyst_who_asked(
        app, make, people):
    request_id = accepted_request(app, make, people)
    transition(app, request_id, "ask", people["other analyst"], NOW, note="Which regions?")
    transition(app, request_id, "answer", people["requester"], NOW, note="North and south.")
    assert told(app)[1:] == [("rita@example.com", "question"),
                             ("otto@example.com", "answered")]
    with app.app_context():
        texts = db.session.scalars(db.select(Notification.text).order_by(Notification.id))
        assert list(texts)[1:] == ["Which regions?", "North and south."]


def test_an_answer_is_not_sent_to_an_analyst_who_has_left(app, make, people):
    request_id = accepted_request(app, make, people)
    transition(app, request_id, "ask", people["other analyst"], NOW, note="Which regions?")
    with app.app_context():
        db.session.get(User, people["other analyst"]).is_active = False
        db.session.commit()
    clear(app)
    transition(app, request_id, "answer", people["requester"], NOW, note="North.")
    assert told(app) == [] and outbox(app) == []


def test_assignment_delivery_and_reopening_each_tell_the_person_concerned(app, make, people):
    request_id = accepted_request(app, make, people)
    transition(app, request_id, "assign", people["lead"], NOW, assignee=people["analyst"])
    transition(app, request_id, "deliver", people["analyst"], NOW,
               url="https://bi.example.com/d/1", note="Here it is")
    transition(app, request_id, "reopen", people["requester"], NOW, note="Missing March")
    assert told(app)[1:] == [("ana@example.com", "assigned"), ("rita@example.com", "delivered"),
                             ("ana@example.com", "reopened")]
    rita = [row for row in outbox(app) if row.recipient == "rita@example.com"][0]
    assert "What was delivered: https://bi.example.com/d/1" in rita.text_body


def test_a_self_serve_decline_gives_its_reason_and_the_links_to_what_answers_it(
        app, make, people):
    answering = make.request(people["requester"], people["team"], title="The churn board")
    request_id = make.request(people["requester"], people["team"])
    clear(app)
    with app.app_context():
        req = db.session.get(Request, request_id)
        lifecycle.transition(req, "decline", db.session.get(User, people["analyst"]), NOW,
                             reason="self_serve", url="https://bi.example.com/churn",
                             note="The churn board has it.",
                             answer={"kind": "request", "id": answering})
        db.session.commit()
    assert told(app) == [("rita@example.com", "declined")]
    [message] = outbox(app)
    assert ("Reason: Self-serve available (an existing dashboard or dataset answers it)."
            in message.text_body)
    assert "What answers it: https://bi.example.com/churn" in message.text_body
    assert (f"Request #{answering}, which answers it: http://127.0.0.1:5000/requests/{answering}"
            in message.text_body)
    assert f'href="http://127.0.0.1:5000/requests/{request_id}"' in message.html_body


def test_waitlisting_tells_the_place_on_the_waitlist_and_release_tells_it_left(
        app, make, people):
    with app.app_context():
        settings.set_team_budget(db.session.get(Team, people["team"]), 1, None, NOW)
        db.session.commit()
    make.request(people["requester"], people["team"], title="Takes the place")
    make.request(people["requester"], people["team"], title="Waits first", business_impact=5)
    make.request(people["colleague"], people["team"], title="Waits second", business_impact=1)
    assert told(app) == [("rita@example.com", "waitlisted"), ("wendy@example.com", "waitlisted")]
    with app.app_context():
        texts = db.session.scalars(db.select(Notification.text).order_by(Notification.id)).all()
    assert texts[0].startswith("It is number 1 of 1 on Marketing's waitlist. Marketing has used")
    assert texts[1].startswith("It is number 2 of 2 on Marketing's waitlist.")

    with app.app_context():  # next week's budget has one place: number 1 takes it
        budget.release_waitlisted(NOW + timedelta(days=8))
        db.session.commit()
    assert told(app, kind="released") == [("rita@example.com", "released")]


def test_nobody_is_told_about_what_they_did_themselves(app, make, people):
    request_id = make.request(people["analyst"], people["team"])
    transition(app, request_id, "accept", people["analyst"], NOW, size="S")
    transition(app, request_id, "claim", people["analyst"], NOW)
    transition(app, request_id, "deliver", people["analyst"], NOW,
               url="https://bi.example.com/d/1", note="Done")
    comment(app, request_id, people["analyst"], "Note to self", NOW)
    assert outbox(app) == [] and told(app) == []


def test_a_comment_tells_the_requester_the_assignee_and_the_watchers_but_not_its_author(
        app, make, people):
    request_id = accepted_request(app, make, people, watchers=["wendy@example.com"])
    transition(app, request_id, "claim", people["analyst"], NOW)
    clear(app)
    comment(app, request_id, people["requester"], "Any news?", NOW)
    assert told(app) == [("ana@example.com", "comment"), ("wendy@example.com", "comment")]
    clear(app)
    comment(app, request_id, people["analyst"], "Tomorrow.", NOW)
    assert told(app) == [("rita@example.com", "comment"), ("wendy@example.com", "comment")]
    subjects = {row.recipient: row.subject for row in outbox(app)}
    assert subjects["rita@example.com"].endswith("A new comment on a request")
    assert subjects["wendy@example.com"].endswith("A new comment on a request you follow")


def test_people_mentioned_are_told_of_the_mention_instead_of_the_comment(app, make, people):
    request_id = accepted_request(app, make, people)
    transition(app, request_id, "claim", people["analyst"], NOW)
    clear(app)
    comment(app, request_id, people["analyst"], "@Rita Requester and @Lee Lead: look", NOW,
            mentioned=[people["requester"], people["lead"]])
    assert told(app) == [("rita@example.com", "mention"), ("lee@example.com", "mention")]
    assert [row.subject.split("] ")[1] for row in outbox(app)] == [
        "You are mentioned in a comment"] * 2


def test_someone_who_turned_mentions_off_still_hears_of_comments_on_their_request(
        app, make, people):
    request_id = accepted_request(app, make, people)
    set_modes(app, people["requester"], mention="off")
    set_modes(app, people["lead"], mention="off")
    clear(app)
    comment(app, request_id, people["analyst"], "@Rita Requester @Lee Lead", NOW,
            mentioned=[people["requester"], people["lead"]])
    assert told(app) == [("rita@example.com", "comment")]


def test_a_mention_of_someone_who_may_not_see_the_request_tells_them_nothing(app, make, people):
    request_id = accepted_request(app, make, people)
    clear(app)
    comment(app, request_id, people["analyst"], "@Oscar", NOW, mentioned=[people["outsider"]])
    assert told(app) == [("rita@example.com", "comment")]


def test_the_sla_risk_is_told_once_per_risk_in_the_app_and_by_mail(app, make, people):
    request_id = accepted_request(app, make, people)
    transition(app, request_id, "claim", people["analyst"], NOW)
    clear(app)
    with app.app_context():
        req = db.session.get(Request, request_id)
        req.sla_at_risk_at, req.sla_due_at = NOW - timedelta(hours=1), NOW + timedelta(hours=2)
        db.session.commit()
        assert notifications.sla_at_risk(NOW) == 1
        assert notifications.sla_at_risk(NOW + timedelta(minutes=5)) == 0
        db.session.commit()
    assert told(app) == [("ana@example.com", "sla_at_risk")]
    [message] = outbox(app)
    assert "Its SLA target falls due" in message.text_body


# --- Modes --------------------------------------------------------------------------------------

def test_off_means_neither_an_entry_in_the_app_nor_a_mail(app, make, people):
    set_modes(app, people["requester"], accepted="off", question="off")
    request_id = accepted_request(app, make, people)
    transition(app, request_id, "ask", people["analyst"], NOW, note="A question")
    assert told(app) == [] and outbox(app) == []


def test_daily_means_an_entry_at_once_and_the_mail_in_the_daily_batch(app, make, people):
    set_modes(app, people["requester"], question="daily")
    request_id = accepted_request(app, make, people)
    transition(app, request_id, "ask", people["analyst"], NOW, note="A question")
    assert told(app) == [("rita@example.com", "accepted"), ("rita@example.com", "question")]
    assert mailed(app) == [("rita@example.com", ["accepted"])]
    with app.app_context():
        assert db.session.scalars(db.select(Notification.is_daily)
                                  .order_by(Notification.id)).all() == [False, True]


def test_a_person_sees_only_the_modes_of_kinds_that_concern_their_role(app, people):
    with app.app_context():
        requester = db.session.get(User, people["requester"])
        analyst = db.session.get(User, people["analyst"])
        assert set(notifications.kinds_for(requester)) == set(notifications.REQUESTER_KINDS)
        assert "assigned" not in notifications.kinds_for(requester)
        assert set(notifications.kinds_for(analyst)) == set(notifications.NOTIFICATIONS)
        notifications.set_modes(requester, {"assigned": "off", "comment": "daily",
                                            "question": "sometimes"})
        assert requester.notification_modes == {"comment": "daily"}
        assert notifications.mode(requester, "question") == "immediately"


# --- Watchers -----------------------------------------------------------------------------------

def test_a_watcher_with_an_account_is_told_like_the_requester_by_their_own_modes(
        app, make, people):
    set_modes(app, people["colleague"], accepted="daily", question="off")
    request_id = make.request(people["requester"], people["team"],
                              watchers=["wendy@example.com"])
    transition(app, request_id, "accept", people["analyst"], NOW, size="S")
    transition(app, request_id, "ask", people["analyst"], NOW, note="Q")
    assert told(app) == [("rita@example.com", "accepted"), ("wendy@example.com", "accepted"),
                         ("rita@example.com", "question")]
    assert [recipient for recipient, _ in mailed(app)] == ["rita@example.com"]


def test_a_watcher_who_may_no_longer_see_the_request_is_not_told(app, make, people):
    # Oscar is in no team: he sees the request only while it is not confidential.
    request_id = make.request(people["requester"], people["team"],
                              watchers=["oscar@example.com"])
    transition(app, request_id, "accept", people["analyst"], NOW, size="S")
    assert ("oscar@example.com", "accepted") in told(app)
    with app.app_context():
        db.session.get(Request, request_id).is_confidential = True
        db.session.commit()
    clear(app)
    transition(app, request_id, "ask", people["lead"], NOW, note="Q")
    assert told(app) == [("rita@example.com", "question")]


def test_a_watcher_without_an_account_gets_mail_only_with_a_link_to_stop_following(
        app, make, people, smtp_server):
    request_id = make.request(people["requester"], people["team"],
                              watchers=["guest@partner.example"])
    transition(app, request_id, "accept", people["analyst"], NOW, size="S")
    comment(app, request_id, people["analyst"], "Started", NOW + timedelta(minutes=1))
    assert told(app) == [("rita@example.com", "accepted"), ("rita@example.com", "comment")]
    with app.app_context():
        mail.drain(NOW + timedelta(hours=1))
    [guest] = smtp_server.to("guest@partner.example")
    assert guest["Subject"] == f"[Datadesk #{request_id}] 2 updates on a request"
    text = guest.get_body(preferencelist=("plain",)).get_content()
    assert "A request you follow is accepted" in text and "Started" in text
    assert f"You get this because guest@partner.example follows request #{request_id}." in text
    link = re.search(r"Stop following it: (\S+)", text)[1]
    assert guest["List-Unsubscribe"] == f"<{link}>"
    assert "/preferences" not in text


def test_the_stop_following_link_stops_that_address_following_that_request_only(
        app, make, people, client):
    request_id = make.request(people["requester"], people["team"],
                              watchers=["guest@partner.example"])
    other = make.request(people["requester"], people["team"],
                         watchers=["guest@partner.example"])
    transition(app, request_id, "accept", people["analyst"], NOW, size="S")
    [row] = [row for row in outbox(app) if row.recipient == "guest@partner.example"]
    path = re.search(r"Stop following it: (\S+)", row.text_body)[1].removeprefix(
        "http://127.0.0.1:5000")

    page = client.get(path)
    assert page.status_code == 200 and f"Stop following #{request_id}?" in page.get_data(
        as_text=True)
    assert _watchers(app, request_id) == ["guest@partner.example"]  # a GET changes nothing

    done = client.post(path)  # one click, no CSRF token: the signed link is the authority
    assert done.status_code == 200
    assert f"You no longer follow #{request_id}" in done.get_data(as_text=True)
    assert _watchers(app, request_id) == [] and _watchers(app, other) == [
        "guest@partner.example"]
    with app.app_context():
        event = db.session.scalars(db.select(Event).where(
            Event.request_id == request_id, Event.kind == "edit")).one()
        assert event.data["changes"]["watchers"] == [["guest@partner.example"], []]
    again = client.post(path)
    assert again.status_code == 200 and "You no longer follow" in again.get_data(as_text=True)

    clear(app)
    comment(app, request_id, people["analyst"], "More", NOW)
    assert [row.recipient for row in outbox(app)] == ["rita@example.com"]


def _watchers(app, request_id):
    with app.app_context():
        return list(db.session.scalars(db.select(Watcher.email).where(
            Watcher.request_id == request_id)))


@pytest.mark.parametrize("tamper", [
    lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
    lambda token: base64.urlsafe_b64encode(
        b'{"r":1,"e":"someone@else.example"}').decode().rstrip("=") + "." + token.split(".")[1],
    lambda token: "not-a-token",
])
def test_a_tampered_stop_following_link_is_refused(app, make, people, client, tamper):
    request_id = make.request(people["requester"], people["team"],
                              watchers=["guest@partner.example"])
    with app.test_request_context():
        watcher = db.session.scalars(db.select(Watcher)).one()
        token = notifications.unwatch_token(watcher)
    bad = f"/unwatch/{tamper(token)}"
    assert client.get(bad).status_code == 404
    assert client.post(bad).status_code == 404
    assert _watchers(app, request_id) == ["guest@partner.example"]


def test_an_unsubscribe_token_does_not_stop_following_nor_the_reverse(app, make, people,
                                                                       client):
    make.request(people["requester"], people["team"], watchers=["guest@partner.example"])
    with app.test_request_context():
        watcher = db.session.scalars(db.select(Watcher)).one()
        unwatch = notifications.unwatch_token(watcher)
        unsubscribe = mail.unsubscribe_token(db.session.get(User, people["requester"]),
                                             "notifications")
    assert client.get(f"/unwatch/{unsubscribe}").status_code == 404
    assert client.get(f"/unsubscribe/{unwatch}").status_code == 404


def test_a_watcher_without_an_account_is_never_mailed_about_a_confidential_request(
        app, make, people):
    request_id = make.request(people["requester"], people["team"], is_confidential=True,
                              watchers=["guest@partner.example"])
    transition(app, request_id, "accept", people["lead"], NOW, size="S")
    comment(app, request_id, people["lead"], "Started", NOW)
    assert [row.recipient for row in outbox(app)] == ["rita@example.com"]


# --- Batching -----------------------------------------------------------------------------------

def test_a_question_reaches_the_requester_once_after_the_batch_window(app, make, people,
                                                                      smtp_server):
    request_id = make.request(people["requester"], people["team"], title="Churn by region")
    transition(app, request_id, "ask", people["analyst"], NOW, note="Which regions count?")

    with app.app_context():
        assert mail.drain(NOW + timedelta(minutes=1)).sent == 0  # still gathering
        assert mail.drain(NOW + notifications.BATCH_WINDOW).sent == 1

    [received] = smtp_server.messages
    assert received["To"] == "rita@example.com"
    assert received["Subject"] == (f"[Datadesk #{request_id}] The data team has a question "
                                   "about your request")
    text = received.get_body(preferencelist=("plain",)).get_content()
    html = received.get_body(preferencelist=("html",)).get_content()
    assert "Which regions count?" in text and "Which regions count?" in html
    assert f"http://127.0.0.1:5000/requests/{request_id}" in text
    assert f'href="http://127.0.0.1:5000/requests/{request_id}"' in html
    assert "<script" not in html
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_burst_of_events_on_one_request_makes_one_mail_per_person(app, make, people,
                                                                    smtp_server):
    request_id = make.request(people["requester"], people["team"])
    transition(app, request_id, "accept", people["analyst"], NOW, size="S")
    transition(app, request_id, "ask", people["analyst"], NOW, note="First question")
    transition(app, request_id, "answer", people["requester"], NOW + timedelta(minutes=1),
               note="An answer")
    transition(app, request_id, "ask", people["analyst"], NOW + timedelta(minutes=2),
               note="Second question")

    assert mailed(app) == [("rita@example.com", ["accepted", "question", "question"]),
                           ("ana@example.com", ["answered"])]
    with app.app_context():
        mail.drain(NOW + timedelta(hours=1))
    [received] = smtp_server.to("rita@example.com")
    text = received.get_body(preferencelist=("plain",)).get_content()
    assert "First question" in text and "Second question" in text
    assert received["Subject"] == f"[Datadesk #{request_id}] 3 updates on a request"


def test_an_event_after_the_batch_was_sent_starts_a_new_mail(app, make, people, smtp_server):
    request_id = make.request(people["requester"], people["team"])
    transition(app, request_id, "ask", people["analyst"], NOW, note="First")
    transition(app, request_id, "answer", people["requester"], NOW, note="Answer")
    with app.app_context():
        mail.drain(NOW + timedelta(minutes=5))
    transition(app, request_id, "ask", people["analyst"], NOW + timedelta(minutes=6),
               note="Again")
    with app.app_context():
        mail.drain(NOW + timedelta(minutes=10))
    assert len(smtp_server.to("rita@example.com")) == 2


def test_two_senders_telling_one_person_at_the_same_moment_lose_nothing(app, make, people):
    """Two processes tell Rita about two events on one request at once: both reach the app,
    and both items are in the mail(s) gathering for her, none lost or doubled."""
    request_id = accepted_request(app, make, people)
    comment(app, request_id, people["analyst"], "From Ana", NOW)
    comment(app, request_id, people["lead"], "From Lee", NOW)
    clear(app)
    with app.app_context():
        events = db.session.scalars(db.select(Event.id).where(
            Event.request_id == request_id, Event.kind == "comment")).all()
    barrier = threading.Barrier(2)
    failures = []

    def tell(event_id):
        try:
            with app.app_context():
                event = db.session.get(Event, event_id)
                notice = notifications.describe("comment", event.request, event, NOW)
                rita = db.session.get(User, people["requester"])
                barrier.wait()
                notifications.deliver(rita, notice)
                db.session.commit()
                db.session.remove()
        except Exception as error:  # noqa: BLE001 (reported below)
            failures.append(error)

    threads = [threading.Thread(target=tell, args=(event_id,)) for event_id in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert told(app) == [("rita@example.com", "comment")] * 2
    items = sorted(item["text"] for row in outbox(app) for item in row.payload["items"])
    assert items == ["From Ana", "From Lee"]


# --- The daily batch ----------------------------------------------------------------------------

def daily_world(app, make, people, at=MORNING - timedelta(days=1)):
    set_modes(app, people["requester"], question="daily", comment="daily")
    request_id = accepted_request(app, make, people, now=at)
    transition(app, request_id, "ask", people["analyst"], at, note="Which regions?")
    comment(app, request_id, people["lead"], "Also the west, please.", at)
    with app.app_context():
        db.session.execute(db.delete(OutboxMessage))
        db.session.commit()
    return request_id


def test_the_daily_batch_sends_one_mail_with_the_days_notifications(app, make, people,
                                                                    smtp_server):
    request_id = daily_world(app, make, people)
    with app.app_context():
        assert notifications.send_daily(MORNING) == 1
        db.session.commit()
        mail.drain(MORNING)
    [received] = smtp_server.to("rita@example.com")
    assert received["Subject"] == "[Datadesk] 2 notifications on 1 request, 2 Dec 2026"
    text = received.get_body(preferencelist=("plain",)).get_content()
    assert f"#{request_id} Weekly churn by region (Marketing)" in text
    assert "Which regions?" in text and "Also the west, please." in text
    assert "Your request is accepted" not in text  # it went at once, not in the batch
    assert "Unsubscribe from notifications:" in text


def test_the_daily_batch_goes_once_a_day_whatever_runs_again(app, make, people):
    request_id = daily_world(app, make, people)
    with app.app_context():
        assert notifications.send_daily(MORNING) == 1
        db.session.commit()
    comment(app, request_id, people["lead"], "One more thing", MORNING + timedelta(hours=1))
    with app.app_context():
        assert notifications.send_daily(MORNING + timedelta(hours=2)) == 0  # tomorrow's
        db.session.commit()
        assert notifications.send_daily(MORNING + timedelta(days=1)) == 1
        db.session.commit()
    keys = [row.idempotency_key for row in outbox(app)]
    assert keys == [f"notify-daily:{people['requester']}:2026-12-02",
                    f"notify-daily:{people['requester']}:2026-12-03"]
    assert "One more thing" in outbox(app)[1].text_body
    assert "Which regions?" not in outbox(app)[1].text_body


def test_the_daily_batch_comes_on_the_persons_own_morning(app, make, people):
    daily_world(app, make, people)
    with app.app_context():
        db.session.get(User, people["requester"]).time_zone = "Asia/Tokyo"
        db.session.commit()
        # 07:00 here is already the afternoon in Tokyo; 23:00 here is Tokyo's 08:00.
        evening = MORNING.replace(hour=23) - timedelta(days=1)
        assert notifications.send_daily(evening) == 0
        assert notifications.send_daily(MORNING.replace(hour=7)) == 1
        db.session.commit()
    [row] = outbox(app)
    assert row.idempotency_key == f"notify-daily:{people['requester']}:2026-12-02"


def test_the_daily_batch_waits_for_the_start_of_the_working_day(app, make, people):
    daily_world(app, make, people)
    with app.app_context():
        assert notifications.send_daily(MORNING.replace(hour=7)) == 0
        assert notifications.send_daily(MORNING.replace(hour=7), at_any_hour=True) == 1


def test_two_daily_runs_at_the_same_moment_queue_one_mail(app, make, people):
    daily_world(app, make, people)
    barrier = threading.Barrier(2)
    results, failures = [], []

    def run():
        try:
            with app.app_context():
                barrier.wait()
                results.append(notifications.send_daily(MORNING))
                db.session.commit()
                db.session.remove()
        except Exception as error:  # noqa: BLE001 (reported below)
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(outbox(app)) == 1


def test_the_daily_batch_leaves_out_requests_the_person_may_no_longer_see(app, make, people):
    set_modes(app, people["colleague"], question="daily")
    request_id = make.request(people["requester"], people["team"],
                              watchers=["wendy@example.com"])
    transition(app, request_id, "ask", people["analyst"], MORNING - timedelta(hours=5),
               note="Q")
    with app.app_context():
        db.session.get(Request, request_id).is_confidential = True
        db.session.execute(db.delete(OutboxMessage))
        db.session.commit()
        assert notifications.send_daily(MORNING) == 0
        db.session.commit()
        assert db.session.scalars(db.select(Notification.mailed_at).where(
            Notification.recipient_id == people["colleague"])).one() is not None


def test_the_scheduler_declares_the_daily_batch_before_sending_the_outbox():
    from tickets import scheduler

    names = [job.name for job in scheduler.JOBS]
    assert names.index("daily_notifications") < names.index("drain_outbox")


def test_the_daily_command_queues_and_sends_the_batches(app, make, people, runner,
                                                        smtp_server):
    daily_world(app, make, people, at=utcnow() - timedelta(hours=2))
    dry = runner.invoke(args=["notifications", "daily", "--dry-run"])
    assert "rita@example.com" in dry.output and "2 notification(s)" in dry.output
    assert outbox(app) == []
    result = runner.invoke(args=["notifications", "daily"])
    assert "1 daily batch(es) queued; sent 1" in result.output, result.output
    again = runner.invoke(args=["notifications", "daily"])
    assert "0 daily batch(es) queued" in again.output
    assert len(smtp_server.to("rita@example.com")) == 1


# --- Unsubscribe ------------------------------------------------------------------------------

def _unsubscribe_link(app, user_id, what):
    with app.test_request_context():
        user = db.session.get(User, user_id)
        return mail.unsubscribe_url(user, what).removeprefix("http://127.0.0.1:5000")


def test_the_unsubscribe_link_works_without_logging_in(app, client, people):
    link = _unsubscribe_link(app, people["requester"], "digest")

    page = client.get(link)
    assert page.status_code == 200 and "rita@example.com" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, people["requester"]).is_digest_enabled  # GET changes nothing

    done = client.post(link)
    assert done.status_code == 200 and "You are unsubscribed" in done.get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, people["requester"])
        assert not user.is_digest_enabled
        assert notifications.wants(user, "question")  # only the digest was stopped


def test_the_notifications_unsubscribe_link_turns_every_kind_off(app, client, people):
    client.post(_unsubscribe_link(app, people["analyst"], "notifications"))
    with app.app_context():
        user = db.session.get(User, people["analyst"])
        assert not any(notifications.wants(user, kind) for kind in notifications.NOTIFICATIONS)


def _other_users_payload(token):
    """The token's signature on another user's payload."""
    payload = base64.urlsafe_b64encode(b'{"u":9999,"w":"digest"}').decode().rstrip("=")
    return token.replace(token.split(".")[0], payload)


@pytest.mark.parametrize("tamper", [
    lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
    _other_users_payload,
    lambda token: "not-a-token",
])
def test_a_tampered_unsubscribe_link_is_refused(app, client, people, tamper):
    link = _unsubscribe_link(app, people["requester"], "digest")
    token = link.rsplit("/", 1)[1]
    bad = f"/unsubscribe/{tamper(token)}"
    assert client.get(bad).status_code == 404
    assert client.post(bad).status_code == 404
    with app.app_context():
        assert db.session.get(User, people["requester"]).is_digest_enabled


def test_every_notification_carries_a_working_unsubscribe_link(app, make, people, client):
    request_id = make.request(people["requester"], people["team"])
    transition(app, request_id, "ask", people["analyst"], NOW, note="Q")
    [row] = outbox(app)
    link = re.search(r"Unsubscribe from notifications: (\S+)", row.text_body)[1]
    assert row.headers["List-Unsubscribe"] == f"<{link}>"
    client.post(link.removeprefix("http://127.0.0.1:5000"))
    transition(app, request_id, "answer", people["requester"], NOW, note="A")
    transition(app, request_id, "ask", people["analyst"], NOW, note="Again")
    assert told(app, recipient_id=people["requester"]) == [("rita@example.com", "question")]


@pytest.mark.parametrize("base_url", [
    "http://127.0.0.1:5000",
    "https://datadesk.analytics.corporate-intranet.example.com/teams/data/requests"])
def test_notification_list_unsubscribe_arrives_as_plain_ascii_with_one_click(
        app, make, people, smtp_server, monkeypatch, base_url):
    monkeypatch.setitem(app.config, "BASE_URL", base_url)
    request_id = make.request(people["requester"], people["team"])
    transition(app, request_id, "ask", people["analyst"], NOW, note="Which regions count?")
    with app.app_context():
        mail.drain(NOW + notifications.BATCH_WINDOW)

    [envelope] = smtp_server.envelopes
    line = raw_header(envelope.content, "List-Unsubscribe")
    assert line.startswith(f"List-Unsubscribe: <{base_url}/unsubscribe/") and line.endswith(">")
    assert "=?" not in line and "\r\n" not in line
    assert raw_header(envelope.content, "List-Unsubscribe-Post") == (
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click")


# --- The migration of the old preferences -------------------------------------------------------

def test_the_migration_turns_chosen_kinds_into_immediately_and_others_into_off():
    import importlib.util
    from pathlib import Path

    path = next(Path(__file__).resolve().parent.parent.joinpath(
        "migrations", "versions").glob("b8e41f6c2d07_*.py"))
    spec = importlib.util.spec_from_file_location("migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    modes = migration.modes_of(["question", "delivered"])
    assert modes["question"] == modes["delivered"] == "immediately"
    assert modes["assigned"] == modes["sla_at_risk"] == modes["released"] == "off"
    # Kinds nobody could choose before are on.
    assert {modes[kind] for kind in ("accepted", "declined", "answered", "comment", "mention",
                                     "reopened", "waitlisted")} == {"immediately"}
    assert set(migration.KINDS) == set(notifications.NOTIFICATIONS)


def test_the_migration_carries_each_persons_choices_over_on_this_database(unmigrated_app):
    """Upgrade a database holding the old list of kinds wanted (SQLite, or PostgreSQL beside
    the test database) and read the modes it gets; downgrade gives the list back."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    with unmigrated_app.app_context():
        upgrade(revision="a7d4e2c9b513")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO users (email, name, password_hash, role, is_active, created_at, "
                "session_token, notifications) VALUES ('old@example.com', 'Old', 'x', "
                "'analyst', true, '2026-01-01 00:00:00', 'token', '[\"question\", \"assigned\"]')"))
        upgrade()
        user = db.session.scalars(db.select(User)).one()
        assert notifications.mode(user, "question") == "immediately"
        assert notifications.mode(user, "assigned") == "immediately"
        assert notifications.mode(user, "delivered") == "off"
        assert notifications.mode(user, "sla_at_risk") == "off"
        assert notifications.mode(user, "comment") == "immediately"
        db.session.remove()
        downgrade(revision="a7d4e2c9b513")
        with db.engine.connect() as connection:
            kept = connection.scalar(text("SELECT notifications FROM users"))
        assert "delivered" not in str(kept) and "question" in str(kept)

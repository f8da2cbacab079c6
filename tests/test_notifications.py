"""Event notifications: who is told, batching of bursts, preferences, unsubscribe links."""
import base64
import re
from datetime import timedelta

import pytest

from tickets import lifecycle, mail, notifications
from tickets.extensions import db
from tickets.models import OutboxMessage, Request, User, utcnow
from tests.smtp import raw_header

NOW = utcnow().replace(microsecond=0)


@pytest.fixture
def people(make):
    team = make.team("Marketing")
    return {
        "team": team,
        "requester": make.user("requester", teams=[team], email="rita@example.com"),
        "analyst": make.user("analyst", teams=[team], email="ana@example.com"),
        "lead": make.user("lead", email="lee@example.com"),
    }


def transition(app, request_id, name, actor, now, **inputs):
    with app.app_context():
        req = db.session.get(Request, request_id)
        user = db.session.get(User, actor) if actor else None
        if "assignee" in inputs:
            inputs["assignee"] = db.session.get(User, inputs["assignee"])
        lifecycle.transition(req, name, user, now, **inputs)  # notifies
        db.session.commit()


def outbox(app):
    with app.app_context():
        rows = db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


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


def test_a_burst_of_events_on_one_request_makes_one_mail(app, make, people, smtp_server):
    request_id = make.request(people["requester"], people["team"])
    transition(app, request_id, "accept", people["analyst"], NOW, size="S")
    transition(app, request_id, "ask", people["analyst"], NOW, note="First question")
    transition(app, request_id, "answer", people["requester"], NOW + timedelta(minutes=1),
               note="An answer")
    transition(app, request_id, "ask", people["analyst"], NOW + timedelta(minutes=2),
               note="Second question")

    assert len(outbox(app)) == 1
    with app.app_context():
        mail.drain(NOW + timedelta(hours=1))
    [received] = smtp_server.messages
    text = received.get_body(preferencelist=("plain",)).get_content()
    assert "First question" in text and "Second question" in text
    assert received["Subject"].endswith("The data team has a question about your request")
    assert len(outbox(app)[0].payload["items"]) == 2


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
    assert len(smtp_server.messages) == 2


def test_assignment_tells_the_analyst_and_delivery_tells_the_requester(app, make, people):
    request_id = make.request(people["requester"], people["team"])
    transition(app, request_id, "accept", people["lead"], NOW, size="M")
    transition(app, request_id, "assign", people["lead"], NOW, assignee=people["analyst"])
    transition(app, request_id, "deliver", people["analyst"], NOW,
               url="https://bi.example.com/d/1", note="Here it is")

    recipients = sorted((row.recipient, row.payload["items"][0]["kind"]) for row in outbox(app))
    assert recipients == [("ana@example.com", "assigned"), ("rita@example.com", "delivered")]


def test_nobody_is_told_about_what_they_did_themselves(app, make, people):
    request_id = make.request(people["analyst"], people["team"])
    transition(app, request_id, "accept", people["lead"], NOW, size="S")
    transition(app, request_id, "claim", people["analyst"], NOW)
    transition(app, request_id, "deliver", people["analyst"], NOW,
               url="https://bi.example.com/d/1", note="Done")
    assert outbox(app) == []


def test_preferences_decide_which_notifications_are_sent(app, make, people):
    with app.app_context():
        db.session.get(User, people["requester"]).notifications = ["delivered"]
        db.session.commit()
    request_id = make.request(people["requester"], people["team"])
    transition(app, request_id, "ask", people["analyst"], NOW, note="A question")
    assert outbox(app) == []


def test_the_preferences_page_saves_choices_with_field_errors_for_bad_input(app, auth, people):
    auth.login(people["requester"])
    page = auth.client.get("/preferences")
    assert page.status_code == 200 and "Weekly digest" in page.get_data(as_text=True)

    saved = auth.post("/preferences", {"digest_weekday": "4", "notifications": ["delivered"]})
    assert saved.status_code == 302
    with app.app_context():
        user = db.session.get(User, people["requester"])
        # Requesters are offered only the notifications about their own requests; the others
        # (assignments, SLA risks) keep their value for the day the person does the work.
        assert (user.is_digest_enabled, user.digest_weekday, user.notifications) == (
            False, 4, ["answered", "assigned", "delivered", "reopened", "sla_at_risk"])
    assert "A request is assigned to you" not in page.get_data(as_text=True)

    bad = auth.post("/preferences", {"digest_weekday": "9", "notifications": ["spam"]})
    assert bad.status_code == 400
    body = bad.get_data(as_text=True)
    assert "Choose a day of the week." in body and "Choose among the notifications listed." in body


def test_preferences_need_a_login_and_csrf(client, auth, people):
    assert client.get("/preferences").status_code == 302
    auth.login(people["requester"])
    assert client.post("/preferences", data={"digest_weekday": "1"}).status_code == 400


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
        assert user.notifications  # only the digest was stopped


def test_the_notifications_unsubscribe_link_stops_notifications(app, client, people):
    client.post(_unsubscribe_link(app, people["analyst"], "notifications"))
    with app.app_context():
        assert db.session.get(User, people["analyst"]).notifications == []


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
    with app.app_context():
        assert db.session.get(User, people["requester"]).notifications == []


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

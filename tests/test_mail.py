"""The outbox: messages are rows first, sent over real SMTP, never lost, never sent twice."""
import threading
from datetime import timedelta

from tickets import mail
from tickets.extensions import db
from tickets.models import OutboxMessage, utcnow

NOW = utcnow().replace(microsecond=0)


def queue(app, recipient="ana@example.com", key=None, now=NOW, **fields):
    with app.app_context():
        message_id = mail.queue_message(
            recipient, fields.get("subject", "Your weekly Datadesk digest"),
            fields.get("text", "Plain text body\nhttp://127.0.0.1:5000/requests/1"),
            fields.get("html", "<p>HTML body <a href=\"http://127.0.0.1:5000/requests/1\">#1</a></p>"),
            kind=fields.get("kind", "digest"), now=now, idempotency_key=key,
            headers=fields.get("headers"))
        db.session.commit()
        return message_id


def drain(app, now=NOW, **kwargs):
    with app.app_context():
        return mail.drain(now, **kwargs)


def row(app, message_id):
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        db.session.expunge(message)
        return message


def test_queued_message_is_sent_as_multipart_with_both_parts_and_headers(app, smtp_server):
    message_id = queue(app, headers={"List-Unsubscribe": "<http://127.0.0.1:5000/u/abc>"})

    result = drain(app)

    assert (result.sent, result.failed) == (1, 0)
    [received] = smtp_server.messages
    assert received["To"] == "ana@example.com"
    assert received["From"] == "Datadesk <datadesk@example.com>"
    assert received["Subject"] == "Your weekly Datadesk digest"
    assert received["List-Unsubscribe"] == "<http://127.0.0.1:5000/u/abc>"
    assert received["Message-ID"].endswith(f".outbox-{message_id}@example.com>")
    assert received.get_content_type() == "multipart/alternative"
    text = received.get_body(preferencelist=("plain",)).get_content()
    html = received.get_body(preferencelist=("html",)).get_content()
    assert "http://127.0.0.1:5000/requests/1" in text
    assert '<a href="http://127.0.0.1:5000/requests/1">#1</a>' in html
    sent = row(app, message_id)
    assert (sent.status, sent.attempts, sent.sent_at, sent.last_error) == ("sent", 1, NOW, None)


def test_a_sent_message_is_not_sent_again(app, smtp_server):
    queue(app)
    drain(app)
    assert drain(app, NOW + timedelta(hours=1)).sent == 0
    assert len(smtp_server.messages) == 1


def test_the_idempotency_key_keeps_a_second_message_out(app, smtp_server):
    first = queue(app, key="digest:7:2026-W48")
    second = queue(app, key="digest:7:2026-W48", subject="a second attempt")

    assert first is not None and second is None
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage)) == 1
    drain(app)
    assert [m["Subject"] for m in smtp_server.messages] == ["Your weekly Datadesk digest"]


def test_smtp_down_keeps_everything_and_sends_it_all_once_when_it_is_back(app, smtp_down):
    ids = [queue(app, recipient=f"user{n}@example.com") for n in range(3)]

    down = drain(app)

    assert (down.sent, down.failed) == (0, 3)
    assert "Cannot reach the SMTP server" in down.error
    for message_id in ids:
        waiting = row(app, message_id)
        assert waiting.status == "pending" and waiting.attempts == 1
        assert "Cannot reach the SMTP server" in waiting.last_error
        assert waiting.send_after == NOW + timedelta(minutes=1)
    # Not due again before its backoff ends, even with the server back.
    server = smtp_down()
    assert drain(app, NOW + timedelta(seconds=30)).sent == 0

    back = drain(app, NOW + timedelta(minutes=1))

    assert (back.sent, back.failed) == (3, 0)
    assert sorted(m["To"] for m in server.messages) == [f"user{n}@example.com" for n in range(3)]
    assert drain(app, NOW + timedelta(hours=2)).sent == 0
    assert len(server.messages) == 3
    assert all(row(app, message_id).last_error is None for message_id in ids)


def test_backoff_doubles_up_to_an_hour():
    assert [mail.retry_delay(n) for n in (1, 2, 3, 4, 7, 8, 20)] == [
        timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=8),
        timedelta(minutes=60), timedelta(hours=1), timedelta(hours=1)]


def test_repeated_failures_back_off_and_keep_the_message(app, smtp_down):
    message_id = queue(app)
    now = NOW
    for attempt in range(1, 6):
        drain(app, now)
        waiting = row(app, message_id)
        assert waiting.attempts == attempt
        assert waiting.send_after == now + mail.retry_delay(attempt)
        now = waiting.send_after
    assert row(app, message_id).status == "pending"


def test_a_refused_recipient_waits_while_the_others_are_sent(app, smtp_server):
    smtp_server.refuse.add("gone@example.com")
    refused = queue(app, recipient="gone@example.com")
    fine = queue(app, recipient="fine@example.com")

    result = drain(app)

    assert (result.sent, result.failed) == (1, 1)
    assert [m["To"] for m in smtp_server.messages] == ["fine@example.com"]
    waiting = row(app, refused)
    assert waiting.status == "pending" and "550" in waiting.last_error
    assert row(app, fine).status == "sent"


def test_two_senders_at_once_send_each_message_once(app, smtp_server):
    ids = [queue(app, recipient=f"user{n}@example.com") for n in range(30)]
    results = []

    def sender():
        with app.app_context():
            results.append(mail.drain(NOW, limit=10))
            results.append(mail.drain(NOW, limit=10))
            results.append(mail.drain(NOW, limit=10))
            db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(result.sent for result in results) == 30
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(
        f"user{n}@example.com" for n in range(30))
    assert all(row(app, message_id).status == "sent" for message_id in ids)


def test_a_message_taken_by_a_crashed_sender_is_sent_after_its_lock_expires(app, smtp_server):
    message_id = queue(app)
    with app.app_context():
        assert mail._take(NOW, 10) == [message_id]  # a sender took it, then died

    assert drain(app, NOW + timedelta(minutes=1)).sent == 0
    assert drain(app, NOW + mail.LOCK_FOR).sent == 1
    assert len(smtp_server.messages) == 1


def test_outbox_commands_show_status_retry_and_drain(app, runner, smtp_down):
    queue(app, recipient="a@example.com")
    queue(app, recipient="b@example.com")
    with app.app_context():
        mail.drain(utcnow())

    status = runner.invoke(args=["outbox", "status"])
    assert "pending: 2 (of which retrying after an error: 2); sent: 0" in status.output
    assert "Cannot reach the SMTP server" in status.output

    server = smtp_down()
    retried = runner.invoke(args=["outbox", "retry"])
    assert "2 message(s) made due now; sent 2, failed 0." in retried.output
    assert sorted(m["To"] for m in server.messages) == ["a@example.com", "b@example.com"]

    queue(app, recipient="c@example.com", now=utcnow())
    drained = runner.invoke(args=["outbox", "drain"])
    assert drained.exit_code == 0 and "sent 1, failed 0." in drained.output
    assert "pending: 0" in runner.invoke(args=["outbox", "status"]).output

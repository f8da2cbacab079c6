"""Webhooks: one delivery per subscribed endpoint and event, signed POSTs to a real HTTP
receiver, retries with growing waits, endpoints paused when they keep failing, no requests to
private addresses unless an admin allows them, and the pages leads use."""
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from bench import webhooks as bench_webhooks
from tests.conftest import AuthActions, intake_fields
from tests.smtp import free_port
from tickets import intake, outcomes, settings, webhooks
from tickets.errors import Refusal
from tickets.extensions import db
from tickets.models import (FollowUp, OutboxMessage, Request, Team, User, Webhook,
                            WebhookDelivery, utcnow)

NOW = utcnow().replace(microsecond=0)


class Receiver:
    """A real HTTP server on 127.0.0.1 that records every POST; ``answers`` are the status
    codes of the next answers (then 200), ``hang`` seconds it waits before answering. With a
    ``gate`` (an Event), it answers once the gate opens, or 503 when it stays shut 5 seconds;
    ``then`` is called with the number of POSTs received after each one."""

    def __init__(self):
        self.received = []
        self.answers = []
        self.hang = 0
        self.gate = None
        self.then = None
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.received.append((self.path, dict(self.headers), body))
                    code = receiver.answers.pop(0) if receiver.answers else 200
                    if receiver.then:
                        receiver.then(len(receiver.received))
                if receiver.hang:
                    time.sleep(receiver.hang)
                if receiver.gate is not None and not receiver.gate.wait(5):
                    code = 503
                self.send_response(code)
                if 300 <= code < 400:
                    self.send_header("Location", f"http://127.0.0.1:{receiver.port}/moved")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hook"


@pytest.fixture
def receiver():
    server = Receiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def desk(make):
    """A team with a requester, an analyst, a lead and an admin (user ids)."""
    team = make.team()

    class Desk:
        pass

    desk = Desk()
    desk.team = team
    desk.requester = make.user("requester", teams=[team])
    desk.analyst = make.user("analyst", teams=[team])
    desk.lead = make.user("lead", teams=[team])
    desk.admin = make.user("admin")
    return desk


def endpoint(app, admin, url, events, allow_private=True, is_active=True):
    """Register an endpoint as admin ``admin``; return (its id, its secret)."""
    with app.app_context():
        hook, secret = webhooks.create(db.session.get(User, admin), url, "", events, NOW,
                                       allow_private=allow_private)
        hook.is_active = is_active
        db.session.commit()
        return hook.id, secret


def deliveries(app, **where):
    with app.app_context():
        found = db.session.scalars(select(WebhookDelivery).filter_by(**where)
                                   .order_by(WebhookDelivery.id)).all()
        db.session.expunge_all()
        return found


def soon(**delta):
    """A moment just after now (the factories date what they make now), plus ``delta``."""
    return utcnow() + timedelta(seconds=1, **delta)


def deliver(app, now=None, **kwargs):
    with app.app_context():
        return webhooks.deliver_due(now or soon(), **kwargs)


def hook_row(app, webhook_id):
    with app.app_context():
        hook = db.session.get(Webhook, webhook_id)
        db.session.expunge(hook)
        return hook


# --- Queueing ---------------------------------------------------------------------------------

def test_a_transition_queues_one_delivery_per_subscribed_endpoint_and_none_for_others(
        app, make, desk):
    changes, _ = endpoint(app, desk.admin, "https://a.example.com/x", ["request.state_changed"])
    created, _ = endpoint(app, desk.admin, "https://b.example.com/x", ["request.created"])
    paused, _ = endpoint(app, desk.admin, "https://c.example.com/x", ["request.state_changed"],
                         is_active=False)
    rid = make.request(desk.requester, desk.team)
    make.act(rid, "accept", desk.analyst, size="M")

    assert [d.event for d in deliveries(app, webhook_id=created)] == ["request.created"]
    queued = deliveries(app, webhook_id=changes)
    assert [d.event for d in queued] == ["request.state_changed"]
    assert deliveries(app, webhook_id=paused) == []
    detail = json.loads(queued[0].payload)
    assert detail["event_detail"]["from_state"] == "submitted"
    assert detail["event_detail"]["to_state"] == "accepted"
    assert detail["request"]["id"] == rid and detail["request"]["team"]["id"] == desk.team


def test_a_waitlisted_submission_tells_created_before_its_state_change(app, make, desk):
    hook, _ = endpoint(app, desk.admin, "https://a.example.com/x",
                       ["request.created", "request.state_changed"])
    with app.app_context():
        settings.set_team_budget(db.session.get(Team, desk.team), 0, None, utcnow())
        db.session.commit()
    make.request(desk.requester, desk.team)
    found = deliveries(app, webhook_id=hook)
    assert [d.event for d in found] == ["request.created", "request.state_changed"]
    assert json.loads(found[1].payload)["event_detail"]["to_state"] == "waitlisted"


def test_delivery_comment_and_follow_up_events_are_queued(app, make, desk):
    hook, _ = endpoint(app, desk.admin, "https://a.example.com/x",
                       ["request.delivered", "request.commented", "follow_up.answered"])
    rid = make.request(desk.requester, desk.team)
    make.act(rid, "accept", desk.analyst, size="S")
    make.act(rid, "claim", desk.analyst)
    make.act(rid, "deliver", desk.analyst, url="https://bi.example.com/1", note="Done")
    with app.app_context():
        intake.add_comment(db.session.get(Request, rid), db.session.get(User, desk.requester),
                           "Thanks!")
        db.session.commit()
    make.act(rid, "confirm", desk.requester)
    with app.app_context():
        follow_up = db.session.scalar(select(FollowUp).where(FollowUp.request_id == rid))
        outcomes.record(follow_up, db.session.get(User, desk.requester), utcnow(),
                        outcome="acted", decision="Moved the budget south.")
        db.session.commit()
    found = deliveries(app, webhook_id=hook)
    assert [d.event for d in found] == ["request.delivered", "request.commented",
                                        "follow_up.answered"]
    delivered = json.loads(found[0].payload)
    assert delivered["event_detail"]["delivered_url"] == "https://bi.example.com/1"
    assert json.loads(found[1].payload)["event_detail"]["text"] == "Thanks!"
    answered = json.loads(found[2].payload)["event_detail"]
    assert (answered["outcome"], answered["decision"]) == ("acted", "Moved the budget south.")


def test_a_confidential_request_tells_only_its_id_state_and_link(app, make, desk):
    hook, _ = endpoint(app, desk.admin, "https://a.example.com/x", ["request.created"])
    rid = make.request(desk.requester, desk.team, title="Salaries by person",
                       is_confidential=True)
    (delivery,) = deliveries(app, webhook_id=hook)
    assert "Salaries" not in delivery.payload
    body = json.loads(delivery.payload)
    assert set(body["request"]) == {"id", "state", "is_confidential", "url"}
    assert body["request"]["id"] == rid


# --- Sending ----------------------------------------------------------------------------------

def test_delivery_posts_the_documented_body_and_headers_and_the_signature_verifies(
        app, make, desk, receiver):
    hook, secret = endpoint(app, desk.admin, receiver.url, ["request.created"])
    rid = make.request(desk.requester, desk.team)
    result = deliver(app)

    assert (result.succeeded, result.failed) == (1, 0)
    ((path, headers, body),) = receiver.received
    assert path == "/hook"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "Datadesk-Webhooks/1"
    assert headers["Datadesk-Event"] == "request.created"
    sent = json.loads(body)
    assert headers["Datadesk-Delivery"] == sent["id"]
    assert sent["event"] == "request.created" and sent["request"]["id"] == rid
    assert sent["request"]["url"].endswith(f"/requests/{rid}")
    # The documented snippet, run as a receiver would.
    namespace = {}
    exec(webhooks.VERIFY_SNIPPET, namespace)
    timestamp = int(headers["Datadesk-Signature"].split(",")[0][2:])
    assert abs(timestamp - time.time()) < 5
    assert namespace["is_genuine"](secret, headers["Datadesk-Signature"], body)
    assert not namespace["is_genuine"]("whsec_wrong", headers["Datadesk-Signature"], body)
    assert not namespace["is_genuine"](secret, headers["Datadesk-Signature"], body + b" ")
    (delivery,) = deliveries(app, webhook_id=hook)
    assert delivery.status == "succeeded" and delivery.last_status_code == 200
    assert delivery.attempts == 1 and delivery.duration_ms is not None
    assert deliver(app).succeeded == 0  # sent once


def test_a_500_is_retried_later_with_growing_waits_then_succeeds(app, make, desk, receiver):
    hook, _ = endpoint(app, desk.admin, receiver.url, ["request.created"])
    make.request(desk.requester, desk.team)
    receiver.answers = [500, 500, 500]

    now = soon()
    waits = []
    for _ in range(3):
        assert deliver(app, now).failed == 1
        (delivery,) = deliveries(app, webhook_id=hook)
        waits.append(delivery.next_attempt_at - now)
        assert deliver(app, delivery.next_attempt_at - timedelta(seconds=1)).failed == 0
        now = delivery.next_attempt_at
    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert delivery.last_status_code == 500 and "HTTP 500" in delivery.last_error
    assert deliver(app, now).succeeded == 1
    (delivery,) = deliveries(app, webhook_id=hook)
    assert delivery.status == "succeeded" and delivery.attempts == 4
    assert len(receiver.received) == 4
    # Each attempt is signed afresh, over the same body.
    assert len({body for _, _, body in receiver.received}) == 1
    assert hook_row(app, hook).consecutive_failures == 0


def test_a_delivery_fails_after_its_last_attempt(app, make, desk, receiver):
    hook, _ = endpoint(app, desk.admin, receiver.url, ["request.created"])
    make.request(desk.requester, desk.team)
    app.config["WEBHOOK_MAX_ATTEMPTS"], before = 2, app.config["WEBHOOK_MAX_ATTEMPTS"]
    try:
        receiver.answers = [503, 503]
        deliver(app)
        deliver(app, soon(minutes=1))
    finally:
        app.config["WEBHOOK_MAX_ATTEMPTS"] = before
    (delivery,) = deliveries(app, webhook_id=hook)
    assert delivery.status == "failed" and delivery.attempts == 2
    assert deliver(app, soon(hours=2)).failed == 0


def test_a_redirect_is_a_failure_and_is_not_followed(app, make, desk, receiver):
    hook, _ = endpoint(app, desk.admin, receiver.url, ["request.created"])
    make.request(desk.requester, desk.team)
    receiver.answers = [302]
    assert deliver(app).failed == 1
    assert [path for path, _, _ in receiver.received] == ["/hook"]  # never /moved
    (delivery,) = deliveries(app, webhook_id=hook)
    assert delivery.status == "pending" and delivery.last_status_code == 302
    assert "not followed" in delivery.last_error


def test_a_receiver_that_hangs_is_a_failure_after_the_timeout(app, make, desk, receiver,
                                                              monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT", 0.3)
    hook, _ = endpoint(app, desk.admin, receiver.url, ["request.created"])
    make.request(desk.requester, desk.team)
    receiver.hang = 1.5
    started = time.monotonic()
    assert deliver(app).failed == 1
    assert time.monotonic() - started < 1.4
    (delivery,) = deliveries(app, webhook_id=hook)
    assert delivery.last_status_code is None and "timed out" in delivery.last_error


def test_an_endpoint_failing_again_and_again_is_paused_and_the_leads_are_told(
        app, make, desk, receiver, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_PAUSE_AFTER_FAILURES", 3)
    hook, _ = endpoint(app, desk.admin, receiver.url, ["request.created"])
    other_lead = make.user("lead")
    for _ in range(3):
        make.request(desk.requester, desk.team)
    receiver.answers = [500] * 10

    assert deliver(app).failed == 3
    found = hook_row(app, hook)
    assert not found.is_active and "3 failed attempts in a row" in found.paused_reason
    with app.app_context():
        told = sorted(db.session.scalars(select(OutboxMessage.recipient)))
        emails = sorted(db.session.scalars(select(User.email).where(
            User.id.in_([desk.admin, desk.lead, other_lead]))))
    assert told == emails  # the creator (the admin) and every lead, once each
    # Paused: nothing more is sent, and new events are not queued for it.
    make.request(desk.requester, desk.team)
    assert deliver(app, soon(hours=2)).failed == 0
    assert len(deliveries(app, webhook_id=hook)) == 3

    with app.app_context():
        webhooks.resume(db.session.get(Webhook, hook), db.session.get(User, desk.lead),
                        soon(hours=2))
        db.session.commit()
    assert hook_row(app, hook).consecutive_failures == 0
    receiver.answers = []
    assert deliver(app, soon(hours=2)).succeeded == 3


def test_send_again_sends_the_same_body_with_a_new_count_of_attempts(app, make, desk, receiver):
    hook, _ = endpoint(app, desk.admin, receiver.url, ["request.created"])
    make.request(desk.requester, desk.team)
    deliver(app)
    (delivery,) = deliveries(app, webhook_id=hook)
    with app.app_context():
        webhooks.send_again(db.session.get(WebhookDelivery, delivery.id),
                            db.session.get(User, desk.lead), soon(minutes=5))
        db.session.commit()
    (again,) = deliveries(app, webhook_id=hook)
    assert again.status == "pending" and again.attempts == 0
    assert deliver(app, soon(minutes=5)).succeeded == 1
    first, second = receiver.received
    assert first[2] == second[2]
    assert first[1]["Datadesk-Delivery"] == second[1]["Datadesk-Delivery"]
    assert first[1]["Datadesk-Signature"] != second[1]["Datadesk-Signature"]


def test_two_senders_at_once_send_each_delivery_once(app, make, desk, receiver):
    endpoint(app, desk.admin, receiver.url, ["request.created"])
    with app.app_context():
        requester = db.session.get(User, desk.requester)
        for number in range(24):
            intake.submit_request(requester, intake_fields(desk.team, title=f"Request {number}"),
                                  now=NOW)
        db.session.commit()
    results = []

    def sender(name):
        with app.app_context():
            results.append(webhooks.deliver_due(soon(), sender=name))
            db.session.remove()

    threads = [threading.Thread(target=sender, args=(f"host:{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(result.succeeded for result in results) == 24
    assert len(receiver.received) == 24
    ids = [json.loads(body)["id"] for _, _, body in receiver.received]
    assert len(set(ids)) == 24


def test_a_slow_receiver_does_not_hold_back_another_endpoints_deliveries(app, make, desk,
                                                                          receiver, monkeypatch):
    """Endpoints are sent to at once, each one's deliveries one at a time and in order, and
    while one endpoint is being sent to the others' next batches are leased: the slow
    endpoint answers only once the other has received all of its own, batches of two apart
    (sent one after another, or batch by batch, it would wait for them in vain and answer
    503)."""
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT", 10)
    monkeypatch.setattr(webhooks, "BATCH_SIZE", 2)
    fast = Receiver()
    fast.thread.start()
    try:
        slow_hook, _ = endpoint(app, desk.admin, receiver.url, ["request.created"])
        fast_hook, _ = endpoint(app, desk.admin, fast.url, ["request.created"])
        created = [make.request(desk.requester, desk.team, title=f"Request {n}")
                   for n in range(3)]
        fast_has_all = threading.Event()
        receiver.gate = fast_has_all
        fast.then = lambda count: count == 3 and fast_has_all.set()

        assert deliver(app).succeeded == 6
        for server in (receiver, fast):
            assert [json.loads(body)["request"]["id"] for _, _, body in server.received] \
                == created
        assert {d.status for d in deliveries(app)} == {"succeeded"}
    finally:
        fast.server.shutdown()
        fast.server.server_close()


def test_one_sender_at_a_time_sends_every_endpoint_in_turn(app, make, desk, receiver,
                                                           monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_SENDERS", 1)
    hooks = [endpoint(app, desk.admin, receiver.url, ["request.created"])[0]
             for _ in range(2)]
    make.request(desk.requester, desk.team)
    assert deliver(app).succeeded == 2
    assert [d.webhook_id for d in deliveries(app, status="succeeded")] == hooks


# --- Private addresses ------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook", "http://10.1.2.3/hook", "http://169.254.169.254/latest",
    "http://[::1]/hook", "http://localhost/hook", "http://[::ffff:127.0.0.1]/hook",
    "http://192.168.0.10/hook", "http://0.0.0.0/hook",
])
def test_private_and_loopback_addresses_are_refused(app, desk, url):
    with app.app_context():
        with pytest.raises(Refusal) as refused:
            webhooks.create(db.session.get(User, desk.lead), url, "", ["request.created"], NOW)
    assert refused.value.field == "url"
    assert "only calls public addresses" in str(refused.value)


def test_only_http_and_https_urls_are_accepted(app, desk):
    with app.app_context():
        for url in ("ftp://hooks.example.com/x", "file:///etc/passwd", "javascript:alert(1)",
                    "https://user:pw@hooks.example.com/x", "https:///nohost"):
            with pytest.raises(Refusal):
                webhooks.create(db.session.get(User, desk.lead), url, "", ["request.created"],
                                NOW)


def test_a_lead_cannot_allow_private_addresses_an_admin_can(app, desk):
    with app.app_context():
        lead = db.session.get(User, desk.lead)
        with pytest.raises(Refusal):
            webhooks.create(lead, "http://127.0.0.1:9/x", "", ["request.created"], NOW,
                            allow_private=True)
        hook, _ = webhooks.create(db.session.get(User, desk.admin), "http://127.0.0.1:9/x", "",
                                  ["request.created"], NOW, allow_private=True)
        assert hook.allow_private


def test_an_address_checked_when_sent_too(app, make, desk, receiver):
    hook, _ = endpoint(app, desk.admin, receiver.url, ["request.created"])
    make.request(desk.requester, desk.team)
    with app.app_context():  # an admin withdrew the permission after the URL was saved
        db.session.get(Webhook, hook).allow_private = False
        db.session.commit()
    assert deliver(app).failed == 1
    assert receiver.received == []
    (delivery,) = deliveries(app, webhook_id=hook)
    assert delivery.last_error.startswith("Not sent: 127.0.0.1 is a loopback address")


@pytest.mark.parametrize("address, reason", [
    ("8.8.8.8", None), ("2606:4700:4700::1111", None), ("127.0.0.2", "loopback"),
    ("::ffff:10.0.0.1", "private"), ("fe80::1", "link-local"), ("224.0.0.1", "multicast"),
    ("100.64.0.1", "non-public"), ("fc00::1", "private"), ("::", "unspecified"),
])
def test_blocked_reason_judges_ipv4_and_ipv6(address, reason):
    assert webhooks.blocked_reason(address) == reason


# --- Pages ------------------------------------------------------------------------------------

def test_requesters_and_analysts_may_not_see_the_webhook_pages(app, make, desk):
    hook, _ = endpoint(app, desk.admin, "https://a.example.com/x", ["request.created"])
    for user in (desk.requester, desk.analyst):
        auth = AuthActions(app.test_client(), app)
        auth.login(user)
        assert auth.client.get("/settings/webhooks").status_code == 403
        assert auth.client.get(f"/settings/webhooks/{hook}").status_code == 403
        assert auth.post("/settings/webhooks", {"url": "https://b.example.com/x",
                                                "events": "request.created"}).status_code == 403
        assert auth.post(f"/settings/webhooks/{hook}/pause").status_code == 403


def test_a_lead_adds_an_endpoint_and_sees_its_secret_once(app, desk, auth, errors):
    auth.login(desk.lead)
    page = auth.client.get("/settings").get_data(as_text=True)
    assert "/settings/webhooks" in page
    response = auth.post("/settings/webhooks", {
        "url": "https://hooks.example.com/datadesk", "description": "Team chat",
        "events": ["request.created", "request.delivered"], "allow_private": "y"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    with app.app_context():
        hook = db.session.scalar(select(Webhook))
        assert hook.events == ["request.created", "request.delivered"]
        assert not hook.allow_private  # a lead's tick does not count
        assert hook.secret.startswith("whsec_") and hook.secret in html
    assert hook.secret not in auth.client.get("/settings/webhooks").get_data(as_text=True)


def test_the_form_shows_field_errors(app, desk, auth, errors):
    auth.login(desk.lead)
    response = auth.post("/settings/webhooks", {"url": "", "events": []})
    assert response.status_code == 400
    found = errors(response)
    assert found["url"] == "Enter the URL of the endpoint."
    assert found["events"] == "Choose at least one event."
    for url in ("http://127.0.0.1/x", "http://10.0.0.1/x", "http://169.254.169.254/x",
                "http://[::1]/x", "http://localhost/x"):
        response = auth.post("/settings/webhooks", {"url": url, "events": "request.created"})
        assert response.status_code == 400
        assert "only calls public addresses" in errors(response)["url"]
    response = auth.post("/settings/webhooks", {"url": "ftp://x.example.com/", "events": []})
    assert errors(response) == {"url": "Use an http:// or https:// URL.",
                                "events": "Choose at least one event."}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Webhook)) == 0


def test_an_admin_allows_a_private_address_on_the_form(app, desk, auth):
    auth.login(desk.admin)
    response = auth.post("/settings/webhooks", {"url": "http://127.0.0.1:9/x",
                                                "events": "request.created",
                                                "allow_private": "y"})
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Webhook.allow_private))


def test_the_endpoint_page_shows_the_log_and_its_buttons_work(app, make, desk, auth, receiver,
                                                              statements):
    hook, secret = endpoint(app, desk.admin, receiver.url, ["request.created"])
    make.request(desk.requester, desk.team)
    receiver.answers = [500]
    deliver(app)
    auth.login(desk.lead)
    page = auth.client.get(f"/settings/webhooks/{hook}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "HTTP 500" in html and "Retrying" in html and "is_genuine" in html
    assert "come one at a time, in the order of their events" in html
    assert "Send again" in html and secret not in html
    (delivery,) = deliveries(app, webhook_id=hook)

    assert auth.post(f"/settings/webhooks/{hook}/deliveries/{delivery.id}/again"
                     ).status_code == 302
    assert deliveries(app, webhook_id=hook)[0].attempts == 0
    assert auth.post(f"/settings/webhooks/{hook}/test").status_code == 302
    assert [d.event for d in deliveries(app, webhook_id=hook)] == ["request.created", "ping"]
    assert auth.post(f"/settings/webhooks/{hook}/pause").status_code == 302
    assert not hook_row(app, hook).is_active
    assert auth.post(f"/settings/webhooks/{hook}/resume").status_code == 302
    assert hook_row(app, hook).is_active
    rolled = auth.post(f"/settings/webhooks/{hook}/secret").get_data(as_text=True)
    new_secret = hook_row(app, hook).secret
    assert new_secret != secret and new_secret in rolled
    # The endpoint page and the list cost the same statements with more deliveries.
    before = len(statements)
    auth.client.get(f"/settings/webhooks/{hook}")
    auth.client.get("/settings/webhooks")
    few = statements[before:]
    for _ in range(3):
        make.request(desk.requester, desk.team)
    endpoint(app, desk.admin, "https://b.example.com/x", ["request.created"])
    deliver(app, soon(hours=1))
    before = len(statements)
    auth.client.get(f"/settings/webhooks/{hook}")
    auth.client.get("/settings/webhooks")
    assert statements[before:] == few

    assert auth.client.get(f"/settings/webhooks/{hook}/delete").status_code == 200
    assert auth.post(f"/settings/webhooks/{hook}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(Webhook, hook) is None
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery).where(
            WebhookDelivery.webhook_id == hook)) == 0


def test_editing_an_endpoint_checks_its_url_and_version(app, desk, auth, errors):
    hook, _ = endpoint(app, desk.admin, "https://a.example.com/x", ["request.created"],
                       allow_private=False)
    auth.login(desk.lead)
    version = hook_row(app, hook).version
    response = auth.post(f"/settings/webhooks/{hook}", {
        "url": "http://10.0.0.5/x", "events": "request.created", "version": version})
    assert response.status_code == 400 and "public addresses" in errors(response)["url"]
    response = auth.post(f"/settings/webhooks/{hook}", {
        "url": "https://b.example.com/y", "events": ["request.created", "request.commented"],
        "version": version})
    assert response.status_code == 302
    found = hook_row(app, hook)
    assert found.url == "https://b.example.com/y"
    assert found.events == ["request.created", "request.commented"]
    stale = auth.post(f"/settings/webhooks/{hook}", {
        "url": "https://c.example.com/z", "events": "request.created", "version": version})
    assert stale.status_code == 400
    assert hook_row(app, hook).url == "https://b.example.com/y"


def test_flask_webhooks_deliver_and_status(app, make, desk, receiver, runner):
    endpoint(app, desk.admin, receiver.url, ["request.created"])
    make.request(desk.requester, desk.team)
    result = runner.invoke(args=["webhooks", "deliver"])
    assert result.exit_code == 0 and "succeeded 1" in result.output
    result = runner.invoke(args=["webhooks", "status"])
    assert result.exit_code == 0 and "succeeded: 1" in result.output


def test_the_webhooks_bench_sends_every_delivery_with_one_sender_and_with_four(app,
                                                                              monkeypatch):
    """bench.webhooks at a tiny size, on the test database (figures are the bench's to
    report): its receivers, endpoints and requests, and both of its runs."""
    monkeypatch.setitem(app.config, "WEBHOOK_SENDERS", app.config["WEBHOOK_SENDERS"])
    receivers = [bench_webhooks.Receiver(0.05), bench_webhooks.Receiver(0), bench_webhooks.Receiver(0)]
    try:
        bench_webhooks.build(app, receivers, 3)
        for senders in (1, 4):
            found = bench_webhooks.run(app, receivers, senders)
            assert (found["succeeded"], found["failed"]) == (9, 0)
            assert found["fast_endpoints_done_s"] <= found["run_s"]
            assert all(len(receiver.arrived) == 3 for receiver in receivers)
    finally:
        for receiver in receivers:
            receiver.server.shutdown()
            receiver.server.server_close()


def test_a_post_that_breaks_unexpectedly_is_a_failed_attempt_and_the_others_go(
        app, make, desk, receiver, monkeypatch):
    broken, _ = endpoint(app, desk.admin, receiver.url + "?broken", ["request.created"])
    working, _ = endpoint(app, desk.admin, receiver.url, ["request.created"])
    real_post = webhooks.post

    def post(outgoing, now, timeout):
        if outgoing.url.endswith("?broken"):
            raise RuntimeError("a bug in sending")
        return real_post(outgoing, now, timeout)

    monkeypatch.setattr(webhooks, "post", post)
    make.request(desk.requester, desk.team)
    assert deliver(app) == webhooks.DeliveryResult(succeeded=1, failed=1)
    (failed,) = deliveries(app, webhook_id=broken)
    assert failed.status == "pending" and failed.attempts == 1 and failed.next_attempt_at
    assert failed.last_error == "Not sent: RuntimeError: a bug in sending"
    assert [d.status for d in deliveries(app, webhook_id=working)] == ["succeeded"]

"""Headers that protect every page, and the throttling of failed log-ins against password
guessing (issue 10, Security 4 and 6)."""
import re

import pytest

from tests.conftest import PASSWORD, AuthActions
from tickets.extensions import limiter_of

TARGET = "target@example.com"


def test_every_page_sends_protective_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


# --- HSTS and caching ------------------------------------------------------------------------

def test_secure_cookies_come_with_strict_transport_security(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    for path in ("/login", "/static/css/app.css", "/no-such-page"):
        with client.get(path) as response:
            assert (response.headers["Strict-Transport-Security"]
                    == "max-age=31536000; includeSubDomains"), path


def test_without_secure_cookies_there_is_no_strict_transport_security(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


@pytest.mark.parametrize("path", ["/requests/mine", "/preferences", "/no-such-page", "/"])
def test_pages_for_a_logged_in_person_are_never_stored_by_a_cache(auth, make, path):
    auth.login(make.user("lead"))
    assert auth.client.get(path).headers["Cache-Control"] == "no-store"


def test_the_json_of_a_chart_for_a_logged_in_lead_is_not_stored_either(auth, make):
    auth.login(make.user("lead"))
    response = auth.client.get("/reports/throughput.json")
    assert response.headers["Cache-Control"] == "no-store"


def test_static_files_and_pages_for_anonymous_visitors_stay_cacheable(auth, client, make):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    auth.login(make.user("lead"))
    with client.get("/static/css/app.css") as static:
        assert static.status_code == 200
        assert "no-store" not in static.headers.get("Cache-Control", "")


# --- Throttling failed log-ins ---------------------------------------------------------------

@pytest.fixture
def limits(app, monkeypatch):
    """Set the log-in limits for one test (``limits(address=..., account=...)``), on counts that
    start from zero."""
    limiter_of(app).reset()

    def set_limits(address="1000 per minute", account="1000 per minute"):
        monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", address)
        monkeypatch.setitem(app.config, "RATELIMIT_LOGIN_ACCOUNT", account)

    yield set_limits
    limiter_of(app).reset()


def attempt(client, token, email=TARGET, password="a-wrong-guess", address=None):
    """One log-in attempt, from ``address`` when given; returns the response."""
    extra = {"environ_base": {"REMOTE_ADDR": address}} if address else {}
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       **extra)


def test_login_attempts_are_rate_limited_per_address(app, make, client, auth, limits):
    make.user("requester", email=TARGET)
    limits(address="3 per minute")
    token = auth.csrf_token("/login")
    codes = [attempt(client, token).status_code for _ in range(4)]
    assert codes == [400, 400, 400, 429]
    assert "Too many attempts" in client.post("/login", data={"csrf_token": token}).get_data(as_text=True)
    assert client.get("/login").status_code == 200  # reading the form is never limited


def test_twelve_correct_log_ins_from_one_address_in_a_minute_all_succeed(app, make, limits):
    """Colleagues behind one office address do not lock each other out: only failures count."""
    limits(address="10 per minute", account="5 per minute; 20 per hour")
    people = [make.user("requester") for _ in range(4)]
    for round_ in range(3):
        for person in people:
            actions = AuthActions(app.test_client(), app)
            assert actions.login(person).status_code == 302, (round_, person)


def test_failed_guesses_on_one_account_from_many_addresses_lock_that_account_everywhere(
        app, make, client, auth, limits):
    limits(address="1000 per minute", account="3 per minute")
    make.user("requester", email=TARGET)
    token = auth.csrf_token("/login")
    codes = [attempt(client, token, address=f"10.0.0.{n}").status_code for n in range(1, 5)]
    assert codes == [400, 400, 400, 429]
    # Now even the right password is refused, from any address, and the address does not matter.
    right = attempt(client, token, email="  Target@Example.com ", password=PASSWORD,
                    address="192.0.2.77")
    assert right.status_code == 429
    elsewhere = AuthActions(app.test_client(), app)
    assert attempt(elsewhere.client, elsewhere.csrf_token("/login"), password=PASSWORD,
                   address="198.51.100.3").status_code == 429


def test_a_throttled_account_does_not_lock_out_anyone_else(app, make, client, auth, limits):
    limits(account="2 per minute")
    make.user("requester", email=TARGET)
    colleague = make.user("requester", email="colleague@example.com")
    token = auth.csrf_token("/login")
    assert [attempt(client, token).status_code for _ in range(3)] == [400, 400, 429]
    assert AuthActions(app.test_client(), app).login(colleague).status_code == 302


def test_wrong_current_passwords_on_the_password_form_count_against_the_account(
        app, make, auth, limits):
    limits(account="2 per minute")
    user = make.user("requester", email=TARGET)
    auth.login(user)
    token = auth.csrf_token("/preferences")

    def change(current):
        return auth.client.post("/preferences/password", data={
            "password-csrf_token": token, "password-current": current,
            "password-new": "a-brand-new-password-1", "password-confirm": "a-brand-new-password-1"})

    assert [change("guess-one").status_code, change("guess-two").status_code] == [400, 400]
    assert change(PASSWORD).status_code == 429
    other_browser = AuthActions(app.test_client(), app)
    assert attempt(other_browser.client, other_browser.csrf_token("/login"),
                   password=PASSWORD).status_code == 429


def test_every_429_says_how_long_to_wait_in_retry_after_and_on_the_page(make, client, auth,
                                                                        limits):
    limits(address="2 per minute")
    make.user("requester", email=TARGET)
    token = auth.csrf_token("/login")
    attempt(client, token), attempt(client, token)
    refused = attempt(client, token)
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 60
    page = refused.get_data(as_text=True)
    assert re.search(rf"wait {wait} seconds? before trying again", page)


def test_an_hourly_account_limit_asks_to_wait_in_minutes(make, client, auth, limits):
    limits(account="1 per hour")
    make.user("requester", email=TARGET)
    token = auth.csrf_token("/login")
    attempt(client, token)
    refused = attempt(client, token)
    assert refused.status_code == 429
    assert 3000 < int(refused.headers["Retry-After"]) <= 3600
    assert re.search(r"wait about \d+ minutes before trying again", refused.get_data(as_text=True))


def test_failed_log_ins_are_counted_apart_by_each_app_on_memory_storage(make, make_app):
    """memory:// counts in each worker process apart (hence Redis in production with several
    workers: tests/test_throttle_redis.py shows two apps sharing one count there)."""
    make.user("requester", email=TARGET)
    workers = [make_app(RATELIMIT_LOGIN="2 per minute") for _ in range(2)]
    for worker in workers:
        actions = AuthActions(worker.test_client(), worker)
        token = actions.csrf_token("/login")
        assert [attempt(actions.client, token).status_code for _ in range(2)] == [400, 400]


# --- Behind reverse proxies ------------------------------------------------------------------

def forwarded_attempt(client, token, forwarded_for):
    return client.post("/login", data={"email": TARGET, "password": "a-wrong-guess",
                                       "csrf_token": token},
                       headers={"X-Forwarded-For": forwarded_for})


def test_behind_one_trusted_proxy_each_forwarded_address_is_counted_apart(make, make_app):
    make.user("requester", email=TARGET)
    app = make_app(TRUSTED_PROXIES=1, RATELIMIT_LOGIN="2 per minute")
    actions = AuthActions(app.test_client(), app)
    token = actions.csrf_token("/login")
    first = [forwarded_attempt(actions.client, token, "203.0.113.1").status_code for _ in range(3)]
    assert first == [400, 400, 429]
    assert forwarded_attempt(actions.client, token, "203.0.113.2").status_code == 400
    # Only the address the trusted proxy saw counts, not what the client wrote before it.
    spoofed = forwarded_attempt(actions.client, token, "198.51.100.9, 203.0.113.1")
    assert spoofed.status_code == 429


def test_without_trusted_proxies_the_forwarded_header_is_ignored(make, make_app):
    make.user("requester", email=TARGET)
    app = make_app(TRUSTED_PROXIES=0, RATELIMIT_LOGIN="2 per minute")
    actions = AuthActions(app.test_client(), app)
    token = actions.csrf_token("/login")
    codes = [forwarded_attempt(actions.client, token, f"203.0.113.{n}").status_code
             for n in range(1, 4)]
    assert codes == [400, 400, 429]


FORWARDED = {"X-Forwarded-For": "203.0.113.1", "X-Forwarded-Proto": "https",
             "X-Forwarded-Host": "datadesk.example.com"}


@pytest.mark.parametrize("trusted, seen", [
    (1, "203.0.113.1 https://datadesk.example.com/where-am-i"),
    (0, "127.0.0.1 http://localhost/where-am-i"),
])
def test_the_address_scheme_and_host_come_from_trusted_proxies_only(make_app, trusted, seen):
    from flask import request

    app = make_app(TRUSTED_PROXIES=trusted)
    app.add_url_rule("/where-am-i", "where_am_i", lambda: f"{request.remote_addr} {request.url}")
    assert app.test_client().get("/where-am-i", headers=FORWARDED).get_data(as_text=True) == seen

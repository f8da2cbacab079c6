"""The log-in throttle against a real Redis, shared by workers as in production
(RATELIMIT_STORAGE_URI=redis://...; issue 10, Security 4).

Two apps built by create_app stand for two worker processes: each has its own limiter and its
own connection to Redis. Redis must answer at TEST_REDIS_URL (default database 15 of the local
server; .ci/run starts it): these tests fail, never skip, when it does not.
"""

import pytest

from tests.conftest import PASSWORD, REDIS_URL, AuthActions
from tests.smtp import free_port

TARGET = "target@example.com"


@pytest.fixture
def worker(make_app, redis_prefix):
    """Start a worker counting in Redis: ``worker(RATELIMIT_LOGIN=...)`` gives its AuthActions."""
    def start(**limits):
        app = make_app(RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=redis_prefix,
                       **{"RATELIMIT_LOGIN": "1000 per minute",
                          "RATELIMIT_LOGIN_ACCOUNT": "1000 per minute", **limits})
        return AuthActions(app.test_client(), app)
    return start


def attempt(actions, password="a-wrong-guess", address="192.0.2.10"):
    return actions.client.post(
        "/login", data={"email": TARGET, "password": password,
                        "csrf_token": actions.csrf_token("/login")},
        environ_base={"REMOTE_ADDR": address}).status_code


def test_two_workers_share_the_failed_log_ins_of_an_address(make, worker):
    make.user("requester", email=TARGET)
    first, second = worker(RATELIMIT_LOGIN="3 per minute"), worker(RATELIMIT_LOGIN="3 per minute")
    assert [attempt(first), attempt(second), attempt(first)] == [400, 400, 400]
    assert attempt(second) == 429
    assert attempt(first) == 429
    assert attempt(second, address="192.0.2.11") == 400  # another address has its own count


def test_an_account_throttled_through_one_worker_is_refused_by_the_other_even_with_the_right_password(
        make, worker):
    make.user("requester", email=TARGET)
    first, second = (worker(RATELIMIT_LOGIN_ACCOUNT="2 per minute") for _ in range(2))
    assert [attempt(first, address="198.51.100.1"), attempt(first, address="198.51.100.2")] == [400, 400]
    assert attempt(second, password=PASSWORD, address="203.0.113.50") == 429


def test_correct_log_ins_leave_no_count_and_failures_are_kept_hashed_under_the_prefix(
        make, worker, redis_store, redis_prefix):
    make.user("requester", email=TARGET)
    actions = worker()
    assert attempt(actions, password=PASSWORD) == 302
    assert list(redis_store.scan_iter(match=f"*{redis_prefix}*")) == []
    assert attempt(worker()) == 400
    keys = [key.decode() for key in redis_store.scan_iter(match=f"*{redis_prefix}*")]
    assert len(keys) == 2  # one count for the address, one for the account
    assert not any(TARGET in key for key in keys)


def test_with_the_store_unreachable_log_ins_work_and_failures_are_counted_in_memory(make,
                                                                                  make_app):
    make.user("requester", email=TARGET)
    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0",
                   RATELIMIT_LOGIN="2 per minute")
    actions = AuthActions(app.test_client(), app)
    assert [attempt(actions), attempt(actions), attempt(actions)] == [400, 400, 429]
    assert attempt(actions, address="192.0.2.99", password=PASSWORD) == 302


# --- "Forgot your password?" (issue 14): every request counts, per address and per account ---

def forgot(actions, email, address):
    return actions.client.post(
        "/password/forgot", data={"email": email,
                                  "csrf_token": actions.csrf_token("/password/forgot")},
        environ_base={"REMOTE_ADDR": address}).status_code


def test_two_workers_share_the_password_reset_requests_of_an_address(make, worker):
    first, second = (worker(RATELIMIT_PASSWORD_RESET="2 per minute") for _ in range(2))
    assert [forgot(first, "a@example.com", "192.0.2.30"),
            forgot(second, "b@example.com", "192.0.2.30")] == [200, 200]
    assert forgot(first, "c@example.com", "192.0.2.30") == 429
    assert forgot(second, "c@example.com", "192.0.2.31") == 200  # another address


def test_password_resets_of_an_account_are_limited_from_any_address_whether_it_exists_or_not(
        app, make, worker):
    from tickets.extensions import db
    from tickets.models import OutboxMessage

    make.user("requester", email=TARGET)
    actions = worker(RATELIMIT_PASSWORD_RESET_ACCOUNT="2 per hour")

    def resets():
        with app.app_context():
            return db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage)
                                     .where(OutboxMessage.kind == "reset"))

    for email in (TARGET, "nobody@example.com"):
        assert [forgot(actions, email, "198.51.100.1"),
                forgot(actions, email, "198.51.100.2")] == [200, 200]
        sent = resets()
        assert forgot(actions, email, "198.51.100.3") == 429
        assert resets() == sent  # a refused request sends nothing
    assert resets() >= 1

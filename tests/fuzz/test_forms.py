"""Every form of the app, posted with generated values by every role that may use it.

For each post (catalogue.py says what each form holds and who may use it):
1. the answer is never a 5xx, and comes within FUZZ_TIME_LIMIT seconds (default 10);
2. a refusal (400, or the form shown again) says what is wrong next to a field or in a message
   (a post with a tampered hidden input may get the error page instead); a 409 says why in a
   message; any other refusal is one of the app's clear answers (403, 404, 405, 413, 429);
3. a refusal changes nothing stored (every row of every table is compared);
4. a success leads to a page that shows, the subject's page and everyone's weekly digest still
   build, and every mail it queued can be built for sending.
"""
import os
import re
import signal
from contextlib import contextmanager

import pytest
from hypothesis import Phase, event, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.conftest import AuthActions, form_errors
from tickets import digest, mail
from tickets.extensions import db
from tickets.models import OutboxMessage, User, utcnow

from .catalogue import FORMS
from .strategies import MISSING, bad_value
from .world import ANONYMOUS, ROLES, Context, build_world, differences, snapshot

TIME_LIMIT = float(os.environ.get("FUZZ_TIME_LIMIT", "10"))
CASES = [(form, role) for form in FORMS for role in form.roles]
ALERT = re.compile(r'<div class="alert alert-(?:warning|danger)[^"]*" role="alert"')
ERROR_PAGE = re.compile(r'<p class="text-body-secondary mb-1">Error \d{3}</p>')
CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")
# 410: a link that was used or expired (an invitation or a password reset).
CLEAR_REFUSALS = (403, 404, 405, 410, 413, 429)


class TooSlow(Exception):
    """A post took longer than the time limit (raised inside the app, where it was busy)."""


@contextmanager
def time_limit(seconds):
    """Interrupt the block with TooSlow after ``seconds``, wherever it is."""

    def expire(signum, frame):
        raise TooSlow(f"no answer within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def subject_of(form, app, make, world, draw):
    """One example's context with the data ``form`` needs; its subject is closed afterwards
    whatever happened (a failure, or an example hypothesis abandons halfway through drawing)."""
    context = Context(app, make, world)
    try:
        form.build(context, draw)
        yield context
    finally:
        context.retire()


@st.composite
def submission(draw, form, context):
    """What one post sends: a valid answer with up to three fields broken (missing, too long,
    out of range, with control characters, ...) and now and then its URL, or now and then
    nothing at all. Returns the values and the names of the broken fields."""
    fields = form.fields_for(context)
    values = dict(draw(form.valid(context)))
    if draw(st.integers(0, 19)) == 19:
        broken = {field.name for field in fields if not field.in_path}
        values.update(dict.fromkeys(broken, MISSING))
        return values, frozenset(broken)
    typed = [field.name for field in fields if not field.in_path]
    broken = set(draw(st.sets(st.sampled_from(typed), max_size=3))) if typed else set()
    if draw(st.integers(0, 9)) == 9:  # a URL naming nothing answers 404 before any field counts
        broken |= {field.name for field in fields if field.in_path}
    for field in fields:
        if field.name in broken:
            values[field.name] = draw(bad_value(field, context))
    return values, frozenset(broken)


def form_data(form, fields, values, csrf_token):
    """The body a browser would post: each field under its posted name, MISSING ones left out."""
    data = {}
    for field in fields:
        value = values.get(field.name, MISSING)
        if field.in_path or value is MISSING:
            continue
        data[form.post_name(field)] = value
    if csrf_token:
        data[f"{form.prefix}-csrf_token" if form.prefix else "csrf_token"] = csrf_token
    return data


def explains(response):
    """Whether a page tells what is wrong: a field-level error, or an alert message."""
    return bool(form_errors(response)) or bool(ALERT.search(response.get_data(as_text=True)))


def outbox_last_id(app):
    """The id of the last message in the outbox (0: none)."""
    with app.app_context():
        return db.session.scalar(select(db.func.max(OutboxMessage.id))) or 0


def queued_since(app, last_id):
    """The outbox messages added after message ``last_id``."""
    with app.app_context():
        messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id > last_id)
                                      .order_by(OutboxMessage.id)).all()
        for message in messages:
            db.session.expunge(message)
        return messages


def check_success(app, client, response, last_message, context, role):
    """A success leads to a page that shows; the subject's page and everyone's digest still
    build; and every mail it queued can be built for sending."""
    location = response.headers.get("Location", "")
    assert not CONTROL.search(location), f"redirect to {location!r}"
    if response.status_code == 302 and location.startswith("/") and not location.startswith("//"):
        page = client.get(location)
        assert page.status_code < 500, f"the page after the success, {location}, failed"
    if context.request_id is not None and role != ANONYMOUS:
        page = client.get(f"/requests/{context.request_id}")
        assert page.status_code < 500, "the subject's page failed after the success"
    with app.app_context():
        now = utcnow()
        for person in (context.world.requester, context.world.analyst, context.world.lead):
            digest.build(db.session.get(User, person), now)
    for message in queued_since(app, last_message):
        with app.app_context():
            mail.build_email(message, app.config).as_bytes()


def check_refusal(app, form, fields, broken, response, before):
    """A refusal explains itself and changes nothing stored."""
    status = response.status_code
    changed = differences(before, snapshot(app))
    assert not changed, f"refused with {status}, yet stored data changed:\n{changed}"
    if status in (200, 400):
        tampered = any(field.hidden for field in fields if field.name in broken)
        html = response.get_data(as_text=True)
        assert explains(response) or (tampered and ERROR_PAGE.search(html)), (
            f"refused with {status} without a field error or a message")
    elif status == 409:
        assert ALERT.search(response.get_data(as_text=True)), "409 without a message saying why"
    else:
        assert status in CLEAR_REFUSALS, f"unexpected answer {status}"


@pytest.fixture
def many_logins(app, monkeypatch):
    """Long runs log in thousands of times: the login limit is tested elsewhere."""
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "1000000 per minute")
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN_ACCOUNT", "1000000 per minute")


@pytest.mark.parametrize(("form", "role"), CASES,
                         ids=[f"{form.name}-{role}" for form, role in CASES])
def test_fuzzed_post_is_answered_clearly_and_a_refusal_changes_nothing(app, make, auth, many_logins,
                                                                        form, role):
    world = build_world(make)
    if role != ANONYMOUS:
        auth.login(getattr(world, role))

    @given(data=st.data())
    def post(data):
        with subject_of(form, app, make, world, data.draw) as context:
            values, broken = data.draw(submission(form, context), label="submission")
            if role == ANONYMOUS:  # a new visitor each time: a success logs the client in
                client = app.test_client()
                token = AuthActions(client, app).csrf_token("/login")
            else:
                client, token = auth.client, auth.token
            fields = form.fields_for(context)
            path = form.path(context, values)
            note(f"POST {path} as {role}; broken: {sorted(broken)}")
            before = snapshot(app)
            last_message = outbox_last_id(app)
            with time_limit(TIME_LIMIT):
                response = client.post(path, data=form_data(form, fields, values, token))
                event(f"answer {response.status_code}")
                assert response.status_code < 500
                if response.status_code in form.success:
                    check_success(app, client, response, last_message, context, role)
                else:
                    check_refusal(app, form, fields, broken, response, before)

    post()


OUTSIDERS = [(form, role) for form in FORMS if ANONYMOUS not in form.roles
             for role in (*ROLES, ANONYMOUS) if role not in form.roles]


@pytest.mark.parametrize(("form", "role"), OUTSIDERS,
                         ids=[f"{form.name}-{role}" for form, role in OUTSIDERS])
def test_a_role_that_may_not_use_a_form_is_refused_and_nothing_changes(app, make, auth, form, role):
    world = build_world(make)
    if role == ANONYMOUS:
        token = auth.csrf_token("/login")
    else:
        auth.login(getattr(world, role))
        token = auth.token
    client = auth.client

    @settings(max_examples=2, phases=(Phase.generate,))
    @given(data=st.data())
    def post(data):
        with subject_of(form, app, make, world, data.draw) as context:
            values = data.draw(form.valid(context), label="a valid submission")
            before = snapshot(app)
            fields = form.fields_for(context)
            response = client.post(form.path(context, values),
                                   data=form_data(form, fields, values, token))
            if role == ANONYMOUS:
                assert response.status_code == 302 and response.location.startswith("/login")
            else:
                assert response.status_code in (403, 404)
            assert not differences(before, snapshot(app))

    post()

"""The lifecycle of DESIGN.md: who may move a request from which state to which, and what it writes.

Every test goes through ``tickets.lifecycle.transition``, the only code that changes a state.
A request is put into a given state by walking real transitions (``PATHS``), never by writing
its state column.
"""
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from tickets import intake, lifecycle
from tickets.extensions import db
from tickets.models import (CLOSED_STATES, NOTIFICATIONS, STATES, Event, ImmutableEventError,
                            Request, User)

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc)

# How a test takes each transition: who (a role of the cast) and with which inputs.
STEPS = {
    "accept": ("analyst", {"size": "M"}),
    "waitlist": ("system", {"note": "Finance has used its ad-hoc budget for this week."}),
    "approve": ("lead", {"size": "L"}),
    "release": ("system", {}),
    "ask": ("analyst", {"note": "Which regions do you mean?"}),
    "answer": ("requester", {"note": "North and south only."}),
    "claim": ("analyst", {}),
    "assign": ("lead", {"assignee": "ANALYST"}),
    "block": ("analyst", {"note": "Waiting for access to the billing schema."}),
    "unblock": ("analyst", {}),
    "unclaim": ("analyst", {}),
    "deliver": ("analyst", {"url": "https://bi.example.com/d/churn",
                            "note": "Filter by region at the top."}),
    "confirm": ("requester", {"rating": 5}),
    "auto_resolve": ("system", {"note": "No answer 14 days after delivery."}),
    "reopen": ("requester", {"note": "The south region is missing."}),
    "decline": ("analyst", {"reason": "out_of_scope", "note": "Finance owns this ledger."}),
    "mark_duplicate": ("analyst", {"original": "ORIGINAL"}),
    "cancel": ("requester", {}),
    "retriage": ("requester", {"note": "Team changed by the requester: back to triage"}),
}

# A real path of transitions from submission to each state.
PATHS = {
    "submitted": [],
    "needs_info": ["ask"],
    "waitlisted": ["waitlist"],
    "accepted": ["accept"],
    "in_progress": ["accept", "claim"],
    "blocked": ["accept", "claim", "block"],
    "delivered": ["accept", "claim", "deliver"],
    "resolved": ["accept", "claim", "deliver", "confirm"],
    "declined": ["decline"],
    "duplicate": ["mark_duplicate"],
    "cancelled": ["cancel"],
}

ALLOWED = [(name, source) for name, t in lifecycle.TRANSITIONS.items() for source in sorted(t.sources)]
FORBIDDEN = [(name, state) for name, t in lifecycle.TRANSITIONS.items() for state in STATES
             if state not in t.sources]
SYSTEM_ONLY = [name for name, t in lifecycle.TRANSITIONS.items() if t.actors == {"system"}]
HUMAN = [name for name, t in lifecycle.TRANSITIONS.items() if "system" not in t.actors]
BY_LEAD = [(name, source) for name, source in ALLOWED if "lead" in lifecycle.TRANSITIONS[name].actors]


def pairs(items):
    """Parameters (transition, state) named like accept-from-submitted."""
    return [pytest.param(name, state, id=f"{name}-from-{state}") for name, state in items]


@pytest.fixture
def cast(make):
    """A Finance request, its requester, an analyst embedded in Finance, a lead, and an original."""
    finance = make.team("Finance")
    requester = make.user("requester", teams=[finance])
    analyst = make.user("analyst", teams=[finance])
    lead = make.user("lead")
    original = make.request(requester, finance,
                            title="Churn by region, every week")
    return SimpleNamespace(
        team=finance, requester=requester, analyst=analyst, lead=lead, original=original,
        analyst_name=make.get(User, analyst).name,
        request=make.request(requester, finance),
        who={"requester": requester, "analyst": analyst, "lead": lead, "system": None},
    )


def inputs_for(name, cast, **changes):
    """The inputs STEPS gives transition ``name``, with the cast's original request filled in."""
    inputs = dict(STEPS[name][1], **changes)
    if inputs.get("original") == "ORIGINAL":
        inputs["original"] = cast.original
    if inputs.get("assignee") == "ANALYST":
        inputs["assignee"] = cast.analyst
    return inputs


def drive(make, cast, request_id, state):
    """Walk ``request_id`` from submitted to ``state`` along PATHS."""
    for name in PATHS[state]:
        make.act(request_id, name, cast.who[STEPS[name][0]], **inputs_for(name, cast))
    assert make.state(request_id) == state


def take(app, request_id, name, actor_id, **inputs):
    """Take transition ``name`` as user ``actor_id`` (None: the system) at NOW; return its event id."""
    with app.app_context():
        req = db.session.get(Request, request_id)
        if inputs.get("original") is not None:
            inputs["original"] = db.session.get(Request, inputs["original"])
        if inputs.get("assignee") is not None:
            inputs["assignee"] = db.session.get(User, inputs["assignee"])
        actor = db.session.get(User, actor_id) if actor_id is not None else None
        event = lifecycle.transition(req, name, actor, NOW, **inputs)
        db.session.commit()
        return event.id


def snapshot(app, request_id):
    """What the database holds about a request: its columns and its events."""
    with app.app_context():
        req = db.session.get(Request, request_id)
        return SimpleNamespace(
            state=req.state, version=req.version, assignee_id=req.assignee_id, size=req.size,
            resume_state=req.resume_state, closed_at=req.closed_at, updated_at=req.updated_at,
            delivered_url=req.delivered_url, decline_reason=req.decline_reason,
            duplicate_of_id=req.duplicate_of_id, rating=req.rating,
            watchers=req.watcher_emails, events=[_event(e) for e in req.events],
        )


def _event(event):
    return SimpleNamespace(kind=event.kind, action=event.action, from_state=event.from_state,
                           to_state=event.to_state, actor_id=event.actor_id, text=event.text,
                           data=event.data, created_at=event.created_at)


def refused(app, request_id, name, actor_id, error, **inputs):
    """Try transition ``name``, expect ``error``, check nothing was saved; return the error."""
    before = snapshot(app, request_id)
    with app.app_context():
        req = db.session.get(Request, request_id)
        if inputs.get("original") is not None:
            inputs["original"] = db.session.get(Request, inputs["original"])
        if inputs.get("assignee") is not None:
            inputs["assignee"] = db.session.get(User, inputs["assignee"])
        actor = db.session.get(User, actor_id) if actor_id is not None else None
        with pytest.raises(error) as raised:
            lifecycle.transition(req, name, actor, NOW, **inputs)
        db.session.rollback()
    assert snapshot(app, request_id) == before
    return raised.value


# --- The table itself --------------------------------------------------------------------

@pytest.mark.parametrize("state", sorted(STATES))
def test_every_state_is_reached_along_real_transitions(make, cast, state):
    drive(make, cast, cast.request, state)


def test_the_table_names_only_known_states():
    for t in lifecycle.TRANSITIONS.values():
        assert t.sources <= set(STATES)
        assert t.target is None or t.target in STATES
    assert set(STEPS) == set(lifecycle.TRANSITIONS)


def test_each_row_says_everything_about_its_transition():
    """Timeline words, a form for every action, and notifications users can choose."""
    from tickets.forms.transitions import FORMS_BY_KEY
    from tickets.notifications import AUDIENCES

    for t in lifecycle.TRANSITIONS.values():
        assert t.done and lifecycle.DONE[t.name] == t.done, t.name
        assert t.is_action == (t.form is not None), t.name
        assert t.form is None or t.form in FORMS_BY_KEY, t.name
        assert t.notify is None or (t.notify[0] in NOTIFICATIONS and t.notify[1]
                                    and set(t.notify[1]) <= set(AUDIENCES)), t.name


# --- Every allowed transition ------------------------------------------------------------

def expected_data(name, cast):
    return {
        "accept": {"size": [None, "M"]},
        "approve": {"size": [None, "L"]},
        "deliver": {"url": "https://bi.example.com/d/churn"},
        "decline": {"reason": "out_of_scope"},
        "mark_duplicate": {"original_id": cast.original},
        "confirm": {"rating": 5},
        "assign": {"assignee_id": cast.analyst, "assignee_name": cast.analyst_name},
    }.get(name, {})


@pytest.mark.parametrize("name, source", pairs(ALLOWED))
def test_allowed_transition_moves_the_request_and_writes_its_event(app, make, cast, name, source):
    drive(make, cast, cast.request, source)
    before = snapshot(app, cast.request)
    role, _ = STEPS[name]
    inputs = inputs_for(name, cast)

    take(app, cast.request, name, cast.who[role], **inputs)

    after = snapshot(app, cast.request)
    target = lifecycle.TRANSITIONS[name].target or "submitted"  # answer: back to before ask
    assert after.state == target
    assert after.version == before.version + 1
    assert after.updated_at == NOW
    assert after.closed_at == (NOW if target in CLOSED_STATES else None)
    assert after.events[:-1] == before.events
    event = after.events[-1]
    assert event.kind == "transition"
    assert event.action == name
    assert (event.from_state, event.to_state) == (source, target)
    assert event.actor_id == cast.who[role]
    assert event.text == inputs.get("note", "")
    assert event.data == expected_data(name, cast)
    assert event.created_at == NOW


@pytest.mark.parametrize("name, source", pairs(BY_LEAD))
def test_lead_may_take_every_transition_the_table_gives_leads(app, make, cast, name, source):
    drive(make, cast, cast.request, source)
    take(app, cast.request, name, cast.lead, **inputs_for(name, cast))
    after = snapshot(app, cast.request)
    assert after.state == lifecycle.TRANSITIONS[name].target
    assert after.events[-1].actor_id == cast.lead


# --- Every forbidden transition ----------------------------------------------------------

@pytest.mark.parametrize("name, state", pairs(FORBIDDEN))
def test_transition_from_a_state_outside_the_table_is_refused(app, make, cast, name, state):
    drive(make, cast, cast.request, state)
    role, _ = STEPS[name]
    error = refused(app, cast.request, name, cast.who[role], lifecycle.InvalidTransition,
                    **inputs_for(name, cast))
    assert STATES[state].lower() in str(error)
    assert "Nothing was changed" in str(error)


def test_unknown_transition_is_refused(app, cast):
    refused(app, cast.request, "approve_everything", cast.lead, lifecycle.InvalidTransition)


# --- Side effects ------------------------------------------------------------------------

def test_claim_makes_the_analyst_the_assignee(app, make, cast):
    drive(make, cast, cast.request, "accepted")
    take(app, cast.request, "claim", cast.analyst)
    assert snapshot(app, cast.request).assignee_id == cast.analyst


def test_lead_who_claims_becomes_the_assignee(app, make, cast):
    drive(make, cast, cast.request, "accepted")
    take(app, cast.request, "claim", cast.lead)
    assert snapshot(app, cast.request).assignee_id == cast.lead


def test_unclaim_puts_the_request_back_in_the_backlog_without_assignee(app, make, cast):
    drive(make, cast, cast.request, "in_progress")
    take(app, cast.request, "unclaim", cast.analyst)
    after = snapshot(app, cast.request)
    assert (after.state, after.assignee_id) == ("accepted", None)


def test_another_analyst_may_claim_after_an_unclaim(app, make, cast):
    colleague = make.user("analyst", teams=[cast.team])
    drive(make, cast, cast.request, "in_progress")
    take(app, cast.request, "unclaim", cast.analyst)
    take(app, cast.request, "claim", colleague)
    assert snapshot(app, cast.request).assignee_id == colleague


def test_accept_records_the_size_estimate(app, cast):
    take(app, cast.request, "accept", cast.analyst, size="XL")
    assert snapshot(app, cast.request).size == "XL"


@pytest.mark.parametrize("source", ["submitted", "accepted"])
def test_asking_remembers_the_state_and_answering_returns_to_it(app, make, cast, source):
    drive(make, cast, cast.request, source)
    take(app, cast.request, "ask", cast.analyst, note="Which regions?")
    asked = snapshot(app, cast.request)
    assert (asked.state, asked.resume_state) == ("needs_info", source)

    take(app, cast.request, "answer", cast.requester, note="North and south.")

    answered = snapshot(app, cast.request)
    assert (answered.state, answered.resume_state) == (source, None)
    event = answered.events[-1]
    assert (event.from_state, event.to_state, event.text) == ("needs_info", source, "North and south.")


def test_a_request_asked_twice_still_returns_to_where_it_was(app, make, cast):
    drive(make, cast, cast.request, "accepted")
    for question in ("Which regions?", "Which weeks?"):
        take(app, cast.request, "ask", cast.analyst, note=question)
        take(app, cast.request, "answer", cast.requester, note="These.")
    assert snapshot(app, cast.request).state == "accepted"


def test_closing_a_request_from_needs_info_forgets_the_resume_state(app, make, cast):
    drive(make, cast, cast.request, "needs_info")
    take(app, cast.request, "cancel", cast.requester)
    after = snapshot(app, cast.request)
    assert (after.state, after.resume_state) == ("cancelled", None)


@pytest.mark.parametrize("name, source", pairs([
    ("confirm", "delivered"), ("auto_resolve", "delivered"), ("decline", "in_progress"),
    ("mark_duplicate", "blocked"), ("cancel", "waitlisted"),
]))
def test_closing_transitions_set_closed_at(app, make, cast, name, source):
    drive(make, cast, cast.request, source)
    take(app, cast.request, name, cast.who[STEPS[name][0]], **inputs_for(name, cast))
    after = snapshot(app, cast.request)
    assert after.state in CLOSED_STATES
    assert after.closed_at == NOW


def test_reopening_a_delivery_keeps_the_request_open_with_its_assignee(app, make, cast):
    drive(make, cast, cast.request, "delivered")
    take(app, cast.request, "reopen", cast.requester, note="The south region is missing.")
    after = snapshot(app, cast.request)
    assert (after.state, after.closed_at, after.assignee_id) == ("in_progress", None, cast.analyst)


def test_deliver_stores_the_link_to_the_deliverable(app, make, cast):
    drive(make, cast, cast.request, "in_progress")
    take(app, cast.request, "deliver", cast.analyst, url="https://bi.example.com/d/42",
         note="Read it weekly.")
    assert snapshot(app, cast.request).delivered_url == "https://bi.example.com/d/42"


def test_decline_stores_the_reason(app, cast):
    take(app, cast.request, "decline", cast.analyst, reason="low_value", note="Too small to matter.")
    after = snapshot(app, cast.request)
    assert (after.state, after.decline_reason, after.delivered_url) == ("declined", "low_value", None)


def test_decline_as_self_serve_requires_a_link_to_the_existing_asset(app, cast):
    error = refused(app, cast.request, "decline", cast.analyst, lifecycle.MissingInput,
                    reason="self_serve", note="The churn dashboard answers it.")
    assert error.field == "url"


def test_decline_as_self_serve_stores_the_link_to_the_existing_asset(app, cast):
    take(app, cast.request, "decline", cast.analyst, reason="self_serve",
         url="https://bi.example.com/d/churn", note="The churn dashboard answers it.")
    after = snapshot(app, cast.request)
    assert (after.decline_reason, after.delivered_url) == ("self_serve", "https://bi.example.com/d/churn")
    assert after.events[-1].data == {"reason": "self_serve", "url": "https://bi.example.com/d/churn"}


def test_confirm_stores_the_requesters_rating(app, make, cast):
    drive(make, cast, cast.request, "delivered")
    take(app, cast.request, "confirm", cast.requester, rating=4)
    assert snapshot(app, cast.request).rating == 4


def test_confirm_without_a_rating_leaves_it_empty(app, make, cast):
    drive(make, cast, cast.request, "delivered")
    take(app, cast.request, "confirm", cast.requester)
    after = snapshot(app, cast.request)
    assert (after.state, after.rating, after.events[-1].data) == ("resolved", None, {})


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_rating_outside_one_to_five_is_refused(app, make, cast, rating):
    drive(make, cast, cast.request, "delivered")
    error = refused(app, cast.request, "confirm", cast.requester, lifecycle.MissingInput,
                    rating=rating)
    assert error.field == "rating"


def test_only_the_confirmation_carries_a_rating(app, make, cast):
    drive(make, cast, cast.request, "in_progress")
    error = refused(app, cast.request, "deliver", cast.analyst, lifecycle.MissingInput,
                    rating=5, **inputs_for("deliver", cast))
    assert error.field == "rating"


# --- Duplicates --------------------------------------------------------------------------

def test_mark_duplicate_points_at_the_original_and_its_followers_move_there(app, make, cast):
    first_asker = make.user("requester", teams=[cast.team], email="ann@example.com")
    second_asker = make.user("requester", teams=[cast.team], email="bea@example.com")
    original = make.request(first_asker, cast.team, watchers=["shared@example.com"])
    duplicate = make.request(second_asker, cast.team,
                             watchers=["cfo@example.com", "shared@example.com", "ann@example.com"])

    take(app, duplicate, "mark_duplicate", cast.analyst, original=original,
         note="Same ask as the weekly churn one.")

    dup = snapshot(app, duplicate)
    assert (dup.state, dup.duplicate_of_id) == ("duplicate", original)
    assert dup.events[-1].data == {"original_id": original}
    assert dup.events[-1].text == "Same ask as the weekly churn one."
    # Each follows once; the original's requester is not added as a watcher of their own request.
    assert snapshot(app, original).watchers == [
        "bea@example.com", "cfo@example.com", "shared@example.com"]


def test_a_request_cannot_be_a_duplicate_of_itself(app, cast):
    error = refused(app, cast.request, "mark_duplicate", cast.analyst, lifecycle.MissingInput,
                    original=cast.request)
    assert error.field == "original"


def test_a_request_cannot_point_at_a_duplicate_as_its_original(app, make, cast):
    make.act(cast.original, "mark_duplicate", cast.analyst, original=cast.request)
    error = refused(app, cast.request, "mark_duplicate", cast.analyst, lifecycle.MissingInput,
                    original=cast.original)
    assert error.field == "original"
    assert f"#{cast.original}" in str(error)


def test_a_third_request_cannot_point_at_a_duplicate_either(app, make, cast):
    third = make.request(cast.requester, cast.team, title="Churn again")
    make.act(cast.request, "mark_duplicate", cast.analyst, original=cast.original)
    error = refused(app, third, "mark_duplicate", cast.analyst, lifecycle.MissingInput,
                    original=cast.request)
    assert error.field == "original"


# --- Who may do what ---------------------------------------------------------------------

def test_requester_cannot_accept_own_request(app, cast):
    refused(app, cast.request, "accept", cast.requester, lifecycle.NotAllowed, size="M")


@pytest.mark.parametrize("name, state", pairs([
    ("claim", "accepted"), ("accept", "submitted"), ("ask", "submitted"),
    ("decline", "submitted"), ("mark_duplicate", "submitted"),
]))
def test_analyst_of_another_team_cannot_triage_or_claim(app, make, cast, name, state):
    outsider = make.user("analyst", teams=[make.team("Sales")])
    drive(make, cast, cast.request, state)
    refused(app, cast.request, name, outsider, lifecycle.NotAllowed, **inputs_for(name, cast))


@pytest.mark.parametrize("name, state", pairs([
    ("deliver", "in_progress"), ("block", "in_progress"), ("unclaim", "in_progress"),
    ("unblock", "blocked"),
]))
def test_analyst_of_the_team_who_is_not_the_assignee_cannot_work_the_request(app, make, cast, name,
                                                                             state):
    colleague = make.user("analyst", teams=[cast.team])
    drive(make, cast, cast.request, state)
    refused(app, cast.request, name, colleague, lifecycle.NotAllowed, **inputs_for(name, cast))


@pytest.mark.parametrize("name", ["accept", "ask", "decline", "mark_duplicate"])
def test_analyst_cannot_act_on_a_confidential_request_of_their_team_they_are_not_assigned(
        app, make, cast, name):
    secret = make.request(cast.requester, cast.team, is_confidential=True)
    refused(app, secret, name, cast.analyst, lifecycle.NotAllowed, **inputs_for(name, cast))


def test_analyst_cannot_claim_a_confidential_request_of_their_team(app, make, cast):
    secret = make.request(cast.requester, cast.team, is_confidential=True)
    make.act(secret, "accept", cast.lead, size="S")
    refused(app, secret, "claim", cast.analyst, lifecycle.NotAllowed)


def test_assigned_analyst_keeps_working_a_request_made_confidential(app, make, cast):
    drive(make, cast, cast.request, "in_progress")
    with app.app_context():
        req = db.session.get(Request, cast.request)
        intake.edit_request(req, db.session.get(User, cast.lead), {"is_confidential": True})
        db.session.commit()
    take(app, cast.request, "deliver", cast.analyst, **inputs_for("deliver", cast))
    assert snapshot(app, cast.request).state == "delivered"


def test_back_to_triage_happens_through_an_edit_and_is_never_offered_as_an_action(
        app, make, cast, auth):
    drive(make, cast, cast.request, "accepted")
    with app.app_context():
        req = db.session.get(Request, cast.request)
        offered = [t.name for t in lifecycle.available_transitions(
            req, db.session.get(User, cast.requester))]
    assert offered == ["cancel"]
    auth.login(cast.requester)
    response = auth.act(cast.request, "retriage", note="Back, please.")
    assert response.status_code == 404
    assert make.state(cast.request) == "accepted"


@pytest.mark.parametrize("role", ["requester", "analyst", "lead"])
@pytest.mark.parametrize("name", SYSTEM_ONLY)
def test_system_only_transitions_are_refused_to_people(app, make, cast, name, role):
    source = sorted(lifecycle.TRANSITIONS[name].sources)[0]
    drive(make, cast, cast.request, source)
    refused(app, cast.request, name, cast.who[role], lifecycle.NotAllowed, **inputs_for(name, cast))


@pytest.mark.parametrize("name", HUMAN)
def test_transitions_for_people_are_refused_to_the_system(app, make, cast, name):
    source = sorted(lifecycle.TRANSITIONS[name].sources)[0]
    drive(make, cast, cast.request, source)
    refused(app, cast.request, name, None, lifecycle.NotAllowed, **inputs_for(name, cast))


@pytest.mark.parametrize("name, state", pairs([
    ("answer", "needs_info"), ("confirm", "delivered"), ("reopen", "delivered"),
]))
def test_analyst_cannot_speak_for_the_requester(app, make, cast, name, state):
    drive(make, cast, cast.request, state)
    refused(app, cast.request, name, cast.analyst, lifecycle.NotAllowed, **inputs_for(name, cast))


@pytest.mark.parametrize("name, state", pairs([
    ("accept", "submitted"), ("ask", "submitted"), ("claim", "accepted"),
    ("deliver", "in_progress"), ("decline", "submitted"), ("mark_duplicate", "submitted"),
]))
def test_requester_cannot_do_the_data_teams_work(app, make, cast, name, state):
    drive(make, cast, cast.request, state)
    refused(app, cast.request, name, cast.requester, lifecycle.NotAllowed, **inputs_for(name, cast))


def test_another_requester_of_the_team_cannot_cancel_or_confirm(app, make, cast):
    colleague = make.user("requester", teams=[cast.team])
    refused(app, cast.request, "cancel", colleague, lifecycle.NotAllowed)
    drive(make, cast, cast.request, "delivered")
    refused(app, cast.request, "confirm", colleague, lifecycle.NotAllowed)


def test_only_a_lead_approves_over_budget(app, make, cast):
    drive(make, cast, cast.request, "waitlisted")
    refused(app, cast.request, "approve", cast.analyst, lifecycle.NotAllowed, size="M")


# --- Inputs ------------------------------------------------------------------------------

MISSING = [
    ("accept", "submitted", {"size": None}, "size"),
    ("accept", "submitted", {"size": "XXL"}, "size"),
    ("approve", "waitlisted", {"size": None}, "size"),
    ("ask", "submitted", {"note": ""}, "note"),
    ("ask", "accepted", {"note": "   \n "}, "note"),
    ("answer", "needs_info", {"note": ""}, "note"),
    ("block", "in_progress", {"note": ""}, "note"),
    ("deliver", "in_progress", {"url": None}, "url"),
    ("deliver", "in_progress", {"url": ""}, "url"),
    ("deliver", "in_progress", {"note": ""}, "note"),
    ("reopen", "delivered", {"note": " "}, "note"),
    ("decline", "submitted", {"reason": None}, "reason"),
    ("decline", "submitted", {"reason": "because"}, "reason"),
    ("decline", "submitted", {"note": ""}, "note"),
    ("decline", "submitted", {"reason": "self_serve"}, "url"),
    ("mark_duplicate", "submitted", {"original": None}, "original"),
    ("waitlist", "submitted", {"note": ""}, "note"),
    ("auto_resolve", "delivered", {"note": ""}, "note"),
]


@pytest.mark.parametrize("name, state, changes, field", MISSING,
                         ids=[f"{n}-{f}-{i}" for i, (n, _, _, f) in enumerate(MISSING)])
def test_missing_or_wrong_input_is_refused_naming_its_field(app, make, cast, name, state, changes,
                                                             field):
    drive(make, cast, cast.request, state)
    inputs = inputs_for(name, cast, **changes)
    error = refused(app, cast.request, name, cast.who[STEPS[name][0]], lifecycle.MissingInput,
                    **inputs)
    assert error.field == field
    assert str(error)


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>",
    "ftp://files.example.com/churn.csv", "bi.example.com/d/churn", " https://bi.example.com",
])
def test_deliver_refuses_a_link_that_is_not_http(app, make, cast, url):
    drive(make, cast, cast.request, "in_progress")
    error = refused(app, cast.request, "deliver", cast.analyst, lifecycle.MissingInput,
                    url=url, note="Here it is.")
    assert error.field == "url"


def test_decline_as_self_serve_refuses_a_javascript_link(app, cast):
    error = refused(app, cast.request, "decline", cast.analyst, lifecycle.MissingInput,
                    reason="self_serve", url="javascript:alert(1)", note="Use the dashboard.")
    assert error.field == "url"


def test_deliver_accepts_an_uppercase_https_link(app, make, cast):
    drive(make, cast, cast.request, "in_progress")
    take(app, cast.request, "deliver", cast.analyst, url="HTTPS://BI.example.com/d/1", note="Here.")
    assert snapshot(app, cast.request).delivered_url == "HTTPS://BI.example.com/d/1"


def test_note_is_stored_without_surrounding_whitespace(app, cast):
    take(app, cast.request, "ask", cast.analyst, note="  Which regions?\n")
    assert snapshot(app, cast.request).events[-1].text == "Which regions?"


# --- Concurrency -------------------------------------------------------------------------

def test_stale_expected_version_is_refused_as_a_concurrent_change(app, make, cast):
    seen = snapshot(app, cast.request).version
    make.act(cast.request, "accept", cast.analyst, size="M")
    error = refused(app, cast.request, "ask", cast.analyst, lifecycle.ConcurrentChange,
                    note="Which regions?", expected_version=seen)
    assert "Nothing was changed" in str(error)


@pytest.mark.parametrize("name", ["mark_duplicate", "decline", "cancel", "ask"])
def test_a_change_committed_by_someone_else_meanwhile_is_a_concurrent_change(app, make, cast, name):
    with app.app_context():
        req = db.session.get(Request, cast.request)  # read before the other change, not refreshed
        make.act(cast.request, "accept", cast.analyst, size="M")  # someone else, in another session
        role, _ = STEPS[name]
        inputs = inputs_for(name, cast)
        if inputs.get("original") is not None:
            inputs["original"] = db.session.get(Request, inputs["original"])
        if inputs.get("assignee") is not None:
            inputs["assignee"] = db.session.get(User, inputs["assignee"])
        actor = db.session.get(User, cast.who[role]) if cast.who[role] else None
        with pytest.raises(lifecycle.ConcurrentChange):
            lifecycle.transition(req, name, actor, NOW, **inputs)
        db.session.rollback()
    assert snapshot(app, cast.request).state == "accepted"


def test_current_expected_version_is_accepted(app, cast):
    seen = snapshot(app, cast.request).version
    take(app, cast.request, "accept", cast.analyst, size="M", expected_version=seen)
    assert snapshot(app, cast.request).state == "accepted"


# --- History -----------------------------------------------------------------------------

def test_an_event_cannot_be_changed_through_the_orm(app, cast):
    with app.app_context():
        event = db.session.scalars(db.select(Event).where(Event.request_id == cast.request)).one()
        event.text = "rewritten history"
        with pytest.raises(ImmutableEventError):
            db.session.flush()
        db.session.rollback()
    assert snapshot(app, cast.request).events[0].text == ""


def test_a_transition_event_cannot_be_changed_through_the_orm(app, cast):
    take(app, cast.request, "ask", cast.analyst, note="Which regions?")
    with app.app_context():
        event = db.session.scalars(db.select(Event).where(Event.action == "ask")).one()
        event.to_state = "resolved"
        with pytest.raises(ImmutableEventError):
            db.session.commit()
        db.session.rollback()
    assert snapshot(app, cast.request).events[-1].to_state == "needs_info"


def test_an_event_cannot_be_deleted_through_the_orm(app, cast):
    with app.app_context():
        event = db.session.scalars(db.select(Event).where(Event.request_id == cast.request)).one()
        db.session.delete(event)
        with pytest.raises(ImmutableEventError):
            db.session.flush()
        db.session.rollback()
    assert len(snapshot(app, cast.request).events) == 1


def test_replaying_the_events_gives_the_current_state_after_a_long_path(app, make, cast):
    path = [
        ("ask", "analyst", {"note": "Which regions?"}),
        ("answer", "requester", {"note": "North and south."}),
        ("accept", "analyst", {"size": "M"}),
        ("ask", "analyst", {"note": "Weekly or monthly?"}),
        ("answer", "requester", {"note": "Weekly."}),
        ("claim", "analyst", {}),
        ("block", "analyst", {"note": "No access to billing."}),
        ("unblock", "analyst", {}),
        ("unclaim", "analyst", {}),
        ("claim", "lead", {}),
        ("deliver", "lead", {"url": "https://bi.example.com/d/1", "note": "First cut."}),
        ("reopen", "requester", {"note": "South is missing."}),
        ("deliver", "lead", {"url": "https://bi.example.com/d/2", "note": "With south."}),
        ("confirm", "requester", {"rating": 5}),
    ]
    for number, (name, role, inputs) in enumerate(path):
        take(app, cast.request, name, cast.who[role], **inputs)
        with app.app_context():
            req = db.session.get(Request, cast.request)
            intake.add_comment(req, req.requester, f"Step {number} done.")
            db.session.commit()
            assert lifecycle.replay_state(req.events) == req.state
    with app.app_context():
        req = db.session.get(Request, cast.request)
        assert req.state == "resolved"
        assert lifecycle.replay_state(req.events) == "resolved"
        transitions = [e for e in req.events if e.kind == "transition"]
        assert [e.action for e in transitions] == [name for name, _, _ in path]
        assert all(earlier.to_state == later.from_state
                   for earlier, later in zip(transitions, transitions[1:]))


def test_replaying_no_events_gives_no_state():
    assert lifecycle.replay_state([]) is None


def test_every_state_tells_the_requester_what_happens_next():
    assert set(lifecycle.NEXT_STEP) == set(STATES)
    assert all(text.endswith(".") for text in lifecycle.NEXT_STEP.values())

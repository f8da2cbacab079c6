"""The policy (tickets/policy.py) as one table: person (a role and a relation to the request) x
request x action -> allowed, asked of the real functions about real rows.

The people (tests/cast.py), around requests of the Marketing team (and of Ops, which has no
embedded analyst, so its requests go to the central triage queue): one column per person.

A cell is Y (allowed) or . (refused). Transitions (accept, claim, ...) are decided by their row
of the lifecycle table (where they start from) and the policy (who takes them):
``lifecycle.may_take``. Pages that check these rules are tested in test_permissions.py.
"""
import re
from datetime import date, timedelta

import pytest
from flask_login import AnonymousUserMixin

from tests.cast import Cast
from tests.conftest import AuthActions
from tickets import digest, lifecycle, people, policy, settings
from tickets.extensions import db
from tickets.models import ROLES, Request, Team, User, utcnow

PEOPLE = ("owner", "teammate", "outsider", "watcher", "team_analyst", "other_analyst",
          "assignee", "lead", "admin")

# Each request of the table: its state, whether a lead marked it confidential after the steps,
# and its team.
REQUESTS = {
    "submitted": ("submitted", False, "marketing"),
    "accepted": ("accepted", False, "marketing"),
    "in progress": ("in_progress", False, "marketing"),
    "delivered": ("delivered", False, "marketing"),
    "resolved": ("resolved", False, "marketing"),
    "confidential": ("submitted", True, "marketing"),
    "confidential in progress": ("in_progress", True, "marketing"),
    "central": ("submitted", False, "ops"),
}

# "served_requests" is the SQL condition policy.served_requests (who triages and works it as
# its team's analyst or a lead, assignment aside);
# "see" is asked of both policy.allowed and the SQL condition policy.visible_requests.
TABLE = {
    #                                 owner team out  watch t_an o_an asgn lead admin
    "submitted": {
        "see":                       "Y    Y    .    Y     Y    .    Y    Y    Y",
        "edit":                      "Y    .    .    .     .    .    .    Y    .",
        "comment":                   "Y    Y    .    Y     Y    .    Y    Y    Y",
        "attach":                    "Y    Y    .    Y     Y    .    Y    Y    Y",
        "remove_any_attachment":     ".    .    .    .     .    .    .    Y    .",
        "change_kind":               ".    .    .    .     Y    .    Y    Y    .",
        "edit_triaged_fields":       ".    .    .    .     Y    .    Y    Y    .",
        "override":                  ".    .    .    .     .    .    .    Y    .",
        "set_sla_class":             ".    .    .    .     .    .    .    Y    .",
        "served_requests":           ".    .    .    .     Y    .    Y    Y    .",
        "accept":                    ".    .    .    .     Y    .    Y    Y    .",
        "decline":                   ".    .    .    .     Y    .    Y    Y    .",
        "cancel":                    "Y    .    .    .     .    .    .    Y    .",
    },
    "accepted": {
        "see":                       "Y    Y    .    Y     Y    .    Y    Y    Y",
        "edit":                      "Y    .    .    .     .    .    .    Y    .",
        "change_kind":               ".    .    .    .     Y    .    Y    Y    .",
        "override":                  ".    .    .    .     .    .    .    Y    .",
        "claim":                     ".    .    .    .     Y    .    Y    Y    .",
        "assign":                    ".    .    .    .     .    .    .    Y    .",
    },
    "in progress": {
        "see":                       "Y    Y    .    Y     Y    .    Y    Y    Y",
        "edit":                      ".    .    .    .     .    .    .    Y    .",
        "comment":                   "Y    Y    .    Y     Y    .    Y    Y    Y",
        "change_kind":               ".    .    .    .     Y    .    Y    Y    .",
        "override":                  ".    .    .    .     .    .    .    Y    .",
        "set_sla_class":             ".    .    .    .     .    .    .    Y    .",
        "deliver":                   ".    .    .    .     .    .    Y    Y    .",
        "decline":                   ".    .    .    .     Y    .    Y    Y    .",
        "cancel":                    "Y    .    .    .     .    .    .    Y    .",
    },
    "delivered": {
        "see":                       "Y    Y    .    Y     Y    .    Y    Y    Y",
        "edit":                      ".    .    .    .     .    .    .    Y    .",
        "comment":                   "Y    Y    .    Y     Y    .    Y    Y    Y",
        "attach":                    "Y    Y    .    Y     Y    .    Y    Y    Y",
        "remove_any_attachment":     ".    .    .    .     .    .    .    Y    .",
        "change_kind":               ".    .    .    .     .    .    .    .    .",
        "edit_triaged_fields":       ".    .    .    .     Y    .    Y    Y    .",
        "override":                  ".    .    .    .     .    .    .    .    .",
        "set_sla_class":             ".    .    .    .     .    .    .    .    .",
        "confirm":                   "Y    .    .    .     .    .    .    .    .",
        "reopen":                    "Y    .    .    .     .    .    .    .    .",
        "cancel":                    ".    .    .    .     .    .    .    .    .",
        "answer_follow_up":          ".    .    .    .     .    .    .    .    .",
    },
    "resolved": {
        "see":                       "Y    Y    .    Y     Y    .    Y    Y    Y",
        "edit":                      ".    .    .    .     .    .    .    .    .",
        "comment":                   ".    .    .    .     .    .    .    .    .",
        "attach":                    ".    .    .    .     .    .    .    .    .",
        "remove_any_attachment":     ".    .    .    .     .    .    .    Y    .",
        "change_kind":               ".    .    .    .     .    .    .    .    .",
        "reopen":                    ".    .    .    .     .    .    .    .    .",
        # Whoever may see it, by rule; who is asked is the follow-up's (answers_follow_up).
        "answer_follow_up":          "Y    Y    .    Y     Y    .    Y    Y    Y",
    },
    "confidential": {
        "see":                       "Y    .    .    .     .    .    .    Y    Y",
        "edit":                      "Y    .    .    .     .    .    .    Y    .",
        "comment":                   "Y    .    .    .     .    .    .    Y    Y",
        "attach":                    "Y    .    .    .     .    .    .    Y    Y",
        "remove_any_attachment":     ".    .    .    .     .    .    .    Y    .",
        "change_kind":               ".    .    .    .     .    .    .    Y    .",
        "edit_triaged_fields":       ".    .    .    .     .    .    .    Y    .",
        "override":                  ".    .    .    .     .    .    .    Y    .",
        "served_requests":           ".    .    .    .     .    .    .    Y    .",
        "accept":                    ".    .    .    .     .    .    .    Y    .",
        "cancel":                    "Y    .    .    .     .    .    .    Y    .",
    },
    "confidential in progress": {
        "see":                       "Y    .    .    .     .    .    Y    Y    Y",
        "edit":                      ".    .    .    .     .    .    .    Y    .",
        "comment":                   "Y    .    .    .     .    .    Y    Y    Y",
        "change_kind":               ".    .    .    .     .    .    Y    Y    .",
        "served_requests":           ".    .    .    .     .    .    .    Y    .",
        "deliver":                   ".    .    .    .     .    .    Y    Y    .",
        "cancel":                    "Y    .    .    .     .    .    .    Y    .",
    },
    "central": {
        "see":                       "Y    Y    .    Y     Y    Y    Y    Y    Y",
        "edit":                      "Y    .    .    .     .    .    .    Y    .",
        "comment":                   "Y    Y    .    Y     Y    Y    Y    Y    Y",
        "change_kind":               ".    .    .    .     Y    Y    Y    Y    .",
        "served_requests":           ".    .    .    .     Y    Y    Y    Y    .",
        "accept":                    ".    .    .    .     Y    Y    Y    Y    .",
        "cancel":                    "Y    .    .    .     .    .    .    Y    .",
    },
}


def cells(row):
    """{person: True/False} of a row of Y and . in PEOPLE order."""
    marks = row.split()
    assert len(marks) == len(PEOPLE) and set(marks) <= {"Y", "."}, row
    return {person: mark == "Y" for person, mark in zip(PEOPLE, marks)}


@pytest.fixture
def world(app, make):
    return Cast(app, make, central=True)


def build(world, name):
    """Build request ``name`` of REQUESTS; return its id."""
    state, confidential, team = REQUESTS[name]
    return world.request(state, confidential=confidential, team=world.teams[team])


def decide(user, action, req):
    """What the table's ``action`` says for ``user`` on ``req``, asked of the real code."""
    if action in lifecycle.TRANSITIONS:
        return lifecycle.may_take(lifecycle.TRANSITIONS[action], req, user)
    if action == "served_requests":
        return _selects(policy.served_requests(user), req)
    return policy.allowed(user, action, req)


def _selects(condition, req):
    return db.session.scalar(db.select(Request.id).where(Request.id == req.id, condition)) is not None


@pytest.mark.parametrize("name", list(TABLE))
def test_who_may_do_what_on_each_request(app, world, name):
    request_id = build(world, name)
    with app.app_context():
        req = db.session.get(Request, request_id)
        assert req.state == REQUESTS[name][0]
        assert req.is_central is (name == "central")
        users = {person: db.session.get(User, world.ids[person]) for person in PEOPLE}
        found = {action: {person: decide(users[person], action, req) for person in PEOPLE}
                 for action in TABLE[name]}
        in_sql = {person: _selects(policy.visible_requests(users[person]), req)
                  for person in PEOPLE}
    assert found == {action: cells(row) for action, row in TABLE[name].items()}
    assert in_sql == found["see"], "visible_requests and allowed(see) disagree"


def test_every_rule_about_one_request_is_in_the_table():
    tested = {action for rows in TABLE.values() for action in rows}
    assert set(policy.REQUEST_RULES) <= tested


def test_each_person_holds_the_relations_their_column_names(app, world):
    request_id = build(world, "in progress")
    with app.app_context():
        req = db.session.get(Request, request_id)
        found = {person: set(policy.relations(req, db.session.get(User, world.ids[person])))
                 for person in PEOPLE}
        assert policy.relations(req, None) == {"system"}
        assert policy.relations(req, AnonymousUserMixin()) == set()
        assert policy.watches(req, db.session.get(User, world.ids["watcher"]))
        assert not policy.watches(req, db.session.get(User, world.ids["outsider"]))
    assert found == {
        "owner": {"requester", "team_member"},
        "teammate": {"team_member"},
        "outsider": set(),
        "watcher": set(),
        "team_analyst": {"team_member", "team_analyst"},
        "other_analyst": set(),
        "assignee": {"team_member", "team_analyst", "assignee"},
        "lead": {"lead"},
        "admin": {"admin"},
    }


# --- Actions that are not about one request: by role --------------------------------------

ROLE_TABLE = {
    #                        requester analyst lead admin
    "see_all":              ".         .       Y    Y",
    "triage":               ".         Y       Y    .",
    "work":                 ".         Y       Y    .",
    "view_backlog":         ".         .       Y    Y",
    "view_reports":         ".         Y       Y    Y",
    "view_forecast":        ".         Y       Y    Y",
    "preview_any_digest":   ".         .       Y    Y",
    "manage_people":        ".         .       Y    Y",
    "manage_admins":        ".         .       .    Y",
    "manage_settings":      ".         .       Y    Y",
    # Actions about one request, asked without one: may this role ever take them?
    "see":                  "Y         Y       Y    Y",
    "edit":                 "Y         Y       Y    Y",
    "comment":              "Y         Y       Y    Y",
    "change_kind":          ".         Y       Y    .",
    "edit_triaged_fields":  ".         Y       Y    .",
    "override":             ".         .       Y    .",
    "set_sla_class":        ".         .       Y    .",
    # Reuse (issue 12).
    "search":               "Y         Y       Y    Y",
    "see_catalogue":        "Y         Y       Y    Y",
    "edit_catalogue":       ".         Y       Y    .",
    "record_gap":           ".         Y       Y    .",
    "manage_gap_categories": ".        .       Y    .",
    # Outcomes (issue 13).
    "answer_follow_up":     "Y         Y       Y    Y",
    "view_impact":          ".         .       Y    Y",
    # Attachments (issue 14).
    "attach":               "Y         Y       Y    Y",
    "remove_any_attachment": ".        .       Y    .",
    # Import (issue 16): past requests from a spreadsheet.
    "import_requests":      ".         .       Y    Y",
    # Integrations (issue 16): everyone makes their own API tokens.
    "use_api":              "Y         Y       Y    Y",
    # Webhooks (issue 16): leads and admins; private addresses by an admin only.
    "manage_webhooks":      ".         .       Y    Y",
    "allow_private_webhooks": ".       .       .    Y",
}
TABLE_ROLES = ("requester", "analyst", "lead", "admin")


def test_who_may_do_what_by_role(app, make):
    team = make.team()
    ids = {role: make.user(role, teams=[team]) for role in TABLE_ROLES}
    with app.app_context():
        users = {role: db.session.get(User, ids[role]) for role in TABLE_ROLES}
        found = {action: " ".join("Y" if policy.allowed(users[role], action) else "."
                                  for role in TABLE_ROLES) for action in ROLE_TABLE}
    assert found == {action: " ".join(row.split()) for action, row in ROLE_TABLE.items()}
    assert set(ROLE_TABLE) == set(policy.ROLE_RULES)
    assert set(TABLE_ROLES) == set(ROLES)


@pytest.mark.parametrize("action", list(policy.ROLE_RULES))
def test_nobody_logged_in_may_do_anything(action):
    assert not policy.allowed(None, action)
    assert not policy.allowed(AnonymousUserMixin(), action)


def test_only_workers_may_be_given_requests():
    assert set(lifecycle.WORKER_ROLES) == set(policy.WORKER_ROLES) == policy.ROLE_RULES["work"]


# --- Pages agree with the rules -----------------------------------------------------------

NAV_PAGES = ("/triage", "/queue", "/reports", "/backlog", "/admin/users", "/settings")


def logged_in(app, user_id):
    """A fresh test client logged in as ``user_id``."""
    browser = AuthActions(app.test_client(), app)
    browser.login(user_id)
    return browser.client


def test_the_navigation_links_exactly_the_pages_each_role_may_open(app, make):
    team = make.team()
    for role in ROLES:
        client = logged_in(app, make.user(role, teams=[team]))
        html = client.get("/requests/mine").get_data(as_text=True)
        linked = {path for path in NAV_PAGES if f'href="{path}"' in html}
        opens = {path for path in NAV_PAGES if client.get(path).status_code == 200}
        assert linked == opens, role


def test_the_help_page_links_the_forecast_for_those_who_may_open_it(app, make):
    for role in ROLES:
        client = logged_in(app, make.user(role))
        linked = 'href="/reports/forecast"' in client.get("/help").get_data(as_text=True)
        assert linked is (client.get("/reports/forecast").status_code == 200), role


def digest_links(app, user_id):
    """The paths every link of ``user_id``'s digest (both parts) points at, unsubscribe aside."""
    with app.app_context():
        _, text, html = digest.build(db.session.get(User, user_id), utcnow())
    base = app.config["BASE_URL"].rstrip("/")
    links = set(re.findall(r'href="([^"]+)"', html)) | set(re.findall(r"https?://\S+", text))
    return {link.replace("&amp;", "&").removeprefix(base) for link in links
            if link.startswith(base) and "/unsubscribe/" not in link}


def test_every_link_of_each_digest_opens_for_its_recipient(app, make):
    """The admins' digest (the leads' one) linked the triage page, which admins may not open;
    an analyst's digest listed requests of a team they do not serve, which they may not see."""
    ops, finance = make.team("Ops"), make.team("Finance")
    requester = make.user("requester", teams=[ops])
    leaving = make.user("analyst", teams=[ops])
    soon = {"deadline": date.today() + timedelta(days=3)}
    # Triaged by Ops' analyst, who then leaves Ops: the team's next request goes to the central
    # queue, and the first stays Ops' own.
    own = make.request(requester, ops, title="Ops' own", **soon)
    make.act(own, "accept", leaving, size="M")
    with app.app_context():
        people.save_user(db.session.get(User, leaving), name="Leaving", role="analyst",
                         email="leaving@example.com", team_ids=[finance])
        db.session.commit()
    central = make.request(requester, ops, title="Central", **soon)
    make.act(central, "accept", leaving, size="M")
    with app.app_context():
        settings.set_team_budget(db.session.get(Team, ops), 2, None, utcnow())
        db.session.commit()
    make.request(requester, ops, title="Over budget")  # waitlisted
    with app.app_context():
        assert db.session.get(Request, central).is_central
        assert not db.session.get(Request, own).is_central
    for role in ROLES:
        user_id = make.user(role, teams=[finance])
        client = logged_in(app, user_id)
        paths = digest_links(app, user_id)
        assert paths, role
        refused = {path for path in paths if client.get(path).status_code != 200}
        assert not refused, role

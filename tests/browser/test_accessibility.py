"""axe-core on every main page, for every role, at a laptop's and a phone's width (issue 14,
item 11): no serious or critical violation.

The pages are data: ``PAGES`` lists, per role, what a person of that role opens (a path over
the demo data, and optionally what they do there first: submit a form with errors, say). A new
page joins by adding a ``Page`` to its roles' lists. Each check runs with every panel of the
page unfolded (Bootstrap's collapses, ``<details>``): a form that opens under a button is
checked too.
"""
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import pytest
from sqlalchemy import select

from tests.browser.conftest import log_in
from tickets import mail, outcomes
from tickets.demo import DEMO_PASSWORD, seed_demo
from tickets.extensions import db
from tickets.models import (STATES, Asset, FollowUp, GapCategory, Request, Team, User, Webhook,
                            utcnow)
from tickets.policy import visible_assets, visible_requests

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"laptop": 1280, "phone": 390}
# What fails the check: axe's two highest impacts (moderate and minor are reported by axe too,
# but are advice, not barriers).
BLOCKING = ("serious", "critical")


@dataclass(frozen=True)
class Page:
    """A page to check: ``path`` may name demo rows (``{request:accepted}``, ``{asset}``...,
    see ``demo_places``); ``then`` acts on the loaded page before the check."""
    name: str
    path: str
    then: Optional[Callable] = None


# --- What people do on a page before it is checked ---------------------------------------------

def submit(button):
    """Press the form button named ``button`` as it is (empty or invalid fields)."""
    def act(page):
        page.get_by_role("button", name=button, exact=True).first.click()
        page.wait_for_load_state()
    return act


def fill_and_submit(button, **fields):
    """Fill the fields labelled as ``fields``' keys (underscores for spaces), then submit."""
    def act(page):
        for label, value in fields.items():
            page.get_by_label(label.replace("_", " "), exact=True).first.fill(value)
        submit(button)(page)
    return act


def bad_deadline(page):
    """The intake form sent with a title only and a deadline in the past."""
    page.get_by_label("Title").fill("Churn by region")
    page.get_by_label("When do you need it?").fill("2020-01-01")
    submit("Submit request")(page)


def wrong_password(page):
    """The password form with a wrong current password and a short new one."""
    page.get_by_label("Current password").fill("not my password")
    page.get_by_label("New password", exact=True).fill("short")
    submit("Change your password")(page)


def upload_a_spreadsheet(page):
    """The import's first step sent with a small CSV: one good row, one for a team and a
    person to create, one bad (the mapping and preview, with every kind of note)."""
    path = Path(tempfile.mkdtemp()) / "past-requests.csv"
    path.write_text("ID,Title,Team,Requester e-mail,Status,Deadline\n"
                    "A-1,Churn by region,Marketing,requester@example.com,Done,\n"
                    "A-2,Revenue,Growth,new.person@example.com,New,\n"
                    "A-3,Signups,Marketing,requester@example.com,Parked,31/02/2024\n")
    page.get_by_label("Spreadsheet (CSV or XLSX)").set_input_files(str(path))
    submit("Read the file")(page)


def import_a_spreadsheet(page):
    """The import confirmed: the result page with its refused rows."""
    upload_a_spreadsheet(page)
    submit("Import the good rows")(page)


def deliver_without_a_link(page):
    """The request page's deliver form sent empty: its errors show in the open panel."""
    page.get_by_role("button", name="Deliver…").click()
    page.locator("#action-deliver").get_by_role("button", name="Deliver", exact=True).click()
    page.wait_for_load_state()


def open_first_triage_panel(page):
    """Open the triage dialog for the first row on /triage, with its accept form."""
    button = page.locator(".triage-row [data-triage-open]").first
    if button.count():
        button.click()
        page.locator("#triage-dialog [data-triage-action]:visible").first.click()


# --- The pages, per role ------------------------------------------------------------------------

def request_pages():
    """The request page in each state (the first such request the person may see)."""
    return [Page(f"request {state}", f"/requests/{{request:{state}}}") for state in STATES]


EVERYONE = [
    Page("home", "/"),
    Page("my requests", "/requests/mine"),
    Page("team requests", "/requests/team"),
    Page("intake form", "/requests/new"),
    Page("intake form with errors", "/requests/new", bad_deadline),
    Page("edit request", "/requests/{editable}/edit"),
    *request_pages(),
    Page("search", "/search?q=churn+by+region"),
    Page("search, nothing found", "/search?q=unicorn+telemetry"),
    Page("catalogue", "/catalogue"),
    Page("catalogue asset", "/catalogue/{asset}"),
    Page("follow-ups", "/follow-ups"),
    Page("help", "/help"),
    Page("preferences", "/preferences"),
    Page("preferences with errors", "/preferences", wrong_password),
    Page("API access tokens", "/preferences/tokens"),
    Page("API access token made", "/preferences/tokens",
         fill_and_submit("Make token", Name="Churn notebook")),
    Page("API access token with errors", "/preferences/tokens", submit("Make token")),
    Page("API reference", "/api/v1/docs"),
    Page("own digest preview", "/digests/preview"),
    Page("not found", "/requests/999999"),
]
DATA_TEAM = [
    Page("triage", "/triage"),
    Page("triage, panel open", "/triage", open_first_triage_panel),
    Page("queue", "/queue"),
    Page("reports", "/reports"),
    Page("forecast", "/reports/forecast"),
    Page("platform gaps report", "/reports/platform-gaps"),
    Page("deflection report", "/reports/deflection"),
    Page("change kind", "/requests/{request:submitted}/kind"),
    Page("new asset", "/catalogue/new"),
    Page("new asset with errors", "/catalogue/new",
         fill_and_submit("Add to the catalogue", Title="Revenue", Link="javascript:alert(1)")),
]
MANAGERS = [
    Page("all requests", "/requests/all"),
    Page("backlog", "/backlog"),
    Page("reports", "/reports"),
    Page("forecast", "/reports/forecast"),
    Page("impact ledger", "/reports/impact"),
    Page("people", "/admin/users"),
    Page("new person", "/admin/users/new"),
    Page("new person with errors", "/admin/users/new", submit("Send the invitation")),
    Page("edit person", "/admin/users/{user}/edit"),
    Page("teams", "/admin/teams"),
    Page("new team", "/admin/teams/new"),
    Page("new team with errors", "/admin/teams/new", submit("Save team")),
    Page("edit team", "/admin/teams/{team}/edit"),
    Page("settings", "/settings"),
    Page("settings with errors", "/settings",
         fill_and_submit("Save settings", **{"Project requests": "0"})),
    Page("digest preview of another", "/digests/preview?user={user}"),
    Page("import requests", "/admin/import"),
    Page("import requests with errors", "/admin/import", submit("Read the file")),
    Page("import mapping and preview", "/admin/import", upload_a_spreadsheet),
    Page("import done", "/admin/import", import_a_spreadsheet),
    Page("webhooks", "/settings/webhooks"),
    Page("webhook added", "/settings/webhooks",
         fill_and_submit("Add endpoint", Payload_URL="https://hooks.example.com/new")),
    Page("webhook with errors", "/settings/webhooks",
         fill_and_submit("Add endpoint", Payload_URL="ftp://10.0.0.1/x")),
    Page("webhook endpoint and its log", "/settings/webhooks/{webhook}"),
]
PAGES = {
    "anonymous": [
        Page("log-in", "/login"),
        Page("log-in refused", "/login", fill_and_submit(
            "Log in", **{"E-mail": "nobody@example.com", "Password": "wrong"})),
        Page("follow-up answer link", "{follow_up_link}"),
        Page("follow-up answer with errors", "{follow_up_link}", submit("Record my answer")),
        Page("unsubscribe link", "{unsubscribe_link}"),
        Page("not found", "/no-such-page"),
    ],
    "requester": [*EVERYONE, Page("forbidden", "/triage")],
    "analyst": [*EVERYONE, *DATA_TEAM],
    "lead": [*EVERYONE, *DATA_TEAM, *MANAGERS,
             Page("request in progress, delivered without a link",
                  "/requests/{request:in_progress}", deliver_without_a_link),
             Page("platform gap categories", "/settings/platform-gaps"),
             Page("platform gap categories with errors", "/settings/platform-gaps",
                  fill_and_submit("Add category", Name="no ACCESS")),
             Page("edit platform gap category", "/settings/platform-gaps/{gap_category}/edit")],
    "admin": [*EVERYONE, *MANAGERS],
}
# Request states of which the demo shows a role none: its requester sees one team's requests,
# its analyst those of the two teams they serve.
UNSEEN_IN_DEMO = {"requester": ("waitlisted", "accepted", "blocked", "declined", "duplicate"),
                  # Since the lanes of issue 14 met, the demo gives its analyst's teams no
                  # declined request either (the demo's dates are relative to the day it is
                  # seeded, so this may change again: the assertion below says so when it does).
                  "analyst": ("waitlisted", "declined", "duplicate")}
LOG_INS = {"requester": "requester@example.com", "analyst": "analyst@example.com",
           "lead": "lead@example.com", "admin": "admin@example.com"}


# --- Running axe ----------------------------------------------------------------------------------

# Opens what a person may open on the page (panels under buttons, <details>) and lets the page's
# scripts see them, then runs axe and keeps the violations that block people, each with (up to
# five of) the elements it concerns.
AXE_RUN = """async (blocking) => {
  document.querySelectorAll('.collapse:not(.navbar-collapse)').forEach(el => el.classList.add('show'));
  document.querySelectorAll('details').forEach(el => { el.open = true; });
  await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter(v => blocking.includes(v.impact)).map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: '
                                      + n.failureSummary.replace(/\\s+/g, ' ').slice(0, 240))}));
}"""

# The error messages a person sees twice: a field's message (.invalid-feedback) said again in an
# alert (the error summary, a flash), or twice at the same field.
REPEATED_ERRORS = """() => {
  const seen = el => el.getClientRects().length > 0;
  const text = el => el.innerText.replace(/\\s+/g, ' ').trim();
  const feedback = [...document.querySelectorAll('.invalid-feedback')].filter(seen);
  const alerts = [...document.querySelectorAll('.alert')].filter(seen).map(text);
  const repeated = [];
  feedback.forEach(el => {
    const message = text(el);
    if (!message) { return; }
    if (alerts.some(alert => alert.includes(message))) { repeated.push(message + ' (and in an alert)'); }
    if (feedback.some(other => other !== el && text(other) === message
                      && (other.parentElement === el.parentElement || (el.id && other.id === el.id)))) {
      repeated.push(message + ' (twice at its field)');
    }
  });
  return repeated;
}"""


def axe_violations(page):
    """Inject axe-core into ``page`` and return its blocking violations (a list of dicts)."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate(AXE_RUN, list(BLOCKING))


def demo_places(app, email, base_url):
    """Ids and links of the demo data that the pages' paths name, as seen by ``email`` (None:
    someone not logged in)."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email)) if email else None
        places = {}
        if user is not None:
            for state in STATES:
                # Their own first: what a requester sees differs most on their own requests.
                found = db.session.scalar(select(Request.id).where(
                    visible_requests(user), Request.state == state)
                    .order_by((Request.requester_id == user.id).desc(), Request.id).limit(1))
                if found:
                    places[f"request:{state}"] = found
            places["editable"] = db.session.scalar(select(Request.id).where(
                Request.requester_id == user.id, Request.state == "submitted")
                .order_by(Request.id).limit(1)) or places.get("request:submitted")
            places["asset"] = db.session.scalar(select(Asset.id).where(visible_assets(user))
                                                .order_by(Asset.id).limit(1))
        places["team"] = db.session.scalar(select(Team.id).order_by(Team.id).limit(1))
        places["user"] = db.session.scalar(select(User.id).where(User.role == "requester")
                                           .order_by(User.id).limit(1))
        places["gap_category"] = db.session.scalar(select(GapCategory.id).order_by(
            GapCategory.id).limit(1))
        places["webhook"] = db.session.scalar(select(Webhook.id).order_by(Webhook.id).limit(1))
        app.config["BASE_URL"] = base_url
        outcomes.send_due(utcnow(), force=True)
        db.session.commit()
        waiting = db.session.scalar(select(FollowUp).where(FollowUp.answered_at.is_(None))
                                    .order_by(FollowUp.id).limit(1))
        if waiting is not None:
            places["follow_up_link"] = outcomes.link_url(waiting, "not_used")
            places["unsubscribe_link"] = mail.unsubscribe_url(waiting.recipient, "digest")
        return places


def resolve(path, places):
    """``path`` with its demo names filled in, or None when the demo has no such row for this
    person."""
    try:
        resolved = path.replace("{", "{0[").replace("}", "]}").format(places)
    except KeyError:
        return None
    return None if "None" in resolved else resolved


@pytest.fixture
def demo(app):
    """The demo data of a first start."""
    with app.app_context():
        seed_demo()
        db.session.commit()


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
@pytest.mark.parametrize("role", PAGES.keys())
def test_every_main_page_has_no_serious_or_critical_axe_violation(
        role, width, demo, app, browser, live_server, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", live_server)
    # axe is injected as a script of the page: the pages' own policy allows only their scripts.
    context = browser.new_context(base_url=live_server, viewport={"width": width, "height": 900},
                                  reduced_motion="reduce", bypass_csp=True)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        email = LOG_INS.get(role)
        if email:
            log_in(page, email, DEMO_PASSWORD)
        places = demo_places(app, email, live_server)
        found, missing = {}, []
        for entry in PAGES[role]:
            path = resolve(entry.path, places)
            if path is None:
                missing.append(entry.name)
                continue
            page.goto(path)
            if entry.then:
                entry.then(page)
            problems = axe_violations(page)
            repeated = page.evaluate(REPEATED_ERRORS)
            if repeated:
                problems.append({"impact": "serious", "id": "repeated-error",
                                 "help": "An error message shows more than once",
                                 "targets": repeated})
            if problems:
                found[f"{entry.name} ({path})"] = problems
    finally:
        context.close()
    assert set(missing) <= {f"request {state}" for state in UNSEEN_IN_DEMO.get(role, ())}, missing
    assert found == {}, "\n".join(
        f"{name}: {v['impact']} {v['id']}: {v['help']}\n    " + "\n    ".join(v["targets"])
        for name, violations in found.items() for v in violations)

"""Take screenshots of the main pages over the demo data, to look at what users see.

    .venv/bin/python -m tests.browser.screenshots [OUTPUT_DIR] [GROUPS]

GROUPS (comma-separated names of SHOTS, e.g. ``people``) shoots only those pages.

Builds a throw-away SQLite database with the migrations and the demo data, serves the app on a
free port and saves PNGs (default: /tmp/datadesk-screenshots). Not part of the test run.
"""
import sys
import tempfile
import threading
from pathlib import Path

from flask_migrate import upgrade
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

from tests.browser.conftest import CHROMIUM_ARGS, chromium_path, log_in
from tickets import create_app, outcomes
from tickets.demo import DEMO_PASSWORD, seed_demo
from tickets.extensions import db
from tickets.models import Event, FollowUp, Request, Team, User, utcnow


def _shoot_reports(page, path):
    """/reports once every chart is drawn (reports.js marks each canvas)."""
    page.goto("/reports")
    page.wait_for_function("() => [...document.querySelectorAll('canvas[data-chart-url]')]"
                           ".every(c => c.dataset.chartDrawn === 'true')")
    page.screenshot(path=path, full_page=True)


def _shoot_gaps(page, out, suffix):
    """The gaps report once its charts are drawn, and the taxonomy with a refused name."""
    page.goto("/reports/platform-gaps")
    page.wait_for_function("() => [...document.querySelectorAll('canvas[data-chart-url]')]"
                           ".every(c => c.dataset.chartDrawn === 'true')")
    page.screenshot(path=out / f"platform-gaps-report{suffix}.png", full_page=True)
    page.goto("/settings/platform-gaps")
    page.screenshot(path=out / f"platform-gap-categories{suffix}.png", full_page=True)
    page.get_by_label("Name").fill("no ACCESS")
    page.get_by_role("button", name="Add category").click()
    page.screenshot(path=out / f"platform-gap-categories-error{suffix}.png", full_page=True)
def _shoot_catalogue(page, out, suffix):
    """The catalogue, an asset's page and the asset form with errors, as the lead sees them."""
    page.goto("/catalogue")
    page.screenshot(path=out / f"catalogue{suffix}.png", full_page=True)
    page.goto("/catalogue?status=any&sort=used")
    page.screenshot(path=out / f"catalogue-any{suffix}.png", full_page=True)
    page.goto("/catalogue?q=churn+per+region&status=any")
    page.screenshot(path=out / f"catalogue-search{suffix}.png", full_page=True)
    page.locator(".asset-title").first.click()
    page.screenshot(path=out / f"catalogue-asset{suffix}.png", full_page=True)
    page.goto("/catalogue/new")
    page.get_by_label("Title").fill("Revenue by channel")
    page.get_by_label("Link").fill("javascript:alert(1)")
    page.get_by_role("button", name="Add to the catalogue").click()
    page.screenshot(path=out / f"catalogue-form-errors{suffix}.png", full_page=True)
def _shoot_track_record(browser, base, out):
    """Triage with each team's track record (analyst; lead with the ledger links), a submitted
    request's track record card, and the settings' Outcomes section with field errors, at
    laptop and phone widths."""
    for width, suffix in [(1280, ""), (390, "-mobile")]:
        ctx = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
        page = ctx.new_page()
        log_in(page, "analyst@example.com", DEMO_PASSWORD)
        page.goto("/triage")
        page.screenshot(path=out / f"triage-track-record{suffix}.png", full_page=True)
        page.locator(".triage-row a").first.click()
        page.screenshot(path=out / f"request-track-record{suffix}.png", full_page=True)
        ctx.close()
        ctx = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
        page = ctx.new_page()
        log_in(page, "lead@example.com", DEMO_PASSWORD)
        page.goto("/triage")
        page.screenshot(path=out / f"triage-track-record-lead{suffix}.png", full_page=True)
        page.goto("/settings")
        outcomes_card = page.locator("section[aria-labelledby='s-outcomes']")
        outcomes_card.screenshot(path=out / f"settings-outcomes{suffix}.png")
        page.get_by_label("Project requests").fill("0")
        page.get_by_label("Reminder after (days)").fill("soon")
        page.get_by_role("button", name="Save settings").click()
        page.screenshot(path=out / f"settings-outcomes-errors-page{suffix}.png")
        outcomes_card.screenshot(path=out / f"settings-outcomes-errors{suffix}.png")
def _shoot_impact(browser, base, app, out):
    """The impact ledger as a lead reads it (laptop and phone; rows by format), over the
    demo's follow-ups."""
    for width, suffix in [(1280, ""), (390, "-mobile")]:
        ctx = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
        page = ctx.new_page()
        log_in(page, "lead@example.com", DEMO_PASSWORD)
        for path, name in (("/reports/impact", "impact-ledger"),
                           ("/reports/impact?group=format",
                            "impact-ledger-by-format")):
            page.goto(path)
            page.wait_for_function("() => [...document.querySelectorAll('canvas[data-chart-url]')]"
                                   ".every(c => c.dataset.chartDrawn === 'true')")
            page.screenshot(path=out / f"{name}{suffix}.png", full_page=True)
        page.goto("/reports/impact?group=analyst&format=pdf")
        page.screenshot(path=out / f"impact-ledger-bad-filters{suffix}.png", full_page=True)
        ctx.close()


def _shoot_people(browser, base, app, out):
    """Invitations and local time (issue 14): the People page with invited people, the invite
    form (filtered team checklist, then errors), an invited person's page, the join page, link
    problems, "Forgot your password?" and its answer, the time zone preference and a request's
    timeline for someone in Tokyo, at a laptop's and a phone's width."""
    from datetime import timedelta

    from tickets import invitations

    with app.app_context():
        invited = db.session.scalar(select(User).where(User.email == "noah.fischer@example.com"))
        expired = db.session.scalar(select(User).where(User.email == "mei.lin@example.com"))
        join_path = "/join/" + invitations.make_token(invited, "invitation", utcnow())
        expired_path = "/join/" + invitations.make_token(
            expired, "invitation", utcnow() - timedelta(days=9))
        invited_id = invited.id
        busiest = db.session.scalar(select(Request.id).join(Event).group_by(Request.id)
                                    .order_by(db.func.count(Event.id).desc()).limit(1))
    for width, suffix in [(1280, ""), (390, "-mobile")]:
        ctx = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
        page = ctx.new_page()
        log_in(page, "admin@example.com", DEMO_PASSWORD)
        page.goto("/admin/users")
        page.screenshot(path=out / f"people{suffix}.png", full_page=True)
        page.goto("/admin/users/new")
        page.get_by_label("Full name").fill("Zoe Example")
        page.get_by_label("Filter the teams").fill("mar")
        page.get_by_label("Marketing").check()
        page.screenshot(path=out / f"invite-form{suffix}.png", full_page=True)
        page.get_by_label("E-mail").fill("zoe@")
        page.get_by_role("button", name="Send the invitation").click()
        page.screenshot(path=out / f"invite-form-errors{suffix}.png", full_page=True)
        page.goto(f"/admin/users/{invited_id}/edit")
        page.screenshot(path=out / f"invited-person{suffix}.png", full_page=True)
        ctx.close()
        ctx = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
        page = ctx.new_page()
        page.goto(join_path)
        page.screenshot(path=out / f"join{suffix}.png", full_page=True)
        page.get_by_label("New password", exact=True).fill("short")
        page.get_by_role("button", name="Join Datadesk").click()
        page.screenshot(path=out / f"join-errors{suffix}.png", full_page=True)
        page.goto(expired_path)
        page.screenshot(path=out / f"join-expired{suffix}.png", full_page=True)
        page.goto("/password/reset/not-a-real-link")
        page.screenshot(path=out / f"reset-forged{suffix}.png", full_page=True)
        page.goto("/password/forgot")
        page.screenshot(path=out / f"forgot-password{suffix}.png", full_page=True)
        page.get_by_label("E-mail").fill("requester@example.com")
        page.get_by_role("button", name="Send me a link").click()
        page.screenshot(path=out / f"reset-sent{suffix}.png", full_page=True)
        ctx.close()
        ctx = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
        page = ctx.new_page()
        log_in(page, "kenji.tanaka@example.com", DEMO_PASSWORD)
        page.goto("/preferences#time-zone")
        page.locator("#time-zone").scroll_into_view_if_needed()
        page.screenshot(path=out / f"preferences-time-zone{suffix}.png")
        page.goto(f"/requests/{busiest}")
        page.screenshot(path=out / f"request-local-times{suffix}.png", full_page=True)
        ctx.close()


SHOTS = {"people": _shoot_people}


def _fill_intake(page, title, data_needed):
    """Fill every field of the intake form (the title and data needed as given)."""
    page.get_by_label("Title").fill(title)
    page.get_by_label("What data do you need?").fill(data_needed)
    for label, text in (("How will you use it?", "Weekly channel review."),
                        ("Which result are you trying to influence?", "Return on ad spend."),
                        ("What do you expect the data to look like?", "Search beats social."),
                        ("How will you read the answer from it?", "Rank the campaigns."),
                        ("Which decision or action will it drive?", "Move the budget.")):
        page.get_by_label(label).fill(text)
    page.get_by_label("No hard deadline").check()


def _shoot_deflection(browser, base, app, out):
    """The intake form's suggestions (laptop, phone; the no-JS check step), the deflection
    page, and /reports/deflection over the demo's deflections and misses."""
    title, data_needed = "Return on ad spend by campaign", "Spend and revenue per campaign."
    for width, suffix in [(1280, ""), (390, "-mobile")]:
        ctx = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
        page = ctx.new_page()
        log_in(page, "requester@example.com", DEMO_PASSWORD)
        page.goto("/requests/new")
        page.get_by_label("Title").fill(title)
        page.get_by_label("What data do you need?").fill(data_needed)
        page.locator("#suggestions [data-suggestion]").first.wait_for(timeout=10_000)
        page.locator("#suggestions").scroll_into_view_if_needed()
        page.screenshot(path=out / f"intake-suggestions{suffix}.png", full_page=True)
        ctx.close()
    ctx = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900},
                              java_script_enabled=False)
    page = ctx.new_page()
    log_in(page, "requester@example.com", DEMO_PASSWORD)
    page.goto("/requests/new")
    _fill_intake(page, title, data_needed)
    page.get_by_role("button", name="Submit request").click()
    page.screenshot(path=out / "intake-check-step-nojs.png", full_page=True)
    page.get_by_role("button", name="This answers my question").first.click()
    page.screenshot(path=out / "intake-deflected.png", full_page=True)
    ctx.close()
    for width, suffix in [(1280, ""), (390, "-mobile")]:
        ctx = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
        page = ctx.new_page()
        log_in(page, "lead@example.com", DEMO_PASSWORD)
        page.goto("/reports/deflection")
        page.wait_for_function("() => document.querySelector('canvas[data-chart-url]')"
                               ".dataset.chartDrawn === 'true'")
        page.screenshot(path=out / f"reports-deflection{suffix}.png", full_page=True)
        ctx.close()


def _shoot_reuse_actions(browser, base, app, out):
    """The triage panel's neighbours on a submitted request, and the deliver form open on a
    request in progress (a lead may deliver any), at a laptop's and a phone's width."""
    with app.app_context():
        submitted = db.session.scalar(select(Request.id).where(
            Request.state == "submitted").order_by(Request.id).limit(1))
        working = db.session.scalar(select(Request.id).where(
            Request.state == "in_progress").order_by(Request.id).limit(1))
    for width, suffix in [(1280, ""), (390, "-mobile")]:
        ctx = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
        page = ctx.new_page()
        log_in(page, "lead@example.com", DEMO_PASSWORD)
        if submitted:
            page.goto(f"/requests/{submitted}")
            page.locator(".neighbours").scroll_into_view_if_needed()
            page.screenshot(path=out / f"request-neighbours{suffix}.png", full_page=True)
            page.locator(".neighbours").screenshot(path=out / f"neighbours{suffix}.png")
        if working:
            page.goto(f"/requests/{working}")
            page.wait_for_load_state()
            page.get_by_role("button", name="Deliver…").click()
            page.locator("#action-deliver").wait_for(state="visible")
            page.wait_for_timeout(400)  # the panel's opening animation moves the tick box
            page.get_by_label("The requester could have done this themselves").check()
            page.wait_for_timeout(400)
            page.locator("#action-deliver").screenshot(path=out / f"deliver-form{suffix}.png")
        ctx.close()


def _shoot_follow_ups(browser, base, app, out):
    """Follow-ups as a requester meets them: a mail's answer link opened without logging in
    (the page, "not used" without a reason, the thanks, the link used again, a forged one),
    then logged in: the prompt on My requests, /follow-ups, the request page's card with its
    answer form open (waiting) and with the answer given, at a laptop's and a phone's width."""
    app.config["BASE_URL"] = base  # the mail's links point at this server
    with app.app_context():
        outcomes.send_due(utcnow(), force=True)  # ask every scheduled follow-up now
        db.session.commit()
        waiting = db.session.scalars(
            select(FollowUp).join(User, User.id == FollowUp.recipient_id)
            .where(FollowUp.answered_at.is_(None), User.is_active)
            .order_by(FollowUp.recipient_id, FollowUp.id)).all()
        # Per width: one follow-up answered by its link, another of the same person left
        # waiting (its form shows open).
        by_person = {}
        for follow_up in waiting:
            by_person.setdefault(follow_up.recipient.email, []).append(
                (follow_up.request_id, outcomes.link_url(follow_up, "not_used"),
                 outcomes.link_url(follow_up, "acted")))
        people = [(email, found) for email, found in by_person.items() if len(found) >= 2]
    if not people:
        print("Nobody with two unanswered follow-ups: follow-up shots skipped")
        return
    # One person per width (a second person's, when there is one, for the phone).
    for (width, suffix), (email, found) in zip([(1280, ""), (390, "-mobile")], people):
        (request_id, not_used, acted), (other_id, _, _) = found[0], found[1]
        ctx = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
        page = ctx.new_page()
        page.goto(not_used)
        page.screenshot(path=out / f"follow-up-link{suffix}.png", full_page=True)
        page.get_by_role("button", name="Record my answer").click()
        page.screenshot(path=out / f"follow-up-link-error{suffix}.png", full_page=True)
        page.get_by_label("Why was it not used?").select_option("too_late")
        page.get_by_role("button", name="Record my answer").click()
        page.screenshot(path=out / f"follow-up-thanks{suffix}.png", full_page=True)
        page.goto(acted)
        page.screenshot(path=out / f"follow-up-link-used{suffix}.png", full_page=True)
        page.goto(acted[:-4] + "abcd")
        page.screenshot(path=out / f"follow-up-link-forged{suffix}.png", full_page=True)
        log_in(page, email, DEMO_PASSWORD)
        page.goto("/requests/mine")
        page.screenshot(path=out / f"follow-ups-prompt{suffix}.png")
        page.goto("/follow-ups")
        page.screenshot(path=out / f"follow-ups{suffix}.png", full_page=True)
        page.goto(f"/requests/{other_id}")
        page.locator("#outcome").screenshot(path=out / f"request-outcome-form{suffix}.png")
        page.goto(f"/requests/{request_id}")
        page.wait_for_load_state()
        page.get_by_role("button", name="Change the answer…").click()
        page.wait_for_timeout(400)
        page.locator("#outcome").screenshot(path=out / f"request-outcome{suffix}.png")
        page.screenshot(path=out / f"request-outcome-page{suffix}.png", full_page=True)
        ctx.close()


def _shoot_numbers(browser, base, app, out):
    """Issue 14's numbers: the intake form's waitlist notice (Customer Support's budget is spent
    in the demo), a forecast with its range, the backlog's counts and the backlog forecast."""
    with app.app_context():
        forecast_id = db.session.scalar(
            select(Request.id).join(Team).where(Request.state == "accepted",
                                                Team.name.in_(("Marketing", "Sales")))
            .order_by(Request.id).limit(1))
        support = db.session.scalar(select(Team.id).where(Team.name == "Customer Support"))
    for width, suffix in [(1280, ""), (390, "-mobile")]:
        ctx = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
        page = ctx.new_page()
        log_in(page, "grace.mwangi@example.com", DEMO_PASSWORD)
        page.goto("/requests/new")
        page.get_by_label("Requesting team").select_option(str(support))
        page.locator("#team_id-waitlist-notice").scroll_into_view_if_needed()
        page.screenshot(path=out / f"intake-waitlist-notice{suffix}.png", full_page=True)
        ctx.close()
        ctx = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
        page = ctx.new_page()
        log_in(page, "lead@example.com", DEMO_PASSWORD)
        if forecast_id:
            page.goto(f"/requests/{forecast_id}")
            page.locator(".forecast-panel").scroll_into_view_if_needed()
            page.screenshot(path=out / f"request-forecast-range{suffix}.png", full_page=True)
        page.goto("/backlog")
        page.screenshot(path=out / f"backlog-counts{suffix}.png", full_page=True)
        page.goto("/reports/forecast")
        page.screenshot(path=out / f"forecast-clearance{suffix}.png", full_page=True)
        ctx.close()


def _shoot_reach(browser, base, app, out):
    """Look and reach (issue 14): the lists' filters folded and unfolded on a phone, the
    warning-coloured actions (block, reopen) at both widths, the error summary that links each
    field, and the skip link as the first Tab shows it."""
    with app.app_context():
        working = db.session.scalar(select(Request.id).where(
            Request.state == "in_progress").order_by(Request.id).limit(1))
        delivered = db.session.execute(
            select(Request.id, User.email).join(User, User.id == Request.requester_id)
            .where(Request.state == "delivered", User.role == "requester")
            .order_by(Request.id).limit(1)).first()
    for who, paths in (("requester", ("/requests/mine", "/catalogue")),
                       ("analyst", ("/triage", "/queue")), ("lead", ("/backlog",))):
        ctx = browser.new_context(base_url=base, viewport={"width": 390, "height": 844})
        page = ctx.new_page()
        log_in(page, f"{who}@example.com", DEMO_PASSWORD)
        for path in paths:
            name = path.strip("/").replace("/", "-")
            page.goto(path)
            page.screenshot(path=out / f"filters-folded-{name}-mobile.png")
            page.locator(".filters-toggle").click()
            page.wait_for_timeout(400)
            page.screenshot(path=out / f"filters-open-{name}-mobile.png")
        ctx.close()
    for width, suffix in [(1280, ""), (390, "-mobile")]:
        ctx = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
        page = ctx.new_page()
        log_in(page, "lead@example.com", DEMO_PASSWORD)
        if working:
            page.goto(f"/requests/{working}")
            page.locator(".actions").screenshot(path=out / f"actions-block{suffix}.png")
        page.goto("/requests/new")
        page.get_by_role("button", name="Submit request").click()
        page.locator("#error-summary").screenshot(path=out / f"error-summary{suffix}.png")
        page.goto("/requests/all")
        page.keyboard.press("Tab")
        page.screenshot(path=out / f"skip-link{suffix}.png")
        ctx.close()
        if delivered:
            ctx = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
            page = ctx.new_page()
            log_in(page, delivered.email, DEMO_PASSWORD)
            page.goto(f"/requests/{delivered.id}")
            page.locator(".actions").screenshot(path=out / f"actions-reopen{suffix}.png")
            ctx.close()

def _shoot_attachments(browser, base, app, out, tmp):
    """Files: the request page of the demo requester's request with files (its Files card and
    timeline), the "add files" panel open with a refused file, the intake form sent back with
    a kept file and a refused one, and the settings' Attachments card, at a laptop's and a
    phone's width."""
    from tickets.models import Attachment

    with app.app_context():
        request_id = db.session.scalar(
            select(Attachment.request_id).join(Request).join(User, User.id == Request.requester_id)
            .where(User.email == "requester@example.com").order_by(Attachment.id).limit(1))
    sample, tool = Path(tmp) / "regions sample.csv", Path(tmp) / "installer.exe"
    sample.write_bytes(b"region,week,churned\nnorth,1,12\n")
    tool.write_bytes(b"MZ")
    for width, suffix in [(1280, ""), (390, "-mobile")]:
        ctx = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
        page = ctx.new_page()
        log_in(page, "requester@example.com", DEMO_PASSWORD)
        if request_id:
            page.goto(f"/requests/{request_id}")
            page.screenshot(path=out / f"request-files{suffix}.png", full_page=True)
            page.locator("#attachments").screenshot(path=out / f"files-card{suffix}.png")
            page.get_by_role("button", name="Add files…").click()
            page.wait_for_timeout(400)
            page.locator("#files-files").set_input_files(str(tool))
            page.locator("#attachments").screenshot(path=out / f"files-add-refused{suffix}.png")
        page.goto("/requests/new")
        _fill_intake(page, "", "Churn per region and week.")
        page.get_by_label("Attach files").set_input_files(str(sample))
        page.get_by_role("button", name="Submit request").click()
        page.screenshot(path=out / f"intake-files-kept{suffix}.png", full_page=True)
        page.locator("section[aria-labelledby='sec-files']").screenshot(
            path=out / f"intake-files-card{suffix}.png")
        ctx.close()
        ctx = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
        page = ctx.new_page()
        log_in(page, "lead@example.com", DEMO_PASSWORD)
        page.goto("/settings")
        page.get_by_label("File types allowed").fill("csv, html")
        page.get_by_role("button", name="Save settings").click()
        page.locator("section[aria-labelledby='s-files']").screenshot(
            path=out / f"settings-attachments-error{suffix}.png")
        ctx.close()


def _shoot_conversation(browser, base, app, out):
    """The conversation (issue 14) at a laptop's and a phone's width: the requester's My
    requests with what waits on them first, the reply box beside a question (empty, then sent
    empty: its error), the @mention list open under a comment, a timeline with
    highlighted mentions (as a lead), and a comment refused for mentioning someone unknown."""
    with app.app_context():
        requester = db.session.scalar(select(User).where(User.email == "requester@example.com"))
        question = db.session.scalar(select(Request.id).where(
            Request.requester_id == requester.id, Request.state == "needs_info").limit(1))
        # A request still open (its comment box shows) with a comment that mentions someone.
        mentioned = next((event.request_id for event in db.session.scalars(
            select(Event).where(Event.kind == "comment").order_by(Event.id))
            if event.data.get("mentions") and not event.request.is_closed), None)
        own = db.session.scalar(select(Request.id).where(
            Request.requester_id == requester.id, Request.state.in_(["submitted", "accepted"]))
            .limit(1))
    for width, suffix in [(1280, ""), (390, "-mobile")]:
        ctx = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
        page = ctx.new_page()
        log_in(page, "requester@example.com", DEMO_PASSWORD)
        page.goto("/requests/mine")
        page.screenshot(path=out / f"my-requests-waiting{suffix}.png")
        if question:
            page.goto(f"/requests/{question}")
            page.screenshot(path=out / f"reply-box{suffix}.png")
            page.get_by_role("button", name="Send reply").click()
            page.screenshot(path=out / f"reply-box-error{suffix}.png")
        if own:
            page.goto(f"/requests/{own}")
            page.get_by_role("textbox", name="Comment").fill("Can @[Nobody Known] check this?")
            page.get_by_role("button", name="Add comment").click()
            page.locator(".comment-form").scroll_into_view_if_needed()
            page.locator(".comment-form").screenshot(path=out / f"mention-refused{suffix}.png")
        ctx.close()
        ctx = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
        page = ctx.new_page()
        log_in(page, "lead@example.com", DEMO_PASSWORD)  # sees every request
        if mentioned:
            page.goto(f"/requests/{mentioned}")
            page.wait_for_load_state()
            page.locator(".timeline").screenshot(path=out / f"timeline-mentions{suffix}.png")
            comment = page.get_by_role("textbox", name="Comment")
            comment.scroll_into_view_if_needed()
            comment.focus()
            page.keyboard.type("Thanks @")
            page.get_by_role("listbox").wait_for()
            page.keyboard.press("ArrowDown")
            page.wait_for_timeout(200)
            page.screenshot(path=out / f"mention-autocomplete{suffix}.png")
        ctx.close()


def _shoot_notifications(browser, base, out):
    """The bell and /notifications of the demo requester (some unread) and analyst (mentioned),
    the unread filter, the phone's header with the bell, and the preferences table of kinds x
    modes, at laptop and phone widths."""
    for width, suffix in [(1280, ""), (390, "-mobile")]:
        for who in ("requester", "analyst"):
            ctx = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
            page = ctx.new_page()
            log_in(page, f"{who}@example.com", DEMO_PASSWORD)
            page.goto("/notifications")
            page.screenshot(path=out / f"notifications-{who}{suffix}.png", full_page=True)
            page.locator("nav.navbar").screenshot(path=out / f"header-bell-{who}{suffix}.png")
            if who == "requester":
                page.goto("/notifications?show=unread")
                page.screenshot(path=out / f"notifications-unread{suffix}.png", full_page=True)
            page.goto("/preferences#notifications")
            page.locator("table.notification-modes").screenshot(
                path=out / f"preferences-notifications-{who}{suffix}.png")
            ctx.close()


def main(out_dir, only=None):
    """Shoot every page, or only the groups of SHOTS named in ``only`` (comma-separated)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app("development", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/shots.db",
                                         "ATTACHMENTS_FOLDER": f"{tmp}/attachments"})
        with app.app_context():
            upgrade()
            seed_demo()
            db.session.commit()
            requester = db.session.scalar(select(User).where(User.email == "requester@example.com"))
            # The requester's request with the longest history makes the best timeline shot.
            busiest = db.session.execute(
                select(Request.id).join(Event).where(Request.requester_id == requester.id)
                .group_by(Request.id).order_by(db.func.count(Event.id).desc()).limit(1)).scalar()
            # Whose digests to preview: one person of each role that gets one.
            # An accepted request and its requester: the edit form shows the triaged fields.
            triaged = db.session.execute(
                select(Request.id, User.email).join(User, User.id == Request.requester_id)
                .where(Request.state == "accepted", User.role == "requester").limit(1)).first()
            digest_users = {role: db.session.scalar(select(User.id).where(
                User.email == f"{role}@example.com")) for role in ("requester", "analyst", "lead")}
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), headless=True,
                                        args=CHROMIUM_ARGS)
            if only:
                for name in only.split(","):
                    SHOTS[name](browser, base, app, out)
                browser.close()
                server.shutdown()
                print(f"Screenshots in {out}")
                return
            for width, suffix in [(1280, ""), (390, "-mobile")]:
                ctx = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
                page = ctx.new_page()
                page.goto("/login")
                page.screenshot(path=out / f"login{suffix}.png", full_page=True)
                log_in(page, "requester@example.com", DEMO_PASSWORD)
                page.goto("/requests/mine")
                page.screenshot(path=out / f"my-requests{suffix}.png", full_page=True)
                page.goto("/search?q=newsletter+engagement+dashboard")
                page.screenshot(path=out / f"search{suffix}.png", full_page=True)
                page.goto("/search?q=unicorn+telemetry")
                page.screenshot(path=out / f"search-nothing-found{suffix}.png", full_page=True)
                if suffix:
                    page.get_by_role("button", name="Toggle navigation").click()
                    page.wait_for_timeout(400)
                    page.screenshot(path=out / "search-menu-mobile.png")
                page.goto("/requests/new")
                page.get_by_label("Title").fill("Churn by region")
                page.get_by_label("When do you need it?").fill("2020-01-01")
                page.get_by_role("button", name="Submit request").click()
                page.screenshot(path=out / f"form-with-errors{suffix}.png", full_page=True)
                page.goto(f"/requests/{busiest}")
                page.screenshot(path=out / f"request-timeline{suffix}.png", full_page=True)
                page.goto("/preferences")
                page.screenshot(path=out / f"preferences{suffix}.png", full_page=True)
                page.get_by_label("Current password").fill("not my password")
                page.get_by_label("New password", exact=True).fill("short")
                page.get_by_role("button", name="Change your password").click()
                page.screenshot(path=out / f"preferences-password-errors{suffix}.png",
                                full_page=True)
                ctx.close()
                if triaged:
                    ctx = browser.new_context(base_url=base,
                                              viewport={"width": width, "height": 900})
                    page = ctx.new_page()
                    log_in(page, triaged.email, DEMO_PASSWORD)
                    page.goto(f"/requests/{triaged.id}/edit")
                    page.screenshot(path=out / f"edit-after-triage{suffix}.png", full_page=True)
                    ctx.close()
                ctx = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
                page = ctx.new_page()
                log_in(page, "lead@example.com", DEMO_PASSWORD)
                _shoot_catalogue(page, out, suffix)
                ctx.close()
            # Failed log-ins for one account until it is throttled: the 429 page says how long.
            ctx = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
            page = ctx.new_page()
            for _ in range(6):
                page.goto("/login")
                page.get_by_label("E-mail").fill("admin@example.com")
                page.get_by_label("Password").fill("a wrong guess")
                page.get_by_role("button", name="Log in").click()
            page.screenshot(path=out / "login-throttled.png", full_page=True)
            with app.test_request_context("/"):
                page.set_content(app.jinja_env.get_template("unavailable.html").render(
                    retry_after=30))
            page.screenshot(path=out / "database-unavailable.png", full_page=True)
            ctx.close()
            ctx = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
            page = ctx.new_page()
            log_in(page, "lead@example.com", DEMO_PASSWORD)
            page.goto("/requests/all")
            page.screenshot(path=out / "all-requests-lead.png", full_page=True)
            page.goto("/search?q=churn+by+region")
            page.screenshot(path=out / "search-lead.png", full_page=True)
            page.goto("/search?q=churn+by+region&type=requests&state=open&kind=nonsense")
            page.screenshot(path=out / "search-filtered-lead.png", full_page=True)
            page.goto("/triage?section=waitlisted")
            page.screenshot(path=out / "triage-lead.png", full_page=True)
            page.goto("/backlog")
            page.screenshot(path=out / "backlog.png", full_page=True)
            _shoot_reports(page, out / "reports-lead.png")
            page.goto("/admin/teams")
            page.screenshot(path=out / "admin-teams.png", full_page=True)
            page.goto("/settings")
            page.screenshot(path=out / "settings.png", full_page=True)
            page.goto("/help")
            page.screenshot(path=out / "help.png", full_page=True)
            page.goto("/reports/forecast")
            page.screenshot(path=out / "forecast-lead.png", full_page=True)
            _shoot_numbers(browser, base, app, out)
            _shoot_gaps(page, out, "")
            page.set_viewport_size({"width": 390, "height": 900})
            _shoot_gaps(page, out, "-mobile")
            page.set_viewport_size({"width": 1280, "height": 900})
            with app.app_context():
                queued = db.session.scalar(select(Request.id).where(
                    Request.state == "accepted").limit(1))
            if queued:
                page.goto(f"/requests/{queued}")
                page.screenshot(path=out / "request-forecast.png", full_page=True)
            for role, user_id in digest_users.items():
                page.goto(f"/digests/preview?user={user_id}")
                page.screenshot(path=out / f"digest-preview-{role}.png", full_page=True)
            with app.app_context():
                working = db.session.scalar(select(Request.id).where(
                    Request.state == "in_progress").limit(1))
            if working:
                page.goto(f"/requests/{working}")
                page.get_by_role("button", name="Change SLA class…").click()
                page.wait_for_timeout(400)
                page.screenshot(path=out / "request-sla-lead.png", full_page=True)
            ctx.close()
            # The HTML part alone, as a mail client about as wide as a reading pane shows it.
            ctx = browser.new_context(base_url=base, viewport={"width": 700, "height": 900})
            page = ctx.new_page()
            log_in(page, "lead@example.com", DEMO_PASSWORD)
            for role, user_id in digest_users.items():
                page.goto(f"/digests/preview/{user_id}.html")
                page.screenshot(path=out / f"digest-html-{role}.png", full_page=True)
            ctx.close()
            ctx = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
            page = ctx.new_page()
            log_in(page, "analyst@example.com", DEMO_PASSWORD)
            page.goto("/requests/team")
            page.screenshot(path=out / "team-requests-analyst.png", full_page=True)
            page.goto("/triage")
            page.screenshot(path=out / "triage-analyst.png", full_page=True)
            page.locator(".triage-row [data-triage-open]").first.click()
            page.locator("#triage-dialog button", has_text="Accept").first.click()
            page.wait_for_timeout(400)
            page.screenshot(path=out / "triage-analyst-accept.png", full_page=True)
            page.goto("/queue")
            page.screenshot(path=out / "queue.png", full_page=True)
            _shoot_reports(page, out / "reports-analyst.png")
            with app.app_context():
                submitted = db.session.scalar(select(Request.id).where(
                    Request.state == "submitted", Request.team.has(name="Marketing")).limit(1))
            if submitted:
                page.goto(f"/requests/{submitted}")
                page.get_by_role("button", name="Accept…").click()
                page.wait_for_timeout(400)
                page.screenshot(path=out / "analyst-accept.png", full_page=True)
            ctx.close()
            _shoot_deflection(browser, base, app, out)
            _shoot_reuse_actions(browser, base, app, out)
            _shoot_follow_ups(browser, base, app, out)
            _shoot_track_record(browser, base, out)
            _shoot_impact(browser, base, app, out)
            _shoot_reach(browser, base, app, out)
            _shoot_people(browser, base, app, out)
            _shoot_attachments(browser, base, app, out, tmp)
            _shoot_conversation(browser, base, app, out)
            _shoot_notifications(browser, base, out)
            browser.close()
        server.shutdown()
    print(f"Screenshots in {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/datadesk-screenshots",
         sys.argv[2] if len(sys.argv) > 2 else None)

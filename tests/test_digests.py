"""Weekly digests: per-role contents from known data, received over real SMTP; exactly once a
week per recipient, caught up after downtime; the preview; the scheduler's job runs."""
import os
import re
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tickets import digest, gaps, intake, lifecycle, mail, outcomes, scheduler, settings
from tickets.extensions import db
from tickets.models import (FollowUp, GapCategory, JobRun, OutboxMessage, Request, Team, User,
                            utcnow)
from tests.conftest import count_sql, intake_fields
from tests.smtp import raw_header

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # ISO week 48; digests go at 08:00 Monday
# A public address long enough that the unsubscribe URL cannot fit a 78-character header line.
LONG_BASE_URL = "https://datadesk.analytics.corporate-intranet.example.com/teams/data/requests"


def scheduled(name):
    """The scheduler's job called ``name``."""
    return next(job for job in scheduler.JOBS if job.name == name)


@pytest.fixture
def desk(make, app):
    """Marketing with a requester and an analyst, Finance (another team), and a lead."""
    marketing, finance = make.team("Marketing"), make.team("Finance")
    people = {
        "marketing": marketing, "finance": finance,
        "rita": make.user("requester", teams=[marketing], email="rita@example.com",
                          name="Rita Requester"),
        "fred": make.user("requester", teams=[finance], email="fred@example.com"),
        "ana": make.user("analyst", teams=[marketing], email="ana@example.com",
                         name="Ana Analyst"),
        "fay": make.user("analyst", teams=[finance], email="fay@example.com"),
        "lee": make.user("lead", email="lee@example.com", name="Lee Lead"),
    }
    with app.app_context():  # everyone joined long before the week under test
        for user in db.session.scalars(db.select(User)):
            user.created_at = MONDAY - timedelta(days=60)
        db.session.commit()
    return people


def submit(app, requester, team, at, **fields):
    with app.app_context():
        created = intake.submit_request(db.session.get(User, requester),
                                        intake_fields(team, **fields), now=at)
        db.session.commit()
        return created.id


def act(app, request_id, name, actor, at, **inputs):
    with app.app_context():
        if "assignee" in inputs:
            inputs["assignee"] = db.session.get(User, inputs["assignee"])
        lifecycle.transition(db.session.get(Request, request_id), name,
                             db.session.get(User, actor) if actor else None, at, **inputs)
        db.session.commit()


def send_digest(app, user_id, at=MONDAY):
    """Queue ``user_id``'s digest at ``at`` and send the outbox; return the outbox id."""
    with app.app_context():
        message_id = digest.queue_digest(db.session.get(User, user_id), at)
        db.session.commit()
        mail.drain(at)
        return message_id


def digest_to(server, address):
    """The one digest ``address`` received (notifications about the same events aside)."""
    [found] = [m for m in server.to(address) if m["List-Unsubscribe"] and "/unsubscribe/" in
               m["List-Unsubscribe"] and "Datadesk #" not in m["Subject"]]
    return found


def parts(message):
    return (message.get_body(preferencelist=("plain",)).get_content(),
            message.get_body(preferencelist=("html",)).get_content())


def test_requester_digest_shows_what_waits_on_them_their_teams_requests_and_deliveries(
        app, desk, smtp_server):
    d = desk
    asked = submit(app, d["rita"], d["marketing"], MONDAY - timedelta(days=5),
                   title="Churn by region")
    act(app, asked, "ask", d["ana"], MONDAY - timedelta(days=4), note="Which regions count?")
    queued = submit(app, d["rita"], d["marketing"], MONDAY - timedelta(days=3),
                    title="Campaign ROI")
    act(app, queued, "accept", d["ana"], MONDAY - timedelta(days=3), size="M")
    done = submit(app, d["rita"], d["marketing"], MONDAY - timedelta(days=6),
                  title="Newsletter dashboard")
    act(app, done, "accept", d["ana"], MONDAY - timedelta(days=6), size="S")
    act(app, done, "claim", d["ana"], MONDAY - timedelta(days=6))
    act(app, done, "deliver", d["ana"], MONDAY - timedelta(hours=1),
        url="https://bi.example.com/d/7", note="Here it is")
    submit(app, d["fred"], d["finance"], MONDAY - timedelta(days=2), title="Finance secret")
    submit(app, d["ana"], d["marketing"], MONDAY - timedelta(days=2),
           title="Confidential reorg numbers", is_confidential=True)

    send_digest(app, d["rita"])

    received = digest_to(smtp_server, "rita@example.com")
    # Open is before delivery (DESIGN.md): the delivered dashboard waits on her, it is not open.
    assert received["Subject"].strip() == "Your Datadesk week: 2 waiting on you, 2 open, 1 delivered"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = parts(received)
    for body in (text, html):
        assert "Which regions count?" in body
        assert "Churn by region" in body and "Campaign ROI" in body
        assert "Newsletter dashboard" in body
        assert "Finance secret" not in body and "Confidential reorg" not in body
        assert "1st of 1" in body  # Campaign ROI's queue position
    assert f"http://127.0.0.1:5000/requests/{asked}" in text
    assert f'href="http://127.0.0.1:5000/requests/{queued}"' in html
    waiting = text.split("WAITING ON YOU (2)")[1].split("OPEN REQUESTS")[0]
    assert "Churn by region" in waiting and "Newsletter dashboard" in waiting
    assert "Campaign ROI" not in waiting
    assert "<script" not in html and "<img" not in html


def test_analyst_digest_shows_queue_deadlines_sla_triage_and_wip(app, desk, smtp_server):
    d = desk
    working = submit(app, d["rita"], d["marketing"], MONDAY - timedelta(days=9),
                     title="Working on this", deadline=date(2026, 11, 26))
    act(app, working, "accept", d["ana"], MONDAY - timedelta(days=9), size="S")
    act(app, working, "claim", d["ana"], MONDAY - timedelta(days=9))
    low = submit(app, d["rita"], d["marketing"], MONDAY - timedelta(days=2), title="Low one",
                 business_impact=1)
    high = submit(app, d["rita"], d["marketing"], MONDAY - timedelta(days=2), title="High one",
                  business_impact=5)
    for request_id in (low, high):
        act(app, request_id, "accept", d["ana"], MONDAY - timedelta(days=2), size="M")
    # Submitted last Tuesday and never answered: the first response target is long past.
    stale = submit(app, d["rita"], d["marketing"], MONDAY - timedelta(days=6),
                   title="Nobody looked at this")
    submit(app, d["fred"], d["finance"], MONDAY - timedelta(days=1), title="Not for Ana")

    send_digest(app, d["ana"])

    received = digest_to(smtp_server, "ana@example.com")
    assert received["Subject"].strip() == ("Your Datadesk queue: 1 of 3 in progress, 0 at risk, "
                                   "1 breached, 1 to triage")
    text, html = parts(received)
    up_next = text.split("UP NEXT, IN PRIORITY ORDER (2)")[1].split("DEADLINES")[0]
    assert up_next.index("High one") < up_next.index("Low one")
    deadlines = text.split("DEADLINES IN THE NEXT 7 DAYS (1)")[1].split("SLA BREACHED")[0]
    assert "Working on this" in deadlines and "26 Nov 2026" in deadlines
    breached = text.split("SLA BREACHED (1)")[1].split("SLA AT RISK")[0]
    assert "Nobody looked at this" in breached and "first response" in breached
    assert f"http://127.0.0.1:5000/requests/{stale}" in breached
    assert "Not for Ana" not in text and "Not for Ana" not in html
    assert "1 of 3" in html and "http://127.0.0.1:5000/queue" in html


def test_lead_digest_shows_backlog_trend_throughput_lead_time_budgets_and_waitlist(
        app, desk, smtp_server):
    d = desk
    with app.app_context():
        settings.set_team_budget(db.session.get(Team, d["marketing"]), 1, None, MONDAY)
        db.session.commit()
    old = submit(app, d["rita"], d["marketing"], MONDAY - timedelta(days=20), title="Old one",
                 kind="project")
    for days_ago, title in ((4, "Delivered A"), (3, "Delivered B")):
        request_id = submit(app, d["rita"], d["marketing"], MONDAY - timedelta(days=10),
                            title=title, kind="project")
        act(app, request_id, "accept", d["lee"], MONDAY - timedelta(days=10), size="S")
        act(app, request_id, "claim", d["lee"], MONDAY - timedelta(days=10))
        act(app, request_id, "deliver", d["lee"], MONDAY - timedelta(days=days_ago),
            url="https://bi.example.com/x", note="done")
    submit(app, d["rita"], d["marketing"], MONDAY - timedelta(hours=2), title="Takes the place")
    waiting = submit(app, d["rita"], d["marketing"], MONDAY - timedelta(hours=1),
                     title="Over the budget")

    send_digest(app, d["lee"])

    received = digest_to(smtp_server, "lee@example.com")
    # Open (before delivery, issue 14) now: Old one and the two new ones = 3 (the two
    # delivered wait for confirmation: neither open nor closed); a week ago: Old one and the
    # two then in progress = 3.
    assert received["Subject"].strip() == "Datadesk weekly: 3 open (+0), 2 delivered"
    text, html = parts(received)
    # Lead times 6 and 7 days; percentiles interpolated between ranks (percentile_cont):
    # median 6 + 0.5 x (7 - 6) = 6.5, 85th 6 + 0.85 x (7 - 6) = 6.85, shown to one decimal
    # as 6.8 (the float nearest 6.85 is 6.8499...).
    assert "median 6.5 days, 85th percentile 6.8 days (2 deliveries" in text
    assert "Delivery on time:       100% of 2" in text
    assert ("Open (before delivery): 3 (+0 over 7 days): 3 in the backlog (not started), "
            "0 in work (in progress or blocked)") in text
    assert "Delivered (to confirm): 2 (neither open nor closed)" in text
    assert "Marketing: 1 of 1, 1 waitlisted" in text
    assert "WAITLISTED OVER BUDGET (1)" in text and "Over the budget" in text
    assert f"http://127.0.0.1:5000/requests/{waiting}" in text
    oldest = text.split("OLDEST OPEN REQUESTS")[1]
    assert oldest.index("Old one") < oldest.index("Takes the place")
    assert "Delivered A" not in oldest  # delivered is not open (DESIGN.md)
    assert f'href="http://127.0.0.1:5000/requests/{old}"' in html


def test_building_a_digest_costs_the_same_statements_with_more_requests(app, desk):
    def build_all():
        for user_id in (desk["rita"], desk["ana"], desk["lee"]):
            digest.build(db.session.get(User, user_id), MONDAY)
            db.session.expire_all()

    def add(count, start):
        for n in range(count):
            request_id = submit(app, desk["rita"], desk["marketing"],
                                MONDAY - timedelta(days=3, minutes=start + n), title=f"R{n}")
            if n % 2:
                act(app, request_id, "accept", desk["ana"], MONDAY - timedelta(days=2),
                    size="S")

    def add_follow_ups(count):
        # Of Rita's requests delivered by Ana: waiting (asked, reminded) and answered this
        # week (used, not used), for all three digests' outcome sections.
        for n in range(count):
            for step, answer in (("ask", None), ("reminder", None), ("ask", "acted"),
                                 ("ask", "not_used")):
                followed_up(app, desk, f"F{n} {step} {answer}", MONDAY - timedelta(days=1),
                            step=step, answer=answer,
                            reason="too_late" if answer == "not_used" else None)

    add(3, 0)
    add_follow_ups(1)
    few = count_sql(app, build_all)[0]
    add(30, 100)
    add_follow_ups(4)
    many = count_sql(app, build_all)[0]
    assert few == many


# --- Outcomes in the digests (issue 13) --------------------------------------------------------

def followed_up(app, desk, title, at, *, step=None, answer=None, analyst="ana",
                requester="rita", team="marketing", **answer_fields):
    """A request of ``requester`` that ``analyst`` delivered and that was resolved a month
    before ``at``; its follow-up asked (``step`` "ask") or asked and reminded ("reminder"),
    and answered ``answer`` at ``at``. Return the request's id."""
    start = at - timedelta(days=30)
    request_id = submit(app, desk[requester], desk[team], start, title=title, **{
        key: answer_fields.pop(key) for key in ("lever_result", "lever_decision")
        if key in answer_fields})
    act(app, request_id, "accept", desk[analyst], start, size="S")
    act(app, request_id, "claim", desk[analyst], start + timedelta(hours=1))
    act(app, request_id, "deliver", desk[analyst], start + timedelta(hours=2),
        url="https://bi.example.com/x", note="done")
    act(app, request_id, "confirm", desk[requester], start + timedelta(hours=3))
    with app.app_context():
        follow_up = db.session.scalar(
            db.select(FollowUp).where(FollowUp.request_id == request_id))
        values = settings.current()
        for number, name in enumerate(("ask", "reminder")[:("ask", "reminder").index(step) + 1]
                                      if step else ()):
            outcomes.send_one(follow_up, name, start + timedelta(days=10 + 5 * number), values,
                              outcomes.SendResult())
        if answer:
            outcomes.record(follow_up, follow_up.recipient, at, outcome=answer, **answer_fields)
        db.session.commit()
    return request_id


def test_requester_digest_lists_the_follow_ups_waiting_for_their_answer(app, desk, smtp_server):
    d, day = desk, timedelta(days=1)
    long_lever = "Retention in the south region, " + "week after week " * 20
    asked = followed_up(app, d, "Churn by region", MONDAY - 3 * day, step="ask",
                        lever_result=long_lever, lever_decision="<b>Move</b> the budget")
    reminded = followed_up(app, d, "Campaign ROI", MONDAY - 2 * day, step="reminder")
    followed_up(app, d, "Answered already", MONDAY - 2 * day, step="ask", answer="not_yet")
    followed_up(app, d, "Not asked yet", MONDAY - 2 * day)
    followed_up(app, d, "Fred's question", MONDAY - 2 * day, step="ask", requester="fred",
                team="finance", analyst="fay")
    question = submit(app, d["rita"], d["marketing"], MONDAY - 4 * day, title="Which regions")
    act(app, question, "ask", d["ana"], MONDAY - 3 * day, note="Which regions count?")

    send_digest(app, d["rita"])

    received = digest_to(smtp_server, "rita@example.com")
    # The two follow-ups wait on her as much as the question does.
    assert received["Subject"].strip() == "Your Datadesk week: 3 waiting on you, 1 open, 0 delivered"
    text, html = parts(received)
    section = text.split("FOLLOW-UPS WAITING FOR YOU (2)")[1].split("OPEN REQUESTS")[0]
    lines = [line.strip() for line in section.splitlines() if line.strip()]
    assert lines[1:] == [
        f"* #{asked} Churn by region (Marketing)",
        # Cut at a word, within digest.SHORT characters.
        "Meant to influence: Retention in the south region, week after week week after week "
        "week after week week after week week after week week after week week after\u2026",
        "Meant to drive: <b>Move</b> the budget",
        f"Answer: http://127.0.0.1:5000/requests/{asked}#outcome",
        f"* #{reminded} Campaign ROI (Marketing), reminded",
        "Meant to influence: Retention in the south region.",
        "Meant to drive: Move retention budget to the worst region.",
        f"Answer: http://127.0.0.1:5000/requests/{reminded}#outcome",
    ]
    assert "Follow-ups waiting for you" in html
    assert f'href="http://127.0.0.1:5000/requests/{asked}#outcome"' in html
    assert "&lt;b&gt;Move&lt;/b&gt; the budget" in html and "<b>Move" not in html
    for body in (text, html):
        assert "Answered already" not in body and "Not asked yet" not in body
        assert "Fred's question" not in body and "Fred&#39;s question" not in body


def test_a_requester_without_follow_ups_waiting_gets_no_such_section(app, desk):
    followed_up(app, desk, "Answered already", MONDAY - timedelta(days=1), step="ask",
                answer="acted")
    with app.app_context():
        subject, text, html = digest.build(db.session.get(User, desk["rita"]), MONDAY)
    assert subject == "Your Datadesk week: 0 open, 0 delivered"
    assert "FOLLOW-UPS" not in text and "Follow-ups waiting" not in html


def test_analyst_digest_says_what_became_of_their_deliveries(app, desk, smtp_server):
    d, day = desk, timedelta(days=1)
    acted = followed_up(app, d, "Churn by region", MONDAY - 2 * day, step="ask",
                        answer="acted", decision="Moved the budget north",
                        note="Saved <i>a quarter</i>")
    not_used = followed_up(app, d, "Campaign ROI", MONDAY - 3 * day, step="reminder",
                           answer="not_used", reason="too_late")
    followed_up(app, d, "Earlier this quarter", MONDAY - 20 * day, step="ask",
                answer="decided_not_to_act")
    followed_up(app, d, "Long ago", MONDAY - 100 * day, step="ask", answer="acted")
    followed_up(app, d, "Still waiting", MONDAY - 2 * day, step="ask")
    followed_up(app, d, "Fay's delivery", MONDAY - 1 * day, step="ask", answer="acted",
                requester="fred", team="finance", analyst="fay")

    send_digest(app, d["ana"])

    text, html = parts(digest_to(smtp_server, "ana@example.com"))
    section = text.split("WHAT BECAME OF YOUR DELIVERIES (2)")[1].split("Your queue:")[0]
    lines = [line.strip() for line in section.splitlines() if line.strip()]
    assert lines[1:] == [
        f"* #{acted} Churn by region (Marketing): Acted on it",
        "Decision: Moved the budget north",
        '"Saved <i>a quarter</i>"',
        f"http://127.0.0.1:5000/requests/{acted}#outcome",
        f"* #{not_used} Campaign ROI (Marketing): Not used: It came too late for the decision",
        f"http://127.0.0.1:5000/requests/{not_used}#outcome",
        # Churn, Campaign ROI and Earlier this quarter; Long ago is over 90 days old.
        "Your track: used 2 of 3 answered in the last 90 days (67%).",
    ]
    assert "What became of your deliveries" in html
    assert "Saved &lt;i&gt;a quarter&lt;/i&gt;" in html and "<i>a quarter" not in html
    assert f'href="http://127.0.0.1:5000/requests/{not_used}#outcome"' in html
    assert "used 2 of 3 answered in the last 90 days (67%)" in html
    for body in (text, html):
        assert "Fay" not in body and "Still waiting" not in body and "Long ago" not in body


def test_an_analyst_without_answers_is_told_so(app, desk):
    with app.app_context():
        _, text, html = digest.build(db.session.get(User, desk["fay"]), MONDAY)
    for body in (text, html):
        assert "No answer about your deliveries this week." in body
        assert "no follow-up about your deliveries was answered in the last 90 days" in body


def test_lead_digest_sums_up_the_weeks_impact(app, desk, smtp_server):
    d, day = desk, timedelta(days=1)
    for n, (answer, reason) in enumerate([
            ("acted", None), ("decided_not_to_act", None), ("not_yet", None),
            ("not_used", "too_late"), ("not_used", "too_late"), ("not_used", "hard_to_use"),
            ("not_used", "other"), ("not_used", "data_doubts")]):
        followed_up(app, d, f"Answered {n}", MONDAY - (1 + n % 5) * day, step="ask",
                    answer=answer, reason=reason)
    followed_up(app, d, "Last month", MONDAY - 10 * day, step="ask", answer="acted")
    followed_up(app, d, "Waiting", MONDAY - day, step="ask")
    followed_up(app, d, "Waiting too", MONDAY - day, step="reminder", requester="fred",
                team="finance", analyst="fay")
    followed_up(app, d, "Not asked yet", MONDAY - day)

    send_digest(app, d["lee"])

    text, html = parts(digest_to(smtp_server, "lee@example.com"))
    section = text.split("IMPACT THIS WEEK (follow-ups answered in the last 7 days)")[1]
    lines = [line.strip() for line in section.split("TOP PLATFORM GAPS")[0].splitlines()
             if line.strip()]
    assert lines == [
        "Answered: 8, of which used (acted on it or informed a decision): 2 (25%)",
        "* Acted on it: 1",
        "* Informed a decision not to act: 1",
        "* Not used yet: 1",
        "* Not used: 5",
        # The three reasons given most; ties in the order of their names.
        "It came too late for the decision: 2",
        "Hard to understand or to use: 1",
        "Other: 1",
        "Waiting for an answer: 2",
        "Impact ledger: http://127.0.0.1:5000/reports/impact",
    ]
    assert "Impact this week" in html and "25%" in html
    assert 'href="http://127.0.0.1:5000/reports/impact"' in html
    assert "It came too late for the decision" in html
    assert "We did not trust the numbers" not in html


def test_lead_digest_says_when_no_follow_up_was_answered(app, desk):
    with app.app_context():
        _, text, html = digest.build(db.session.get(User, desk["lee"]), MONDAY)
    for body in (text, html):
        assert "No follow-up was answered this week." in body
    assert "Waiting for an answer: 0" in text


def record_gaps(app, desk, gaps_to_record):
    """The default taxonomy, and gaps (category, hours, note, when) on a Marketing request."""
    with app.app_context():
        gaps.add_defaults()
        db.session.commit()
    request_id = submit(app, desk["rita"], desk["marketing"], MONDAY - timedelta(days=30),
                        title="Needs a gap")
    with app.app_context():
        for category, hours, note, when in gaps_to_record:
            category_id = db.session.scalar(
                db.select(GapCategory.id).where(GapCategory.name == category))
            gaps.record(db.session.get(Request, request_id), db.session.get(User, desk["ana"]),
                        category_id, note, hours, "delivery", when)
        db.session.commit()


def test_lead_digest_lists_the_weeks_top_platform_gaps_by_hours(app, desk):
    day = timedelta(days=1)
    record_gaps(app, desk, [
        ("No access", 4, "Needs CRM access", MONDAY - 6 * day),
        ("No access", 16, "Salesforce again", MONDAY - 2 * day),
        ("No access", 1, "", MONDAY - day),  # the example is the latest note written
        ("Does not know the tool", 60, "Looker <b>training</b>\nwould do", MONDAY - 3 * day),
        ("Data not trusted", 2.5, "", MONDAY - 3 * day),
        ("Documentation missing", 1, "No data dictionary", MONDAY - 4 * day),
        ("Other", 0.5, "Odd one", MONDAY - 5 * day),
        ("Data not available", 0.2, "Sixth: not listed", MONDAY - 5 * day),
        ("Other", 500, "Last month: not this week", MONDAY - 10 * day),
    ])
    with app.app_context():
        _, text, html = digest.build(db.session.get(User, desk["lee"]), MONDAY)
    section = text.split("TOP PLATFORM GAPS THIS WEEK")[1].split("Platform gaps:")[0]
    assert [line for line in section.splitlines()[1:] if line] == [
        "* Does not know the tool: 1 gap, 60 hours",
        '  "Looker <b>training</b> would do"',
        "* No access: 3 gaps, 21 hours",
        '  "Salesforce again"',
        "* Data not trusted: 1 gap, 2.5 hours",
        "* Documentation missing: 1 gap, 1 hour",
        '  "No data dictionary"',
        "* Other: 1 gap, 0.5 hours",
        '  "Odd one"',
    ]
    assert "Platform gaps: http://127.0.0.1:5000/reports/platform-gaps?start=2026-11-17" in text
    assert "Top platform gaps this week" in html
    assert "Looker &lt;b&gt;training&lt;/b&gt; would do" in html and "<b>training" not in html
    assert 'href="http://127.0.0.1:5000/reports/platform-gaps?start=2026-11-17"' in html
    assert "Sixth" not in html and "Last month" not in html


def test_lead_digest_says_when_no_gap_was_recorded(app, desk):
    with app.app_context():
        _, text, html = digest.build(db.session.get(User, desk["lee"]), MONDAY)
    assert "No platform gap was recorded this week." in text
    assert "No platform gap was recorded this week." in html


def test_the_lead_digest_costs_the_same_statements_with_more_gaps(app, desk):
    def build():
        digest.build(db.session.get(User, desk["lee"]), MONDAY)

    record_gaps(app, desk, [("No access", 1, "one", MONDAY - timedelta(days=1))])
    few = count_sql(app, build)[0]
    record_gaps(app, desk, [(category, n, f"note {n}", MONDAY - timedelta(hours=n + 1))
                            for n, category in enumerate(
                                ["No access", "Other", "Data not trusted", "Data not available",
                                 "Does not know the tool", "Documentation missing"] * 5)])
    assert count_sql(app, build)[0] == few


# --- Exactly once, on the right day -----------------------------------------------------------

def outbox_digests(app):
    with app.app_context():
        return sorted(db.session.scalars(
            db.select(OutboxMessage.recipient).where(OutboxMessage.kind == "digest")))


def test_two_runs_in_the_same_week_queue_one_digest_per_recipient(app, desk):
    with app.app_context():
        assert digest.queue_due(MONDAY) == 5
        db.session.commit()
        assert digest.queue_due(MONDAY + timedelta(hours=3)) == 0
        assert digest.queue_due(MONDAY + timedelta(days=4)) == 0
        db.session.commit()
    assert outbox_digests(app) == ["ana@example.com", "fay@example.com", "fred@example.com",
                                   "lee@example.com", "rita@example.com"]
    with app.app_context():  # next week, a new one each
        assert digest.queue_due(MONDAY + timedelta(days=7)) == 5


def test_a_digest_that_fails_to_build_holds_back_nobody_else_and_is_retried(app, desk,
                                                                           monkeypatch, caplog):
    build = digest.build

    def fails_for_fred(user, now, values=None, **options):  # options: the run's ranking
        if user.email == "fred@example.com":
            raise ValueError("a title the mail package refuses")
        return build(user, now, values, **options)

    monkeypatch.setattr(digest, "build", fails_for_fred)
    with app.app_context():
        assert digest.queue_due(MONDAY) == 4
        db.session.commit()
    assert "fred@example.com" not in outbox_digests(app)
    assert "could not be queued" in caplog.text
    monkeypatch.setattr(digest, "build", build)
    with app.app_context():  # the next run queues it, and only it
        assert digest.queue_due(MONDAY + timedelta(hours=1)) == 1
        db.session.commit()
    assert outbox_digests(app).count("fred@example.com") == 1


def test_two_scheduler_processes_never_queue_two_digests(app, desk):
    job = scheduled("digests")
    with app.app_context():
        assert scheduler.run_job(job, MONDAY).summary == "5 digest(s) queued"
        assert scheduler.run_job(job, MONDAY + timedelta(minutes=1)) is None  # same period
        later = scheduler.run_job(job, MONDAY + timedelta(minutes=20))  # the next period
        assert later.summary == "0 digest(s) queued"
    assert len(outbox_digests(app)) == 5


def test_each_person_gets_it_on_their_day_at_the_settings_time(app, desk):
    with app.app_context():
        db.session.get(User, desk["ana"]).digest_weekday = 2  # Wednesday
        db.session.get(User, desk["fred"]).is_digest_enabled = False
        db.session.commit()
        before_time = MONDAY.replace(hour=7, minute=59)
        assert digest.due_recipients(before_time) == []
        assert {u.email for u in digest.due_recipients(MONDAY)} == {
            "rita@example.com", "lee@example.com", "fay@example.com"}
        wednesday = MONDAY + timedelta(days=2)
        assert "ana@example.com" in {u.email for u in digest.due_recipients(wednesday)}


def test_a_person_who_joined_after_this_weeks_moment_starts_next_week(app, desk, make):
    newcomer = make.user("requester", teams=[desk["marketing"]], email="new@example.com")
    with app.app_context():
        db.session.get(User, newcomer).created_at = MONDAY - timedelta(hours=1)
        db.session.commit()
        assert "new@example.com" not in {u.email for u in digest.due_recipients(MONDAY)}
        assert "new@example.com" in {
            u.email for u in digest.due_recipients(MONDAY + timedelta(days=7))}


def test_a_scheduler_down_on_digest_day_catches_up_once_when_it_starts(app, desk):
    wednesday = MONDAY + timedelta(days=2)  # down from Sunday to Wednesday
    with app.app_context():
        started = [scheduler.run_job(job, wednesday) for job in scheduler.JOBS]
        assert all(run is not None and run.error is None for run in started)
    assert len(outbox_digests(app)) == 5
    with app.app_context():
        scheduler.run_job(scheduled("digests"), wednesday + timedelta(hours=1))
    assert len(outbox_digests(app)) == 5


def _start_round_finished(app, timeout=30):
    """Wait until every job's run of the start-up round has finished; return the runs in the
    order they started."""
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            runs = db.session.scalars(db.select(JobRun).order_by(JobRun.id)).all()
            for run in runs:
                db.session.expunge(run)
        if (len(runs) == len(scheduler.JOBS) and all(run.finished_at for run in runs)
                or time.monotonic() > deadline):
            return runs
        time.sleep(0.05)


def test_at_start_digests_are_queued_before_the_outbox_is_sent_in_the_same_round(
        app, desk, smtp_server):
    _due_for_everyone_now(app)

    running = scheduler.start(app, blocking=False)
    try:
        runs = _start_round_finished(app)
    finally:
        running.shutdown()

    order = [run.job for run in runs]
    assert order.index("digests") < order.index("drain_outbox")
    assert order.index("sla_at_risk") < order.index("drain_outbox")  # notifications too
    assert order.index("release_waitlisted") < order.index("drain_outbox")
    assert order.index("follow_ups") < order.index("drain_outbox")
    # The digests the round queued went out in that round, not a minute later.
    assert sorted(m["To"] for m in smtp_server.messages) == [
        "ana@example.com", "fay@example.com", "fred@example.com", "lee@example.com",
        "rita@example.com"]
    assert [run.summary for run in runs if run.job == "drain_outbox"] == ["sent 5, failed 0"]


def test_a_failing_job_is_recorded_and_retried_next_period(app, desk, monkeypatch):
    calls = []

    def broken(now):
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("SMTP exploded")
        return "fine"

    job = scheduler.Job("flaky", timedelta(minutes=1), broken)
    with app.app_context():
        failed = scheduler.run_job(job, MONDAY)
        assert failed.error == "RuntimeError: SMTP exploded" and failed.finished_at
        retried = scheduler.run_job(job, MONDAY + timedelta(minutes=1))
        assert retried.error is None and retried.summary == "fine"
        assert db.session.scalar(db.select(db.func.count()).select_from(JobRun)) == 2


def test_the_auto_resolve_job_resolves_old_unconfirmed_deliveries(app, desk):
    d = desk
    ids = []
    for days_ago in (8, 6):
        request_id = submit(app, d["rita"], d["marketing"], MONDAY - timedelta(days=10))
        act(app, request_id, "accept", d["ana"], MONDAY - timedelta(days=10), size="S")
        act(app, request_id, "claim", d["ana"], MONDAY - timedelta(days=10))
        act(app, request_id, "deliver", d["ana"], MONDAY - timedelta(days=days_ago),
            url="https://bi.example.com/x", note="done")
        ids.append(request_id)
    with app.app_context():
        run = scheduler.run_job(scheduled("auto_resolve"), MONDAY)
        assert run.summary == "1 delivery(ies) resolved automatically"
        assert [db.session.get(Request, i).state for i in ids] == ["resolved", "delivered"]


# --- Preview and command line ------------------------------------------------------------------

def test_a_lead_previews_anyones_digest_as_it_will_be_sent(app, desk, auth):
    auth.login(desk["lee"])
    page = auth.client.get(f"/digests/preview?user={desk['rita']}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Your Datadesk week: 0 open, 0 delivered" in body
    assert "rita@example.com" in body and "WAITING ON YOU" in body
    framed = auth.client.get(f"/digests/preview/{desk['rita']}.html")
    assert framed.status_code == 200 and "Hello Rita Requester" in framed.get_data(as_text=True)
    assert "style-src 'unsafe-inline'" in framed.headers["Content-Security-Policy"]
    assert "script-src" not in framed.headers["Content-Security-Policy"]  # default-src 'none'
    assert auth.client.get("/digests/preview?user=99999").status_code == 404


def test_others_preview_only_their_own_digest(app, desk, auth):
    auth.login(desk["ana"])
    assert auth.client.get("/digests/preview").status_code == 200
    assert auth.client.get(f"/digests/preview?user={desk['rita']}").status_code == 403
    assert auth.client.get(f"/digests/preview/{desk['rita']}.html").status_code == 403
    auth.client.post("/logout", data={"csrf_token": auth.token})
    assert auth.client.get("/digests/preview").status_code == 302


def test_digests_send_dry_run_queues_nothing_and_user_sends_one(app, desk, runner,
                                                                 smtp_server):
    dry = runner.invoke(args=["digests", "send", "--dry-run"])
    assert "digest(s) would be queued (dry run: nothing queued)." in dry.output
    assert outbox_digests(app) == []

    sent = runner.invoke(args=["digests", "send", "--user", "Rita@Example.com"])
    assert "1 digest(s) queued; sent 1, failed 0." in sent.output
    assert [m["To"] for m in smtp_server.messages] == ["rita@example.com"]
    again = runner.invoke(args=["digests", "send", "--user", "rita@example.com"])
    assert "queued already" in again.output
    forced = runner.invoke(args=["digests", "send", "--user", "rita@example.com", "--force"])
    assert "1 digest(s) queued" in forced.output and len(smtp_server.messages) == 2
    unknown = runner.invoke(args=["digests", "send", "--user", "nobody@example.com"])
    assert unknown.exit_code != 0 and "nobody has the e-mail" in unknown.output


def test_force_without_a_person_is_a_usage_error_and_queues_nothing(app, desk, runner):
    for args in (["digests", "send", "--force"], ["digests", "send", "--force", "--dry-run"]):
        refused = runner.invoke(args=args)
        assert refused.exit_code == 2
        assert "--force resends one person's digest: name them with --user" in refused.output
    assert outbox_digests(app) == []


def digest_keys(app, user_id):
    with app.app_context():
        return sorted(db.session.scalars(db.select(OutboxMessage.idempotency_key).where(
            OutboxMessage.kind == "digest", OutboxMessage.user_id == user_id)))


def _due_for_everyone_now(app):
    """Make every digest of ``desk`` due at this very moment (for commands that use the clock)."""
    now = utcnow()
    with app.app_context():
        settings.update({"digest_weekday": now.weekday(), "digest_time": "00:00"}, None, now)
        for user in db.session.scalars(db.select(User)):
            user.created_at = now - timedelta(days=60)
        db.session.commit()


def test_a_forced_resend_is_one_extra_copy_for_that_person_only(app, desk, runner,
                                                               smtp_server):
    _due_for_everyone_now(app)
    week = digest.week_of(utcnow(), settings.DEFAULTS).key
    first = runner.invoke(args=["digests", "send", "--user", "rita@example.com", "--force"])
    # Nothing was sent this week yet: --force sends this week's digest, not an extra one.
    assert f"this week's digest ({week}) was not queued yet: queueing it" in first.output
    assert "1 digest(s) queued; sent 1" in first.output

    again = runner.invoke(args=["digests", "send", "--user", "rita@example.com", "--force"])
    assert (f"rita@example.com had this week's digest ({week}) already: queueing one extra "
            "copy for this person only (--force)") in again.output
    assert "1 digest(s) queued; sent 1" in again.output
    runner.invoke(args=["digests", "send", "--user", "rita@example.com", "--force"])

    rita = desk["rita"]
    assert digest_keys(app, rita) == [f"digest:{rita}:{week}", f"digest:{rita}:{week}:forced:1",
                                      f"digest:{rita}:{week}:forced:2"]
    assert [m["To"] for m in smtp_server.messages] == ["rita@example.com"] * 3
    with app.app_context():  # the scheduler's run adds everyone's but Rita's
        assert scheduler.run_job(scheduled("digests")).summary == (
            "4 digest(s) queued")
    assert outbox_digests(app).count("rita@example.com") == 3


def _flask_command(app, smtp_server, *args):
    """Start ``flask --app app ...`` in its own process, on the test's database and SMTP server."""
    env = dict(os.environ, DATADESK_ENV="testing",
               TEST_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp_server.port), MAIL_TIMEOUT="5")
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", *args],
                            cwd=Path(__file__).resolve().parent.parent, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_digest_commands_in_two_processes_at_once_send_each_person_one_digest(
        app, desk, smtp_server):
    _due_for_everyone_now(app)

    commands = [_flask_command(app, smtp_server, "digests", "send"),
                _flask_command(app, smtp_server, "digests", "send"),
                _flask_command(app, smtp_server, "digests", "send", "--force")]
    outputs = [command.communicate(timeout=120) for command in commands]

    assert [command.returncode for command in commands] == [0, 0, 2], outputs
    everyone = ["ana@example.com", "fay@example.com", "fred@example.com", "lee@example.com",
                "rita@example.com"]
    assert outbox_digests(app) == everyone
    assert sorted(m["To"] for m in smtp_server.messages) == everyone
    with app.app_context():  # and the scheduler's run afterwards adds none
        assert scheduler.run_job(scheduled("digests")).summary == (
            "0 digest(s) queued")


def test_every_digest_has_a_working_unsubscribe_link(app, desk, client, smtp_server):
    send_digest(app, desk["rita"])
    [received] = smtp_server.messages
    text, _ = parts(received)
    link = re.search(r"Unsubscribe: (\S+)", text)[1]
    client.post(link.removeprefix("http://127.0.0.1:5000"))
    with app.app_context():
        assert not db.session.get(User, desk["rita"]).is_digest_enabled
        assert digest.queue_due(MONDAY + timedelta(days=7)) == 4  # everyone else


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:5000", LONG_BASE_URL])
def test_digest_list_unsubscribe_arrives_as_plain_ascii_and_unsubscribes_in_one_click(
        app, desk, client, smtp_server, monkeypatch, base_url):
    monkeypatch.setitem(app.config, "BASE_URL", base_url)
    send_digest(app, desk["rita"])

    [envelope] = smtp_server.envelopes
    line = raw_header(envelope.content, "List-Unsubscribe")
    assert line.startswith(f"List-Unsubscribe: <{base_url}/unsubscribe/") and line.endswith(">")
    assert "=?" not in line and "\r\n" not in line  # not RFC 2047-encoded, not folded
    assert raw_header(envelope.content, "List-Unsubscribe-Post") == (
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    # RFC 8058: the mail client POSTs this body to the URL, without cookies or a form.
    url = line.removeprefix("List-Unsubscribe: <").removesuffix(">")
    answer = client.post(url.removeprefix(base_url), data="List-Unsubscribe=One-Click",
                         content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 200
    with app.app_context():
        assert not db.session.get(User, desk["rita"]).is_digest_enabled


def test_a_run_ranks_each_team_once_and_every_digest_reads_as_if_built_alone(app, desk,
                                                                             monkeypatch):
    from tickets import queues
    d = desk
    for team, requester, analyst, impact in ((d["marketing"], d["rita"], d["ana"], 4),
                                             (d["marketing"], d["rita"], d["ana"], 2),
                                             (d["finance"], d["fred"], d["fay"], 5)):
        queued = submit(app, requester, team, MONDAY - timedelta(days=8),
                        business_impact=impact)
        act(app, queued, "accept", analyst, MONDAY - timedelta(days=3), size="M")
    with app.app_context():
        users = digest.due_recipients(MONDAY)
        alone = {user.id: digest.build(user, MONDAY) for user in users}
        ranking = queues.Ranking(MONDAY)
        shared = {user.id: digest.build(user, MONDAY, ranking=ranking) for user in users}
        assert shared == alone
        assert {user.role for user in users} >= {"requester", "analyst", "lead"}
        ranked = []
        real = queues._rank_team
        monkeypatch.setattr(queues, "_rank_team",
                            lambda rows, scoring: ranked.append(1) or real(rows, scoring))
        assert digest.queue_due(MONDAY) == len(users)
        teams = db.session.scalar(db.select(db.func.count(db.distinct(Request.team_id)))
                                  .where(Request.state == "accepted"))
        assert 0 < len(ranked) <= teams
        db.session.rollback()

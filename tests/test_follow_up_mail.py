"""Follow-up mail (issue 13): each follow-up asked once and reminded once over real SMTP, the
one-click link taken from the received mail answers once, a requester who left is not mailed,
`flask followups send` and the scheduler's daily job, and exactly once under two senders."""
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest

from tickets import cli, intake, lifecycle, mail, outcomes, scheduler
from tickets.extensions import db
from tickets.models import Event, FollowUp, OutboxMessage, User, utcnow
from tests.conftest import intake_fields

NOW = datetime(2026, 11, 4, 10, 0, tzinfo=UTC)  # a Wednesday: resolved then
DUE = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)  # ad hoc: 5 business days later, at 09:00
REMINDER_DAYS = 5  # the settings' default follow_up_reminder_days
DELIVERY = {"url": "https://bi.example.com/churn", "note": "Filter by region."}
BASE = "http://127.0.0.1:5000"


@pytest.fixture
def world(make):
    team = make.team("Marketing")
    return {
        "team": team,
        "rita": make.user("requester", teams=[team], name="Rita Requester",
                          email="rita@example.com"),
        "wendy": make.user("requester", teams=[team], name="Wendy Watcher",
                           email="wendy@example.com"),
        "ana": make.user("analyst", teams=[team], name="Ana Analyst", email="ana@example.com"),
    }


def resolved(app, world, requester="rita", at=NOW, **fields):
    """A request of ``requester`` delivered by Ana the day before ``at`` and confirmed at
    ``at``: its follow-up id."""
    watchers = fields.pop("watchers", ())
    with app.app_context():
        user = db.session.get(User, world[requester])
        analyst = db.session.get(User, world["ana"])
        req = intake.submit_request(user, intake_fields(world["team"], **fields),
                                    watchers=watchers, now=at - timedelta(days=3))
        steps_ = [("accept", analyst, {"size": "S"}), ("claim", analyst, {}),
                  ("deliver", analyst, DELIVERY)]
        for hours, (name, actor, inputs) in enumerate(steps_):
            lifecycle.transition(req, name, actor, at - timedelta(days=2, hours=-hours),
                                 **inputs)
        lifecycle.transition(req, "confirm", user, at)
        db.session.commit()
        return req.follow_up.id


def send(app, now, **kwargs):
    """Ask and remind what is due at ``now``, commit, and send the outbox."""
    with app.app_context():
        result = outcomes.send_due(now, **kwargs)
        db.session.commit()
        mail.drain(now)
        return result


def load(app, follow_up_id):
    with app.app_context():
        row = db.session.get(FollowUp, follow_up_id)
        db.session.expunge(row)
        return row


def follow_up_rows(app):
    """(key, recipient) of every follow-up mail in the outbox, in order."""
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            db.select(OutboxMessage.idempotency_key, OutboxMessage.recipient)
            .where(OutboxMessage.kind == "follow_up").order_by(OutboxMessage.id))]


def steps(app, step):
    """{follow-up id: how many system events of ``step`` (asked, reminded, ...) it has}."""
    with app.app_context():
        found = {}
        for event in db.session.scalars(db.select(Event).where(Event.kind == "follow_up")):
            if event.data["step"] == step:
                key = event.data["follow_up_id"]
                found[key] = found.get(key, 0) + 1
        return found


def asked(server):
    """The follow-up mails ``server`` received, in order (notifications of the same requests
    aside)."""
    return [m for m in server.messages if "Was the data used?" in m["Subject"]]


def parts(message):
    return (message.get_body(preferencelist=("plain",)).get_content(),
            message.get_body(preferencelist=("html",)).get_content())


def link_in(text, label):
    """The one-click link of the answer ``label`` in a follow-up mail's plain text."""
    return re.search(rf"^\* {re.escape(label)}: (\S+)", text, re.MULTILINE)[1]


def token_of(link):
    assert link.startswith(f"{BASE}/follow-ups/answer/")
    return link.rsplit("/", 1)[1]


# --- The mail and its link ------------------------------------------------------------------

def test_the_mail_arrives_in_both_parts_and_its_link_answers_once(app, world,
                                                                  smtp_server):
    follow_up_id = resolved(app, world, title="Churn <by> region & more",
                            lever_result="Retention in the south region.",
                            lever_decision="Move retention budget to the worst region.")
    with app.app_context():
        request_id = db.session.get(FollowUp, follow_up_id).request_id

    assert send(app, DUE).asked == 1

    [received] = asked(smtp_server)
    assert received["To"] == "rita@example.com"
    assert received["Subject"] == (f"[Datadesk #{request_id}] Was the data used? "
                                   "Churn <by> region & more")
    text, html = parts(received)
    for body in (text, html):
        assert "Hello Rita Requester" in body
        assert "Retention in the south region." in body
        assert "Move retention budget to the worst region." in body
        assert f"{BASE}/requests/{request_id}#outcome" in body
    assert "Churn &lt;by&gt; region &amp; more" in html and "<by>" not in html
    assert "<script" not in html
    links = {label: link_in(text, label) for label in
             ("Acted on it", "Informed a decision not to act", "Not used yet", "Not used")}
    assert len(set(links.values())) == 4
    for link in links.values():  # the same one-click links in the HTML part
        assert f'href="{link}"' in html

    acted = token_of(links["Acted on it"])
    with app.app_context():
        # Reading the link (what opening it does) answers nothing.
        found, outcome = outcomes.read_link(acted)
        assert (found.id, outcome) == (follow_up_id, "acted")
        assert found.answered_at is None and found.status == "asked"
        outcomes.record(found, found.recipient, DUE + timedelta(hours=1), outcome=outcome,
                        via="mail", first_only=True)
        db.session.commit()
    answered = load(app, follow_up_id)
    assert (answered.status, answered.outcome, answered.answered_by_id) == (
        "answered", "acted", world["rita"])
    with app.app_context():
        [event] = outcomes.history(request_id)
        assert (event.data["outcome"], event.data["via"]) == ("acted", "mail")
        # Every link of the mail has done its work: another answer needs logging in.
        for link in (links["Not used"], links["Acted on it"]):
            with pytest.raises(outcomes.LinkRefused) as refused:
                outcomes.read_link(token_of(link))
            assert (refused.value.reason, refused.value.status) == ("used", 409)
        # A link of the mail cut short is refused as forged.
        with pytest.raises(outcomes.LinkRefused) as forged:
            outcomes.read_link(acted[:-4])
        assert forged.value.reason == "forged"
        assert len(outcomes.history(request_id)) == 1


def test_two_clicks_racing_on_the_links_of_one_mail_record_one_answer(app, world,
                                                                      smtp_server):
    follow_up_id = resolved(app, world)
    send(app, DUE)
    text, _ = parts(asked(smtp_server)[0])
    tokens = [token_of(link_in(text, "Acted on it")), token_of(link_in(text, "Not used yet"))]
    with app.app_context():  # both pages were opened before either answer was sent
        opened = [outcomes.read_link(token) for token in tokens]
        first, outcome = opened[0]
        outcomes.record(first, first.recipient, DUE, outcome=outcome, via="mail",
                        first_only=True)
        db.session.commit()
        second, outcome = opened[1]
        with pytest.raises(outcomes.LinkRefused):
            outcomes.record(second, second.recipient, DUE, outcome=outcome, via="mail",
                            first_only=True)
        db.session.rollback()
    assert load(app, follow_up_id).outcome == "acted"


def test_the_reminder_comes_once_after_the_reminder_days_and_never_again(app, world,
                                                                         smtp_server):
    follow_up_id = resolved(app, world, title="Campaign ROI")
    assert send(app, DUE - timedelta(minutes=1)).asked == 0  # not its moment yet
    assert send(app, DUE).asked == 1
    assert send(app, DUE + timedelta(days=REMINDER_DAYS - 1)).reminded == 0
    assert send(app, DUE + timedelta(days=REMINDER_DAYS)).reminded == 1
    for later in (timedelta(days=REMINDER_DAYS, hours=1), timedelta(days=30),
                  timedelta(days=365)):
        result = send(app, DUE + later)
        assert (result.asked, result.reminded) == (0, 0)
    assert (send(app, DUE + timedelta(days=40), force=True).asked,
            send(app, DUE + timedelta(days=40), force=True).reminded) == (0, 0)

    subjects = [m["Subject"] for m in asked(smtp_server)]
    assert [re.sub(r"#\d+", "#N", s) for s in subjects] == [
        "[Datadesk #N] Was the data used? Campaign ROI",
        "[Datadesk #N] Reminder: Was the data used? Campaign ROI"]
    reminder_text, reminder_html = parts(asked(smtp_server)[1])
    assert reminder_text.startswith("Reminder: was the data used?")
    assert "Reminder: was the data used?" in reminder_html
    assert follow_up_rows(app) == [(f"follow-up:{follow_up_id}:ask", "rita@example.com"),
                                   (f"follow-up:{follow_up_id}:reminder", "rita@example.com")]
    row = load(app, follow_up_id)
    assert (row.status, row.asked_at, row.reminded_at) == (
        "reminded", DUE, DUE + timedelta(days=REMINDER_DAYS))
    # The reminder's links work as the first mail's did (the first answer needs no log-in).
    with app.app_context():
        found, outcome = outcomes.read_link(token_of(link_in(reminder_text, "Not used yet")))
        assert (found.id, outcome) == (follow_up_id, "not_yet")


def test_an_answered_follow_up_gets_no_reminder(app, world, smtp_server):
    follow_up_id = resolved(app, world)
    send(app, DUE)
    with app.app_context():
        row = db.session.get(FollowUp, follow_up_id)
        outcomes.record(row, row.recipient, DUE + timedelta(days=1), outcome="not_yet")
        db.session.commit()
    assert send(app, DUE + timedelta(days=REMINDER_DAYS + 1)).reminded == 0
    assert len(asked(smtp_server)) == 1


def test_a_requester_who_left_is_not_mailed_the_watcher_is(app, world, smtp_server):
    follow_up_id = resolved(app, world, title="Pricing test",
                            watchers=["wendy@example.com"])
    with app.app_context():
        db.session.get(User, world["rita"]).is_active = False
        db.session.commit()

    result = send(app, DUE)

    assert (result.asked, result.handed_over) == (1, 1)
    [received] = asked(smtp_server)
    assert received["To"] == "wendy@example.com"
    assert [m for m in asked(smtp_server) if m["To"] == "rita@example.com"] == []
    text, html = parts(received)
    for body in (text, html):
        assert "Hello Wendy Watcher" in body
        assert "Rita Requester, who asked for it, has left" in body
    with app.app_context():
        found, _ = outcomes.read_link(token_of(link_in(text, "Acted on it")))
        assert found.recipient_id == world["wendy"]
    # Her reminder goes to Wendy too, once.
    send(app, DUE + timedelta(days=REMINDER_DAYS))
    assert [m["To"] for m in asked(smtp_server)] == ["wendy@example.com"] * 2
    assert load(app, follow_up_id).recipient_id == world["wendy"]


def test_a_requester_who_left_with_nobody_to_ask_gets_no_mail_and_nobody_does(
        app, make, world, smtp_server):
    follow_up_id = resolved(app, world)
    with app.app_context():
        db.session.get(User, world["rita"]).is_active = False
        db.session.commit()

    assert send(app, DUE).unanswerable == 1
    assert send(app, DUE + timedelta(days=REMINDER_DAYS)).text.startswith(
        "0 follow-up(s) asked, 0 reminded")

    assert asked(smtp_server) == []
    assert follow_up_rows(app) == []
    assert load(app, follow_up_id).status == "unanswerable"
    assert steps(app, "unanswerable") == {follow_up_id: 1}


# --- Exactly once ---------------------------------------------------------------------------

def test_two_senders_at_once_queue_and_send_each_mail_once(app, world, smtp_server, caplog):
    ids = [resolved(app, world, title=f"Report {n}") for n in range(3)]
    barrier = threading.Barrier(2)
    results, failures = [None, None], []

    def sender(index):
        try:
            with app.app_context():  # a session of its own, as another process would have
                barrier.wait(timeout=10)
                results[index] = outcomes.send_due(DUE)
                db.session.commit()
        except Exception as error:  # surfaced below: a thread's exception is otherwise lost
            failures.append(error)

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    # One sender asked each follow-up; the other found its mail queued and left it alone
    # (or started after the first had finished): no error, no retry left for later.
    assert sum(result.asked for result in results) == 3
    assert "could not be sent" not in caplog.text
    assert sorted(follow_up_rows(app)) == sorted(
        (f"follow-up:{i}:ask", "rita@example.com") for i in ids)
    assert steps(app, "asked") == {i: 1 for i in ids}
    assert {load(app, i).status for i in ids} == {"asked"}

    with app.app_context():
        mail.drain(DUE)
    subjects = sorted(m["Subject"] for m in asked(smtp_server))
    assert len(subjects) == 3 and len(set(subjects)) == 3

    # A rerun, a --force rerun and a second drain add nothing.
    assert send(app, DUE + timedelta(minutes=5)).asked == 0
    assert send(app, DUE + timedelta(minutes=6), force=True).asked == 0
    assert len(follow_up_rows(app)) == 3 and len(asked(smtp_server)) == 3
    assert steps(app, "asked") == {i: 1 for i in ids}


def test_two_reminders_at_once_remind_once(app, world, smtp_server, caplog):
    follow_up_id = resolved(app, world)
    send(app, DUE)
    later = DUE + timedelta(days=REMINDER_DAYS)
    barrier = threading.Barrier(2)
    failures = []

    def sender():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                outcomes.send_due(later)
                db.session.commit()
        except Exception as error:
            failures.append(error)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with app.app_context():
        mail.drain(later)

    assert failures == [] and "could not be sent" not in caplog.text
    assert [key for key, _ in follow_up_rows(app)] == [f"follow-up:{follow_up_id}:ask",
                                                       f"follow-up:{follow_up_id}:reminder"]
    assert steps(app, "reminded") == {follow_up_id: 1}
    assert len(asked(smtp_server)) == 2


# --- The command and the scheduler -----------------------------------------------------------

def due_now(app, follow_up_id, moment):
    """Move ``follow_up_id``'s moment to ``moment`` (the command runs on the real clock)."""
    with app.app_context():
        db.session.get(FollowUp, follow_up_id).due_at = moment
        db.session.commit()


@pytest.fixture
def one_due_one_not(app, world):
    """Two follow-ups on the real clock: the first due an hour ago, the second in 10 days."""
    now = utcnow()
    due = resolved(app, world, title="Due already")
    later = resolved(app, world, title="Due later")
    due_now(app, due, now - timedelta(hours=1))
    due_now(app, later, now + timedelta(days=10))
    with app.app_context():
        request_ids = [db.session.get(FollowUp, i).request_id for i in (due, later)]
        # The notifications of the deliveries went out at the time.
        db.session.execute(db.update(OutboxMessage).values(status="sent", sent_at=now))
        db.session.commit()
    return {"due": due, "later": later, "requests": request_ids}


def test_followups_send_dry_run_lists_who_would_be_asked_and_changes_nothing(
        app, runner, one_due_one_not, smtp_server):
    due_request, later_request = one_due_one_not["requests"]

    dry = runner.invoke(args=["followups", "send", "--dry-run"])

    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines() == [
        f"#{due_request} Due already: ask rita@example.com",
        "1 follow-up(s) would be asked, 0 reminded (dry run: nothing queued)."]
    forced = runner.invoke(args=["followups", "send", "--dry-run", "--force"])
    assert f"#{later_request} Due later: ask rita@example.com (before its day: --force)" \
        in forced.output
    assert "2 follow-up(s) would be asked" in forced.output
    assert follow_up_rows(app) == [] and asked(smtp_server) == []
    assert steps(app, "asked") == {}
    assert {load(app, i).status for i in (one_due_one_not["due"],
                                          one_due_one_not["later"])} == {"scheduled"}


def test_followups_send_dry_run_names_the_stand_in_of_a_requester_who_left(
        app, make, world, runner):
    with_watcher = resolved(app, world, title="Watched", watchers=["wendy@example.com"])
    alone = resolved(app, world, title="Alone")
    with app.app_context():
        db.session.get(User, world["rita"]).is_active = False
        db.session.commit()

    dry = runner.invoke(args=["followups", "send", "--dry-run", "--force"])

    assert "Watched: rita@example.com left: ask wendy@example.com instead" in dry.output
    assert "Alone: rita@example.com left and nobody else can be asked" in dry.output
    assert {load(app, i).status for i in (with_watcher, alone)} == {"scheduled"}
    assert load(app, with_watcher).recipient_id == world["rita"]


def test_followups_send_asks_what_is_due_and_force_asks_the_rest_once(
        app, runner, one_due_one_not, smtp_server):
    first = runner.invoke(args=["followups", "send"])
    assert first.exit_code == 0, first.output
    assert ("1 follow-up(s) asked, 0 reminded, 0 handed over, 0 unanswerable; sent 1, "
            "failed 0.") in first.output
    assert [m["Subject"].endswith("Due already") for m in asked(smtp_server)] == [True]

    again = runner.invoke(args=["followups", "send"])
    assert "0 follow-up(s) asked, 0 reminded" in again.output

    forced = runner.invoke(args=["followups", "send", "--force"])
    assert "1 follow-up(s) asked" in forced.output and "sent 1" in forced.output
    forced_again = runner.invoke(args=["followups", "send", "--force"])
    assert "0 follow-up(s) asked" in forced_again.output and "sent 0" in forced_again.output

    assert sorted(m["Subject"].rsplit("? ", 1)[1] for m in asked(smtp_server)) == [
        "Due already", "Due later"]
    assert steps(app, "asked") == {one_due_one_not["due"]: 1, one_due_one_not["later"]: 1}


def test_followups_send_keeps_the_mail_when_smtp_is_down(app, runner, one_due_one_not,
                                                        smtp_down):
    result = runner.invoke(args=["followups", "send"])
    assert "1 follow-up(s) asked" in result.output and "sent 0, failed" in result.output
    assert "queued mail stays in the outbox" in result.output
    server = smtp_down()
    with app.app_context():
        mail.retry_now()
        db.session.commit()
    runner.invoke(args=["outbox", "drain"])
    assert [m["To"] for m in asked(server)] == ["rita@example.com"]
    # Asked once: the mail that waited is the ask, and no run asks again.
    runner.invoke(args=["followups", "send"])
    assert len(follow_up_rows(app)) == 1


def follow_up_job():
    return next(job for job in scheduler.JOBS if job.name == "follow_ups")


def test_the_scheduler_asks_follow_ups_daily_before_it_sends_the_outbox():
    names = [job.name for job in scheduler.JOBS]
    job = follow_up_job()
    assert names.index("follow_ups") < names.index("drain_outbox")
    assert job.every == timedelta(days=1)
    assert "whether delivered data was used" in job.help
    assert "follow_ups" in scheduler.__doc__
    # `flask scheduler` says so when it starts.
    assert [cli._every(job.every) for job in scheduler.JOBS] == [
        "every 5 min", "every 15 min", "hourly", "hourly", "daily", "hourly", "every 1 min",
        "every 1 min", "daily", "daily"]


def test_the_daily_job_asks_once_a_day_and_reminds_later(app, world, smtp_server):
    follow_up_id = resolved(app, world)
    job = follow_up_job()
    with app.app_context():
        run = scheduler.run_job(job, DUE + timedelta(hours=1))
        assert run.summary == "1 follow-up(s) asked, 0 reminded, 0 handed over, 0 unanswerable"
        assert scheduler.run_job(job, DUE + timedelta(hours=5)) is None  # same day: ran
        assert scheduler.run_job(job, DUE + timedelta(days=1)).summary.startswith(
            "0 follow-up(s) asked, 0 reminded")
        reminded = scheduler.run_job(job, DUE + timedelta(days=REMINDER_DAYS, hours=1))
        assert reminded.summary.startswith("0 follow-up(s) asked, 1 reminded")
        mail.drain(DUE + timedelta(days=REMINDER_DAYS, hours=1))
    assert len(asked(smtp_server)) == 2
    assert load(app, follow_up_id).status == "reminded"

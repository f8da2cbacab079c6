"""The scheduled jobs, as a list, and the one process that runs them (``flask scheduler``).

Web workers never run jobs: several gunicorn workers would each run them. ``flask scheduler``
runs every job once at start, one after another in the order of ``JOBS`` (the jobs that queue
mail before the one that sends it, so what the start-up round queues goes out in that round),
then each at its interval. Each job is safe to run again: what it produces carries its own key
(a digest per recipient and ISO week, a notification per at-risk instant, a daily batch of
notifications per person and day, a follow-up's ask and its one reminder), and it picks only the work that is due. So a run missed while the
process was down is caught up once at start, never skipped and never doubled.

``follow_ups`` runs daily (and at start): a follow-up is due at the start of a working day and
the daily run asks it on that day or the next; `flask followups send` asks at once.

Each run of a job for one period (its start rounded down to the interval) is a ``JobRun`` row:
the unique (job, period) stops two scheduler processes from both running it, and the row keeps
the outcome, or the error of a failed run, which the next period's run retries.
"""
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Callable

from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import JobRun, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """A job: its name, how often it runs, and what it does (a function of ``now``)."""

    name: str
    every: timedelta
    run: Callable
    help: str = ""


def _drain_outbox(now):
    from . import mail

    result = mail.drain(now)
    return f"sent {result.sent}, failed {result.failed}" + (
        f" ({result.error})" if result.error else "")


def _sla_at_risk(now):
    from . import notifications

    return f"{notifications.sla_at_risk(now)} at-risk notification(s)"


def _daily_notifications(now):
    from . import notifications

    return f"{notifications.send_daily(now)} daily batch(es) of notifications queued"


def _digests(now):
    from . import digest

    return f"{digest.queue_due(now)} digest(s) queued"


def _follow_ups(now):
    from . import outcomes

    return outcomes.send_due(now).text


def _auto_resolve(now):
    from . import lifecycle

    return f"{len(lifecycle.auto_resolve_due(now))} delivery(ies) resolved automatically"


def _sweep_attachments(now):
    from . import attachments

    return f"{attachments.sweep(now)} left-over attachment file(s) deleted"


def _release_waitlisted(now):
    from . import budget

    return f"{len(budget.release_waitlisted(now))} waitlisted request(s) released"


def _deliver_webhooks(now):
    from . import webhooks

    result = webhooks.deliver_due(now)
    return f"{result.succeeded} webhook delivery(ies) succeeded, {result.failed} failed"


def _flow_snapshot(now):
    from .reports import snapshot
    return snapshot.settle(now)


# In the order of the start-up round: every job that queues mail (notifications, digests,
# follow-ups) before the one that sends it.
JOBS = [
    Job("sla_at_risk", timedelta(minutes=5), _sla_at_risk,
        "Tell assignees about requests that went at risk of missing their SLA."),
    Job("digests", timedelta(minutes=15), _digests,
        "Queue the weekly digests whose day and time have come."),
    Job("auto_resolve", timedelta(hours=1), _auto_resolve,
        "Resolve deliveries nobody confirmed or reopened within the settings' days."),
    Job("release_waitlisted", timedelta(hours=1), _release_waitlisted,
        "Release waitlisted ad-hoc requests when a new week's budget has room."),
    Job("follow_ups", timedelta(days=1), _follow_ups,
        "Ask requesters whether delivered data was used, once when the follow-up is due and "
        "once more as a reminder."),
    Job("daily_notifications", timedelta(hours=1), _daily_notifications,
        "Send each person who chose a daily batch for some notifications one mail a day with "
        "them, from the start of the working day."),
    Job("deliver_webhooks", timedelta(minutes=1), _deliver_webhooks,
        "POST the due webhook deliveries (retries included); pause endpoints that keep failing."),
    Job("drain_outbox", timedelta(minutes=1), _drain_outbox, "Send the e-mail outbox."),
    Job("sweep_attachments", timedelta(days=1), _sweep_attachments,
        "Delete attachment files no saved request keeps (uploads a crash left half-done, "
        "files held for a form nobody sent again)."),
    Job("flow_snapshot", timedelta(days=1), _flow_snapshot,
        "Rebuild the reports' flow snapshot from the events: catches events imported in bulk "
        "and a change of timezone."),
]


def period_of(job, now):
    """The period ``now`` falls in for ``job``: its start, rounded down to the interval."""
    seconds = int(job.every.total_seconds())
    epoch = int(now.timestamp())
    start = datetime.fromtimestamp(epoch - epoch % seconds, UTC)
    return start.strftime("%Y-%m-%dT%H:%M")


def run_job(job, now=None):
    """Run ``job`` for the period of ``now`` unless it ran already; return its JobRun or None.

    Commits. A failure is rolled back, logged and recorded on the JobRun; it does not raise.
    """
    now = now or utcnow()
    run = JobRun(job=job.name, period=period_of(job, now), started_at=now)
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        log.info("job %s already ran for period %s", job.name, run.period)
        return None
    run_id = run.id
    try:
        summary = job.run(now) or ""
        db.session.commit()
    except Exception as error:  # a job's failure must not stop the scheduler
        db.session.rollback()
        log.exception("job %s failed", job.name)
        failed = db.session.get(JobRun, run_id)
        failed.error = f"{type(error).__name__}: {error}"[:2000]
        failed.finished_at = utcnow()
        db.session.commit()
        return failed
    done = db.session.get(JobRun, run_id)
    done.summary = summary[:300]
    done.finished_at = utcnow()
    db.session.commit()
    log.info("job %s: %s", job.name, summary)
    return done


def start_round(app, now):
    """Run every job once for ``now``, one after another in the order of ``JOBS``: the catch-up
    at start. Run concurrently, the outbox would be sent before the digests were queued."""
    with app.app_context():
        try:
            for job in JOBS:
                run_job(job, now)
        finally:
            db.session.remove()


def start(app, blocking=True):
    """Run every job now, in order (``start_round``), then each at its interval, until
    stopped."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=UTC)

    def runner(job):
        def run():
            with app.app_context():
                run_job(job)
                db.session.remove()
        return run

    first = utcnow()
    start_round(app, first)
    for job in JOBS:
        scheduler.add_job(runner(job), "interval", seconds=job.every.total_seconds(),
                          id=job.name, name=job.help or job.name,
                          next_run_time=first + job.every,
                          coalesce=True, max_instances=1, misfire_grace_time=None)
    scheduler.start()
    return scheduler

"""``flask`` commands: demo data, user management, weekly ad-hoc budgets, the mail outbox,
digests, follow-ups, daily batches of notifications, the reports' flow snapshot and imports of
past requests."""
import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from . import budget, people, tokens
from .errors import Refusal
from .extensions import db
from .models import ROLES, Team, User, name_key, utcnow

users_cli = AppGroup("users", help="Create and list people.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(list(ROLES)), default="requester", show_default=True)
@click.option("--team", "teams", multiple=True, help="Team name; repeat for several.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user(email, name, role, teams, password):
    """Create a user, e.g. the first admin of a new installation."""
    from .forms.base import normalise_email

    try:
        email = normalise_email(email)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--email") from error
    problem = people.password_problem(password, email)
    if problem:
        raise click.BadParameter(problem, param_hint="--password")
    # Team names are unique ignoring case (people.save_team), so they are found ignoring case.
    wanted = {name_key(name): name for name in teams}
    found = db.session.scalars(
        db.select(Team).where(Team.name_key.in_(list(wanted)))).all() if teams else []
    unknown = set(wanted) - {team.name_key for team in found}
    if unknown:
        raise click.BadParameter(f"no team called {', '.join(sorted(wanted[name] for name in unknown))}",
                                 param_hint="--team")
    try:
        user = people.save_user(None, name=name, email=email, role=role,
                                team_ids=[team.id for team in found], password=password)
    except people.DuplicateName as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")


@users_cli.command("list")
def list_users():
    """List every user with role and teams."""
    for user in db.session.scalars(db.select(User).order_by(User.role, User.email)):
        teams = ", ".join(team.name for team in user.teams) or "-"
        state = "" if user.is_active else " (inactive)"
        click.echo(f"{user.role:<10} {user.email:<40} {teams}{state}")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Load the demo teams, people and requests (safe to run again: it adds nothing twice)."""
    from .demo import DEMO_PASSWORD, seed_demo
    from .reports import snapshot

    created = seed_demo()
    if created:
        snapshot.rebuild()  # the reports' snapshot of the history just written, whatever held
    db.session.commit()
    if created:
        click.echo("Demo data loaded.")
    else:
        click.echo("Demo data already present; nothing added.")
    click.echo(f"Demo log-ins (password for all: {DEMO_PASSWORD}):")
    for email, role in [("admin@example.com", "admin"), ("lead@example.com", "lead"),
                        ("analyst@example.com", "analyst (Marketing, Finance)"),
                        ("requester@example.com", "requester (Marketing)")]:
        click.echo(f"  {email:<24} {role}")


outbox_cli = AppGroup("outbox", help="Look at and send the e-mail outbox.")


@outbox_cli.command("status")
def outbox_status():
    """Show how many messages wait, how many were sent, the latest errors, and which messages
    a sender holds, until when."""
    from . import mail

    found = mail.status()
    click.echo(f"pending: {found.pending} (of which retrying after an error: "
               f"{found.waiting_retry}); sent: {found.sent}")
    if found.oldest_pending_at is not None:
        click.echo(f"oldest pending since: {found.oldest_pending_at:%Y-%m-%d %H:%M} UTC")
    if found.locks:
        click.echo(f"locked by a sender: {sum(count for _, count, _, _ in found.locks)}")
    for sender, count, until, is_gone in found.locks:
        gone = " (that sender is gone: `flask outbox retry` frees them)" if is_gone else ""
        click.echo(f"  {count} by {sender} until {until:%Y-%m-%d %H:%M:%S} UTC{gone}")
    for row in found.recent_errors:
        click.echo(f"  #{row.id} to {row.recipient}: {row.attempts} attempt(s), next at "
                   f"{row.send_after:%Y-%m-%d %H:%M} UTC: {row.last_error}")


@outbox_cli.command("retry")
def outbox_retry():
    """Free the messages of senders that are gone and make every waiting message due now
    (after the SMTP server is fixed), then send."""
    from . import mail

    freed = mail.free_gone_senders()
    count = mail.retry_now()
    db.session.commit()
    if freed:
        click.echo(f"freed {freed} message(s) locked by senders that are gone.")
    result = mail.drain()
    click.echo(f"{count} message(s) made due now; sent {result.sent}, failed {result.failed}.")
    if result.error:
        click.echo(f"error: {result.error}", err=True)


@outbox_cli.command("drain")
def outbox_drain():
    """Send every due message once (the scheduler does this every minute)."""
    from . import mail

    total_sent = total_failed = 0
    while True:
        result = mail.drain()
        total_sent += result.sent
        total_failed += result.failed
        if result.error or not result.sent:
            break
    click.echo(f"sent {total_sent}, failed {total_failed}.")
    if result.error:
        click.echo(f"error: {result.error}", err=True)
        raise SystemExit(1)


budgets_cli = AppGroup("budgets", help="Teams' weekly ad-hoc budgets.")


@budgets_cli.command("release")
def release_budgets():
    """Release waitlisted requests to triage, in priority order, where this week's budget has
    room (run at the start of each week; running it again releases nothing more)."""
    released = budget.release_waitlisted(utcnow())
    db.session.commit()
    for request in released:
        click.echo(f"Released #{request.id} ({request.team.name}): {request.title}")
    click.echo(f"{len(released)} request{'' if len(released) == 1 else 's'} released.")


digests_cli = AppGroup("digests", help="The weekly e-mail digests.")


@digests_cli.command("send")
@click.option("--dry-run", is_flag=True, help="Show who would get which digest; queue nothing.")
@click.option("--user", "email", help="Only this person (e-mail), whatever their day.")
@click.option("--force", is_flag=True,
              help="With --user: send this person an extra copy if this week's went already.")
def send_digests(dry_run, email, force):
    """Queue the digests that are due (or one person's), then send the outbox.

    Each person gets one digest per ISO week, whatever runs at the same time (the scheduler,
    this command twice); --force is one named person's deliberate extra copy.
    """
    from . import digest, mail, settings
    from .forms.base import normalise_email

    if force and not email:
        raise click.UsageError(
            "--force resends one person's digest: name them with --user. (Without --user "
            "everyone due gets this week's digest, once.)")
    now = utcnow()
    if email:
        try:
            email = normalise_email(email)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--user") from error
        user = db.session.scalars(db.select(User).where(User.email == email)).first()
        if user is None:
            raise click.BadParameter(f"nobody has the e-mail {email}", param_hint="--user")
        recipients = [user]
        if force:
            week = digest.week_of(now, settings.current())
            if digest.is_queued(user, week):
                click.echo(f"{user.email} had this week's digest ({week.key}) already: "
                           "queueing one extra copy for this person only (--force).")
            else:
                click.echo(f"{user.email}: this week's digest ({week.key}) was not queued yet: "
                           "queueing it (no extra copy).")
    else:
        recipients = digest.due_recipients(now)
    if dry_run:
        for user in recipients:
            subject, _, _ = digest.build(user, now)
            click.echo(f"{user.email:<40} {subject}")
        click.echo(f"{len(recipients)} digest(s) would be queued (dry run: nothing queued).")
        db.session.rollback()
        return
    queued = 0
    for user in recipients:
        if digest.queue_digest(user, now, force=force) is None:
            click.echo(f"{user.email}: this week's digest was queued already"
                       + (" (--user ... --force sends an extra copy)." if email else "."))
        else:
            queued += 1
    db.session.commit()
    result = mail.drain(now)
    click.echo(f"{queued} digest(s) queued; sent {result.sent}, failed {result.failed}.")
    if result.error:
        click.echo(f"error: {result.error} (queued mail stays in the outbox)", err=True)


followups_cli = AppGroup("followups", help="Follow-ups: was the delivered data used?")


def _follow_up_line(follow_up, step, now):
    """What ``send`` would do about ``follow_up``'s ``step``, in one line (for --dry-run)."""
    from . import outcomes

    request = follow_up.request
    what = "ask" if step == "ask" else "remind"
    recipient = follow_up.recipient
    if not recipient.is_active:
        other = outcomes.stand_in(request)
        if other is None:
            return (f"#{request.id} {request.title}: {recipient.email} left and nobody else "
                    "can be asked: it would be marked unanswerable")
        return (f"#{request.id} {request.title}: {recipient.email} left: {what} "
                f"{other.email} instead (a watcher)")
    early = " (before its day: --force)" if step == "ask" and follow_up.due_at > now else ""
    return f"#{request.id} {request.title}: {what} {recipient.email}{early}"


@followups_cli.command("send")
@click.option("--dry-run", is_flag=True,
              help="Show who would be asked or reminded about which request; change nothing.")
@click.option("--force", is_flag=True,
              help="Ask the scheduled follow-ups now, even before their day. Each ask and each "
                   "reminder still goes once.")
def send_follow_ups(dry_run, force):
    """Ask the follow-ups that are due and remind those asked long enough ago, then send the
    outbox (the scheduler does this daily).

    Each follow-up is asked once and reminded once, whatever runs at the same time (the
    scheduler, this command twice, --force): each mail has its own key in the outbox.
    """
    from . import mail, outcomes, settings

    now = utcnow()
    if dry_run:
        found = outcomes.due(now, settings.current(), force)
        for follow_up, step in found:
            click.echo(_follow_up_line(follow_up, step, now))
        asks = sum(step == "ask" for _, step in found)
        click.echo(f"{asks} follow-up(s) would be asked, {len(found) - asks} reminded "
                   "(dry run: nothing queued).")
        db.session.rollback()
        return
    result = outcomes.send_due(now, force=force)
    db.session.commit()
    if result.skipped:
        click.echo(f"{result.skipped} follow-up(s) left alone: asked, reminded or answered by "
                   "another run meanwhile.")
    sent = mail.drain(now)
    click.echo(f"{result.text}; sent {sent.sent}, failed {sent.failed}.")
    if sent.error:
        click.echo(f"error: {sent.error} (queued mail stays in the outbox)", err=True)


notifications_cli = AppGroup("notifications", help="Notifications about requests.")


@notifications_cli.command("daily")
@click.option("--dry-run", is_flag=True,
              help="Show who would get a daily batch with how many notifications; queue nothing.")
def send_daily_notifications(dry_run):
    """Queue the daily batches of notifications (for those who chose "daily batch" for some
    kinds), then send the outbox (the scheduler does it hourly, from the start of the working
    day). Each person gets one a day, whatever else runs at the same time."""
    from sqlalchemy import func, select

    from . import mail, notifications
    from .models import Notification

    now = utcnow()
    if dry_run:
        rows = db.session.execute(
            select(User.email, func.count()).join(Notification, Notification.recipient_id == User.id)
            .where(Notification.is_daily.is_(True), Notification.mailed_at.is_(None))
            .group_by(User.email).order_by(User.email)).all()
        for email, count in rows:
            click.echo(f"{email:<40} {count} notification(s)")
        click.echo(f"{len(rows)} daily batch(es) would be queued (dry run: nothing queued).")
        return
    queued = notifications.send_daily(now, at_any_hour=True)
    db.session.commit()
    result = mail.drain(now)
    click.echo(f"{queued} daily batch(es) queued; sent {result.sent}, failed {result.failed}.")
    if result.error:
        click.echo(f"error: {result.error} (queued mail stays in the outbox)", err=True)


reports_cli = AppGroup("reports", help="The data behind the charts of /reports.")


@reports_cli.command("rebuild-snapshot")
@with_appcontext
def rebuild_snapshot():
    """Recompute the flow snapshot (the event history summed per day) from the events: after a
    bulk import of events, or to use a new timezone at once instead of after the nightly job."""
    from .reports import snapshot

    rows = snapshot.rebuild()
    db.session.commit()
    click.echo(f"Flow snapshot rebuilt: {rows} day row(s), timezone {snapshot.snapshot_zone()}.")


import_cli = AppGroup("import", help="Import past requests from a spreadsheet.")


@import_cli.command("requests")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check every row and say what would happen; "
              "write nothing.")
@click.option("--map", "choices", multiple=True, metavar="COLUMN=FIELD",
              help="Map a column (its header, or its number from 1) to a field, over the "
                   "guess; FIELD - leaves the column out. Repeat for several.")
@click.option("--create-missing", is_flag=True,
              help="Create the teams and people the rows name that do not exist yet (people "
                   "as inactive requesters, to invite later).")
@click.option("--as", "email", help="Who the history says imported them (default: Datadesk).")
def import_requests(path, dry_run, choices, create_missing, email):
    """Import past requests from a CSV or XLSX file: map its columns, check every row, write
    the good ones in one transaction and list every refused row with its reason. Importing
    the same file again adds nothing."""
    import os

    from . import imports
    from .forms.base import normalise_email

    actor = None
    if email:
        try:
            email = normalise_email(email)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--as") from error
        actor = db.session.scalars(db.select(User).where(User.email == email)).first()
        if actor is None:
            raise click.BadParameter(f"nobody has the e-mail {email}", param_hint="--as")
    with open(path, "rb") as stream:
        data = stream.read(imports.MAX_BYTES + 1)
    now = utcnow()
    try:
        sheet = imports.read_file(os.path.basename(path), data)
        mapping = imports.parse_mapping(sheet.headers, choices)
        for line in imports.mapping_lines(sheet.headers, mapping):
            click.echo(f"  {line}")
        plan = imports.check(sheet, mapping, now, create_missing=create_missing)
    except imports.ImportRefused as error:
        hint = "--map" if error.field == imports.MAPPING_FIELD else "PATH"
        raise click.BadParameter(str(error), param_hint=hint) from error
    click.echo(f"Dates read {'day' if plan.is_day_first else 'month'} first.")
    if plan.creation_text:
        verb = "will" if create_missing else "would (with --create-missing)"
        click.echo(f"{plan.creation_text}: {verb} be created.")
    if dry_run:
        db.session.rollback()
        click.echo(f"Dry run: {plan.counts_text()}; nothing written.")
    else:
        try:
            with click.progressbar(length=len(plan.good), label="Importing") as bar:
                imports.run(plan, actor, now, progress=bar.update)
            db.session.commit()
        except Refusal as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from error
        click.echo(f"Imported {plan.imported}; {len(plan.refused_rows)} refused; "
                   f"{plan.already} already imported.")
    for problem in plan.problems:
        click.echo(str(problem))


def _every(interval):
    """A job's interval in words: "every 5 min", "hourly", "daily"."""
    minutes = int(interval.total_seconds() // 60)
    if minutes == 24 * 60:
        return "daily"
    if minutes == 60:
        return "hourly"
    if minutes % 60 == 0:
        return f"every {minutes // 60} h"
    return f"every {minutes} min"


@click.command("scheduler")
@with_appcontext
def scheduler_command():
    """Run the scheduled jobs (digests, follow-ups, outbox, SLA checks, auto-resolve, budget
    release) in this one process, until stopped. Run exactly one per installation, next to the web server."""
    import logging

    from flask import current_app

    from . import scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    click.echo("Datadesk scheduler: " + ", ".join(
        f"{job.name} {_every(job.every)}" for job in scheduler.JOBS))
    scheduler.start(current_app._get_current_object())


tokens_cli = AppGroup("tokens", help="Personal access tokens for the REST API.")


@tokens_cli.command("create")
@click.option("--email", required=True, help="Whose token: it acts as this person.")
@click.option("--name", required=True, help="What will use it, e.g. \"Team chat bot\".")
@click.option("--scope", type=click.Choice(["read", "write"]), default="read", show_default=True)
@click.option("--expires", "days", type=click.IntRange(1, 3650), default=90, show_default=True,
              help="Days until it stops working.")
@click.option("--never-expires", is_flag=True, help="A token that never expires.")
def create_token(email, name, scope, days, never_expires):
    """Make a token and print its secret, once: only a hash of it is kept."""
    try:
        token, secret = tokens.create_for_email(email, name, scope,
                                                None if never_expires else days, utcnow())
        db.session.commit()
    except Refusal as refusal:
        db.session.rollback()
        raise click.UsageError(str(refusal)) from None
    until = "never expires" if token.expires_at is None else (
        f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC")
    click.echo(f"Token \u201c{token.name}\u201d for {email.strip().lower()} ({scope}, {until}):")
    click.echo(secret)
    click.echo("Copy it now: it is not shown again.")


webhooks_cli = AppGroup("webhooks", help="Send webhook deliveries and look at them.")


@webhooks_cli.command("deliver")
def webhooks_deliver():
    """POST every due webhook delivery once (the scheduler does this every minute)."""
    from . import webhooks

    result = webhooks.deliver_due()
    click.echo(f"succeeded {result.succeeded}, failed {result.failed}.")


@webhooks_cli.command("status")
def webhooks_status():
    """Show the endpoints (which are paused, and why), the deliveries by status and the latest
    errors."""
    from . import webhooks

    found = webhooks.status()
    counts = ", ".join(f"{name}: {found.counts.get(name, 0)}"
                       for name in ("pending", "succeeded", "failed"))
    click.echo(f"endpoints: {found.endpoints} ({len(found.paused)} paused); deliveries {counts} "
               f"(retrying after an error: {found.waiting_retry})")
    for webhook_id, url, reason in found.paused:
        click.echo(f"  paused #{webhook_id} {url}: {reason}")
    for row in found.recent_errors:
        click.echo(f"  delivery #{row.id} ({row.event}) to endpoint #{row.webhook_id}: "
                   f"{row.attempts} attempt(s): {row.last_error}")


def register(app: Flask):
    """Add the commands to ``app``."""
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(budgets_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(webhooks_cli)
    app.cli.add_command(digests_cli)
    app.cli.add_command(followups_cli)
    app.cli.add_command(notifications_cli)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(reports_cli)
    app.cli.add_command(import_cli)

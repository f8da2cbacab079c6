"""``flask`` commands: demo data, user management and the weekly ad-hoc budgets."""
import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func

from . import limits, people
from .extensions import db
from .models import ROLES, Team, User, utcnow

users_cli = AppGroup("users", help="Create and list people.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(list(ROLES)), default="requester", show_default=True)
@click.option("--team", "teams", multiple=True, help="Team name; repeat for several.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user(email, name, role, teams, password):
    """Create a user, e.g. the first admin of a new installation."""
    from .forms import normalise_email

    try:
        email = normalise_email(email)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--email") from error
    if len(password) < 8:
        raise click.BadParameter("use at least 8 characters", param_hint="--password")
    # Team names are unique ignoring case (people.save_team), so they are found ignoring case.
    wanted = {name.lower(): name for name in teams}
    found = db.session.scalars(
        db.select(Team).where(func.lower(Team.name).in_(list(wanted)))).all() if teams else []
    unknown = set(wanted) - {team.name.lower() for team in found}
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

    created = seed_demo()
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


budgets_cli = AppGroup("budgets", help="Teams' weekly ad-hoc budgets.")


@budgets_cli.command("release")
def release_budgets():
    """Release waitlisted requests to triage, in priority order, where this week's budget has
    room (run at the start of each week; running it again releases nothing more)."""
    released = limits.release_waitlisted(utcnow())
    db.session.commit()
    for request in released:
        click.echo(f"Released #{request.id} ({request.team.name}): {request.title}")
    click.echo(f"{len(released)} request{'' if len(released) == 1 else 's'} released.")


def register(app: Flask):
    """Add the commands to ``app``."""
    app.cli.add_command(users_cli)
    app.cli.add_command(budgets_cli)
    app.cli.add_command(seed_demo_command)

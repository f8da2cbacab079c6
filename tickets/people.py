"""Teams and people: creating and changing them, with the rules that keep an install usable."""
import secrets

from sqlalchemy.exc import IntegrityError

from . import localtime
from .errors import Refusal
from .extensions import db
from .models import ROLES, Team, User, name_key, utcnow
from .policy import allowed
from .sessions import revoke_sessions

# OWASP ASVS 2.1.1-2.1.2: at least 12 characters; long passphrases welcome, never truncated.
PASSWORD_LENGTH = (12, 256)


class DuplicateName(Refusal):
    """A team name or e-mail address that is already taken (``field``: which)."""


class NotPermitted(Refusal):
    """A change the acting user may not make; ``field`` names the form field it concerns."""

    def __init__(self, message, field="role"):
        super().__init__(message, field)


def password_problem(password, email):
    """Say what makes ``password`` unfit as the password of ``email``, or return None."""
    shortest, longest = PASSWORD_LENGTH
    if not shortest <= len(password) <= longest:
        return f"Use {shortest} to {longest} characters."
    if password.strip().casefold() == email.strip().casefold():
        return "Choose a password other than the e-mail address."
    return None


def active_teams(keep=None):
    """The active teams by name, as the forms offer them; with ``keep`` (the team a request or
    an asset already has), that team too when it is inactive, so an edit can keep it."""
    teams = db.session.scalars(db.select(Team).where(Team.is_active).order_by(Team.name)).all()
    if keep is not None and keep not in teams:
        teams.append(keep)
    return teams


def change_password(user, password):
    """Give ``user`` a new password, ending every session they have (OWASP ASVS 3.3.3)."""
    user.set_password(password)
    revoke_sessions(user)


def save_team(team, *, name, description="", is_active=True):
    """Create a team (``team`` None) or update one; team names are unique, ignoring case.

    Names are compared by ``name_key`` (case-folded in Python, stored and unique), which both
    databases compare alike whatever the letters. Another team saved with the same name in
    the meantime still raises DuplicateName, from the unique constraint at the flush; the
    session then needs a rollback, as after any failed flush.
    """
    clash = db.session.scalars(db.select(Team).where(Team.name_key == name_key(name))).first()
    if clash is not None and clash is not team:
        raise DuplicateName(f"There is already a team called {clash.name}.", "name")
    if team is None:
        team = Team()
        db.session.add(team)
    team.name, team.description, team.is_active = name, description, is_active
    try:
        db.session.flush()
    except IntegrityError:
        raise DuplicateName(f"There is already a team called {name}.", "name") from None
    return team


def save_user(user, *, actor=None, name, email, role, team_ids=(), password=None, is_active=True,
              time_zone=None, now=None, unknown_password_hash=None):
    """Create a user (``user`` None) or update one.

    Only admins grant or change the admin role, and nobody locks themselves out by
    deactivating their own account or giving up their own management role. A change of role,
    password or access ends the person's sessions. A new person without a ``password`` (the
    way the app creates everyone: invitations.invite) gets a random one nobody knows and has
    not joined until they set their own; with one (the command line, demo data) they have
    joined at ``now``. ``time_zone``: an IANA name, or None for the installation's.
    ``unknown_password_hash``: for a new person without a password, the hash of a random
    password nobody knows to give them instead of hashing one more (an import creating a
    thousand people would spend minutes hashing; sending an invitation replaces it).
    """
    email = email.strip().lower()
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if time_zone is not None and not localtime.is_known_zone(time_zone):
        raise Refusal("Choose a time zone from the list.", "time_zone")
    if (actor is not None and not allowed(actor, "manage_admins")
            and "admin" in (role, getattr(user, "role", None))):
        raise NotPermitted("Only an admin can create, change or grant the admin role.")
    # Compare ids: views pass Flask-Login's current_user, a proxy that is never the User itself.
    if actor is not None and user is not None and user.id == actor.id:
        if not is_active:
            raise NotPermitted("You cannot deactivate your own account.", field="is_active")
        if role != actor.role and allowed(actor, "manage_people"):
            raise NotPermitted("You cannot change your own role; ask another lead or admin.")
    clash = db.session.scalars(db.select(User).where(User.email == email)).first()
    if clash is not None and clash is not user:
        raise DuplicateName(f"{email} already belongs to {clash.name}.", "email")
    teams = db.session.scalars(
        db.select(Team).where(Team.id.in_(list(team_ids))).order_by(Team.name)).all() if team_ids else []
    if user is None:
        user = User(time_zone=time_zone)
        db.session.add(user)
        if not password and unknown_password_hash:
            user.password_hash = unknown_password_hash
        elif not password:
            user.set_password(secrets.token_urlsafe(32))
    elif role != user.role or bool(is_active) != user.is_active:
        revoke_sessions(user)  # what the person may do changed: their open sessions must not keep it
    user.name, user.email, user.role, user.is_active = name, email, role, is_active
    user.teams = teams
    if password:
        change_password(user, password)
        if user.joined_at is None:
            user.joined_at = now or utcnow()
    db.session.flush()
    return user


def set_time_zone(user, time_zone):
    """Show ``user`` every time in ``time_zone`` (an IANA name), or the installation's (None)."""
    if time_zone is not None and not localtime.is_known_zone(time_zone):
        raise Refusal("Choose a time zone from the list.", "time_zone")
    user.time_zone = time_zone
    db.session.flush()

"""Administration for leads and admins: teams, people, roles and analyst embedding."""
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from .. import counts, invitations, people
from ..errors import run_action
from ..extensions import db
from ..forms.admin import TeamForm, UserForm
from ..models import ROLES, Team, User, utcnow
from ..policy import require
from ..queries import MAX_ID, contains_text
from .helpers import is_safe_next, paginate, text_arg

bp = Blueprint("admin", __name__, url_prefix="/admin")

manage = require("manage_people")


@bp.route("/teams")
@manage
def teams():
    """Every team with its members, analysts, and its requests open (before delivery) and
    delivered waiting for confirmation (``counts``: the same words as every page)."""
    all_teams = db.session.scalars(
        db.select(Team).options(selectinload(Team.members)).order_by(Team.name)).all()
    # Only what the page shows (open and delivered): the closed ones are most requests.
    team_counts = counts.unclosed_by_team([team.id for team in all_teams])
    return render_template("admin/teams.html", teams=all_teams, team_counts=team_counts,
                           words=counts.WORDS)


@bp.route("/teams/new", methods=["GET", "POST"])
@bp.route("/teams/<int:team_id>/edit", methods=["GET", "POST"])
@manage
def team_form(team_id=None):
    """Create or rename a team, or make it (in)active."""
    team = db.session.get(Team, team_id) if team_id and team_id <= MAX_ID else None
    if team_id and team is None:
        abort(404)
    form = TeamForm(obj=team)
    if form.validate_on_submit():
        done = run_action(
            lambda: people.save_team(team, name=form.name.data, description=form.description.data,
                                     is_active=form.is_active.data),
            form=form, success=lambda saved: f"Team {saved.name} is saved.")
        if done:
            return redirect(url_for("admin.teams"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/team_form.html", form=form, team=team), status


# The users list's status filter: everyone, those who joined, invitations still open, inactive.
STATUSES = {"joined": "Joined", "invited": "Invited, not yet joined", "inactive": "Inactive"}


@bp.route("/users")
@manage
def users():
    """Everyone who can log in or is invited, filterable by role, status and team."""
    query = db.select(User).options(selectinload(User.teams)).order_by(User.name)
    role = request.args.get("role", "")
    if role in ROLES:
        query = query.where(User.role == role)
    status = request.args.get("status", "")
    if status == "joined":
        query = query.where(User.joined_at.is_not(None), User.is_active)
    elif status == "invited":
        query = query.where(User.joined_at.is_(None), User.is_active)
    elif status == "inactive":
        query = query.where(db.not_(User.is_active))
    else:
        status = ""
    q = text_arg("q", 100)
    if q:
        query = query.where(contains_text(User.name, q) | contains_text(User.email, q))
    page = paginate(query, current_app.config["PAGE_SIZE"] * 2)
    expires = {person.id: invitations.invitation_expires_at(person) for person in page.items}
    return render_template("admin/users.html", page=page, role=role, q=q, status=status,
                           statuses=STATUSES, expires=expires, now=utcnow())


@bp.route("/users/new", methods=["GET", "POST"])
@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@manage
def user_form(user_id=None):
    """Invite a person, or change their name, e-mail, role, teams or access. Nobody types
    anyone's password here: a new person gets an invitation by mail to choose their own."""
    user = db.session.get(User, user_id) if user_id and user_id <= MAX_ID else None
    if user_id and user is None:
        abort(404)
    all_teams = db.session.scalars(db.select(Team).order_by(Team.name)).all()
    form = UserForm(obj=user, teams=all_teams)
    if request.method == "GET" and user is not None:
        form.teams.data = user.team_ids
    if form.validate_on_submit():
        now = utcnow()
        fields = {"name": form.name.data, "email": form.email.data, "role": form.role.data,
                  "team_ids": form.teams.data}
        if user is None:
            done = run_action(
                lambda: invitations.invite(actor=current_user, now=now, **fields),
                form=form, success=lambda saved: _invited_message(saved, "is invited"))
        else:
            done = run_action(
                lambda: invitations.update_person(user, actor=current_user, now=now,
                                                  is_active=form.is_active.data, **fields),
                form=form, success=_saved_message)
        if done:
            return redirect(url_for("admin.users"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, user=user, now=utcnow(),
                           expires_at=invitations.invitation_expires_at(user) if user else None,
                           invitation_days=current_app.config["INVITATION_DAYS"]), status


def _invited_message(user, what):
    return (f"{user.name} {what}: an e-mail with a link to choose their password is on its way "
            f"to {user.email}. The link works for {current_app.config['INVITATION_DAYS']} days.")


def _saved_message(saved):
    user, is_invited_again = saved
    if is_invited_again:
        return _invited_message(user, "is saved and invited again at the new address")
    return f"{user.name} is saved."


@bp.route("/users/<int:user_id>/invitation", methods=["POST"])
@manage
def resend_invitation(user_id):
    """Send a person who has not joined yet a new invitation; the older link stops working."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    run_action(lambda: invitations.send_invitation(user, utcnow()),
               success=lambda invited: _invited_message(invited, "is invited again"))
    target = request.form.get("next", "")
    return redirect(target if is_safe_next(target) else url_for("admin.users"))

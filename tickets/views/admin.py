"""Administration for leads and admins: teams, people, roles and analyst embedding."""
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from .. import counts, people
from ..errors import run_action
from ..extensions import db
from ..forms.admin import TeamForm, UserForm
from ..models import ROLES, Team, User, utcnow
from ..policy import require
from ..queries import MAX_ID, contains_text
from .helpers import keep_this_browser_logged_in, paginate, text_arg

bp = Blueprint("admin", __name__, url_prefix="/admin")

manage = require("manage_people")


@bp.route("/teams")
@manage
def teams():
    """Every team with its members, analysts, and its requests open (before delivery) and
    delivered waiting for confirmation (``counts``: the same words as every page)."""
    all_teams = db.session.scalars(
        db.select(Team).options(selectinload(Team.members)).order_by(Team.name)).all()
    team_counts = counts.by_team([team.id for team in all_teams])
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


@bp.route("/users")
@manage
def users():
    """Everyone who can log in, filterable by role and team."""
    query = db.select(User).options(selectinload(User.teams)).order_by(User.name)
    role = request.args.get("role", "")
    if role in ROLES:
        query = query.where(User.role == role)
    q = text_arg("q", 100)
    if q:
        query = query.where(contains_text(User.name, q) | contains_text(User.email, q))
    page = paginate(query, current_app.config["PAGE_SIZE"] * 2)
    return render_template("admin/users.html", page=page, role=role, q=q)


@bp.route("/users/new", methods=["GET", "POST"])
@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@manage
def user_form(user_id=None):
    """Create a person or change their name, e-mail, role, teams, password or access."""
    user = db.session.get(User, user_id) if user_id and user_id <= MAX_ID else None
    if user_id and user is None:
        abort(404)
    all_teams = db.session.scalars(db.select(Team).order_by(Team.name)).all()
    form = UserForm(obj=user, teams=all_teams, require_password=user is None)
    if request.method == "GET" and user is not None:
        form.teams.data = user.team_ids
        form.password.data = ""
    if form.validate_on_submit():
        done = run_action(
            lambda: people.save_user(
                user, actor=current_user, name=form.name.data, email=form.email.data,
                role=form.role.data, team_ids=form.teams.data, password=form.password.data or None,
                is_active=form.is_active.data),
            form=form, success=lambda saved: f"{saved.name} is saved.")
        if done:
            if done.result.id == current_user.id and form.password.data:
                keep_this_browser_logged_in(done.result, utcnow())  # own password: others end
            return redirect(url_for("admin.users"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, user=user), status

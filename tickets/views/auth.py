"""Logging in and out."""
from functools import cache

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db, limiter
from ..forms import LoginForm
from ..models import User, utcnow
from .helpers import is_safe_next

bp = Blueprint("auth", __name__)


def _login_limit():
    return current_app.config["RATELIMIT_LOGIN"]


@cache
def _unknown_user_hash(method):
    return generate_password_hash("no account has this password", method=method)


def _find_user(email, password):
    """Return the active or inactive user ``email`` and ``password`` identify, or None.

    An unknown address costs one password check too, so response times do not tell which
    addresses have an account.
    """
    email = email.lower()
    user = None
    if "\x00" not in email:  # no address holds NUL, and PostgreSQL refuses it in a query
        user = db.session.scalars(db.select(User).where(User.email == email)).first()
    if user is None:
        check_password_hash(_unknown_user_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return None
    return user if user.check_password(password) else None


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    """Show the login form and sign the user in; go on to a safe ``next`` page."""
    if current_user.is_authenticated:
        return redirect(url_for("requests.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = _find_user(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append("That e-mail and password do not match an account.")
        elif not user.is_active:
            form.email.errors.append("This account is disabled. Ask an administrator.")
        else:
            login_user(user, remember=form.remember.data)
            user.last_login_at = utcnow()
            db.session.commit()
            target = form.next.data
            return redirect(target if is_safe_next(target) else url_for("requests.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out (POST only, so a link or image cannot log anyone out)."""
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))

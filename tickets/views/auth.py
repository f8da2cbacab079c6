"""Logging in and out, and the throttling of failed log-ins."""
import hashlib
import time
from functools import cache

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from werkzeug.security import check_password_hash, generate_password_hash

from .. import invitations
from ..errors import run_action
from ..extensions import db
from ..forms.account import ForgotPasswordForm, LoginForm, SetPasswordForm
from ..models import User, utcnow
from ..sessions import revoke_sessions
from .helpers import acting_user, is_safe_next, log_in, log_out

bp = Blueprint("auth", __name__)


def register_login_limits(app, limiter):
    """Throttle ``app``'s failed log-ins per address and per account (OWASP ASVS 2.2.1).

    Only failures count, so colleagues behind one office address never lock each other out; an
    account throttled by guesses from many addresses is refused from every address, even with
    the right password, until its window passes. Wrong current passwords on the password form
    count against the same account.

    The views are wrapped here rather than decorated where they are defined because each app
    has its own limiter (extensions.new_limiter) and a decorator binds to one.
    """
    failed = _is_failed_attempt
    by_address = limiter.limit(_address_limit, key_func=get_remote_address, methods=["POST"],
                               deduct_when=failed)
    by_account = limiter.shared_limit(_account_limit, scope="login-account", methods=["POST"],
                                      key_func=_submitted_account, deduct_when=failed)
    own_account = limiter.shared_limit(_account_limit, scope="login-account", methods=["POST"],
                                       key_func=_own_account, deduct_when=failed)
    app.view_functions["auth.login"] = by_account(by_address(app.view_functions["auth.login"]))
    app.view_functions["mail.change_password"] = own_account(
        app.view_functions["mail.change_password"])
    register_password_reset_limits(app, limiter)


def register_password_reset_limits(app, limiter):
    """Throttle "Forgot your password?" per address and per account asked about: every
    request counts (each may send a mail), whether the account exists or not, so the limit
    tells nothing about accounts either. Wrapped here for the reason register_login_limits
    gives."""
    by_address = limiter.limit(_reset_address_limit, key_func=get_remote_address,
                               methods=["POST"])
    by_account = limiter.shared_limit(_reset_account_limit, scope="password-reset-account",
                                      methods=["POST"], key_func=_submitted_account)
    app.view_functions["auth.forgot_password"] = by_account(by_address(
        app.view_functions["auth.forgot_password"]))


def count_as_failed_attempt():
    """Mark this request as a failed log-in (or password) attempt, for the throttle."""
    g.is_failed_attempt = True


def _is_failed_attempt(response):
    # Flask-Limiter's deduct_when: only a failed attempt is counted.
    return g.get("is_failed_attempt", False)


def _address_limit():
    return current_app.config["RATELIMIT_LOGIN"]


def _account_limit():
    return current_app.config["RATELIMIT_LOGIN_ACCOUNT"]


def _reset_address_limit():
    return current_app.config["RATELIMIT_PASSWORD_RESET"]


def _reset_account_limit():
    return current_app.config["RATELIMIT_PASSWORD_RESET_ACCOUNT"]


def _account_key(email):
    # Hashed: the store holds no addresses, and any input makes a key of one bounded size.
    return "account-" + hashlib.sha256(email.strip().lower().encode("utf-8", "replace")).hexdigest()


def _submitted_account():
    return _account_key(request.form.get("email", ""))


def _own_account():
    return _account_key(current_user.email if current_user.is_authenticated else "")


@cache
def _unknown_user_hash(method):
    return generate_password_hash("no account has this password", method=method)


def _find_user(email, password):
    """Return the active user ``email`` and ``password`` identify, or None.

    An unknown address costs one password check too, and a disabled account is refused after
    its password check, so neither the answer nor its time tells whether an account exists,
    is disabled, or was given its right password.
    """
    email = email.lower()
    user = None
    if "\x00" not in email:  # no address holds NUL, and PostgreSQL refuses it in a query
        user = db.session.scalars(db.select(User).where(User.email == email)).first()
    if user is None:
        check_password_hash(_unknown_user_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return None
    return user if user.check_password(password) and user.is_active else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form and sign the user in; go on to a safe ``next`` page.

    Failed attempts are throttled (register_login_limits)."""
    if current_user.is_authenticated:
        return redirect(url_for("requests.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = _find_user(form.email.data, form.password.data)
        if user is None:
            count_as_failed_attempt()
            form.password.errors.append("That e-mail and password do not match an account.")
        else:
            now = utcnow()
            log_in(user, remember=form.remember.data, now=now)
            run_action(lambda: _record_log_in(user, now))
            target = form.next.data
            return redirect(target if is_safe_next(target) else url_for("requests.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def _record_log_in(user, now):
    user.last_login_at = now


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out (POST only, so a link or image cannot log anyone out); the session's generation
    is replaced, so no copy of its cookies works again."""
    run_action(lambda: revoke_sessions(acting_user()))
    log_out()  # clears the session, so the message is flashed after
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


# --- Choosing one's own password: invitations and resets (tickets/invitations.py) ----------

@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    """Ask for a link by mail to choose a new password. The answer is the same whether the
    address has an account or not (invitations.request_password_reset); throttled per address
    and per account (register_password_reset_limits)."""
    started = time.monotonic()
    form = ForgotPasswordForm(email=request.args.get("email", "")[:254])
    if form.validate_on_submit():
        email = form.email.data
        run_action(lambda: invitations.request_password_reset(email, utcnow()))
        # The same answer, and not sooner for an address without an account.
        time.sleep(max(0.0, started + current_app.config["PASSWORD_RESET_ANSWER_SECONDS"]
                       - time.monotonic()))
        return render_template("auth/reset_sent.html", email=email,
                               lifetime_text=invitations.lifetime_text("reset"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/forgot_password.html", form=form,
                           lifetime_text=invitations.lifetime_text("reset")), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    """Choose a new password with a reset link (from "Forgot your password?")."""
    return _set_password_page(token, "reset")


@bp.route("/join/<token>", methods=["GET", "POST"])
def join(token):
    """Choose one's password with an invitation link, and land logged in."""
    return _set_password_page(token, "invitation")


# Each link problem: its page's status, title and what the person can do.
LINK_PROBLEMS = {
    "forged": 404, "expired": 410, "used": 410, "inactive": 403,
}


def _set_password_page(token, purpose):
    """The page of a link (GET shows the form: mail scanners open links, so nothing changes
    on a GET); POST sets the password, logs the person in on this browser and ends every
    other session they had."""
    now = utcnow()
    try:
        user = invitations.read_token(token, purpose, now)
    except invitations.LinkProblem as problem:
        return _link_problem(problem, purpose)
    form = SetPasswordForm(user=user)
    if form.validate_on_submit():
        try:
            done = run_action(lambda: invitations.set_password(token, purpose, form.new.data, now),
                              form=form)
        except invitations.LinkProblem as problem:  # used meanwhile, in another tab
            db.session.rollback()
            return _link_problem(problem, purpose)
        if done:
            log_in(done.result, remember=False, now=now)
            flash(_welcome(done.result, purpose), "success")  # after log_in, which clears the session
            return redirect(url_for("requests.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/set_password.html", form=form, user=user,
                           purpose=purpose), status


def _welcome(user, purpose):
    if purpose == "invitation":
        return f"Welcome to Datadesk, {user.name}: your password is set and you are logged in."
    return ("Your new password is set and you are logged in. Every other browser where you "
            "were logged in is logged out.")


def _link_problem(problem, purpose):
    return render_template(
        "auth/link_problem.html", reason=problem.reason, purpose=purpose, user=problem.user,
        lifetime_text=invitations.lifetime_text(purpose)), LINK_PROBLEMS[problem.reason]

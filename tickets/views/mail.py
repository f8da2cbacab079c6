"""A person's preferences (mail, password, sessions), unsubscribe links, and the digest preview."""
from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import localtime, mail, notifications, people, settings
from ..errors import run_action
from ..extensions import csrf, db
from ..forms.account import ChangePasswordForm, PreferencesForm, TimeZoneForm
from ..models import NOTIFICATION_MODES, User, utcnow
from ..policy import allowed
from ..queries import MAX_ID
from ..sessions import revoke_sessions
from .auth import count_as_failed_attempt
from .helpers import acting_user, keep_this_browser_logged_in

bp = Blueprint("mail", __name__)

UNSUBSCRIBE_TEXT = {
    "digest": "the weekly digest",
    "notifications": "notifications about requests (in Datadesk and by e-mail)",
}


def _default_weekday():
    from .. import settings

    return settings.current().get("digest_weekday", 0)


def _saved_preferences():
    """The mail preferences form showing what the current user has saved."""
    form = PreferencesForm(formdata=None, default_weekday=_default_weekday())
    form.is_digest_enabled.data = current_user.is_digest_enabled
    form.digest_weekday.data = ("" if current_user.digest_weekday is None
                                else str(current_user.digest_weekday))
    for kind in notifications.kinds_for(current_user):
        form.mode_field(kind).data = notifications.mode(current_user, kind)
    return form


def _preferences_page(form, password_form, status, time_zone_form=None):
    return render_template("mail/preferences.html", form=form, password_form=password_form,
                           kinds=notifications.kinds_for(current_user),
                           modes=NOTIFICATION_MODES,
                           daily_at=settings.current()["work_start"],
                           time_zone_form=time_zone_form or _saved_time_zone()), status


def _time_zone_form(**kwargs):
    return TimeZoneForm(installation_zone=localtime.zone().key, prefix="tz", **kwargs)


def _saved_time_zone():
    """The time zone form showing the current user's choice."""
    form = _time_zone_form(formdata=None)
    form.time_zone.data = current_user.time_zone or ""
    return form


@bp.route("/preferences/time-zone", methods=["POST"])
@login_required
def time_zone():
    """Choose the time zone every time is shown in, on pages and in mail."""
    form = _time_zone_form()
    if form.validate_on_submit():
        done = run_action(
            lambda: people.set_time_zone(acting_user(), form.zone_name),
            form=form, success="Your time zone is saved: every time is shown in it.")
        if done:
            return redirect(url_for("mail.preferences") + "#time-zone")
    return _preferences_page(_saved_preferences(), ChangePasswordForm(
        formdata=None, user=current_user, prefix="password"), 400, time_zone_form=form)


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    """A user's own preferences: mail, and the forms to change their password and to log out
    everywhere."""
    if request.method == "GET":
        form = _saved_preferences()
    else:
        form = PreferencesForm(default_weekday=_default_weekday())
    if form.validate_on_submit():
        done = run_action(lambda: _save_preferences(acting_user(), form),
                          form=form, success="Your mail preferences are saved.")
        if done:
            return redirect(url_for("mail.preferences"))
    status = 400 if request.method == "POST" else 200
    return _preferences_page(form, ChangePasswordForm(formdata=None, user=current_user,
                                                      prefix="password"), status)


def _save_preferences(user, form):
    """Give ``user`` the mail preferences ``form`` chose."""
    user.is_digest_enabled = form.is_digest_enabled.data
    user.digest_weekday = form.weekday
    notifications.set_modes(user, form.modes)


@bp.route("/preferences/password", methods=["POST"])
@login_required
def change_password():
    """Change one's own password. Every other browser is logged out; this one stays logged in.

    Wrong current passwords count as failed log-ins of the account (auth.register_login_limits).
    """
    user = acting_user()
    password_form = ChangePasswordForm(user=user, prefix="password")
    if password_form.validate_on_submit():
        done = run_action(lambda: people.change_password(user, password_form.new.data),
                          form=password_form,
                          success="Your password is changed. Every other browser where you were "
                                  "logged in is logged out.")
        if done:
            keep_this_browser_logged_in(user, utcnow())
            return redirect(url_for("mail.preferences"))
    if password_form.current.data and password_form.current.errors:
        count_as_failed_attempt()
    return _preferences_page(_saved_preferences(), password_form, 400)


@bp.route("/preferences/sessions", methods=["POST"])
@login_required
def log_out_everywhere():
    """Log out every other browser of the current user (a lost laptop, a shared computer)."""
    user = acting_user()
    run_action(lambda: revoke_sessions(user),
               success="Every other browser where you were logged in is logged out. You stay "
                       "logged in here.")
    keep_this_browser_logged_in(user, utcnow())
    return redirect(url_for("mail.preferences"))


def _token_user(token):
    found = mail.read_unsubscribe_token(token)
    if found is None:
        abort(404)
    user = db.session.get(User, found[0])
    if user is None:
        abort(404)
    return user, found[1]


@bp.route("/unsubscribe/<token>", methods=["GET"])
def unsubscribe(token):
    """Ask to confirm: mail scanners open links, so a GET never changes anything."""
    user, what = _token_user(token)
    return render_template("mail/unsubscribe.html", user=user, what=what,
                           what_text=UNSUBSCRIBE_TEXT[what], done=False, token=token)


@bp.route("/unsubscribe/<token>", methods=["POST"])
@csrf.exempt  # the signed token is the authority here; mail clients' one-click POST has no form
def unsubscribe_confirm(token):
    """Stop the mail the token names; works without logging in (RFC 8058 one-click too)."""
    user, what = _token_user(token)
    run_action(lambda: _unsubscribe(user, what))
    return render_template("mail/unsubscribe.html", user=user, what=what,
                           what_text=UNSUBSCRIBE_TEXT[what], done=True, token=token)


def _unsubscribe(user, what):
    """Stop ``what`` (the digest, or notifications) for ``user``."""
    if what == "digest":
        user.is_digest_enabled = False
    else:
        notifications.turn_off(user)


def _previewed_user():
    """The user whose digest is previewed: ``?user=<id>`` (leads and admins: anyone; others:
    themselves only); 403 for someone else's, 404 for nobody."""
    wanted = request.args.get("user", type=int) or current_user.id
    if wanted != current_user.id and not allowed(current_user, "preview_any_digest"):
        abort(403)
    user = db.session.get(User, wanted) if 0 < wanted <= MAX_ID else None
    if user is None:
        abort(404)
    return user


@bp.route("/digests/preview")
@login_required
def digest_preview():
    """A digest exactly as it will be sent: subject, recipient, the HTML part and the text."""
    from .. import digest

    user = _previewed_user()
    subject, text, _ = digest.build(user, utcnow())
    people = (db.session.scalars(db.select(User).where(User.is_active).order_by(User.name)).all()
              if allowed(current_user, "preview_any_digest") else [])
    return render_template("mail/preview.html", user=user, subject=subject, text=text,
                           people=people)


@bp.route("/digests/preview/<int:user_id>.html")
@login_required
def digest_preview_html(user_id):
    """The HTML part alone, framed by the preview page. Its inline styles are allowed here
    (mail clients need them); scripts stay forbidden."""
    from .. import digest

    if user_id != current_user.id and not allowed(current_user, "preview_any_digest"):
        abort(403)
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    _, _, html = digest.build(user, utcnow())
    response = make_response(html)
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response

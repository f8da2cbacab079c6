"""Mail preferences, unsubscribe links, and the digest preview."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import mail
from ..extensions import csrf, db
from ..forms import WEEKDAYS, PreferencesForm
from ..models import NOTIFICATIONS, User

bp = Blueprint("mail", __name__)

UNSUBSCRIBE_TEXT = {
    "digest": "the weekly digest",
    "notifications": "e-mail notifications about requests",
}


def _default_weekday():
    from .. import settings

    return settings.current().get("digest_weekday", 0)


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    """A user's own mail preferences."""
    default_weekday = _default_weekday()
    form = PreferencesForm(default_weekday=default_weekday)
    if request.method == "GET":
        form.is_digest_enabled.data = current_user.is_digest_enabled
        form.digest_weekday.data = ("" if current_user.digest_weekday is None
                                    else str(current_user.digest_weekday))
        form.notifications.data = list(current_user.notifications or [])
    if form.validate_on_submit():
        user = db.session.get(User, current_user.id)
        user.is_digest_enabled = form.is_digest_enabled.data
        user.digest_weekday = form.weekday
        user.notifications = [key for key in NOTIFICATIONS if key in (form.notifications.data or ())]
        db.session.commit()
        flash("Your mail preferences are saved.", "success")
        return redirect(url_for("mail.preferences"))
    status = 400 if request.method == "POST" else 200
    return render_template("mail/preferences.html", form=form, notifications=NOTIFICATIONS,
                           weekdays=WEEKDAYS), status


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
    if what == "digest":
        user.is_digest_enabled = False
    else:
        user.notifications = []
    db.session.commit()
    return render_template("mail/unsubscribe.html", user=user, what=what,
                           what_text=UNSUBSCRIBE_TEXT[what], done=True, token=token)

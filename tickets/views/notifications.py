"""A person's notifications (``/notifications``), the unread count of the header's bell, and
the link that stops an address without an account following a request."""
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import notifications
from ..errors import run_action
from ..extensions import csrf
from ..models import utcnow
from .helpers import once_per_request, paginate

bp = Blueprint("notifications", __name__)

PAGE_SIZE = 25
SHOWN = {"all": "All", "unread": "Unread"}


@bp.route("/notifications")
@login_required
def index():
    """The logged-in person's notifications, newest first, unread ones marked; ``?show=unread``
    lists only those."""
    shown = request.args.get("show", "all")
    if shown not in SHOWN:
        shown = "all"
    page = paginate(notifications.listing(current_user, unread_only=shown == "unread"),
                    PAGE_SIZE)
    entries = [(row, notifications.headline(row.kind, row.request, current_user))
               for row in page.items]
    return render_template("notifications/index.html", page=page, entries=entries,
                           shown=shown, shows=SHOWN)


@bp.route("/notifications/<int:notification_id>/open", methods=["POST"])
@login_required
def open_one(notification_id):
    """Mark one of one's notifications read and go to its request (404: not one's own, or
    about a request one may no longer see)."""
    done = run_action(lambda: notifications.open_notification(current_user, notification_id,
                                                              utcnow()))
    if not done or done.result is None:
        abort(404)
    return redirect(url_for("requests.detail", request_id=done.result.request_id))


@bp.route("/notifications/read", methods=["POST"])
@login_required
def read_all():
    """Mark every notification of the logged-in person read."""
    run_action(lambda: notifications.mark_all_read(current_user, utcnow()),
               success=lambda count: ("Everything is marked as read." if count else
                                      ("There was nothing unread.", "info")))
    return redirect(url_for("notifications.index", show=request.args.get("show") or None))


def _unread_count():
    """How many notifications the logged-in person has not read: one statement, on the first
    call of a request, only for someone logged in."""
    return once_per_request("unread_notifications", notifications.unread_count)


@bp.app_context_processor
def unread_prompt():
    """``unread_notifications()`` for the header's bell: counted only when a page asks."""
    return {"unread_notifications": _unread_count}


# --- Addresses without an account -------------------------------------------------------------

def _followed(token):
    found = notifications.request_of_token(token)
    if found is None:
        abort(404)
    return found


@bp.route("/unwatch/<token>", methods=["GET"])
def unwatch(token):
    """Ask to confirm: mail scanners open links, so a GET never changes anything."""
    followed, address = _followed(token)
    return render_template("notifications/unwatch.html", req=followed, address=address,
                           token=token, done=False,
                           is_following=address in followed.watcher_emails)


@bp.route("/unwatch/<token>", methods=["POST"])
@csrf.exempt  # the signed token is the authority here; mail clients' one-click POST has no form
def unwatch_confirm(token):
    """Stop the token's address following its request; works without an account (RFC 8058
    one-click too), and again without harm."""
    followed, address = _followed(token)
    run_action(lambda: notifications.stop_following(followed, address, utcnow()))
    return render_template("notifications/unwatch.html", req=followed, address=address,
                           token=token, done=True, is_following=False)

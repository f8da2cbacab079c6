"""A person's personal access tokens for the REST API (issue 16): make one (its secret shown
once), see when each was last used, revoke one."""
from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user

from .. import tokens
from ..errors import run_action
from ..forms.account import AccessTokenForm
from ..models import utcnow
from ..policy import require
from .helpers import acting_user

bp = Blueprint("tokens", __name__)


def _page(form, status=200, made=None):
    """The tokens page; ``made`` is (token, secret) just made, whose secret shows this once."""
    now = utcnow()
    response = render_template("tokens/index.html", form=form, tokens=tokens.of_user(current_user),
                               now=now, made=made, max_live=tokens.MAX_LIVE_TOKENS)
    # The page may hold a secret: no cache, proxy or back button keeps it.
    return response, status, {"Cache-Control": "no-store"}


@bp.route("/preferences/tokens", methods=["GET"])
@require("use_api")
def index():
    """One's own access tokens, and the form to make one."""
    return _page(AccessTokenForm(formdata=None))


@bp.route("/preferences/tokens", methods=["POST"])
@require("use_api")
def create():
    """Make a token and show its secret, once: it is kept only as a hash."""
    form = AccessTokenForm()
    if form.validate_on_submit():
        user = acting_user()
        done = run_action(lambda: tokens.create(user, form.name.data, form.scope.data,
                                                form.days, utcnow()), form=form)
        if done:
            return _page(AccessTokenForm(formdata=None), made=done.result)
    return _page(form, 400)


@bp.route("/preferences/tokens/<int:token_id>/revoke", methods=["POST"])
@require("use_api")
def revoke(token_id):
    """Revoke one of one's own tokens: whatever uses it is refused from now on."""
    token = tokens.find(current_user, token_id)
    if token is None:
        abort(404)
    run_action(lambda: tokens.revoke(token, utcnow()),
               success=f"The token \u201c{token.name}\u201d is revoked: whatever used it is "
                       "refused from now on.")
    return redirect(url_for("tokens.index"))

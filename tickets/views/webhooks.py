"""Webhooks (issue 16): the endpoints leads register (/settings/webhooks), each endpoint's page
with its delivery log, and its buttons (pause, resume, roll the secret, test, delete, send a
delivery again). A new or rolled secret shows once, on the page the POST answers with."""
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user

from .. import webhooks
from ..errors import run_action
from ..forms.webhooks import EditWebhookForm, WebhookActionForm, WebhookForm
from ..models import utcnow
from ..policy import allowed, require
from .helpers import acting_user, paginate

bp = Blueprint("webhooks", __name__)

manage = require("manage_webhooks")
NO_STORE = {"Cache-Control": "no-store"}


def _webhook_or_404(webhook_id):
    webhook = webhooks.find(webhook_id)
    if webhook is None:
        abort(404)
    return webhook


def _index(form, status=200, made=None):
    """The list page; ``made`` is (webhook, secret) just made, whose secret shows this once."""
    return render_template("webhooks/index.html", rows=webhooks.endpoints(), form=form,
                           made=made, events=webhooks.EVENTS,
                           may_allow_private=allowed(current_user, "allow_private_webhooks"),
                           now=utcnow()), status, NO_STORE


@bp.route("/settings/webhooks", methods=["GET"])
@manage
def index():
    """The endpoints, each with its status and latest delivery, and the form to add one."""
    return _index(WebhookForm(formdata=None))


@bp.route("/settings/webhooks", methods=["POST"])
@manage
def create():
    """Register an endpoint and show its secret, once."""
    form = WebhookForm()
    if form.validate_on_submit():
        done = run_action(lambda: webhooks.create(
            acting_user(), form.url.data, form.description.data, form.events.data, utcnow(),
            allow_private=form.allow_private.data), form=form)
        if done:
            return _index(WebhookForm(formdata=None), made=done.result)
    return _index(form, 400)


def _show(webhook, form=None, status=200, secret=None):
    """The endpoint page: its settings form, buttons, signature help and delivery log."""
    if form is None:
        form = EditWebhookForm(formdata=None, obj=webhook)
    page = paginate(webhooks.log_query(webhook), webhooks.LOG_PAGE_SIZE)
    return render_template(
        "webhooks/show.html", webhook=webhook, form=form, button=WebhookActionForm(),
        page=page, secret=secret, events=webhooks.EVENTS, snippet=webhooks.VERIFY_SNIPPET,
        may_allow_private=allowed(current_user, "allow_private_webhooks"),
        pretty=webhooks.pretty_payload, now=utcnow()), status, NO_STORE


@bp.route("/settings/webhooks/<int:webhook_id>", methods=["GET", "POST"])
@manage
def show(webhook_id):
    """One endpoint: edit it, its buttons, and its delivery log, newest first; a POST saves
    the edit. (One rule for both: with two, an id no row can have gets 405 for one method.)"""
    webhook = _webhook_or_404(webhook_id)
    if request.method == "GET":
        return _show(webhook)
    return _edit(webhook, webhook_id)


def _edit(webhook, webhook_id):
    """Save the endpoint's URL, description and events (an admin: private addresses too)."""
    form = EditWebhookForm()
    if form.validate_on_submit():
        may_allow = allowed(current_user, "allow_private_webhooks")
        allow = form.allow_private.data if may_allow else None
        done = run_action(lambda: webhooks.update(
            webhook, acting_user(), form.url.data, form.description.data, form.events.data,
            utcnow(), allow_private=allow, expected_version=form.version.data),
            form=form, success="The endpoint is saved.")
        if done:
            return redirect(url_for("webhooks.show", webhook_id=webhook_id))
    return _show(webhook, form, 400)


# What each button does: (domain call, message on success).
ACTIONS = {
    "pause": (webhooks.pause,
              "The endpoint is paused: nothing is sent to it until you resume it."),
    "resume": (webhooks.resume,
               "The endpoint is resumed: its waiting deliveries go within a minute."),
    "test": (webhooks.send_test,
             "A test event (ping) is queued: it goes within a minute, and shows in the log."),
}


@bp.route("/settings/webhooks/<int:webhook_id>/<action>", methods=["POST"])
@manage
def action(webhook_id, action):
    """A button of the endpoint page: pause, resume or send a test event."""
    if action not in ACTIONS:
        abort(404)
    webhook = _webhook_or_404(webhook_id)
    if not WebhookActionForm().validate_on_submit():
        abort(400)
    call, message = ACTIONS[action]
    run_action(lambda: call(webhook, acting_user(), utcnow()), success=message)
    return redirect(url_for("webhooks.show", webhook_id=webhook_id))


@bp.route("/settings/webhooks/<int:webhook_id>/secret", methods=["POST"])
@manage
def roll_secret(webhook_id):
    """Give the endpoint a new secret and show it, once: the old one stops at once."""
    webhook = _webhook_or_404(webhook_id)
    if not WebhookActionForm().validate_on_submit():
        abort(400)
    done = run_action(lambda: webhooks.roll_secret(webhook, acting_user(), utcnow()))
    return _show(webhook, secret=done.result if done else None)


@bp.route("/settings/webhooks/<int:webhook_id>/delete", methods=["GET", "POST"])
@manage
def delete(webhook_id):
    """Ask first (GET), then remove the endpoint and its log (POST)."""
    webhook = _webhook_or_404(webhook_id)
    form = WebhookActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        url = webhook.url
        done = run_action(lambda: webhooks.delete(webhook, acting_user()),
                          success=f"The endpoint {url} is deleted, with its delivery log.")
        if done:
            return redirect(url_for("webhooks.index"))
    return render_template("webhooks/delete.html", webhook=webhook, button=form), 200, NO_STORE


@bp.route("/settings/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/again",
          methods=["POST"])
@manage
def send_again(webhook_id, delivery_id):
    """Queue one delivery again at once, with the same body."""
    webhook = _webhook_or_404(webhook_id)
    delivery = webhooks.find_delivery(webhook, delivery_id)
    if delivery is None:
        abort(404)
    if not WebhookActionForm().validate_on_submit():
        abort(400)
    run_action(lambda: webhooks.send_again(delivery, acting_user(), utcnow()),
               success="The delivery is queued again: it goes within a minute.")
    return redirect(url_for("webhooks.show", webhook_id=webhook_id,
                            _anchor=f"delivery-{delivery_id}"))

"""Answers to follow-ups (DESIGN.md, Outcomes): the page of a mail's one-click answer link (no
log-in needed for the first answer), the full answer on the request page, the list of the
follow-ups waiting for the person logged in, and the navigation's count of them."""
from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload

from .. import outcomes
from ..errors import run_action
from ..extensions import db
from ..forms.outcomes import AnswerLinkForm, OutcomeForm
from ..models import FollowUp, Request, utcnow
from ..policy import answers_follow_up, get_visible_request_or_404, visible_requests
from .helpers import once_per_request
from .request_page import OUTCOME, render_request_page

bp = Blueprint("outcomes", __name__)


# --- The mail's answer links ----------------------------------------------------------------

def _refused(refused):
    """The page of a link that does not (or no longer) work, with the refusal's status."""
    follow_up = refused.follow_up if refused.reason == "used" else None
    is_recipient = (follow_up is not None and current_user.is_authenticated
                    and current_user.id == follow_up.recipient_id)
    return render_template("outcomes/link_refused.html", refused=refused, follow_up=follow_up,
                           is_recipient=is_recipient), refused.status


def _landing(follow_up, form, token, status):
    return render_template("outcomes/answer.html", follow_up=follow_up, req=follow_up.request,
                           form=form, token=token), status


@bp.route("/follow-ups/answer/<token>", methods=["GET"])
def answer_link(token):
    """The page an answer link opens: the question, the link's answer chosen, one button.
    A GET never changes anything: mail scanners open links."""
    try:
        follow_up, outcome = outcomes.read_link(token, viewer=current_user)
    except outcomes.LinkRefused as refused:
        return _refused(refused)
    return _landing(follow_up, AnswerLinkForm(formdata=None, outcome=outcome), token, 200)


@bp.route("/follow-ups/answer/<token>", methods=["POST"])
def record_link_answer(token):
    """Record the first answer from an answer link (no log-in needed); a link whose follow-up
    has an answer already, or one that is forged, expired or someone else's, changes nothing."""
    try:
        follow_up, _ = outcomes.read_link(token, viewer=current_user)
    except outcomes.LinkRefused as refused:
        return _refused(refused)
    form = AnswerLinkForm()
    if not form.validate_on_submit():
        return _landing(follow_up, form, token, 400)
    done = run_action(lambda: _record_first_answer(follow_up, form), form=form)
    if done and isinstance(done.result, outcomes.LinkRefused):
        return _refused(done.result)
    if not done:
        return _landing(follow_up, form, token, done.status)
    return render_template("outcomes/thanks.html", follow_up=follow_up, req=follow_up.request,
                           is_recipient=current_user.is_authenticated
                           and current_user.id == follow_up.recipient_id)


def _record_first_answer(follow_up, form):
    """Record the link's answer as the recipient's, if nobody answered meanwhile; return the
    event, or the refusal of the answer that came second (nothing written)."""
    try:
        return outcomes.record(follow_up, follow_up.recipient, utcnow(), via="mail",
                               first_only=True, **form.answer())
    except outcomes.LinkRefused as refused:
        return refused


# --- The request page's answer --------------------------------------------------------------

@bp.route("/requests/<int:request_id>/outcome", methods=["POST"])
@login_required
def answer(request_id):
    """The full answer of the person asked, on the request page: outcome, decision taken,
    reason, note. Answering again adds an answer; the earlier ones stay on the timeline."""
    req = get_visible_request_or_404(request_id, current_user, joinedload(Request.follow_up))
    follow_up = req.follow_up
    if follow_up is None or not answers_follow_up(current_user, follow_up):
        abort(403)
    form = OutcomeForm(prefix=OUTCOME)
    if form.validate_on_submit():
        user = current_user._get_current_object()
        done = run_action(
            lambda: outcomes.record(follow_up, user, utcnow(), via="page", **form.answer()),
            form=form, success="Your answer is recorded. Thank you: it shows the data team "
                               "what its work made possible.")
        if done:
            return redirect(url_for("requests.detail", request_id=req.id, _anchor="outcome"))
        status = done.status
    else:
        status = 400
    return render_request_page(request_id, current_user, {OUTCOME: form}, status=status)


# --- Follow-ups waiting -------------------------------------------------------------------

@bp.route("/follow-ups")
@login_required
def waiting():
    """The follow-ups waiting for the person logged in, with the levers they stated (one
    statement, whatever their number)."""
    follow_ups = db.session.scalars(
        select(FollowUp).join(FollowUp.request)
        .where(outcomes.waiting_condition(current_user), visible_requests(current_user))
        .options(contains_eager(FollowUp.request).joinedload(Request.team))
        .order_by(FollowUp.asked_at, FollowUp.id)).unique().all()
    return render_template("outcomes/waiting.html", follow_ups=follow_ups)


def _waiting_count():
    """How many follow-ups wait for the person logged in: one statement, on the first call of
    a request, only for someone logged in."""
    return once_per_request("follow_ups_waiting", outcomes.waiting_count)


@bp.app_context_processor
def follow_ups_prompt():
    """``follow_ups_waiting()`` for the navigation and the lists: counted only when a page
    asks."""
    return {"follow_ups_waiting": _waiting_count}

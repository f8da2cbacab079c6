"""The request page: one renderer for the page itself and for every action on it that comes back
to it (a form with errors, a refusal, a conflict)."""
from flask import render_template, request
from sqlalchemy.orm import joinedload, selectinload

from .. import (attachments, catalogue, conversation, forecast, gaps, intake, lifecycle, localtime,
               queues, settings, sla_clocks, triage, wip)
from ..extensions import db
from ..forms.attachments import AddFilesForm
from ..forms.outcomes import OutcomeForm
from ..forms.requests import CommentForm, ReplyForm
from ..forms.transitions import TRANSITION_FORMS, prepare_form
from ..forms.triage import ChangeKindForm, OverrideForm, SlaClassForm
from ..models import Event, FollowUp, Request, utcnow
from ..policy import (allowed, answers_follow_up, get_visible_request_or_404, removes_attachment,
                      visible_requests)

# The timeline shows the latest this many events, and the whole history on ?history=all.
TIMELINE_EVENTS = 50

# The names the page's forms are sent back under, besides the transitions' own names.
COMMENT, REPLY, KIND, SLA_CLASS, RANK, OUTCOME, FILES = (
    "comment", "reply", "kind", "sla_class", "rank", "outcome", "files")


def render_request_page(request_id, viewer, forms=None, status=200, picks=None, unsent=None):
    """Render the page of request ``request_id`` as ``viewer`` sees it (404 if they may not).

    ``forms`` are forms sent back, by transition name or COMMENT, REPLY, KIND, SLA_CLASS, RANK,
    OUTCOME, FILES: each shows in its place with its errors and the input as sent, open, even where the page would
    not offer it any more. A conflict (409) shows fresh forms instead: the request changed, so
    what was sent is out of date. ``picks`` preselect a picker of a fresh form, open: {"mark_duplicate"
    or "decline": (value, text)} (a neighbour's "mark as duplicate of this"). ``unsent`` is text
    a reply could not deliver (the request moved on): it shows again, in the comment box when
    the viewer may still comment, else in a box to copy it from. Returns (page, status) for a
    view to return.
    """
    sent = {} if status == 409 else dict(forms or {})
    req = get_visible_request_or_404(
        request_id, viewer,
        joinedload(Request.team), joinedload(Request.requester), joinedload(Request.assignee),
        selectinload(Request.watchers),
        selectinload(Request.events).joinedload(Event.actor),
        joinedload(Request.follow_up).joinedload(FollowUp.recipient),
        joinedload(Request.follow_up).joinedload(FollowUp.answered_by),
    )
    now = utcnow()
    values = settings.current()  # read once: every panel below takes it
    transitions = lifecycle.available_transitions(req, viewer)
    talk, kept_comment = _conversation_context(req, viewer, sent, unsent)
    action_forms = {t.name: sent.get(t.name) or transition_form(t.name, req, values)
                    for t in transitions}
    picked = _apply_picks(action_forms, {} if sent else (picks or {}))
    if "confirm" in action_forms:
        action_forms["confirm"].describe_default(values["follow_up_business_days"][req.kind],
                                                 req.kind_label)
    sla = sla_clocks.detail_context(req, viewer, now, values)
    queue = queues.detail_context(req, viewer, now, values)
    decisions = triage.detail_context(req, viewer, now, values)
    page_forms = {
        "comment_form": sent.get(COMMENT) or kept_comment or CommentForm(formdata=None),
        "kind_form": sent.get(KIND) or (ChangeKindForm.for_request(req)
                                        if decisions["can_change_kind"] else None),
        "sla_class_form": sent.get(SLA_CLASS) or (_sla_class_form(req)
                                                  if sla["can_set_class"] else None),
        "override_form": sent.get(RANK) or (_override_form(req)
                                            if queue["can_override"] else None),
    }
    outcome = _outcome_context(req, viewer, sent.get(OUTCOME), values)
    files = _files_context(req, viewer, sent.get(FILES) or _files_of_older_comment(sent, talk),
                           values)
    for form in [*action_forms.values(), *page_forms.values()]:
        if form is not None and "version" in form:
            form.version.data = req.version  # what the page shows is what a form acts on
    return render_template(
        "requests/detail.html", req=req, forms=action_forms,
        **_timeline_context(req.events, request.args.get("history") == "all"),
        # The reply box beside the question is the answer: it is not offered twice.
        transitions=[t for t in transitions
                     if not (t is conversation.ANSWER and talk["reply_form"])],
        **talk,
        open_action=next((name for name in action_forms if name in sent), picked),
        neighbours=decisions["neighbours"], assets=catalogue.assets_of_request(req.id, viewer),
        **page_forms,
        sla_panel=sla["sla_panel"], queue_place=queue["queue_place"],
        waitlist_reason=decisions["waitlist_reason"], track_record=decisions["track_record"],
        # The forecast counts the work ahead from the queue place just found, not a second ranking.
        **forecast.detail_context(req, viewer, now, values, place=queue["queue_place"]),
        can_edit=allowed(viewer, "edit", req), can_comment=allowed(viewer, "comment", req),
        original=_original(req, viewer), duplicates=_duplicates(req, viewer),
        describe_change=intake.describe_change, field_labels=intake.FIELD_LABELS,
        segments=conversation.segments,
        # The triage card's track record, when it loaded one, serves the score too.
        score=(queues.explain(req, now, values, record=getattr(decisions["track_record"],
                                                                "record", None))
               if not req.is_closed else None),
        wip=wip.wip_status(viewer, values) if "claim" in action_forms else None,
        **outcome, **files,
    ), status


def _timeline_context(events, whole):
    """The events the timeline shows, oldest first: the latest TIMELINE_EVENTS, or all of them
    when ``whole``; and how many it leaves out (a long history costs the page its speed)."""
    shown = list(events) if whole else list(events[-TIMELINE_EVENTS:])
    return {"timeline_events": shown, "hidden_events": len(events) - len(shown),
            "all_events": len(events)}


def _files_of_older_comment(sent, talk):
    """The comment form of an older page, sent back to a page that shows the reply box
    instead (the request now waits on this person's answer): the reply box takes its text,
    and the "add files" form, open, its files' errors and the files it held, as the reply
    box takes no files. None when it brought neither."""
    comment = sent.get(COMMENT)
    if comment is None or talk["reply_form"] is None:
        return None
    if not comment.files.errors and not comment.held.data:
        return None
    form = AddFilesForm(formdata=None, prefix=FILES)
    form.files.errors = list(comment.files.errors)
    form.held.data = list(comment.held.data)
    return form


def _files_context(req, viewer, sent, values):
    """The request's files (one SQL statement): the Files card's current ones with who may
    remove each, the timeline's by event (removed ones named too), the rules of the upload
    inputs, and the "add files" form (``sent`` back with its errors, open)."""
    found = attachments.of_request(req, viewer)
    can_attach = allowed(viewer, "attach", req)
    return {
        "files": [item for item in found if not item.is_removed],
        "files_by_event": attachments.by_event(found),
        "removable": {item.id for item in found if removes_attachment(viewer, item)},
        "upload_rules": attachments.rules(values),
        "add_files_form": sent or (AddFilesForm(formdata=None, prefix=FILES)
                                   if can_attach else None),
        "files_open": sent is not None,
    }


def _conversation_context(req, viewer, sent, unsent):
    """The question the request waits on and, when it waits on ``viewer``, the reply box
    beside it (``sent`` back with its errors, or holding the text of an answer form sent by an
    older page). Text that could not be sent (``unsent``) goes in a comment form when the
    viewer may comment (``kept_text``), else in a box to copy it from (``unsent``). Returns
    (context, that comment form or None)."""
    awaited = conversation.awaits_reply(req, viewer)
    reply_form = None
    if awaited:
        reply_form = sent.get(REPLY) or ReplyForm(formdata=None, prefix=REPLY)
        # The comment or answer form of an older page, sent back: the reply box shows its text
        # and errors (the page offers neither form while the request waits on this person).
        older = sent.get(COMMENT) and sent[COMMENT].text
        older = older or (sent.get("answer") and sent["answer"].note)
        if older and REPLY not in sent:
            reply_form.text.data, reply_form.text.errors = older.data, older.errors
    elif sent.get(REPLY) is not None and unsent is None:
        unsent = sent[REPLY].text.data
    kept_comment = None
    if unsent and allowed(viewer, "comment", req):
        kept_comment = CommentForm(formdata=None, text=unsent)
        unsent = None
    return {"question": conversation.question_of(req) if req.state == "needs_info" else None,
            "reply_form": reply_form, "unsent": unsent,
            # An answer form sent back: its hidden inputs' errors (an out-of-date version).
            "older_answer": sent.get("answer") if awaited else None,
            "kept_text": kept_comment is not None}, kept_comment


def _outcome_context(req, viewer, sent, values):
    """The follow-up card: the follow-up of a resolved request, the local day it is (or was)
    asked, and for the person asked the answer form (``sent`` back with its errors, open; else
    fresh, from the latest answer)."""
    follow_up = req.follow_up if req.state == "resolved" else None
    if follow_up is None:
        return {"follow_up": None, "outcome_form": None, "outcome_open": False,
                "follow_up_day": None}
    form = None
    if answers_follow_up(viewer, follow_up):
        form = sent or OutcomeForm(formdata=None, prefix=OUTCOME).prefill(follow_up)
    return {"follow_up": follow_up, "outcome_form": form,
            "outcome_open": form is not None and (sent is not None or follow_up.is_waiting),
            "follow_up_day": localtime.local_today(follow_up.asked_at or follow_up.due_at,
                                                   values)}


def transition_form(name, req, values):
    """The form of transition ``name`` as a page offers it on ``req``, before anything is sent
    (the triage page offers some of them too). With ``req`` None, the form of no request in
    particular: the triage page's dialog, which its script fills in for the chosen request."""
    form = TRANSITION_FORMS[name](formdata=None, prefix=name)
    prepare_form(form, name, values)
    if req is None:
        if name == "decline":
            form.prefill(gaps.default_hours(None, "decline"))
        return form
    form.version.data = req.version
    if "priority" in lifecycle.TRANSITIONS[name].needs:
        form.prefill(req)  # the priority inputs start from the requester's values
    elif name == "deliver":
        form.prefill(catalogue.prefill_from_request(req), gaps.default_hours(req, "delivery"))
    elif name == "decline":
        form.prefill(gaps.default_hours(req, "decline"))
    return form


def _apply_picks(forms, picks):
    """Preselect the pickers of ``picks`` on the fresh ``forms``; return the action to open."""
    opened = None
    for name, (value, text) in picks.items():
        form = forms.get(name)
        if form is None:
            continue
        if name == "mark_duplicate":
            form.original_ref.data, form.original.data = value, text
        elif name == "decline":
            form.reason.data = "self_serve"
            form.answer_ref.data, form.answer.data = value, text
        opened = name
    return opened


def _sla_class_form(req):
    return SlaClassForm(formdata=None, prefix="sla",
                        sla_class=req.sla_class if req.sla_class_is_set else "")


def _override_form(req):
    form = OverrideForm(formdata=None, prefix="rank")
    form.position.data = req.rank_override
    return form


def _original(req, viewer):
    """The request ``req`` duplicates, if ``viewer`` may see it."""
    if not req.duplicate_of_id:
        return None
    return db.session.scalars(db.select(Request).where(
        Request.id == req.duplicate_of_id, visible_requests(viewer))).first()


def _duplicates(req, viewer):
    """The requests marked duplicates of ``req`` that ``viewer`` may see."""
    return db.session.scalars(db.select(Request).where(
        Request.duplicate_of_id == req.id, visible_requests(viewer))
        .order_by(Request.id)).all()

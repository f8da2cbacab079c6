"""Every form of the app: where it posts, its fields and their kinds, who may use it, the data it
needs, and what a person would validly send. test_catalogue.py checks that every POST route of
the app and every field of every form class is here, so a new form cannot escape the fuzzer.
"""
import io
from dataclasses import dataclass, field as dataclass_field
from datetime import date, timedelta
from typing import Callable
from urllib.parse import quote

from hypothesis import strategies as st

from tickets import (catalogue, deflections, gaps, invitations, lifecycle, outcomes, settings,
                     webhooks)
from tickets.extensions import db
from tickets.forms.account import (AccessTokenForm, ChangePasswordForm, ForgotPasswordForm,
                                   LoginForm, PreferencesForm, SetPasswordForm, TimeZoneForm)
from tickets.forms.catalogue import AssetForm, EditAssetForm, LinkForm, StatusForm, VerifyForm
from tickets.forms.admin import TeamForm, UserForm
from tickets.forms.attachments import AddFilesForm
from tickets.forms.gaps import CategoryActionForm, CategoryForm
from tickets.forms.imports import UploadForm
from tickets.forms.outcomes import AnswerLinkForm, OutcomeForm
from tickets.forms.requests import CommentForm, DeflectForm, IntakeForm, ReplyForm, RequestForm
from tickets.forms.settings import SettingsForm
from tickets.forms.transitions import TRANSITION_FORMS
from tickets.forms.triage import ChangeKindForm, OverrideForm, SlaClassForm
from tickets.forms.webhooks import EditWebhookForm, WebhookForm
from tickets.models import (ASSET_KINDS, ASSET_LINK_KINDS, ASSET_STATUSES,
                            DEFAULT_GAP_CATEGORIES, DECLINE_REASONS, FORMATS, IMPACTS, KINDS,
                            NOT_USED_REASONS, NOTIFICATION_MODES, NOTIFICATIONS, OUTCOMES, ROLES,
                            SIZES, SLA_CLASSES, Asset, FollowUp, Request, User, utcnow)

from tickets.webhooks import EVENTS as WEBHOOK_EVENTS

from .strategies import MISSING, future_date, printable
from .world import ANONYMOUS, ROLES as ROLES_ALL


@dataclass(frozen=True)
class Field:
    """One input of a form. ``name`` is as the form class names it (without the prefix);
    ``hidden`` inputs are not typed by a person (a version, a ``next`` target, a URL part)."""

    name: str
    # text, textarea, select, multi, boolean, number, integer, id, multi_id, date, time, email,
    # emails, url, password, version, next, holidays, token, ref (strategies.bad_value knows
    # each)
    kind: str
    max_length: int | None = None
    choices: tuple | Callable = ()  # the valid options (select, multi), or context -> options
    similar: Callable | None = None  # context -> existing values to vary the case of
    hidden: bool = False
    prefixed: bool = True  # posted with the form's prefix ("accept-note"); False: as is ("next")
    in_path: bool = False  # a part of the URL, not of the posted body

    def options(self, context):
        """The valid options of a select or multi-select."""
        return tuple(self.choices(context) if callable(self.choices) else self.choices)

    def names(self, context):
        """Existing values (team names, e-mail addresses) whose case variants are worth trying."""
        return tuple(self.similar(context)) if self.similar else ()


@dataclass(frozen=True)
class Form:
    """One form: ``path(context, values)`` is where it posts, ``build(context, draw)`` makes the
    data one example needs (its subject), ``valid(context)`` is a strategy of what a person
    would send (a dict of field name -> value, MISSING for a field left out)."""

    name: str
    endpoint: str
    rule: str
    roles: tuple
    fields: tuple | Callable  # Fields, or context -> Fields (settings: one per team and analyst)
    valid: Callable
    path: Callable
    build: Callable = lambda context, draw: None
    prefix: str = ""
    form_class: type | None = None
    success: tuple = (302,)
    dynamic_fields: tuple = dataclass_field(default=())  # name prefixes the form class adds per row

    def fields_for(self, context):
        """The form's fields (for the settings page, those of the world's teams and people)."""
        return tuple(self.fields(context) if callable(self.fields) else self.fields)

    def post_name(self, field):
        """The name the browser posts ``field`` under."""
        return f"{self.prefix}-{field.name}" if self.prefix and field.prefixed else field.name


# --- Valid values --------------------------------------------------------------------------

def line(max_size=60):
    """One line of text in any script, as a person types it into a single-line field."""
    return printable(1, max_size)


def paragraph(max_lines=4):
    """Text of a few lines, as a browser posts a textarea (lines end in CR LF)."""
    return st.lists(printable(0, 60), min_size=1, max_size=max_lines).map("\r\n".join).filter(
        lambda text: text.strip())


def ticked():
    """A checkbox: ticked ("y") or left out, as a browser sends it."""
    return st.sampled_from(("y", MISSING))


def emails_of(context, extra=3):
    """A watchers list: addresses of people in the world and new ones, comma or line separated."""
    known = st.sampled_from(context.emails())
    fresh = st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,8})?@(example|exämple|beispiel)\.(com|de|org)",
                          fullmatch=True)
    return st.tuples(st.lists(st.one_of(known, fresh), max_size=extra),
                     st.sampled_from((", ", "\r\n", "; "))).map(lambda pair: pair[1].join(pair[0]))


@st.composite
def intake_answers(draw, context):
    """A complete intake form as a stakeholder fills it in."""
    has_deadline = draw(st.booleans())
    sponsored = draw(st.booleans())
    return {
        "title": draw(line(120)),
        "team_id": draw(st.sampled_from(context.active_team_ids())),
        "data_needed": draw(paragraph()), "format": draw(st.sampled_from(tuple(FORMATS))),
        "usage": draw(paragraph()), "lever_result": draw(paragraph()),
        "lever_expected_shape": draw(paragraph()), "lever_extraction": draw(paragraph()),
        "lever_decision": draw(paragraph()),
        "deadline": draw(future_date(context.today)) if has_deadline else "",
        "no_deadline": MISSING if has_deadline else "y",
        "kind": draw(st.sampled_from(tuple(KINDS))),
        "business_impact": str(draw(st.sampled_from(tuple(IMPACTS)))),
        "is_exec_sponsored": "y" if sponsored else MISSING,
        "exec_sponsor": draw(line(80)) if sponsored else "",
        "is_confidential": draw(ticked()),
        "watchers": draw(emails_of(context)),
    }


# Every form with attachments: the file input and the files held from the last post.
FILE_FIELDS = (Field("files", "file"), Field("held", "token", hidden=True))


def a_file():
    """Now and then a file a person would attach (none, most of the time)."""
    return st.one_of(st.just(MISSING), st.just(MISSING), st.builds(
        lambda name: (io.BytesIO(b"region,week,churned\nnorth,1,12\n"), name),
        st.sampled_from(("sample.csv", "Résumé Q3.csv", "data export.csv"))))


INTAKE_FIELDS = (
    Field("title", "text", 200), Field("team_id", "id", choices=lambda c: c.active_team_ids()),
    Field("data_needed", "textarea", 5000), Field("format", "select", choices=tuple(FORMATS)),
    Field("usage", "textarea", 3000), Field("lever_result", "textarea", 2000),
    Field("lever_expected_shape", "textarea", 2000), Field("lever_extraction", "textarea", 2000),
    Field("lever_decision", "textarea", 2000), Field("deadline", "date"),
    Field("no_deadline", "boolean"), Field("kind", "select", choices=tuple(KINDS)),
    Field("business_impact", "select", choices=tuple(str(level) for level in IMPACTS)),
    Field("is_exec_sponsored", "boolean"), Field("exec_sponsor", "text", 120),
    Field("is_confidential", "boolean"), Field("watchers", "emails", 5000),
    *FILE_FIELDS,
)


def url_part(values, name):
    """The URL part ``name`` as a browser would send it (a part left out is empty)."""
    value = values.get(name, MISSING)
    return "" if value is MISSING else quote(value, safe="")


def request_path(template):
    """A path with the subject request's id in it; ``<id>`` (a URL part) may be fuzzed."""
    return lambda context, values: template.format(id=url_part(values, "<id>"))


PATH_ID = Field("<id>", "id", hidden=True, in_path=True)


def with_path_id(strategy, context, subject_id):
    """``strategy``'s values with the subject's id as the URL part."""
    return strategy.map(lambda values: {**values, "<id>": str(subject_id(context))})


def version():
    """The hidden input carrying the version of the request the page showed."""
    return Field("version", "version", hidden=True)


def current_version(context):
    """The subject's version as the page would carry it."""
    return st.just(context.version_offset(0))


# --- The forms: authentication and preferences -------------------------------------------------

LOGIN = Form(
    "login", "auth.login", "/login", (ANONYMOUS,),
    fields=(Field("email", "email", 254, similar=lambda c: c.emails()),
            Field("password", "password", 200), Field("remember", "boolean"),
            Field("next", "next", hidden=True)),
    valid=lambda context: st.fixed_dictionaries({
        "email": st.sampled_from(context.emails()).flatmap(
            lambda email: st.sampled_from((email, email.upper(), f" {email} "))),
        "password": st.sampled_from(("correct-horse-9", "correct-horse-9", "wrong-horse-9")),
        "remember": ticked(), "next": st.sampled_from(("", "/requests/new", "/triage"))}),
    path=lambda context, values: "/login", form_class=LoginForm)

PREFERENCES = Form(
    "preferences", "mail.preferences", "/preferences", ROLES_ALL,
    fields=(Field("is_digest_enabled", "boolean"),
            Field("digest_weekday", "select", choices=("", *map(str, range(7)))),
            *(Field(f"notify_{kind}", "select", choices=tuple(NOTIFICATION_MODES))
              for kind in NOTIFICATIONS)),
    valid=lambda context: st.fixed_dictionaries({
        "is_digest_enabled": ticked(),
        "digest_weekday": st.sampled_from(("", *map(str, range(7)))),
        **{f"notify_{kind}": st.sampled_from((*NOTIFICATION_MODES, MISSING))
           for kind in NOTIFICATIONS}}),
    path=lambda context, values: "/preferences", form_class=PreferencesForm)

# The current password stays what the world logs in with: a success "changes" it to itself,
# which still replaces the session generation (this client stays logged in, as a person would).
CHANGE_PASSWORD = Form(
    "change_password", "mail.change_password", "/preferences/password", ROLES_ALL,
    fields=(Field("current", "password", 256), Field("new", "password", 256),
            Field("confirm", "password", 256)),
    valid=lambda context: st.sampled_from(("correct-horse-9", "correct-horse-9",
                                           "wrong-horse-9")).map(
        lambda current: {"current": current, "new": "correct-horse-9",
                         "confirm": "correct-horse-9"}),
    path=lambda context, values: "/preferences/password", prefix="password",
    form_class=ChangePasswordForm)

UNSUBSCRIBE = Form(
    "unsubscribe", "mail.unsubscribe_confirm", "/unsubscribe/<token>", (ANONYMOUS,),
    fields=(Field("<token>", "token", hidden=True, in_path=True),),
    valid=lambda context: st.sampled_from(("digest", "notifications")).map(
        lambda what: {"<token>": context.token(context.world.requester, what)}),
    path=lambda context, values: "/unsubscribe/" + url_part(values, "<token>"),
    success=(200,))

# --- Invitations, password resets and the time zone (issue 14) ------------------------------

FORGOT_PASSWORD = Form(
    "forgot_password", "auth.forgot_password", "/password/forgot", (ANONYMOUS,),
    fields=(Field("email", "email", 254, similar=lambda c: c.emails()),),
    valid=lambda context: st.fixed_dictionaries({"email": st.one_of(
        st.sampled_from(context.emails()),
        st.from_regex(r"[a-z]{1,10}@(example|exämple)\.com", fullmatch=True))}),
    path=lambda context, values: "/password/forgot", form_class=ForgotPasswordForm,
    success=(200,))


def _person_with_a_link(purpose):
    """The subject: a new person and the link of ``purpose`` their mail would carry
    (``context.link_token``); for an invitation, one invited and not joined yet."""
    def build(context, draw=None):
        from tickets import people
        from tickets.models import User, utcnow

        with context.app.app_context():
            now = utcnow()
            if purpose == "invitation":
                user = people.save_user(None, name="Ivy Invited",
                                        email=f"ivy{context.make._next()}@example.com",
                                        role="requester", team_ids=[context.world.marketing])
                invitations.send_invitation(user, now)
            else:
                user = db.session.get(User, context.new_user())
            context.user_id = user.id
            context.link_token = invitations.make_token(user, purpose, now)
            db.session.commit()
    return build


SET_PASSWORD_FIELDS = (Field("new", "password", 256), Field("confirm", "password", 256),
                       Field("<token>", "token", hidden=True, in_path=True))


def _set_password_answers(context):
    return st.just({"new": "correct-horse-9", "confirm": "correct-horse-9",
                    "<token>": context.link_token})


RESET_PASSWORD = Form(
    "reset_password", "auth.reset_password", "/password/reset/<token>", (ANONYMOUS,),
    fields=SET_PASSWORD_FIELDS, valid=_set_password_answers,
    path=lambda context, values: "/password/reset/" + url_part(values, "<token>"),
    build=_person_with_a_link("reset"), form_class=SetPasswordForm)

JOIN = Form(
    "join", "auth.join", "/join/<token>", (ANONYMOUS,),
    fields=SET_PASSWORD_FIELDS, valid=_set_password_answers,
    path=lambda context, values: "/join/" + url_part(values, "<token>"),
    build=_person_with_a_link("invitation"), form_class=SetPasswordForm)

RESEND_INVITATION = Form(
    "resend_invitation", "admin.resend_invitation", "/admin/users/<int:user_id>/invitation",
    ("lead", "admin"),
    fields=(Field("next", "next", hidden=True, prefixed=False), PATH_ID),
    valid=lambda context: st.fixed_dictionaries({
        "next": st.sampled_from(("", "/admin/users?status=invited")),
        "<id>": st.just(str(context.user_id))}),
    path=lambda context, values: f"/admin/users/{url_part(values, '<id>')}/invitation",
    build=_person_with_a_link("invitation"))

TIME_ZONE_CHOICES = ("", "UTC", "America/New_York", "Asia/Tokyo", "Asia/Kolkata",
                     "Pacific/Chatham", "America/St_Johns")

TIME_ZONE = Form(
    "time_zone", "mail.time_zone", "/preferences/time-zone", ROLES_ALL,
    fields=(Field("time_zone", "select", choices=TIME_ZONE_CHOICES),),
    valid=lambda context: st.fixed_dictionaries({"time_zone": st.sampled_from(TIME_ZONE_CHOICES)}),
    path=lambda context, values: "/preferences/time-zone", prefix="tz", form_class=TimeZoneForm)

GUEST = "guest@partner.example"  # a watcher without an account


def _watched_request(context, draw):
    context.request_in("submitted", watchers=[GUEST])


UNWATCH = Form(
    "unwatch", "notifications.unwatch_confirm", "/unwatch/<token>", (ANONYMOUS,),
    fields=(Field("<token>", "token", hidden=True, in_path=True),),
    valid=lambda context: st.just({"<token>": context.unwatch_token(context.request_id, GUEST)}),
    path=lambda context, values: "/unwatch/" + url_part(values, "<token>"),
    build=_watched_request, success=(200,))

# --- Requests ---------------------------------------------------------------------------------

# Words of the world's answers (Context.answers): a draft that uses them has suggestions.
ANSWERED_WORDS = ("Weekly churn by region", "churn dashboard", "Churn", "churned customers")


@st.composite
def new_request_answers(draw, context):
    """A new request as typed, its words now and then those of something that answers it; the
    fingerprint of its suggestions is posted when the requester has seen them (the check step
    put it in the form, or suggest.js did), or not at all."""
    values = draw(intake_answers(context))
    if draw(st.booleans()):
        values["title"] = draw(st.sampled_from(ANSWERED_WORDS)) + draw(
            st.sampled_from(("", " for Q3", " — please")))
    seen = draw(st.sampled_from(("key", "none", "other")))
    values["suggestions_seen"] = {
        "key": deflections.draft_key(values["title"], values["data_needed"]),
        "none": MISSING, "other": "0123456789abcdef"}[seen]
    return values


NEW_REQUEST = Form(
    "new_request", "requests.new", "/requests/new", ROLES_ALL,
    fields=INTAKE_FIELDS + (Field("suggestions_seen", "text", 16, hidden=True),),
    valid=new_request_answers, path=lambda context, values: "/requests/new",
    build=lambda context, draw: context.answers(), form_class=IntakeForm,
    # 200: a draft with suggestions the requester has not seen shows them (the check step)
    # and submits nothing; the next post of the same text submits.
    success=(302, 200))

# "This answers my question" on a suggestion: the intake form posts itself here with the
# button's answer (the form's other fields come along and are ignored).
DEFLECT = Form(
    "deflect", "requests.deflect", "/requests/deflect", ROLES_ALL,
    fields=(Field("answer", "ref", choices=lambda c: c.answer_refs(),
                  similar=lambda c: c.non_answer_refs(), hidden=True),
            Field("title", "textarea", 200), Field("data_needed", "textarea", 5000),
            Field("team_id", "id", choices=lambda c: c.active_team_ids())),
    valid=lambda context: st.fixed_dictionaries({
        "answer": st.sampled_from(context.answer_refs()),
        "title": st.one_of(st.just(""), line(120)), "data_needed": paragraph(),
        "team_id": st.sampled_from(("", *context.active_team_ids()))}),
    path=lambda context, values: "/requests/deflect",
    build=lambda context, draw: context.answers(), form_class=DeflectForm)

def _edit_subject(context, draw):
    """A request its requester may still edit, one in work (which only a lead may edit), or
    one closed (nobody may)."""
    context.request_in(draw(st.sampled_from(("submitted", "needs_info", "waitlisted", "accepted",
                                             "in_progress", "resolved"))))


EDIT_REQUEST = Form(
    "edit_request", "requests.edit", "/requests/<int:request_id>/edit", ("requester", "lead"),
    fields=INTAKE_FIELDS + (version(), PATH_ID),
    valid=lambda context: intake_answers(context).map(
        lambda values: {**values, "version": context.version_offset(0),
                        "<id>": str(context.request_id)}),
    path=request_path("/requests/{id}/edit"), build=_edit_subject, form_class=RequestForm)


def _open_request(context, draw):
    """A request at some step of its life (closed: nobody may comment any more; asked a
    question: the requester's comment answers it)."""
    context.request_in(draw(st.sampled_from(("submitted", "needs_info", "accepted",
                                             "in_progress", "delivered", "resolved"))))


COMMENT = Form(
    "comment", "requests.comment", "/requests/<int:request_id>/comments", ROLES_ALL,
    fields=(Field("text", "textarea", 10000), *FILE_FIELDS, PATH_ID),
    valid=lambda context: st.fixed_dictionaries({"text": paragraph(), "files": a_file(),
                                                 "<id>": st.just(str(context.request_id))}),
    path=request_path("/requests/{id}/comments"), build=_open_request, form_class=CommentForm)

# "Add files" on the request page (removing one has no input but the CSRF token: EXCLUDED).
ADD_FILES = Form(
    "add_files", "attachments.add", "/requests/<int:request_id>/attachments", ROLES_ALL,
    fields=(*FILE_FIELDS, Field("note", "textarea", 2000), PATH_ID),
    valid=lambda context: st.fixed_dictionaries({
        "files": a_file().filter(lambda value: value is not MISSING),
        "note": st.one_of(st.just(""), paragraph()),
        "<id>": st.just(str(context.request_id))}),
    path=request_path("/requests/{id}/attachments"), build=_open_request, prefix="files",
    form_class=AddFilesForm)


def _asked_request(context, draw):
    """A request asked a question (its requester replies), or one that moved on meanwhile
    (the reply is refused, its text kept: 409)."""
    context.request_in(draw(st.sampled_from(("needs_info", "needs_info", "accepted",
                                             "resolved"))))


REPLY = Form(
    "reply", "requests.reply", "/requests/<int:request_id>/reply", ROLES_ALL,
    fields=(Field("text", "textarea", 10000), PATH_ID),
    valid=lambda context: st.fixed_dictionaries({"text": paragraph(),
                                                 "<id>": st.just(str(context.request_id))}),
    path=request_path("/requests/{id}/reply"), build=_asked_request, prefix="reply",
    form_class=ReplyForm)

# --- Transitions: one form per lifecycle action ------------------------------------------------

# Who plays each lifecycle role in the world: the analyst is embedded in the subject's team and
# is its assignee once claimed; the requester asked for it.
ACTOR_ROLES = {"team_analyst": "analyst", "assignee": "analyst", "lead": "lead",
               "requester": "requester"}

NOTE = Field("note", "textarea", 10000)
# A search picker's inputs (forms.transitions.PickerMixin): the text typed, the pick the script
# makes, the candidate chosen after words came back.
PICKER = lambda name: (Field(name, "text", 500), Field(f"{name}_ref", "text", 40, hidden=True),  # noqa: E731
                       Field(f"{name}_choice", "text", 40))
# A platform gap's inputs (forms.transitions.GapMixin).
GAP = (Field("gap_category", "select", choices=lambda c: ("", *c.gap_category_ids())),
       Field("gap_note", "textarea", 2000),
       Field("gap_hours", "number"))
NEXT = Field("next", "next", hidden=True, prefixed=False)


def _priority(draw):
    if draw(st.booleans()):
        return {"business_impact": MISSING, "is_exec_sponsored": MISSING, "exec_sponsor": MISSING}
    sponsored = draw(st.booleans())
    return {"business_impact": str(draw(st.sampled_from(tuple(IMPACTS)))),
            "is_exec_sponsored": "y" if sponsored else MISSING,
            "exec_sponsor": draw(line(60)) if sponsored else ""}


def _optional_note(draw):
    return draw(st.one_of(st.just(""), paragraph()))


LINKS = st.from_regex(r"https?://[a-z]{1,10}\.example\.com(/[a-zA-Z0-9_-]{1,12}){0,3}",
                      fullmatch=True)
RATINGS = ("", "1", "2", "3", "4", "5")

# name -> (the form's own fields, a function (context, draw) -> valid values of those fields)
TRANSITION_INPUTS = {
    "accept": ((Field("size", "select", choices=tuple(SIZES)),
                Field("business_impact", "select", choices=tuple(map(str, IMPACTS))),
                Field("is_exec_sponsored", "boolean"), Field("exec_sponsor", "text", 120), NOTE),
               lambda c, draw: {"size": draw(st.sampled_from(tuple(SIZES))), **_priority(draw),
                                "note": _optional_note(draw)}),
    "ask": ((NOTE,), lambda c, draw: {"note": draw(paragraph())}),
    "answer": ((NOTE,), lambda c, draw: {"note": draw(paragraph())}),
    "claim": ((), lambda c, draw: {}),
    "assign": ((Field("assignee", "id", choices=lambda c: c.worker_ids()),),
               lambda c, draw: {"assignee": draw(st.sampled_from(c.worker_ids()))}),
    "block": ((NOTE,), lambda c, draw: {"note": draw(paragraph())}),
    "unblock": ((), lambda c, draw: {}),
    "unclaim": ((), lambda c, draw: {}),
    "deliver": ((Field("url", "url", 500), NOTE,
                 Field("catalogue", "select", choices=("new", "existing", "none")),
                 Field("asset_title", "text", 200), Field("asset_kind", "select",
                                                          choices=tuple(ASSET_KINDS)),
                 Field("asset_description", "textarea", 5000), Field("asset_tags", "text", 400),
                 *PICKER("existing_asset"), Field("has_gap", "boolean"), *GAP),
                lambda c, draw: _deliver(c, draw)),
    "confirm": ((Field("rating", "select", choices=RATINGS), NOTE, Field("know_by", "date")),
                lambda c, draw: {"rating": draw(st.sampled_from((*RATINGS, MISSING))),
                                 "note": _optional_note(draw),
                                 # Empty (the kind's default), or a day from tomorrow on.
                                 "know_by": draw(st.one_of(st.just(""), st.integers(2, 300).map(
                                     lambda days: c.future(days))))}),
    "reopen": ((NOTE,), lambda c, draw: {"note": draw(paragraph())}),
    "decline": ((Field("reason", "select", choices=("", *DECLINE_REASONS)),
                 *PICKER("answer"), *GAP, NOTE),
                lambda c, draw: _decline(c, draw)),
    "mark_duplicate": ((*PICKER("original"), NOTE),
                       lambda c, draw: {**_picked("original", "request", c.other_id, draw),
                                        "note": _optional_note(draw)}),
    "cancel": ((NOTE,), lambda c, draw: {"note": _optional_note(draw)}),
}
TRANSITION_INPUTS["approve"] = TRANSITION_INPUTS["accept"]


def _gap(context, draw):
    """A platform gap's inputs: a category of the taxonomy, a note, hours (empty: the default)."""
    return {"gap_category": draw(st.sampled_from(context.gap_category_ids())),
            "gap_note": _optional_note(draw),
            "gap_hours": draw(st.sampled_from(("", "0", "1", "2.5", "16")))}


def _decline(context, draw):
    # A self-serve decline picks what answers it (the world's delivered request or its asset,
    # which the requester may see; now and then the original, which is not delivered: refused)
    # and records a platform gap; the other reasons need neither.
    reason = draw(st.sampled_from(tuple(DECLINE_REASONS)))
    values = {"reason": reason, "note": draw(paragraph()), "gap_category": "",
              "gap_note": "", "gap_hours": draw(st.sampled_from(("", "1", "2.5")))}
    if reason == "self_serve":
        world = context.answers()
        kind, ref_id = draw(st.sampled_from((("request", world.answer_request),
                                             ("asset", world.answer_asset),
                                             ("request", context.other_id))))
        values.update(_picked("answer", kind, ref_id, draw) if kind == "request"
                      else {"answer": "Churn dashboard", "answer_ref": f"asset:{ref_id}",
                            "answer_choice": MISSING})
        values.update(_gap(context, draw))
    else:
        values.update({"answer": "", "answer_ref": "", "answer_choice": MISSING})
    return values


def _deliver(context, draw):
    choice = draw(st.sampled_from(("new", "none", MISSING)))
    values = {"url": draw(LINKS), "note": draw(paragraph()), "catalogue": choice,
              "asset_title": draw(line(60)), "asset_kind": draw(st.sampled_from(tuple(ASSET_KINDS))),
              "asset_description": _optional_note(draw),
              "asset_tags": draw(st.sampled_from(("", "churn, retention", "finance"))),
              "existing_asset": "", "existing_asset_ref": "", "existing_asset_choice": MISSING,
              "has_gap": MISSING, "gap_category": "", "gap_note": "", "gap_hours": "4"}
    if draw(st.booleans()):  # the requester could have done it themselves
        values.update({"has_gap": "y", **_gap(context, draw)})
    return values


def _picked(name, kind, ref_id, draw):
    """A picker's inputs as the page sends them: the pick with its label, or a number typed."""
    if draw(st.booleans()):
        return {name: f"#{ref_id} {draw(line(30))}", f"{name}_ref": f"{kind}:{ref_id}",
                f"{name}_choice": MISSING}
    return {name: draw(st.sampled_from((f"#{ref_id}", str(ref_id)))), f"{name}_ref": "",
            f"{name}_choice": MISSING}


def _transition_form(name):
    t = lifecycle.TRANSITIONS[name]
    own_fields, answers = TRANSITION_INPUTS[name]
    roles = tuple(dict.fromkeys(ACTOR_ROLES[actor] for actor in sorted(t.actors)))
    states = tuple(sorted(t.sources))

    def build(context, draw):
        # Now and then a request that has moved on: the page that offered the action is stale.
        stale = draw(st.integers(0, 9)) == 9
        context.request_in("resolved" if stale else draw(st.sampled_from(states)))
        if name in ("mark_duplicate", "decline"):
            context.other_request()

    @st.composite
    def valid(draw, context):
        return {**answers(context, draw), "version": context.version_offset(0),
                "next": draw(st.sampled_from((MISSING, "/triage",
                                              f"/requests/{context.request_id}"))),
                "<id>": str(context.request_id)}

    return Form(
        f"act_{name}", "requests.act", "/requests/<int:request_id>/actions/<name>", roles,
        fields=own_fields + (version(), NEXT, PATH_ID), valid=valid,
        path=request_path(f"/requests/{{id}}/actions/{name}"), build=build, prefix=name,
        form_class=TRANSITION_FORMS[name])


TRANSITIONS = tuple(_transition_form(name) for name in TRANSITION_FORMS)

# --- Triage, queue and SLA panels --------------------------------------------------------------

def _any_state(context, draw):
    """A request in any state: panels offer their forms in some states only, and a page may be
    out of date."""
    context.request_in(draw(st.sampled_from(("submitted", "needs_info", "waitlisted", "accepted",
                                             "in_progress", "blocked", "delivered", "resolved"))))


CHANGE_KIND = Form(
    "change_kind", "triage.change_kind", "/requests/<int:request_id>/kind", ("analyst", "lead"),
    fields=(Field("kind", "select", choices=tuple(KINDS)), Field("note", "textarea", 2000),
            version(), NEXT, PATH_ID),
    valid=lambda context: st.fixed_dictionaries({
        "kind": st.sampled_from(tuple(KINDS)), "note": st.one_of(st.just(""), paragraph()),
        "version": current_version(context), "next": st.sampled_from((MISSING, "/triage")),
        "<id>": st.just(str(context.request_id))}),
    path=request_path("/requests/{id}/kind"), build=_any_state, prefix="kind",
    form_class=ChangeKindForm)

RANK = Form(
    "rank", "queue.rank", "/requests/<int:request_id>/rank", ("lead",),
    fields=(Field("position", "number"), Field("reason", "text", 500), version(),
            Field("clear", "boolean"), PATH_ID),
    valid=lambda context: st.fixed_dictionaries({
        "position": st.integers(1, 1000).map(str), "reason": line(100),
        "version": current_version(context), "clear": st.sampled_from((MISSING, MISSING, "y")),
        "<id>": st.just(str(context.request_id))}),
    path=request_path("/requests/{id}/rank"), build=_any_state, prefix="rank",
    form_class=OverrideForm)

SLA_CLASS = Form(
    "sla_class", "sla.set_class", "/requests/<int:request_id>/sla-class", ("lead",),
    fields=(Field("sla_class", "select", choices=("", *SLA_CLASSES)),
            Field("reason", "textarea", 2000), version(), PATH_ID),
    valid=lambda context: st.fixed_dictionaries({
        "sla_class": st.sampled_from(("", *SLA_CLASSES)), "reason": paragraph(),
        "version": current_version(context), "<id>": st.just(str(context.request_id))}),
    path=request_path("/requests/{id}/sla-class"), build=_any_state, prefix="sla",
    form_class=SlaClassForm)

# --- Follow-ups: answers to "was the data used?" -------------------------------------------------

def _resolved_follow_up(context, draw=None):
    """The subject: a request its requester confirmed, with its follow-up (scheduled), and the
    answer links its mail would carry (``context.answer_links``: outcome -> token)."""
    context.request_in("resolved")
    with context.app.app_context():
        follow_up = db.session.scalar(
            db.select(FollowUp).where(FollowUp.request_id == context.request_id))
        context.answer_links = {outcome: outcomes.link_token(follow_up, outcome)
                                for outcome in OUTCOMES}


@st.composite
def outcome_answers(draw, full):
    """An answer as the person asked gives it: a reason only with "not used" (the select is
    sent anyway, empty or not); on the request page the decision and a note too."""
    outcome = draw(st.sampled_from(tuple(OUTCOMES)))
    values = {"outcome": outcome,
              "reason": draw(st.sampled_from(tuple(NOT_USED_REASONS))) if outcome == "not_used"
              else draw(st.sampled_from(("", MISSING)))}
    if full:
        values.update(decision=draw(st.one_of(st.just(""), paragraph())),
                      note=_optional_note(draw))
    return values


OUTCOME_FIELDS = (Field("outcome", "select", choices=tuple(OUTCOMES)),
                  Field("reason", "select", choices=("", *NOT_USED_REASONS)))

# The one-click link of the follow-up mail: no log-in; its page answers 200 (thanks).
ANSWER_LINK = Form(
    "answer_link", "outcomes.record_link_answer", "/follow-ups/answer/<token>", (ANONYMOUS,),
    fields=(*OUTCOME_FIELDS, Field("<token>", "token", hidden=True, in_path=True)),
    valid=lambda context: outcome_answers(False).flatmap(
        lambda values: st.sampled_from(tuple(context.answer_links.values())).map(
            lambda link: {**values, "<token>": link})),
    path=lambda context, values: "/follow-ups/answer/" + url_part(values, "<token>"),
    build=_resolved_follow_up, form_class=AnswerLinkForm, success=(200,))

ANSWER_OUTCOME = Form(
    "answer_outcome", "outcomes.answer", "/requests/<int:request_id>/outcome", ("requester",),
    fields=(*OUTCOME_FIELDS, Field("decision", "textarea", outcomes.DECISION_MAX),
            Field("note", "textarea", outcomes.NOTE_MAX), PATH_ID),
    valid=lambda context: with_path_id(outcome_answers(True), context, lambda c: c.request_id),
    path=request_path("/requests/{id}/outcome"), build=_resolved_follow_up, prefix="outcome",
    form_class=OutcomeForm)

# --- Administration ----------------------------------------------------------------------------

MANAGERS = ("lead", "admin")

TEAM_FIELDS = (Field("name", "text", 80, similar=lambda c: c.team_names()),
               Field("description", "text", 300), Field("is_active", "boolean"))


def team_answers(context):
    """A team as a lead names it: any name, or one that exists already."""
    return st.fixed_dictionaries({
        "name": st.one_of(line(80), st.sampled_from(context.team_names())),
        "description": st.one_of(st.just(""), line(200)), "is_active": ticked()})


NEW_TEAM = Form(
    "new_team", "admin.team_form", "/admin/teams/new", MANAGERS, fields=TEAM_FIELDS,
    valid=team_answers, path=lambda context, values: "/admin/teams/new", form_class=TeamForm)

EDIT_TEAM = Form(
    "edit_team", "admin.team_form", "/admin/teams/<int:team_id>/edit", MANAGERS,
    fields=TEAM_FIELDS + (PATH_ID,),
    valid=lambda context: with_path_id(team_answers(context), context, lambda c: c.team_id),
    path=lambda context, values: f"/admin/teams/{url_part(values, '<id>')}/edit",
    build=lambda context, draw: context.new_team(), form_class=TeamForm)

USER_FIELDS = (Field("name", "text", 120),
               Field("email", "email", 254, similar=lambda c: c.emails()),
               Field("role", "select", choices=tuple(ROLES)),
               Field("teams", "multi_id", choices=lambda c: c.all_team_ids()),
               Field("is_active", "boolean"))


def user_answers(context):
    """A person as a lead or admin enters them (never a password: they are invited)."""
    return st.fixed_dictionaries({
        "name": line(80),
        "email": st.one_of(st.sampled_from(context.emails()),
                           st.from_regex(r"[a-z]{1,10}@(example|exämple)\.com", fullmatch=True)),
        "role": st.sampled_from(tuple(ROLES)),
        "teams": st.lists(st.sampled_from(context.all_team_ids()), unique=True, max_size=3),
        "is_active": ticked()})


NEW_USER = Form(
    "new_user", "admin.user_form", "/admin/users/new", MANAGERS, fields=USER_FIELDS,
    valid=lambda context: user_answers(context),
    path=lambda context, values: "/admin/users/new", form_class=UserForm)

EDIT_USER = Form(
    "edit_user", "admin.user_form", "/admin/users/<int:user_id>/edit", MANAGERS,
    fields=USER_FIELDS + (PATH_ID,),
    valid=lambda context: with_path_id(user_answers(context), context, lambda c: c.user_id),
    path=lambda context, values: f"/admin/users/{url_part(values, '<id>')}/edit",
    build=lambda context, draw: context.new_user(), form_class=UserForm)

# --- Settings --------------------------------------------------------------------------------

TIMEZONES = ("UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Pacific/Chatham",
             "Pacific/Kiritimati", "America/St_Johns", "Australia/Lord_Howe")
SLA_FIELDS = tuple(f"sla_{sla_class}_{target}" for sla_class in SLA_CLASSES
                   for target in ("first_response", "resolution"))


def _workers(context):
    """The ids of the people the settings page gives a WIP limit field."""
    return [user_id for user_id, _, role, active in context.users
            if active and role in ("analyst", "lead")]


def settings_fields(context):
    return (Field("wip_limit_default", "number"), Field("lead_time_business_days", "number"),
            Field("timezone", "select", choices=TIMEZONES),
            Field("working_days", "multi", choices=tuple(map(str, range(7)))),
            Field("work_start", "time"), Field("work_end", "time"),
            *(Field(name, "number") for name in SLA_FIELDS),
            Field("holidays", "holidays"),
            Field("digest_weekday", "select", choices=tuple(map(str, range(7)))),
            Field("digest_time", "time"), Field("auto_resolve_days", "number"),
            *(Field(f"follow_up_days_{kind}", "number") for kind in KINDS),
            Field("follow_up_reminder_days", "number"),
            Field("track_record_in_priority", "boolean"),
            Field("attachment_max_mb", "number"), Field("attachment_types", "text", 2000),
            *(Field(key, "number") for key in settings.PRIORITY_RANGES),
            Field("priority_oldest_first_after", "number"),
            *(Field(f"budget_{team_id}", "number") for team_id, _, _ in context.teams),
            *(Field(f"wip_{user_id}", "number") for user_id in _workers(context)))


def _clock(minutes):
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def settings_answers(draw, context):
    """Settings a lead may choose: anywhere inside the ranges the app itself declares."""
    # Now and then the extremes together: one working day, a day of minutes, the longest
    # targets (what once made a save take minutes).
    extreme = draw(st.integers(0, 4)) == 4
    start = draw(st.integers(0, 24 * 60 - 61))
    length = st.sampled_from((1, 2, 5, 60)) if extreme else st.integers(1, 24 * 60 - 1 - start)
    end = start + draw(length)
    days = st.lists(st.sampled_from(tuple(map(str, range(7)))), min_size=1,
                    max_size=1 if extreme else 7, unique=True)
    values = {
        "wip_limit_default": str(draw(st.integers(*settings.WIP_LIMIT_RANGE))),
        "lead_time_business_days": str(draw(st.integers(*settings.LEAD_TIME_RANGE))),
        "timezone": draw(st.sampled_from(TIMEZONES)),
        "working_days": draw(days),
        "work_start": _clock(start), "work_end": _clock(end),
        "holidays": "\r\n".join(day.isoformat() for day in draw(st.lists(st.dates(
            min_value=date(settings.HOLIDAY_YEARS.start, 1, 1),
            max_value=date(settings.HOLIDAY_YEARS.stop - 1, 12, 31)), max_size=5))),
        "digest_weekday": str(draw(st.integers(0, 6))),
        "digest_time": _clock(draw(st.integers(0, 24 * 60 - 1))),
        "auto_resolve_days": str(draw(st.integers(*settings.AUTO_RESOLVE_RANGE))),
        **{f"follow_up_days_{kind}": str(draw(st.integers(*settings.FOLLOW_UP_DAYS_RANGE)))
           for kind in KINDS},
        "follow_up_reminder_days": str(draw(st.integers(*settings.REMINDER_DAYS_RANGE))),
        "track_record_in_priority": draw(ticked()),
        "attachment_max_mb": str(draw(st.integers(*settings.ATTACHMENT_MB_RANGE))),
        "attachment_types": ", ".join(draw(st.lists(st.sampled_from(
            ("csv", ".xlsx", "PNG", "pdf", "json", "parquet")), min_size=1, unique=True))),
        # The lead's priority weights: anywhere in their ranges, in tenths (the form takes
        # decimals), and the oldest-first rule off or on.
        **{key: str(draw(st.integers(low * 10, high * 10)) / 10)
           for key, (low, high) in settings.PRIORITY_RANGES.items()},
        "priority_oldest_first_after": str(draw(st.sampled_from(
            (0, *range(settings.OLDEST_FIRST_RANGE[0], settings.OLDEST_FIRST_RANGE[1] + 1))))),
    }
    shortest, longest = settings.SLA_HOURS_RANGE
    for sla_class in SLA_CLASSES:
        first = draw(st.integers(longest // 2 if extreme else shortest, longest - 1))
        values[f"sla_{sla_class}_first_response"] = str(first)
        values[f"sla_{sla_class}_resolution"] = str(draw(st.integers(first + 1, longest)))
    for team_id, _, _ in context.teams:
        values[f"budget_{team_id}"] = draw(st.one_of(
            st.just(""), st.integers(*settings.BUDGET_RANGE).map(str)))
    for user_id in _workers(context):
        values[f"wip_{user_id}"] = draw(st.one_of(
            st.just(""), st.integers(*settings.WIP_LIMIT_RANGE).map(str)))
    return values


def _request_with_clocks(context, draw):
    """An open request whose SLA clocks a change of business hours or targets recomputes (a
    project: fuzzed ad-hoc budgets would waitlist an ad-hoc one)."""
    states = ("submitted", "accepted", "in_progress", "needs_info")
    context.request_in(draw(st.sampled_from(states)), kind="project")


SETTINGS = Form(
    "settings", "settings.index", "/settings", MANAGERS, fields=settings_fields,
    valid=settings_answers, path=lambda context, values: "/settings", build=_request_with_clocks,
    form_class=SettingsForm, dynamic_fields=("budget_", "wip_"))

# --- The catalogue ---------------------------------------------------------------------------

ASSET_FIELDS = (Field("title", "text", 200), Field("url", "url", 500),
                Field("kind", "select", choices=tuple(ASSET_KINDS)),
                Field("team_id", "id", choices=lambda c: c.active_team_ids()),
                Field("description", "textarea", 10000), Field("tags", "text", 400),
                Field("status", "select", choices=tuple(ASSET_STATUSES)),
                Field("last_verified_on", "date"))


@st.composite
def asset_answers(draw, context):
    """An asset as the data team describes it."""
    return {
        "title": draw(line(120)),
        "url": draw(st.sampled_from(("https://bi.example.com/churn", "http://wiki.example.com/x",
                                     "https://example.com/a?b=c#d"))),
        "kind": draw(st.sampled_from(tuple(ASSET_KINDS))),
        "team_id": draw(st.sampled_from(context.active_team_ids())),
        "description": draw(st.one_of(st.just(""), paragraph())),
        "tags": draw(st.one_of(st.just(""), line(60))),
        "status": draw(st.sampled_from(tuple(ASSET_STATUSES))),
        "last_verified_on": (context.today - timedelta(days=draw(st.integers(0, 900)))).isoformat(),
    }


def _new_asset(context, draw=None):
    """The subject: an asset of Marketing, answering one of the world's requester's requests."""
    request_id = context.make.request(context.world.requester, context.world.marketing)
    with context.app.app_context():
        asset = catalogue.add_asset(
            db.session.get(User, context.world.analyst), title="Weekly churn dashboard",
            url="https://bi.example.com/churn", kind="dashboard",
            team_id=context.world.marketing, request=db.session.get(Request, request_id))
        db.session.commit()
        context.asset_id = asset.id
        context.version = db.session.get(Asset, asset.id).version
    return context.asset_id


def asset_path(template):
    return lambda context, values: template.format(id=url_part(values, "<id>"))


def _with_asset(strategy):
    return lambda context: with_path_id(strategy(context), context, lambda c: c.asset_id)


ASSET_EDITORS = ("analyst", "lead")

NEW_ASSET = Form(
    "new_asset", "catalogue.new", "/catalogue/new", ASSET_EDITORS, fields=ASSET_FIELDS,
    valid=asset_answers, path=lambda context, values: "/catalogue/new", form_class=AssetForm)

EDIT_ASSET = Form(
    "edit_asset", "catalogue.edit", "/catalogue/<int:asset_id>/edit", ASSET_EDITORS,
    fields=ASSET_FIELDS + (version(), PATH_ID),
    valid=_with_asset(lambda context: asset_answers(context).map(
        lambda values: {**values, "version": context.version_offset(0)})),
    path=asset_path("/catalogue/{id}/edit"), build=_new_asset, form_class=EditAssetForm)

VERIFY_ASSET = Form(
    "verify_asset", "catalogue.verify", "/catalogue/<int:asset_id>/verify", ASSET_EDITORS,
    fields=(version(), PATH_ID),
    valid=_with_asset(lambda context: st.fixed_dictionaries({"version": current_version(context)})),
    path=asset_path("/catalogue/{id}/verify"), build=_new_asset, prefix="verify",
    form_class=VerifyForm)

ASSET_STATUS = Form(
    "asset_status", "catalogue.set_status", "/catalogue/<int:asset_id>/status", ASSET_EDITORS,
    fields=(Field("status", "select", choices=tuple(ASSET_STATUSES)), Field("reason", "text", 300),
            version(), PATH_ID),
    valid=_with_asset(lambda context: st.fixed_dictionaries({
        "status": st.just("deprecated"), "reason": line(120),
        "version": current_version(context)})),
    path=asset_path("/catalogue/{id}/status"), build=_new_asset, prefix="status",
    form_class=StatusForm)

LINK_ASSET = Form(
    "link_asset", "catalogue.link", "/catalogue/<int:asset_id>/link", ASSET_EDITORS,
    fields=(Field("request_id", "id", choices=lambda c: (str(c.other_id),)),
            Field("how", "select", choices=tuple(ASSET_LINK_KINDS)), version(), PATH_ID),
    valid=_with_asset(lambda context: st.fixed_dictionaries({
        "request_id": st.just(str(context.other_id)),
        "how": st.sampled_from(tuple(ASSET_LINK_KINDS)), "version": current_version(context)})),
    path=asset_path("/catalogue/{id}/link"),
    build=lambda context, draw: (_new_asset(context), context.other_request()),
    prefix="link", form_class=LinkForm)

# --- Platform gaps: the taxonomy ------------------------------------------------------------

CATEGORY_FIELDS = (
    Field("name", "text", gaps.NAME_LENGTH,
          similar=lambda c: tuple(name for name, _ in DEFAULT_GAP_CATEGORIES)),
    Field("description", "text", gaps.DESCRIPTION_LENGTH))


def category_answers(context):
    """A category as a lead names it: any name, or one the taxonomy has already."""
    return st.fixed_dictionaries({
        "name": st.one_of(line(60), st.sampled_from(
            tuple(name for name, _ in DEFAULT_GAP_CATEGORIES))),
        "description": st.one_of(st.just(""), line(200))})


def _category(context, draw):
    """The subject: a category in use or not, offered or retired, or the only one offered."""
    context.new_category(draw(st.sampled_from(("active", "active", "retired", "in_use", "last"))))


def category_path(template):
    return lambda context, values: template.format(id=url_part(values, "<id>"),
                                                   action=url_part(values, "<action>"))


CATEGORY_MANAGERS = ("lead",)

CATEGORY_ADD = Form(
    "category_add", "gaps.categories", "/settings/platform-gaps", CATEGORY_MANAGERS,
    fields=CATEGORY_FIELDS, valid=category_answers,
    path=lambda context, values: "/settings/platform-gaps",
    build=lambda context, draw: context.new_category(), form_class=CategoryForm)

CATEGORY_EDIT = Form(
    "category_edit", "gaps.edit_category", "/settings/platform-gaps/<int:category_id>/edit",
    CATEGORY_MANAGERS, fields=CATEGORY_FIELDS + (PATH_ID,),
    valid=lambda context: with_path_id(category_answers(context), context,
                                       lambda c: c.category_id),
    path=category_path("/settings/platform-gaps/{id}/edit"), build=_category,
    form_class=CategoryForm)

# A row's buttons; a refused one (deleting a category in use, retiring the last one offered)
# also goes back to the list, where its message shows.
CATEGORY_ACTIONS = ("up", "down", "retire", "reactivate", "delete")

CATEGORY_ACTION = Form(
    "category_action", "gaps.category_action",
    "/settings/platform-gaps/<int:category_id>/<action>", CATEGORY_MANAGERS,
    fields=(PATH_ID, Field("<action>", "select", choices=CATEGORY_ACTIONS, hidden=True,
                           in_path=True)),
    valid=lambda context: st.fixed_dictionaries({
        "<id>": st.just(str(context.category_id)), "<action>": st.sampled_from(CATEGORY_ACTIONS)}),
    path=category_path("/settings/platform-gaps/{id}/{action}"), build=_category,
    form_class=CategoryActionForm)


# --- Integrations (issue 16) -------------------------------------------------------------------

TOKEN_SCOPES = ("read", "write")
TOKEN_EXPIRIES = ("7", "30", "90", "365", "never")

# A new API token: the page shows its secret at once (200), it is not a redirect. A person's
# 21st working token is refused with a message (the fuzzer makes many).
NEW_TOKEN = Form(
    "new_token", "tokens.create", "/preferences/tokens", ROLES_ALL,
    fields=(Field("name", "text", 100), Field("scope", "select", choices=TOKEN_SCOPES),
            Field("expires_days", "select", choices=TOKEN_EXPIRIES)),
    valid=lambda context: st.fixed_dictionaries({
        "name": line(60), "scope": st.sampled_from(TOKEN_SCOPES),
        "expires_days": st.sampled_from(TOKEN_EXPIRIES)}),
    path=lambda context, values: "/preferences/tokens", form_class=AccessTokenForm,
    success=(200,))

WEBHOOK_MANAGERS = ("lead", "admin")
# Public addresses, or a name that does not resolve (accepted when saved): no network needed.
WEBHOOK_URLS = ("https://93.184.216.34/datadesk", "https://hooks.example.com/datadesk",
                "http://93.184.216.34:8080/hooks?team=marketing")


@st.composite
def webhook_answers(draw, context):
    """An endpoint as a lead registers it."""
    return {
        "url": draw(st.sampled_from(WEBHOOK_URLS)),
        "description": draw(st.one_of(st.just(""), line(80))),
        "events": draw(st.lists(st.sampled_from(tuple(WEBHOOK_EVENTS)), min_size=1,
                                unique=True)),
        "allow_private": draw(ticked()),
    }


WEBHOOK_FIELDS = (
    Field("url", "url", 500), Field("description", "text", 200),
    Field("events", "multi", choices=tuple(WEBHOOK_EVENTS)), Field("allow_private", "boolean"))


def _webhook(context, draw=None):
    """The subject: the lead's endpoint for created and delivered requests."""
    with context.app.app_context():
        hook, _ = webhooks.create(db.session.get(User, context.world.lead), WEBHOOK_URLS[0],
                                  "Data team chat", ["request.created", "request.delivered"],
                                  utcnow())
        db.session.commit()
        context.webhook_id, context.version = hook.id, hook.version
    return context.webhook_id


# Registering one shows its secret at once (200); an edit goes back to its page (302).
NEW_WEBHOOK = Form(
    "new_webhook", "webhooks.create", "/settings/webhooks", WEBHOOK_MANAGERS,
    fields=WEBHOOK_FIELDS, valid=webhook_answers,
    path=lambda context, values: "/settings/webhooks", form_class=WebhookForm, success=(200,))

EDIT_WEBHOOK = Form(
    "edit_webhook", "webhooks.show", "/settings/webhooks/<int:webhook_id>", WEBHOOK_MANAGERS,
    fields=WEBHOOK_FIELDS + (version(), PATH_ID),
    valid=lambda context: with_path_id(webhook_answers(context).map(
        lambda values: {**values, "version": context.version_offset(0)}), context,
        lambda c: c.webhook_id),
    path=lambda context, values: f"/settings/webhooks/{url_part(values, '<id>')}",
    build=_webhook, form_class=EditWebhookForm)


def a_spreadsheet():
    """A small CSV of past requests, as a team exports its tracker."""
    return st.builds(lambda name, rows: (io.BytesIO(
        ("ID,Title,Team,Requester e-mail,Status\r\n" + "".join(
            f"T-{n},Churn {n},Marketing,requester@example.com,Done\r\n" for n in range(rows))
         ).encode()), name), st.sampled_from(("tracker.csv", "Demandes 2025.csv")),
        st.integers(0, 5))


# Step 1 of the import: the file (step 2's fields are the file's columns: EXCLUDED).
IMPORT_UPLOAD = Form(
    "import_upload", "imports.upload", "/admin/import", ("lead", "admin"),
    fields=(Field("file", "file"),),
    valid=lambda context: st.fixed_dictionaries({"file": a_spreadsheet()}),
    path=lambda context, values: "/admin/import", form_class=UploadForm)

FORMS = (LOGIN, PREFERENCES, CHANGE_PASSWORD, UNSUBSCRIBE, UNWATCH, FORGOT_PASSWORD, RESET_PASSWORD, JOIN,
         RESEND_INVITATION, TIME_ZONE, NEW_REQUEST, EDIT_REQUEST, COMMENT, REPLY, ADD_FILES,
         *TRANSITIONS,
         CHANGE_KIND, RANK, SLA_CLASS, NEW_TEAM, EDIT_TEAM, NEW_USER, EDIT_USER, SETTINGS,
         NEW_ASSET, EDIT_ASSET, VERIFY_ASSET, ASSET_STATUS, LINK_ASSET, DEFLECT, CATEGORY_ADD,
         CATEGORY_EDIT, CATEGORY_ACTION, ANSWER_LINK, ANSWER_OUTCOME, NEW_TOKEN, NEW_WEBHOOK,
         EDIT_WEBHOOK, IMPORT_UPLOAD)

# POST routes the fuzzer does not post to, and why.
EXCLUDED = {
    # No input but the CSRF token (nothing to fuzz), and logging out would end the fuzzing
    # session of every later example; tests/test_auth.py covers it.
    ("auth.logout", "/logout"): "no input but the CSRF token",
    # No input but the CSRF token; tests/test_sessions.py covers it.
    ("mail.log_out_everywhere", "/preferences/sessions"): "no input but the CSRF token",
    # No input but the CSRF token; tests/test_attachments.py covers who may remove a file.
    ("attachments.remove", "/attachments/<int:attachment_id>/remove"):
        "no input but the CSRF token",
    # No input but the CSRF token (and an id in the path); tests/test_notification_pages.py
    # covers other people's ids, huge ids and requests no longer visible.
    ("notifications.read_all", "/notifications/read"): "no input but the CSRF token",
    ("notifications.open_one", "/notifications/<int:notification_id>/open"):
        "no input but the CSRF token and the notification's id in the path",
    # The REST API takes JSON, not forms: schemathesis fuzzes every operation as every role
    # against the OpenAPI document (tests/fuzz/test_api_schema.py).
    ("api.create_request", "/api/v1/requests"): "JSON: tests/fuzz/test_api_schema.py",
    ("api.comment", "/api/v1/requests/<int:request_id>/comments"):
        "JSON: tests/fuzz/test_api_schema.py",
    ("api.take_transition", "/api/v1/requests/<int:request_id>/transitions/<name>"):
        "JSON: tests/fuzz/test_api_schema.py",
    ("api.create_asset", "/api/v1/catalogue"): "JSON: tests/fuzz/test_api_schema.py",
    # No input but the CSRF token and ids in the path; tests/test_api.py (revoking) and
    # tests/test_webhooks.py (the endpoint page's buttons) cover them, other people's and
    # unknown ids included.
    ("tokens.revoke", "/preferences/tokens/<int:token_id>/revoke"):
        "no input but the CSRF token and the token's id in the path",
    ("webhooks.action", "/settings/webhooks/<int:webhook_id>/<action>"):
        "no input but the CSRF token (the button's name and the endpoint's id in the path)",
    ("webhooks.roll_secret", "/settings/webhooks/<int:webhook_id>/secret"):
        "no input but the CSRF token and the endpoint's id in the path",
    ("webhooks.delete", "/settings/webhooks/<int:webhook_id>/delete"):
        "no input but the CSRF token and the endpoint's id in the path",
    ("webhooks.send_again",
     "/settings/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/again"):
        "no input but the CSRF token and the ids in the path",
    # The import's steps 2 and 3: a select per column of the uploaded file and the held file's
    # token; tests/test_imports.py posts unknown fields, bad tokens and other people's files.
    ("imports.mapping", "/admin/import/map"): "fields made from the uploaded file's columns",
    ("imports.refused", "/admin/import/refused.csv"):
        "the held file's token and the mapping only (tests/test_imports.py)",
}

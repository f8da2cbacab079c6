"""One form per lifecycle transition (TRANSITION_FORMS); each carries the version the user saw,
to catch concurrent changes."""
from wtforms import (BooleanField, HiddenField, RadioField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import URL, InputRequired, Length, Optional, ValidationError

from flask import g

from .. import gaps, lifecycle, reuse, wip
from ..extensions import db
from ..lifecycle import TRANSITIONS
from ..models import ASSET_KINDS, DECLINE_REASONS, IMPACTS, SIZES, User
from .base import (DatadeskForm, NumberField, OptionalDateField, int_or_none, options,
                   required, strip, version_field, web_link)

# What a delivery does in the catalogue.
CATALOGUE_CHOICES = {
    "new": "Add it to the catalogue",
    "existing": "It is an existing asset of the catalogue",
    "none": "Leave it out (a one-off answer nobody else will need)",
}


class TransitionForm(DatadeskForm):
    """A transition with no input."""

    version = version_field()


class NoteTransitionForm(TransitionForm):
    note = TextAreaField("Note", filters=[strip],
                         validators=[required("Please write a few words."),
                                     Length(max=10000, message="Keep it under 10,000 characters.")])


class OptionalNoteTransitionForm(TransitionForm):
    note = TextAreaField("Note (optional)", filters=[strip],
                         validators=[Length(max=10000, message="Keep it under 10,000 characters.")])


class AcceptForm(TransitionForm):
    """Accept (or approve over budget): the size estimate and the priority inputs, prefilled
    with the requester's values (``prefill``)."""

    size = RadioField("Size estimate",
                      choices=options((key, f"{key} \u2014 {label}, {days}") for key, (label, days) in SIZES.items()),
                      validators=[InputRequired("Choose a size estimate.")], validate_choice=False)
    business_impact = RadioField(
        "Business impact", coerce=int_or_none, validate_choice=False,
        choices=options((level, f"{level} \u2014 {label}") for level, (label, _) in IMPACTS.items()),
        description="As the requester judged it; change it if triage shows otherwise.")
    is_exec_sponsored = BooleanField("An executive sponsors it")
    exec_sponsor = StringField("Executive sponsor", filters=[strip],
                               validators=[Length(max=120, message="Keep the name under 120 characters.")])
    note = TextAreaField("Note to the requester (optional)", filters=[strip],
                         validators=[Length(max=10000)])

    def prefill(self, request):
        """Show ``request``'s own priority inputs (on a form not posted)."""
        self.business_impact.data = request.business_impact
        self.is_exec_sponsored.data = request.is_exec_sponsored
        self.exec_sponsor.data = request.exec_sponsor
        return self

    def validate_size(self, field):
        if field.data not in SIZES:
            raise ValidationError("Choose a size estimate.")

    def validate_business_impact(self, field):
        if self.has_priority_inputs() and field.data not in IMPACTS:
            raise ValidationError("Choose the business impact.")

    def validate_exec_sponsor(self, field):
        if self.has_priority_inputs() and self.is_exec_sponsored.data and not field.data:
            raise ValidationError("Name the executive who sponsors it.")

    def has_priority_inputs(self):
        """Whether the post carried the priority inputs (a form without them keeps the
        request's values: an unticked box cannot be told from a missing one)."""
        return bool(self.business_impact.raw_data)

    def priority_inputs(self):
        """The inputs for lifecycle.transition: impact, is_exec_sponsored, exec_sponsor."""
        if not self.has_priority_inputs():
            return {}
        sponsored = bool(self.is_exec_sponsored.data)
        return {"impact": self.business_impact.data, "is_exec_sponsored": sponsored,
                "exec_sponsor": self.exec_sponsor.data if sponsored else ""}


class AskForm(NoteTransitionForm):
    note = TextAreaField("Your question", filters=[strip],
                         description="The requester gets it by e-mail; the SLA clock pauses until they answer.",
                         validators=[required("Write the question you need answered."),
                                     Length(max=10000)])


class AnswerForm(NoteTransitionForm):
    note = TextAreaField("Your answer", filters=[strip],
                         validators=[required("Write your answer."), Length(max=10000)])


class BlockForm(NoteTransitionForm):
    note = TextAreaField("What is blocking it?", filters=[strip],
                         validators=[required("Say what is blocking the work."), Length(max=10000)])


PICK_AGAIN = "Pick it again: the page sent a choice that cannot be read."


class PickerMixin:
    """The inputs of a search picker named ``<name>``: the text typed (the field refusals name),
    ``<name>_ref`` the pick the script makes ("request:12", "asset:7"), and ``<name>_choice``
    the candidate chosen when words came back without a pick (``candidates``, set by the view).
    """

    candidates = ()

    def validate(self, extra_validators=None):
        """Validate the fields; an error on a picker's chosen candidate (shown only as radio
        buttons, without errors: only a tampered post gets one) is said on its text field,
        unless that has an error of its own to fix first. (The pick is a hidden input, whose
        errors the page shows as every hidden input's.)"""
        valid = super().validate(extra_validators)
        for name in [key for key in self._fields if f"{key}_choice" in self._fields]:
            if self[f"{name}_choice"].errors and not self[name].errors:
                self[name].errors = [PICK_AGAIN]
        return valid

    def check_picked(self, name, message):
        """Refuse picker ``name`` when nothing at all was typed, picked or chosen (``message``);
        return whether something was."""
        if any(self[key].data for key in (name, f"{name}_ref", f"{name}_choice")):
            return True
        self[name].errors = [*self[name].errors, message]
        return False

    def picker_inputs(self, name):
        """The keyword inputs of ``reuse.resolve_pick`` for picker ``name``."""
        return {"text": self[name].data or "", "ref": self[f"{name}_ref"].data or "",
                "choice": self[f"{name}_choice"].data or "", "field": name}


def picker_fields(label, description):
    """The three fields of a picker (see PickerMixin): text, pick, candidate chosen."""
    return (StringField(label, filters=[strip], description=description,
                        validators=[Length(max=500, message="Keep it under 500 characters.")]),
            HiddenField(filters=[strip], validators=[Length(max=40)]),
            StringField(filters=[strip], validators=[Length(max=40)]))


class GapMixin:
    """The platform gap's inputs: category (the view sets the choices), note, analyst hours."""

    def set_gap_choices(self, categories):
        """``categories``: the taxonomy's active GapCategory rows (gaps.active_categories)."""
        self.gap_category.choices = [("", "Choose what was missing\u2026")] + [
            (str(category.id), category.name) for category in categories]

    def gap_inputs(self):
        """The gap for ``reuse``: {"category_id", "note", "hours"} (None hours: the default)."""
        return {"category_id": self.gap_category.data, "note": self.gap_note.data,
                "hours": self.gap_hours.data}

    def check_gap(self):
        """Require the gap's category when the gap applies; return whether it is given."""
        if self.gap_category.data is not None:
            return True
        self.gap_category.errors = [*self.gap_category.errors,
                                    "Choose what was missing for the requester to do it "
                                    "themselves."]
        return False

    def validate_gap_hours(self, field):
        """Hours typed must be a number in range (empty: the default), gap or not: what is
        typed is kept, so garbage would stay on the page."""
        if field.raw_data and field.raw_data[0].strip() and field.data is None:
            raise ValidationError("Give the analyst hours as a number.")
        if field.data is not None and not 0 <= field.data <= gaps.MAX_HOURS:
            raise ValidationError(f"Give between 0 and {gaps.MAX_HOURS:,} hours.")


def gap_fields(hours_hint):
    """The three fields of a platform gap (see GapMixin)."""
    return (SelectField("What was missing?", choices=[], coerce=int_or_none, validate_choice=False,
                        description="What the requester lacked to do it themselves."),
            TextAreaField("About the gap (optional)", filters=[strip],
                          validators=[Length(max=2000, message="Keep it under 2,000 characters.")]),
            NumberField("Analyst hours it cost", whole=False, description=hours_hint))


class DeliverForm(PickerMixin, GapMixin, TransitionForm):
    """Deliver: the link and note; the catalogue (a new asset prefilled from the request, an
    existing asset, or neither); and optionally the platform gap the requester ran into."""

    url = StringField("Link to the deliverable", filters=[strip],
                      description="Where the requester finds it: dashboard, file, document or "
                                  "table. For an existing asset, empty means its link.",
                      validators=[Optional(), web_link,
                                  URL(require_tld=False, message="Enter a full link starting with https://"),
                                  Length(max=500, message="Keep the link under 500 characters.")])
    note = TextAreaField("Delivery note", filters=[strip],
                         description="How to read it, caveats, and what it does not answer.",
                         validators=[required("Write a short note on how to use the delivery."),
                                     Length(max=10000)])
    catalogue = RadioField("The catalogue", default="new", validate_choice=False,
                           choices=options(CATALOGUE_CHOICES.items()))
    asset_title = StringField("Title in the catalogue", filters=[strip],
                              validators=[Length(max=200, message="Keep the title under 200 characters.")])
    asset_kind = SelectField("Kind of asset", choices=options(ASSET_KINDS.items()),
                             validate_choice=False)
    asset_description = TextAreaField("Description", filters=[strip],
                                      description="What it shows, so others find it and know it answers them.",
                                      validators=[Length(max=5000, message="Keep it under 5,000 characters.")])
    asset_tags = StringField("Tags (optional)", filters=[strip],
                             description="Words people would search for, separated by commas.",
                             validators=[Length(max=400, message="Keep the tags under 400 characters.")])
    existing_asset, existing_asset_ref, existing_asset_choice = picker_fields(
        "Existing asset", "Type words from its title and pick it.")
    has_gap = BooleanField("The requester could have done this themselves")
    gap_category, gap_note, gap_hours = gap_fields(
        "Prefilled from the size estimate; what this delivery cost the team.")

    def prefill(self, prefilled, hours):
        """Propose the catalogue entry (``catalogue.prefill_from_request``) and the gap's hours
        (on a form not posted)."""
        self.asset_title.data = prefilled["title"]
        self.asset_kind.data = prefilled["kind"]
        self.asset_description.data = prefilled["description"]
        self.asset_tags.data = prefilled["tags"]
        self.gap_hours.data = hours
        return self

    def validate(self, extra_validators=None):
        """Validate the fields, then the inputs of the choices made (catalogue, gap)."""
        valid = super().validate(extra_validators)
        choice = self.catalogue_choice()
        if choice not in CATALOGUE_CHOICES:
            self.catalogue.errors = [*self.catalogue.errors, "Choose what to do in the catalogue."]
            valid = False
        if choice == "new":
            if not self.asset_title.data:
                self.asset_title.errors = [*self.asset_title.errors,
                                           "Give the asset a title."]
                valid = False
            if self.asset_kind.data not in ASSET_KINDS:
                self.asset_kind.errors = [*self.asset_kind.errors,
                                          "Choose what kind of asset it is."]
                valid = False
        if choice == "existing" and not self.check_picked(
                "existing_asset", "Find the existing asset: type words from its title."):
            valid = False
        if choice != "existing" and not self.url.data and not self.url.errors:
            self.url.errors = [*self.url.errors, "Give the link to what you delivered."]
            valid = False
        if self.has_gap.data and not self.check_gap():
            valid = False
        return valid

    def catalogue_choice(self):
        """What the delivery does in the catalogue (CATALOGUE_CHOICES). The page always sends
        a choice ("new" is checked at first); a post without one catalogues nothing."""
        return self.catalogue.data if self.catalogue.raw_data else "none"

    def add_to_catalogue(self):
        """The new asset's inputs for ``reuse.deliver`` when one is added, else None."""
        if self.catalogue_choice() != "new":
            return None
        return {"title": self.asset_title.data, "kind": self.asset_kind.data,
                "description": self.asset_description.data, "tags": self.asset_tags.data}


class ConfirmForm(TransitionForm):
    rating = RadioField("How useful was it? (optional)", coerce=int_or_none, validate_choice=False,
                        choices=options([(5, "5 \u2014 exactly what we needed"), (4, "4"), (3, "3"),
                                                 (2, "2"), (1, "1 \u2014 not useful")]),
                        validators=[Optional()])
    note = TextAreaField("Feedback (optional)", filters=[strip], validators=[Length(max=10000)])
    know_by = OptionalDateField(
        "When will you know whether it was used? (optional)", validators=[Optional()],
        description="We then ask you whether the data was used, and what was decided. Leave it "
                    "empty to be asked after the usual number of business days.")

    def validate_rating(self, field):
        if field.raw_data and field.raw_data[0] and field.data not in range(1, 6):
            raise ValidationError("Choose a rating from 1 to 5.")

    def describe_default(self, days, kind_label):
        """Say what leaving the day empty means for a request of ``kind_label``: asked
        ``days`` business days after confirming (the settings' follow_up_business_days)."""
        self.know_by.description = (
            "We then ask you whether the data was used, and what was decided. Leave it empty "
            f"to be asked {days} business day{'' if days == 1 else 's'} after confirming (the "
            f"usual for {kind_label.lower()} requests).")


class ReopenForm(NoteTransitionForm):
    note = TextAreaField("What is missing or wrong?", filters=[strip],
                         validators=[required("Say why you reopen it, so the analyst knows what to fix."),
                                     Length(max=10000)])


class DeclineForm(PickerMixin, GapMixin, TransitionForm):
    """Decline with a reason; as self-serve, what answers it (picked) and the platform gap."""

    reason = SelectField("Reason", choices=options([("", "Choose a reason\u2026"), *DECLINE_REASONS.items()]),
                         validate_choice=False)
    answer, answer_ref, answer_choice = picker_fields(
        "What answers it", "Self-serve: an asset of the catalogue or a delivered request the "
                           "requester may see. Type words from its title and pick it.")
    gap_category, gap_note, gap_hours = gap_fields(
        "Self-serve: the time it took to find and explain the answer.")
    note = TextAreaField("Explanation to the requester", filters=[strip],
                         validators=[required("Explain the decision to the requester."),
                                     Length(max=10000)])

    def prefill(self, hours):
        """Prefill the gap's hours (on a form not posted)."""
        self.gap_hours.data = hours
        return self

    def validate_reason(self, field):
        if field.data not in DECLINE_REASONS:
            raise ValidationError("Choose why the request is declined.")

    def validate(self, extra_validators=None):
        """Validate the fields, then the self-serve inputs: a platform gap."""
        valid = super().validate(extra_validators)
        if self.is_self_serve():
            picked = self.check_picked("answer", "Find what answers it: type words from the "
                                                 "asset's or delivered request's title.")
            valid = self.check_gap() and picked and valid
        return valid

    def is_self_serve(self):
        """Whether the request is declined as self-serve (an answer and a gap are needed)."""
        return self.reason.data == "self_serve"


class DuplicateForm(PickerMixin, TransitionForm):
    """Mark a duplicate: the original, chosen with the picker (or its number typed)."""

    original, original_ref, original_choice = picker_fields(
        "Original request", "Type words from its title and pick it, or its number (#12).")
    note = TextAreaField("Note (optional)", filters=[strip], validators=[Length(max=10000)])

    def validate(self, extra_validators=None):
        """Validate the fields; something must be typed or picked as the original."""
        valid = super().validate(extra_validators)
        return self.check_picked("original", "Find the original request: type words from its "
                                             "title, or its number.") and valid


class AssignForm(TransitionForm):
    """A lead gives an accepted request to an analyst; the view fills the choices."""

    assignee = SelectField("Analyst", choices=[], coerce=str,
                           description="Each name shows the requests they have in progress or "
                                       "blocked, of their limit.")

    def set_choices(self, people):
        """``people``: (user, WipStatus) pairs, as ``wip.assignable_people`` returns them."""
        self.assignee.choices = [("", "Choose an analyst\u2026")] + [
            (str(user.id), f"{user.name} ({wip.count} of {wip.limit})") for user, wip in people]

    def validate_assignee(self, field):
        if not field.data:
            raise ValidationError("Choose who works on the request.")


# The form of each ``form`` key of the lifecycle table (lifecycle.Transition.form).
FORMS_BY_KEY = {
    "accept": AcceptForm,
    "ask": AskForm,
    "answer": AnswerForm,
    "plain": TransitionForm,
    "assign": AssignForm,
    "block": BlockForm,
    "deliver": DeliverForm,
    "confirm": ConfirmForm,
    "reopen": ReopenForm,
    "decline": DeclineForm,
    "duplicate": DuplicateForm,
    "optional_note": OptionalNoteTransitionForm,
}
# {transition name: form class} of every action a person takes on the web.
TRANSITION_FORMS = {t.name: FORMS_BY_KEY[t.form] for t in TRANSITIONS.values() if t.form}


def prepare_form(form, name, values=None):
    """Give the form of transition ``name`` the choices it offers (posted or not): the
    assignable people, the platform-gap categories (read once per request)."""
    if "assignee" in TRANSITIONS[name].needs:
        form.set_choices(wip.assignable_people(values))
    if hasattr(form, "set_gap_choices"):
        if "gap_categories" not in g:
            g.gap_categories = gaps.active_categories()
        form.set_gap_choices(g.gap_categories)
    return form


# The deliver form's names for the catalogue's inputs (catalogue.add_asset's refusals).
DELIVER_ASSET_FIELDS = {"title": "asset_title", "kind": "asset_kind",
                        "description": "asset_description", "tags": "asset_tags"}


def refused_field(t):
    """How a refusal's field maps to the form of transition ``t`` (None: as it is)."""
    if t.name == "deliver":
        return lambda field: DELIVER_ASSET_FIELDS.get(field, field)
    return None


def take(t, req, user, form, now):
    """Take transition ``t`` on ``req`` as ``user`` with the validated ``form``'s inputs (the
    page's and the API's way): deliver, decline and mark duplicate through ``reuse`` (pickers,
    catalogue, platform gaps), the others through the lifecycle."""
    version = form.version.data
    if t.name == "deliver":
        existing = None
        if form.catalogue_choice() == "existing":
            existing = reuse.resolve_pick(user, req, "asset",
                                          **form.picker_inputs("existing_asset"))
        return reuse.deliver(req, user, now, expected_version=version, url=form.url.data,
                             note=form.note.data, add_to_catalogue=form.add_to_catalogue(),
                             existing_asset=existing,
                             gap=form.gap_inputs() if form.has_gap.data else None)
    if t.name == "decline":
        answer = gap = None
        if form.is_self_serve():
            answer = reuse.resolve_pick(user, req, "answer", **form.picker_inputs("answer"))
            gap = form.gap_inputs()
        return reuse.decline(req, user, now, expected_version=version,
                             reason=form.reason.data, note=form.note.data, answer=answer, gap=gap)
    if t.name == "mark_duplicate":
        original = reuse.resolve_pick(user, req, "duplicate", **form.picker_inputs("original"))
        return reuse.mark_duplicate(req, user, now, expected_version=version,
                                    original=original, note=form.note.data)
    return lifecycle.transition(req, t.name, user, now, expected_version=version,
                                **_transition_inputs(t, form))


def _transition_inputs(t, form):
    """The inputs of ``lifecycle.transition`` from the validated ``form`` of transition ``t``."""
    inputs = {key: form[key].data for key in ("note", "size", "rating", "know_by") if key in form}
    if "priority" in t.needs:
        inputs.update(form.priority_inputs())
    if "assignee" in t.needs:
        inputs["assignee"] = db.session.get(User, int(form.assignee.data))
    return inputs

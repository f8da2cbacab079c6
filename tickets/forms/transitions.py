"""One form per lifecycle transition (TRANSITION_FORMS); each carries the version the user saw,
to catch concurrent changes."""
from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import URL, InputRequired, Length, Optional, ValidationError

from ..lifecycle import TRANSITIONS
from ..models import DECLINE_REASONS, IMPACTS, SIZES
from .base import DatadeskForm, int_or_none, options, required, strip, version_field, web_link


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


class DeliverForm(TransitionForm):
    url = StringField("Link to the deliverable", filters=[strip],
                      description="Where the requester finds it: dashboard, file, document or table.",
                      validators=[required("Give the link to what you delivered."),
                                  web_link, URL(require_tld=False, message="Enter a full link starting with https://"),
                                  Length(max=500)])
    note = TextAreaField("Delivery note", filters=[strip],
                         description="How to read it, caveats, and what it does not answer.",
                         validators=[required("Write a short note on how to use the delivery."),
                                     Length(max=10000)])


class ConfirmForm(TransitionForm):
    rating = RadioField("How useful was it? (optional)", coerce=int_or_none, validate_choice=False,
                        choices=options([(5, "5 \u2014 exactly what we needed"), (4, "4"), (3, "3"),
                                                 (2, "2"), (1, "1 \u2014 not useful")]),
                        validators=[Optional()])
    note = TextAreaField("Feedback (optional)", filters=[strip], validators=[Length(max=10000)])

    def validate_rating(self, field):
        if field.raw_data and field.raw_data[0] and field.data not in range(1, 6):
            raise ValidationError("Choose a rating from 1 to 5.")


class ReopenForm(NoteTransitionForm):
    note = TextAreaField("What is missing or wrong?", filters=[strip],
                         validators=[required("Say why you reopen it, so the analyst knows what to fix."),
                                     Length(max=10000)])


class DeclineForm(TransitionForm):
    reason = SelectField("Reason", choices=options([("", "Choose a reason\u2026"), *DECLINE_REASONS.items()]),
                         validate_choice=False)
    url = StringField("Link to the existing asset", filters=[strip],
                      description="Required when a dashboard or dataset already answers it.",
                      validators=[Optional(), web_link, URL(require_tld=False, message="Enter a full link starting with https://"),
                                  Length(max=500)])
    note = TextAreaField("Explanation to the requester", filters=[strip],
                         validators=[required("Explain the decision to the requester."),
                                     Length(max=10000)])

    def validate_reason(self, field):
        if field.data not in DECLINE_REASONS:
            raise ValidationError("Choose why the request is declined.")

    def validate_url(self, field):
        if self.reason.data == "self_serve" and not field.data:
            raise ValidationError("Link to the dashboard or dataset the requester can use.")


class DuplicateForm(TransitionForm):
    original = IntegerField("Number of the original request",
                            validators=[InputRequired("Give the number of the original request.")])
    note = TextAreaField("Note (optional)", filters=[strip], validators=[Length(max=10000)])


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

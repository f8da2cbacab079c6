"""The forms of what analysts and leads decide about a request besides its transitions: its
kind, its SLA class and its place in the team's queue."""
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from ..models import KINDS, SLA_CLASSES
from .base import DatadeskForm, NumberField, number_in, options, required, strip, version_field


class ChangeKindForm(DatadeskForm):
    """An analyst or lead changes a request's kind (an ad-hoc ask that is really a project)."""

    kind = SelectField("Kind", validate_choice=False,
                       choices=options((key, label) for key, (label, _) in KINDS.items()),
                       description="Ad-hoc requests count against the team's weekly budget; "
                                   "projects and data issues do not.")
    note = TextAreaField("Why (optional)", filters=[strip],
                         validators=[Length(max=2000, message="Keep it under 2,000 characters.")])
    version = version_field()

    @classmethod
    def for_request(cls, request, **kwargs):
        """The unposted form for ``request``: its current kind and version."""
        return cls(formdata=None, prefix="kind", kind=request.kind, version=request.version,
                   **kwargs)

    def validate_kind(self, field):
        if field.data not in KINDS:
            raise ValidationError("Choose the kind of request.")


class SlaClassForm(DatadeskForm):
    """A lead sets a request's SLA class, or returns it to the priority rule, with a reason."""

    version = version_field()
    sla_class = SelectField(
        "SLA class", validate_choice=False,
        choices=options([("", "Follow priority"), *SLA_CLASSES.items()]),
        description="Follow priority: the class the priority rule gives (see Help).")
    reason = TextAreaField("Reason", filters=[strip],
                           description="Recorded on the timeline, where the requester sees it.",
                           validators=[required("Say why the class changes."),
                                       Length(max=2000, message="Keep it under 2,000 characters.")])

    def validate_sla_class(self, field):
        if field.data not in ("", *SLA_CLASSES):
            raise ValidationError("Choose high, standard, low or follow priority.")


class OverrideForm(DatadeskForm):
    """A lead moves a request in its team's queue (or clears the move), with a reason."""

    position = NumberField("Queue position", description="1 is the top of the team's queue.",
                           validators=[Optional(), number_in(1, 1000, "Enter a whole number "
                                                                      "from 1 to 1000.")])
    reason = StringField("Reason", filters=[strip],
                         description="Shown to the team and the requester.",
                         validators=[required("Say why you move it."),
                                     Length(max=500, message="Keep it under 500 characters.")])
    version = version_field()
    # Set by the "Clear override" button: the request goes back to its place by score.
    clear = BooleanField("Clear the override")

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if self.clear.data:
            self.position.errors = []  # a position typed next to "Clear" does not matter
            self.position.data = None
            return not any(field.errors for field in self)
        if not self.position.errors and self.position.data is None:
            self.position.errors.append("Enter a whole number from 1 to 1000.")
            return False
        return valid

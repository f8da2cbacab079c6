"""The forms of a request's own page and intake: the intake form (new and edit), the
"this answers my question" of its suggestions, and comments."""
from datetime import date

import re

from wtforms import (BooleanField, HiddenField, RadioField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import Length, ValidationError

from ..intake import INTAKE_FIELDS
from ..models import FORMATS, IMPACTS, KINDS
from ..queries import MAX_ID
from .attachments import HeldField, WithFiles, files_field
from .base import (DatadeskForm, OptionalDateField, int_or_none, normalise_email, options,
                   parse_emails, required, strip)

MAX_WATCHERS = 20


class RequestForm(WithFiles, DatadeskForm):
    """The intake form, in words a stakeholder who is not technical understands."""

    title = StringField(
        "Title", filters=[strip],
        description="A short name for the request, e.g. \u201cWeekly churn by region for Q3 review\u201d.",
        validators=[required("Give the request a short title."),
                    Length(max=200, message="Keep the title under 200 characters.")])
    team_id = SelectField(
        "Requesting team", coerce=int_or_none,
        description="The team that needs the data. Its embedded analysts will pick it up.",
        validate_choice=False)
    data_needed = TextAreaField(
        "What data do you need?", filters=[strip],
        description="Which numbers, for which period, split by what. Mention sources you know of.",
        validators=[required("Describe the data you need."),
                    Length(max=5000, message="Keep this under 5,000 characters.")])
    format = SelectField(
        "In what form should it come?", choices=options(FORMATS.items()),
        description="Pick the closest; say more under “What data do you need?”.",
        validate_choice=False)
    usage = TextAreaField(
        "How will you use it?", filters=[strip],
        description="Who will look at it, how often, and in which meeting or process.",
        validators=[required("Tell us how the data will be used."),
                    Length(max=3000, message="Keep this under 3,000 characters.")])
    lever_result = TextAreaField(
        "Which result are you trying to influence?", filters=[strip],
        description="The business number or outcome you want to move, e.g. trial-to-paid conversion.",
        validators=[required("Say which result this should help you influence."),
                    Length(max=2000, message="Keep this under 2,000 characters.")])
    lever_expected_shape = TextAreaField(
        "What do you expect the data to look like?", filters=[strip],
        description="Your best guess of the answer: \u201cconversion around 4%, lower in the south\u201d.",
        validators=[required("Describe what you expect the data to look like."),
                    Length(max=2000, message="Keep this under 2,000 characters.")])
    lever_extraction = TextAreaField(
        "How will you read the answer from it?", filters=[strip],
        description="What you will compare or look for: a trend, a ranking, a threshold.",
        validators=[required("Say how you will read the answer from the data."),
                    Length(max=2000, message="Keep this under 2,000 characters.")])
    lever_decision = TextAreaField(
        "Which decision or action will it drive?", filters=[strip],
        description="What you will do differently depending on the answer.",
        validators=[required("Say which decision or action the result will drive."),
                    Length(max=2000, message="Keep this under 2,000 characters.")])
    # No Optional(): it would stop validate_deadline, which must refuse a missing deadline.
    deadline = OptionalDateField(
        "When do you need it?", invalid_value_message="Enter the date as YYYY-MM-DD.",
        description="The date the decision is taken. Ask early: new data rarely comes overnight.")
    no_deadline = BooleanField("No hard deadline")
    kind = RadioField("What kind of request is it?",
                      choices=options((key, f"{label} \u2014 {hint}") for key, (label, hint) in KINDS.items()),
                      default="ad_hoc", validate_choice=False)
    business_impact = RadioField(
        "Business impact", coerce=int_or_none, default=3, validate_choice=False,
        choices=options((level, f"{label} \u2014 {hint}") for level, (label, hint) in IMPACTS.items()),
        description="Be honest: everything marked critical means nothing is.")
    is_exec_sponsored = BooleanField("An executive sponsors this request")
    exec_sponsor = StringField(
        "Executive sponsor", filters=[strip],
        description="Their name, if an executive asked for it.",
        validators=[Length(max=120, message="Keep the name under 120 characters.")])
    is_confidential = BooleanField(
        "Confidential",
        description="Only you, the assigned analyst and the data team's leads will see it.")
    watchers = TextAreaField(
        "Keep these people informed", filters=[strip],
        description="E-mail addresses, separated by commas or new lines (at most 20).",
        validators=[Length(max=5000, message="That list is too long.")])
    # A sample, a screenshot, the report it is about (checked by WithFiles).
    files = files_field("Attach files")
    held = HeldField()

    def __init__(self, *args, today=None, teams=(), read_only=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or date.today()
        self.team_id.choices = options((team.id, team.name) for team in teams)
        self.watcher_list = []
        # Fields triage decided on (intake.edit_rules): shown read-only, so never posted by
        # the page; one missing from a post keeps the request's value.
        self.read_only = frozenset(read_only)
        for name in self.read_only:
            if self[name].raw_data == []:
                self[name].data = self[name].object_data

    def refuse(self, messages):
        """Put each refused change's message ({field: message}) on its field, which shows the
        request's value again."""
        super().refuse(messages)
        for name in messages:
            self[name].data = self[name].object_data

    def intake_fields(self):
        """The validated request's fields for ``intake`` (a dict of INTAKE_FIELDS): no deadline
        when "No hard deadline" is ticked, no sponsor's name without a sponsor."""
        fields = {name: self[name].data for name in INTAKE_FIELDS}
        if self.no_deadline.data:
            fields["deadline"] = None
        if not self.is_exec_sponsored.data:
            fields["exec_sponsor"] = ""
        return fields

    def keep_unchanged_deadline(self, deadline):
        """Accept the request's own ``deadline`` sent back unchanged, even if it has passed
        (an edit of other fields must not fail on it)."""
        if deadline is not None and self.deadline.data == deadline:
            self.today = min(self.today, deadline)

    def validate_team_id(self, field):
        if field.data not in {choice.value for choice in self.team_id.choices}:
            raise ValidationError("Choose one of the teams in the list.")

    def validate_format(self, field):
        if field.data not in FORMATS:
            raise ValidationError("Choose one of the formats in the list.")

    def validate_kind(self, field):
        if field.data not in KINDS:
            raise ValidationError("Choose the kind of request.")

    def validate_business_impact(self, field):
        if field.data not in IMPACTS:
            raise ValidationError("Choose the business impact.")

    def validate_deadline(self, field):
        if field.data is None:
            if field.raw_data and field.raw_data[0].strip():
                return  # not a date: processing the input already said how to write one
            if not self.no_deadline.data:
                raise ValidationError("Give a deadline, or tick \u201cNo hard deadline\u201d.")
            return
        if self.no_deadline.data:
            raise ValidationError("You ticked \u201cNo hard deadline\u201d: remove the date or untick it.")
        if field.data < self.today:
            raise ValidationError("The deadline is in the past. Choose today or a later date.")

    def validate_exec_sponsor(self, field):
        if self.is_exec_sponsored.data and not field.data:
            raise ValidationError("Name the executive who sponsors it.")

    def validate_watchers(self, field):
        addresses, bad = [], []
        for part in parse_emails(field.data or ""):
            try:
                email = normalise_email(part)
            except ValueError:
                bad.append(part)
                continue
            if email not in addresses:
                addresses.append(email)
        if bad:
            raise ValidationError(
                "These are not valid e-mail addresses: " + ", ".join(bad[:5])
                + ("\u2026" if len(bad) > 5 else ""))
        if len(addresses) > MAX_WATCHERS:
            raise ValidationError(f"Add at most {MAX_WATCHERS} people.")
        self.watcher_list = addresses


class IntakeForm(RequestForm):
    """The intake form of a new request: the request's fields, and the fingerprint of the text
    whose suggestions the requester has seen (``deflections.draft_key``), so that a second
    post of the same text submits instead of showing them again."""

    suggestions_seen = HiddenField()


_ANSWER = re.compile(r"(asset|request):(\d{1,10})")


class DeflectForm(DatadeskForm):
    """"This answers my question" on a suggestion: which asset or request answers it, and the
    draft as typed (the intake form posts itself here, so its own fields come along). The text
    is kept cut to the intake form's limits, not judged by them: the draft ends either way."""

    answer = StringField(validators=[required(
        "Choose an asset or a request that answers your question.")])
    title = TextAreaField(filters=[strip])
    data_needed = TextAreaField(filters=[strip])
    team_id = StringField()

    def validate_answer(self, field):
        match = _ANSWER.fullmatch(field.data or "")
        if match is None or not 0 < int(match.group(2)) <= MAX_ID:
            raise ValidationError("Choose an asset or a request that answers your question.")

    @property
    def chosen(self):
        """(kind, id) of the answer, once validated."""
        kind, ref_id = self.answer.data.split(":")
        return kind, int(ref_id)

    @property
    def team(self):
        """The team id chosen on the form, None when there is none."""
        value = int_or_none(self.team_id.data)
        return value if value is not None and 0 < value <= MAX_ID else None

    @property
    def text(self):
        """The draft's title and data needed, within the intake form's limits."""
        return ((self.title.data or "")[:200], (self.data_needed.data or "")[:5000])


MENTION_HINT = ("To mention someone who may see this request, type @ and pick them from the "
                "list, or write @[Their Name].")


class CommentForm(WithFiles, DatadeskForm):
    """A comment on the timeline; ``@[Name]`` mentions a person (tickets/conversation.py)."""

    text = TextAreaField("Comment", filters=[strip], description=MENTION_HINT,
                         validators=[required("Write something before sending."),
                                     Length(max=10000, message="Keep comments under 10,000 characters.")])
    files = files_field("Attach files")
    held = HeldField()


class ReplyForm(DatadeskForm):
    """The requester's reply to the question their request waits on: a comment that answers
    it (the box beside the question, sent under the prefix "reply")."""

    text = TextAreaField("Reply and send back to the analyst", filters=[strip],
                         description="Your answer goes to the analyst and the work continues. "
                                     + MENTION_HINT,
                         validators=[required("Write your answer before sending."),
                                     Length(max=10000, message="Keep your reply under 10,000 characters.")])

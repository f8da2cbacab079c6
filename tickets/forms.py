"""One form per screen; validators live on the fields so every error lands next to its field."""
import math
import re
from datetime import date, time

from email_validator import EmailNotValidError, validate_email
from flask import request
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import HiddenInput
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, URL, ValidationError

from .lifecycle import TRANSITIONS
from .models import (DECLINE_REASONS, FORMATS, IMPACTS, KINDS, NOTIFICATIONS, ROLES, SIZES,
                     SLA_CLASSES, Team, name_key)
from .people import PASSWORD_LENGTH, password_problem
from .settings import (AUTO_RESOLVE_RANGE, BUDGET_RANGE, HOLIDAY_YEARS, LEAD_TIME_RANGE, MAX_HOLIDAYS, SLA_HOURS_RANGE,
                       WEEKDAY_NAMES, WIP_LIMIT_RANGE, timezones, working_day_error)

MAX_WATCHERS = 20
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def options(pairs):
    """Turn (value, label) pairs into WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def _strip(value):
    # Control characters (NUL included, which PostgreSQL refuses to store) are refused by
    # DatadeskForm with a message, not dropped: the person sees what was wrong.
    return value.strip() if isinstance(value, str) else value


def _strip_only(value):
    # For credentials: what was typed is matched as typed, NUL and all (refused by the view).
    return value.strip() if isinstance(value, str) else value


# Characters nobody means in one line of text: the C0 and C1 controls (Unicode category Cc,
# CR and LF among them) and the Unicode line and paragraph separators.
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Characters nobody means in text of several lines: the C0 controls but tab, LF and CR.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
ONE_LINE_MESSAGE = "Use one line without control characters."
TEXT_MESSAGE = "Remove the control characters (such as NUL) from this text."


def is_one_line(field):
    """Whether ``field`` takes one line of text a person types: a StringField (numbers and
    links included), not a text area, a password or a hidden value."""
    return isinstance(field, StringField) and not isinstance(
        field, (TextAreaField, PasswordField, HiddenField))


def _tabs_to_spaces(value):
    return value.replace("\t", " ") if isinstance(value, str) else value


def control_character_error(field):
    """The message for ``field`` when its text holds a character it must not, else None."""
    if not isinstance(field.data, str):
        return None
    if is_one_line(field) and _NOT_ONE_LINE.search(field.data):
        return ONE_LINE_MESSAGE
    if isinstance(field, TextAreaField) and _NOT_TEXT.search(field.data):
        return TEXT_MESSAGE
    return None


class DatadeskForm(FlaskForm):
    """The base of every form but the login form (whose credentials are matched as typed).

    Single-line fields turn tabs into spaces and refuse any other control character or line
    break (a title or a name ends up in mail headers, CSV cells and one-line labels); text
    areas keep their lines but refuse the other C0 controls, NUL included. The refusal is the
    field's only error: it is what the person must fix first.
    """

    class Meta:
        def wrap_formdata(self, form, formdata):
            """The posted form fields only: Flask-WTF would also read uploaded files and a
            JSON body, and no form here takes either (a file or a JSON number where text is
            expected breaks the validators)."""
            wrapped = super().wrap_formdata(form, formdata)
            if wrapped is not None and wrapped is not formdata:  # taken from the request
                return request.form or None
            return wrapped

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        """Process the input as WTForms does, with tabs turned into spaces in one-line fields."""
        filters = {name: list(chain) for name, chain in (extra_filters or {}).items()}
        for name, field in self._fields.items():
            if is_one_line(field):
                filters.setdefault(name, []).append(_tabs_to_spaces)
        super().process(formdata, obj, data, extra_filters=filters, **kwargs)

    def validate(self, extra_validators=None):
        """Validate as WTForms does, then refuse control characters field by field."""
        valid = super().validate(extra_validators)
        for field in self:
            message = control_character_error(field)
            if message is not None:
                field.errors = [message]
                valid = False
        return valid


def required(message):
    return DataRequired(message=message)


def _int_or_none(value):
    """Coerce a choice to int; garbage becomes None so the field's own validator explains it."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class OptionalDateField(DateField):
    """A date field where an empty input is no date (for the form to judge), not a bad date."""

    def process_formdata(self, valuelist):
        if valuelist and not " ".join(valuelist).strip():
            self.data = None
            return
        super().process_formdata(valuelist)


def parse_emails(text):
    """Split a free-text list of e-mail addresses on commas, semicolons, spaces and new lines."""
    for separator in ",;\n\r\t":
        text = text.replace(separator, " ")
    return [part for part in text.split(" ") if part]


def normalise_email(address):
    """Validate one address (no DNS look-up) and return its normal form, or raise ValueError."""
    try:
        return validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValueError(str(error)) from error


def web_link(form, field):
    """Accept only http(s) links: anything else (javascript:, data:) could run in a browser."""
    if field.data and not field.data.lower().startswith(("http://", "https://")):
        raise ValidationError("Enter a full link starting with https://")


class LoginForm(FlaskForm):
    """Not a DatadeskForm: credentials are matched as typed and never stored or shown, so a
    control character in them gets the same answer as a wrong password."""

    email = StringField("E-mail", filters=[_strip_only],
                        validators=[required("Enter your e-mail address."), Length(max=254)])
    password = PasswordField("Password", validators=[required("Enter your password."),
                                                     Length(max=PASSWORD_LENGTH[1])])
    remember = BooleanField("Keep me signed in on this computer")
    next = HiddenField()


class RequestForm(DatadeskForm):
    """The intake form, in words a stakeholder who is not technical understands."""

    title = StringField(
        "Title", filters=[_strip],
        description="A short name for the request, e.g. \u201cWeekly churn by region for Q3 review\u201d.",
        validators=[required("Give the request a short title."),
                    Length(max=200, message="Keep the title under 200 characters.")])
    team_id = SelectField(
        "Requesting team", coerce=_int_or_none,
        description="The team that needs the data. Its embedded analysts will pick it up.",
        validate_choice=False)
    data_needed = TextAreaField(
        "What data do you need?", filters=[_strip],
        description="Which numbers, for which period, split by what. Mention sources you know of.",
        validators=[required("Describe the data you need."),
                    Length(max=5000, message="Keep this under 5,000 characters.")])
    format = SelectField(
        "In what form should it come?", choices=options(FORMATS.items()),
        description="Pick the closest; you can say more in the text above.",
        validate_choice=False)
    usage = TextAreaField(
        "How will you use it?", filters=[_strip],
        description="Who will look at it, how often, and in which meeting or process.",
        validators=[required("Tell us how the data will be used."),
                    Length(max=3000, message="Keep this under 3,000 characters.")])
    lever_result = TextAreaField(
        "Which result are you trying to influence?", filters=[_strip],
        description="The business number or outcome you want to move, e.g. trial-to-paid conversion.",
        validators=[required("Say which result this should help you influence."),
                    Length(max=2000, message="Keep this under 2,000 characters.")])
    lever_expected_shape = TextAreaField(
        "What do you expect the data to look like?", filters=[_strip],
        description="Your best guess of the answer: \u201cconversion around 4%, lower in the south\u201d.",
        validators=[required("Describe what you expect the data to look like."),
                    Length(max=2000, message="Keep this under 2,000 characters.")])
    lever_extraction = TextAreaField(
        "How will you read the answer from it?", filters=[_strip],
        description="What you will compare or look for: a trend, a ranking, a threshold.",
        validators=[required("Say how you will read the answer from the data."),
                    Length(max=2000, message="Keep this under 2,000 characters.")])
    lever_decision = TextAreaField(
        "Which decision or action will it drive?", filters=[_strip],
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
        "Business impact", coerce=_int_or_none, default=3, validate_choice=False,
        choices=options((level, f"{label} \u2014 {hint}") for level, (label, hint) in IMPACTS.items()),
        description="Be honest: everything marked critical means nothing is.")
    is_exec_sponsored = BooleanField("An executive sponsors this request")
    exec_sponsor = StringField(
        "Executive sponsor", filters=[_strip],
        description="Their name, if an executive asked for it.",
        validators=[Length(max=120, message="Keep the name under 120 characters.")])
    is_confidential = BooleanField(
        "Confidential",
        description="Only you, the assigned analyst and the data team's leads will see it.")
    watchers = TextAreaField(
        "Keep these people informed", filters=[_strip],
        description="E-mail addresses, separated by commas or new lines (at most 20).",
        validators=[Length(max=5000, message="That list is too long.")])

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
        for name, message in messages.items():
            self[name].errors = [*self[name].errors, message]
            self[name].data = self[name].object_data

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


class CommentForm(DatadeskForm):
    text = TextAreaField("Comment", filters=[_strip],
                         validators=[required("Write something before sending."),
                                     Length(max=10000, message="Keep comments under 10,000 characters.")])


# --- Transition forms: each carries the version the user saw, to catch concurrent changes ---

class TransitionForm(DatadeskForm):
    """A transition with no input."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class NoteTransitionForm(TransitionForm):
    note = TextAreaField("Note", filters=[_strip],
                         validators=[required("Please write a few words."),
                                     Length(max=10000, message="Keep it under 10,000 characters.")])


class OptionalNoteTransitionForm(TransitionForm):
    note = TextAreaField("Note (optional)", filters=[_strip],
                         validators=[Length(max=10000, message="Keep it under 10,000 characters.")])


class AcceptForm(TransitionForm):
    """Accept (or approve over budget): the size estimate and the priority inputs, prefilled
    with the requester's values (``prefill``)."""

    size = RadioField("Size estimate",
                      choices=options((key, f"{key} \u2014 {label}, {days}") for key, (label, days) in SIZES.items()),
                      validators=[InputRequired("Choose a size estimate.")], validate_choice=False)
    business_impact = RadioField(
        "Business impact", coerce=_int_or_none, validate_choice=False,
        choices=options((level, f"{level} \u2014 {label}") for level, (label, _) in IMPACTS.items()),
        description="As the requester judged it; change it if triage shows otherwise.")
    is_exec_sponsored = BooleanField("An executive sponsors it")
    exec_sponsor = StringField("Executive sponsor", filters=[_strip],
                               validators=[Length(max=120, message="Keep the name under 120 characters.")])
    note = TextAreaField("Note to the requester (optional)", filters=[_strip],
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
    note = TextAreaField("Your question", filters=[_strip],
                         description="The requester gets it by e-mail; the SLA clock pauses until they answer.",
                         validators=[required("Write the question you need answered."),
                                     Length(max=10000)])


class AnswerForm(NoteTransitionForm):
    note = TextAreaField("Your answer", filters=[_strip],
                         validators=[required("Write your answer."), Length(max=10000)])


class BlockForm(NoteTransitionForm):
    note = TextAreaField("What is blocking it?", filters=[_strip],
                         validators=[required("Say what is blocking the work."), Length(max=10000)])


class DeliverForm(TransitionForm):
    url = StringField("Link to the deliverable", filters=[_strip],
                      description="Where the requester finds it: dashboard, file, document or table.",
                      validators=[required("Give the link to what you delivered."),
                                  web_link, URL(require_tld=False, message="Enter a full link starting with https://"),
                                  Length(max=500)])
    note = TextAreaField("Delivery note", filters=[_strip],
                         description="How to read it, caveats, and what it does not answer.",
                         validators=[required("Write a short note on how to use the delivery."),
                                     Length(max=10000)])


class ConfirmForm(TransitionForm):
    rating = RadioField("How useful was it? (optional)", coerce=_int_or_none, validate_choice=False,
                        choices=options([(5, "5 \u2014 exactly what we needed"), (4, "4"), (3, "3"),
                                                 (2, "2"), (1, "1 \u2014 not useful")]),
                        validators=[Optional()])
    note = TextAreaField("Feedback (optional)", filters=[_strip], validators=[Length(max=10000)])

    def validate_rating(self, field):
        if field.raw_data and field.raw_data[0] and field.data not in range(1, 6):
            raise ValidationError("Choose a rating from 1 to 5.")


class ReopenForm(NoteTransitionForm):
    note = TextAreaField("What is missing or wrong?", filters=[_strip],
                         validators=[required("Say why you reopen it, so the analyst knows what to fix."),
                                     Length(max=10000)])


class DeclineForm(TransitionForm):
    reason = SelectField("Reason", choices=options([("", "Choose a reason\u2026"), *DECLINE_REASONS.items()]),
                         validate_choice=False)
    url = StringField("Link to the existing asset", filters=[_strip],
                      description="Required when a dashboard or dataset already answers it.",
                      validators=[Optional(), web_link, URL(require_tld=False, message="Enter a full link starting with https://"),
                                  Length(max=500)])
    note = TextAreaField("Explanation to the requester", filters=[_strip],
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
    note = TextAreaField("Note (optional)", filters=[_strip], validators=[Length(max=10000)])


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


# --- Administration -------------------------------------------------------------------

class TeamForm(DatadeskForm):
    name = StringField("Name", filters=[_strip],
                       validators=[required("Give the team a name."), Length(max=80)])
    description = StringField("Description", filters=[_strip], validators=[Length(max=300)])
    is_active = BooleanField("Active (can send requests)", default=True)

    def validate_name(self, field):
        # Case folding can lengthen a name (ß is ss), and the folded form is stored too.
        if len(name_key(field.data)) > Team.name_key.type.length:
            raise ValidationError("Use a shorter name.")


class UserForm(DatadeskForm):
    name = StringField("Full name", filters=[_strip],
                       validators=[required("Enter the person's name."), Length(max=120)])
    email = StringField("E-mail", filters=[_strip],
                        validators=[required("Enter an e-mail address."), Length(max=254)])
    role = SelectField("Role", choices=options(ROLES.items()), validate_choice=False)
    teams = SelectMultipleField(
        "Teams", coerce=int, validate_choice=False,
        description="For requesters: the teams they belong to. For analysts: the teams they serve.")
    password = PasswordField(
        "Password",
        description=f"At least {PASSWORD_LENGTH[0]} characters. Leave empty to keep the current one.",
        validators=[Optional()])
    is_active = BooleanField("Active (may log in)", default=True)

    def __init__(self, *args, teams=(), require_password=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.teams.choices = options((team.id, team.name) for team in teams)
        self.require_password = require_password
        if require_password:  # a first password is required, not optional
            self.password.validators = [
                required(f"Set a first password (at least {PASSWORD_LENGTH[0]} characters)."),
                *(v for v in self.password.validators if not isinstance(v, Optional))]
            self.password.flags.required = True
            self.password.description = f"At least {PASSWORD_LENGTH[0]} characters."

    def validate_email(self, field):
        try:
            field.data = normalise_email(field.data)
        except ValueError as error:
            raise ValidationError(f"Not a valid e-mail address: {error}") from error

    def validate_password(self, field):
        problem = password_problem(field.data, self.email.data or "") if field.data else None
        if problem:
            raise ValidationError(problem)

    def validate_role(self, field):
        if field.data not in ROLES:
            raise ValidationError("Choose a role from the list.")

    def validate_teams(self, field):
        known = {choice.value for choice in self.teams.choices}
        if any(team_id not in known for team_id in field.data or []):
            raise ValidationError("Choose teams from the list.")


# --- Settings -------------------------------------------------------------------------

class NumberField(StringField):
    """A number typed as text: blank is no number and garbage is None, for validators to explain.

    WTForms' own number fields add a message of their own to the field's; here the field's
    validators give the one message a user needs ("a whole number from 1 to 50").
    """

    def __init__(self, label=None, validators=None, whole=True, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "numeric" if whole else "decimal"})
        super().__init__(label, validators, **kwargs)
        self.whole = whole

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = valuelist[0].replace("\x00", "").strip()
        self.data = None
        if not text or len(text) > 20:
            return
        try:
            number = int(text) if self.whole else float(text)
        except ValueError:
            return
        if not self.whole and not math.isfinite(number):
            return
        self.data = number

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        if isinstance(self.data, float) and self.data.is_integer():
            return str(int(self.data))
        return str(self.data)


def number_in(low, high, message):
    """Require a number from ``low`` to ``high``: blank or garbage gets ``message`` too."""
    return NumberRange(min=low, max=high, message=message)


WEEKDAY_CHOICES = list(enumerate(WEEKDAY_NAMES))


def sla_hours(form, field):
    """Require a number of business hours in SLA_HOURS_RANGE."""
    low, high = SLA_HOURS_RANGE
    if field.data is None or not low <= field.data <= high:
        raise ValidationError(f"Enter a number of hours from {low} to {high}.")


def _sla_fields(sla_class):
    label = sla_class.capitalize()
    return (NumberField(f"{label}: first response (business hours)", whole=False,
                        validators=[sla_hours]),
            NumberField(f"{label}: resolution (business hours)", whole=False,
                        validators=[sla_hours]))


class SettingsForm(DatadeskForm):
    """The /settings page: WIP and lead-time policy, business hours, SLA targets, and (added
    per install by ``for_people``) one budget field per team and one WIP field per analyst."""

    wip_limit_default = NumberField(
        "Default WIP limit", description="Requests an analyst may have in progress or blocked.",
        validators=[number_in(*WIP_LIMIT_RANGE, "Enter a whole number from 1 to 50.")])
    lead_time_business_days = NumberField(
        "Lead time (business days)",
        description="A deadline closer than this marks a request short-notice.",
        validators=[number_in(*LEAD_TIME_RANGE, "Enter a whole number of days from 0 to 60.")])
    timezone = SelectField("Timezone", validate_choice=False)
    working_days = SelectMultipleField("Working days", coerce=_int_or_none,
                                       choices=options(WEEKDAY_CHOICES), validate_choice=False)
    work_start = StringField("Day starts", filters=[_strip], render_kw={"type": "time"})
    work_end = StringField("Day ends", filters=[_strip], render_kw={"type": "time"})
    sla_high_first_response, sla_high_resolution = _sla_fields("high")
    sla_standard_first_response, sla_standard_resolution = _sla_fields("standard")
    sla_low_first_response, sla_low_resolution = _sla_fields("low")
    holidays = TextAreaField(
        "Holidays", filters=[_strip], render_kw={"rows": 6},
        description="One date per line, written YYYY-MM-DD (e.g. 2026-12-25). SLA clocks and "
                    "the lead time skip them.")
    digest_weekday = SelectField(
        "Weekly digest day", coerce=_int_or_none, choices=options(WEEKDAY_CHOICES),
        validate_choice=False, description="Each person may choose another day in their mail "
                                           "preferences.")
    digest_time = StringField("Weekly digest time", filters=[_strip], render_kw={"type": "time"},
                              description="In the timezone above.")
    auto_resolve_days = NumberField(
        "Auto-resolve after (days)",
        description="A delivery nobody confirms or reopens is resolved after this many days.",
        validators=[number_in(*AUTO_RESOLVE_RANGE, "Enter a whole number of days from 1 to 365.")])

    SLA_CLASSES = tuple(SLA_CLASSES)  # the settings page has a row of targets per class

    @classmethod
    def for_people(cls, teams, analysts):
        """A form class with a budget field per team and a WIP field per analyst or lead."""
        fields = {}
        for team in teams:
            fields[f"budget_{team.id}"] = NumberField(
                f"{team.name}: weekly ad-hoc budget", validators=[Optional(), number_in(
                    *BUDGET_RANGE, "Enter a whole number from 0 to 1000, or leave it blank for "
                                   "no limit.")])
        for analyst in analysts:
            fields[f"wip_{analyst.id}"] = NumberField(
                f"{analyst.name}: WIP limit", validators=[Optional(), number_in(
                    *WIP_LIMIT_RANGE, "Enter a whole number from 1 to 50, or leave it blank "
                                      "for the default.")])
        return type("PeopleSettingsForm", (cls,), fields)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = options((name, name) for name in timezones())
        self.holiday_dates = []

    def validate_holidays(self, field):
        """One date per line; blank lines are skipped, repeats and order do not matter."""
        days = set()
        for number, line in enumerate((field.data or "").splitlines(), 1):
            text = line.strip()
            if not text:
                continue
            shown = text if len(text) <= 30 else text[:30] + "\u2026"
            if not _ISO_DATE.match(text):
                raise ValidationError(f"Line {number}: \u201c{shown}\u201d is not written "
                                      "YYYY-MM-DD (e.g. 2026-12-25).")
            try:
                day = date.fromisoformat(text)
            except ValueError:
                raise ValidationError(f"Line {number}: {text} is not a real date.") from None
            if day.year not in HOLIDAY_YEARS:
                raise ValidationError(f"Line {number}: {text} is out of range; use a year from "
                                      f"{HOLIDAY_YEARS.start} to {HOLIDAY_YEARS.stop - 1}.")
            days.add(day)
        if len(days) > MAX_HOLIDAYS:
            raise ValidationError(f"That is {len(days)} dates; keep at most {MAX_HOLIDAYS} "
                                  "(remove past years).")
        self.holiday_dates = sorted(days)

    def validate_timezone(self, field):
        if field.data not in timezones():
            raise ValidationError("Choose a timezone from the list.")

    def validate_working_days(self, field):
        days = field.data or []
        if any(day not in range(7) for day in days):
            raise ValidationError("Choose working days from the list.")
        if not days:
            raise ValidationError("Choose at least one working day.")

    def _clock(self, field):
        try:
            parsed = time.fromisoformat(field.data or "")
        except ValueError:
            parsed = None
        if parsed is None or len(field.data) != 5 or field.data[2] != ":":
            raise ValidationError("Enter a time of day as HH:MM, e.g. 09:00.")
        return parsed

    def validate_work_start(self, field):
        self._clock(field)

    def validate_digest_time(self, field):
        self._clock(field)

    def validate_digest_weekday(self, field):
        if field.data not in range(7):
            raise ValidationError("Choose a day of the week.")

    def validate_work_end(self, field):
        self._clock(field)
        if self.work_start.errors:
            return  # the start field says what is wrong with it
        problem = working_day_error(self.work_start.data, field.data)
        if problem:
            raise ValidationError(problem)

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        for sla_class in self.SLA_CLASSES:
            first = self[f"sla_{sla_class}_first_response"]
            resolution = self[f"sla_{sla_class}_resolution"]
            if (not first.errors and not resolution.errors
                    and resolution.data <= first.data):
                resolution.errors.append("Resolution must take longer than the first response.")
                valid = False
        return valid

    def sla_targets(self):
        """The SLA targets as the settings store them."""
        return {sla_class: {"first_response_hours": self[f"sla_{sla_class}_first_response"].data,
                            "resolution_hours": self[f"sla_{sla_class}_resolution"].data}
                for sla_class in self.SLA_CLASSES}

    @staticmethod
    def initial(values, teams, analysts):
        """The form's data from the settings as they are, to fill the page."""
        data = {key: values[key] for key in ("wip_limit_default", "lead_time_business_days",
                                             "timezone", "working_days", "work_start",
                                             "work_end", "digest_weekday", "digest_time",
                                             "auto_resolve_days")}
        for sla_class, target in values["sla_targets"].items():
            data[f"sla_{sla_class}_first_response"] = target["first_response_hours"]
            data[f"sla_{sla_class}_resolution"] = target["resolution_hours"]
        data["holidays"] = "\n".join(values["holidays"])
        data.update({f"budget_{team.id}": team.weekly_ad_hoc_budget for team in teams})
        data.update({f"wip_{analyst.id}": analyst.wip_limit for analyst in analysts})
        return data


class SlaClassForm(DatadeskForm):
    """A lead sets a request's SLA class, or returns it to the priority rule, with a reason."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    sla_class = SelectField(
        "SLA class", validate_choice=False,
        choices=options([("", "Follow priority"), *SLA_CLASSES.items()]),
        description="Follow priority: the class the priority rule gives (see Help).")
    reason = TextAreaField("Reason", filters=[_strip],
                           description="Recorded on the timeline, where the requester sees it.",
                           validators=[required("Say why the class changes."),
                                       Length(max=2000, message="Keep it under 2,000 characters.")])

    def validate_sla_class(self, field):
        if field.data not in ("", *SLA_CLASSES):
            raise ValidationError("Choose high, standard, low or follow priority.")


# --- Queue ------------------------------------------------------------------------------

class OverrideForm(DatadeskForm):
    """A lead moves a request in its team's queue (or clears the move), with a reason."""

    position = NumberField("Queue position", description="1 is the top of the team's queue.",
                           validators=[Optional(), number_in(1, 1000, "Enter a whole number "
                                                                      "from 1 to 1000.")])
    reason = StringField("Reason", filters=[_strip],
                         description="Shown to the team and the requester.",
                         validators=[required("Say why you move it."),
                                     Length(max=500, message="Keep it under 500 characters.")])
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
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


# --- Triage -----------------------------------------------------------------------------

class ChangeKindForm(DatadeskForm):
    """An analyst or lead changes a request's kind (an ad-hoc ask that is really a project)."""

    kind = SelectField("Kind", validate_choice=False,
                       choices=options((key, label) for key, (label, _) in KINDS.items()),
                       description="Ad-hoc requests count against the team's weekly budget; "
                                   "projects and data issues do not.")
    note = TextAreaField("Why (optional)", filters=[_strip],
                         validators=[Length(max=2000, message="Keep it under 2,000 characters.")])
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])

    @classmethod
    def for_request(cls, request, **kwargs):
        """The unposted form for ``request``: its current kind and version."""
        return cls(formdata=None, prefix="kind", kind=request.kind, version=request.version,
                   **kwargs)

    def validate_kind(self, field):
        if field.data not in KINDS:
            raise ValidationError("Choose the kind of request.")


# --- Mail preferences (issue 4) -------------------------------------------------------------

class PreferencesForm(DatadeskForm):
    """A user's own mail preferences: the weekly digest, its day, and event notifications."""

    is_digest_enabled = BooleanField("Send me the weekly digest")
    digest_weekday = SelectField("Day of the week", coerce=str, validate_choice=False)
    notifications = SelectMultipleField(
        "Send me an e-mail when", choices=options(NOTIFICATIONS.items()), validate_choice=False)

    def __init__(self, *args, default_weekday=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.digest_weekday.choices = options(
            [("", f"The team's default ({WEEKDAY_NAMES[default_weekday]})")]
            + [(str(day), name) for day, name in enumerate(WEEKDAY_NAMES)])

    def validate_digest_weekday(self, field):
        if field.data not in ("", *map(str, range(7))):
            raise ValidationError("Choose a day of the week.")

    def validate_notifications(self, field):
        unknown = [value for value in field.data or () if value not in NOTIFICATIONS]
        if unknown:
            raise ValidationError("Choose among the notifications listed.")

    @property
    def weekday(self):
        """The chosen day as a number, or None for the team's default."""
        return int(self.digest_weekday.data) if self.digest_weekday.data else None


class ChangePasswordForm(DatadeskForm):
    """A person's own new password: the current one first, then the new one twice."""

    current = PasswordField("Current password", validators=[
        required("Enter your current password."), Length(max=PASSWORD_LENGTH[1])])
    new = PasswordField(
        "New password", validators=[required("Enter a new password.")],
        description=f"{PASSWORD_LENGTH[0]} to {PASSWORD_LENGTH[1]} characters; a phrase of a few "
                    "words is long and easy to remember.")
    confirm = PasswordField("New password again",
                            validators=[required("Enter the new password a second time.")])

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_current(self, field):
        if not self.user.check_password(field.data):
            raise ValidationError("That is not your current password.")

    def validate_new(self, field):
        problem = password_problem(field.data, self.user.email)
        if problem:
            raise ValidationError(problem)

    def validate_confirm(self, field):
        if field.data != self.new.data:
            raise ValidationError("This is not the same as the new password above.")

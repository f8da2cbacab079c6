"""What every form shares: the DatadeskForm base, small fields, filters and validators.

Each area's forms live next to it (requests, transitions, triage, settings, admin, account,
reports); validators live on the fields so every error lands next to its field.
"""
import math
import re

from email_validator import EmailNotValidError, validate_email
from flask import request
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    StringField,
    TextAreaField,
)
from wtforms.fields import FileField
from wtforms.validators import DataRequired, InputRequired, NumberRange, ValidationError
from wtforms.widgets import HiddenInput
from werkzeug.datastructures import MultiDict



def options(pairs):
    """Turn (value, label) pairs into WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def strip(value):
    """Strip the spaces around typed text. Control characters are not dropped: DatadeskForm
    refuses them with a message, so the person sees what was wrong (the login form matches
    credentials as typed)."""
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
            """The posted form fields, and uploaded files only for the form's file fields:
            Flask-WTF would also read files and a JSON body for any field (a file or a JSON
            number where text is expected breaks the validators), and text posted under a
            file field's name is no file."""
            wrapped = super().wrap_formdata(form, formdata)
            if wrapped is not None and wrapped is not formdata:  # taken from the request
                file_fields = {field.name for field in form if isinstance(field, FileField)}
                if not file_fields:
                    return request.form or None
                data = MultiDict([(key, value) for key, value in request.form.items(multi=True)
                                  if key not in file_fields])
                for name in file_fields:
                    for upload in request.files.getlist(name):
                        data.add(name, upload)
                return data or None
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

    def refuse(self, messages):
        """Show what the domain refused ({field: message}, errors.Refusal) on the fields."""
        for name, message in messages.items():
            self[name].errors = [*self[name].errors, message]


def required(message):
    """Require an input, with ``message`` when it is missing."""
    return DataRequired(message=message)


def version_field():
    """The hidden version of the request the page showed, to catch concurrent changes."""
    return IntegerField(widget=HiddenInput(), validators=[InputRequired()])


def int_or_none(value):
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


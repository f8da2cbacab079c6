"""The forms of a person's own account: logging in, mail preferences and a new password."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import Length, ValidationError

from .. import localtime, tokens
from ..models import NOTIFICATION_MODES, NOTIFICATIONS, TOKEN_SCOPES
from ..people import PASSWORD_LENGTH, password_problem
from ..settings import WEEKDAY_NAMES
from .base import DatadeskForm, options, required, strip


class LoginForm(FlaskForm):
    """Not a DatadeskForm: credentials are matched as typed and never stored or shown, so a
    control character in them gets the same answer as a wrong password."""

    email = StringField("E-mail", filters=[strip],
                        validators=[required("Enter your e-mail address."), Length(max=254)])
    password = PasswordField("Password", validators=[required("Enter your password."),
                                                     Length(max=PASSWORD_LENGTH[1])])
    remember = BooleanField("Keep me signed in on this computer")
    next = HiddenField()


class PreferencesForm(DatadeskForm):
    """A user's own mail preferences: the weekly digest, its day, and how each kind of
    notification reaches them (one ``notify_<kind>`` choice per kind of NOTIFICATIONS, added
    below: immediately, daily or off; a kind left out of the post keeps its saved mode)."""

    is_digest_enabled = BooleanField("Send me the weekly digest")
    digest_weekday = SelectField("Day of the week", coerce=str, validate_choice=False)

    def __init__(self, *args, default_weekday=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.digest_weekday.choices = options(
            [("", f"The team's default ({WEEKDAY_NAMES[default_weekday]})")]
            + [(str(day), name) for day, name in enumerate(WEEKDAY_NAMES)])

    def validate_digest_weekday(self, field):
        if field.data not in ("", *map(str, range(7))):
            raise ValidationError("Choose a day of the week.")

    @property
    def weekday(self):
        """The chosen day as a number, or None for the team's default."""
        return int(self.digest_weekday.data) if self.digest_weekday.data else None

    def mode_field(self, kind):
        """The choice of how notifications of ``kind`` arrive."""
        return self[mode_field_name(kind)]

    @property
    def modes(self):
        """{kind: mode} of the kinds posted (those left out keep their saved mode)."""
        return {kind: self.mode_field(kind).data for kind in NOTIFICATIONS
                if self.mode_field(kind).data in NOTIFICATION_MODES}


def mode_field_name(kind):
    """The name of the preferences form's field for notifications of ``kind``."""
    return f"notify_{kind}"


def _known_mode(form, field):
    if field.data not in (None, "", *NOTIFICATION_MODES):
        raise ValidationError("Choose immediately, daily batch or off.")


for _kind, _label in NOTIFICATIONS.items():
    setattr(PreferencesForm, mode_field_name(_kind), RadioField(
        _label, choices=options(NOTIFICATION_MODES.items()), validate_choice=False,
        validators=[_known_mode]))


class NewPasswordForm(DatadeskForm):
    """A person's own new password, twice: chosen with an invitation or a reset link, and the
    base of the form that changes it (ChangePasswordForm)."""

    new = PasswordField(
        "New password", validators=[required("Enter a new password.")],
        description=f"{PASSWORD_LENGTH[0]} to {PASSWORD_LENGTH[1]} characters; a phrase of a few "
                    "words is long and easy to remember.")
    confirm = PasswordField("New password again",
                            validators=[required("Enter the new password a second time.")])

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_new(self, field):
        problem = password_problem(field.data, self.user.email)
        if problem:
            raise ValidationError(problem)

    def validate_confirm(self, field):
        if field.data != self.new.data:
            raise ValidationError("This is not the same as the new password above.")


class ChangePasswordForm(NewPasswordForm):
    """A person's own new password: the current one first, then the new one twice."""

    current = PasswordField("Current password", validators=[
        required("Enter your current password."), Length(max=PASSWORD_LENGTH[1])])

    def validate_current(self, field):
        if not self.user.check_password(field.data):
            raise ValidationError("That is not your current password.")


class ForgotPasswordForm(FlaskForm):
    """"Forgot your password?": the address to send a link to. Not a DatadeskForm, like the
    log-in form: whatever is typed gets the same answer, so it tells nothing about accounts."""

    email = StringField("E-mail", filters=[strip],
                        validators=[required("Enter the e-mail address you log in with."),
                                    Length(max=254)])


class SetPasswordForm(NewPasswordForm):
    """A person's own password, chosen through an invitation or a reset link."""


class TimeZoneForm(DatadeskForm):
    """The time zone a person reads every time in."""

    time_zone = SelectField("Your time zone", coerce=str, validate_choice=False)

    def __init__(self, *args, installation_zone, **kwargs):
        super().__init__(*args, **kwargs)
        self.time_zone.choices = options(
            [("", f"The installation's ({installation_zone})")]
            + [(name, name.replace("_", " ")) for name in localtime.known_zones()])

    def validate_time_zone(self, field):
        if field.data and not localtime.is_known_zone(field.data):
            raise ValidationError("Choose a time zone from the list.")

    @property
    def zone_name(self):
        """The chosen zone's name, or None for the installation's."""
        return self.time_zone.data or None


TOKEN_SCOPES_DESCRIBED = [
    ("read", f"{TOKEN_SCOPES['read']}: list, search and read what you can see"),
    ("write", f"{TOKEN_SCOPES['write']}: also submit, comment and act on requests as you"),
]


class AccessTokenForm(DatadeskForm):
    """A new personal access token for the REST API (tickets/tokens.py): a name, what it may
    do, and when it expires."""

    name = StringField("Name", filters=[strip],
                       description="What will use it, so you know which to revoke: "
                                   "\u201cChurn notebook\u201d, \u201cTeam chat bot\u201d.",
                       validators=[required("Name the token after what will use it."),
                                   Length(max=100, message="Keep the name under 100 "
                                                           "characters.")])
    scope = RadioField("What it may do", default="read", validate_choice=False,
                       choices=options(TOKEN_SCOPES_DESCRIBED))
    expires_days = SelectField("Expires", default=str(tokens.DEFAULT_EXPIRY_DAYS),
                               validate_choice=False, choices=options(
                                   [(str(days), f"In {days} days") for days in
                                    tokens.EXPIRY_DAYS if days is not None]
                                   + [("never", "Never")]))

    def validate_scope(self, field):
        if field.data not in TOKEN_SCOPES:
            raise ValidationError("Choose what the token may do: read only, or read and "
                                  "write.")

    def validate_expires_days(self, field):
        if field.data not in {"never", *map(str, filter(None, tokens.EXPIRY_DAYS))}:
            raise ValidationError("Choose when the token expires.")

    @property
    def days(self):
        """The chosen expiry in days; None: never."""
        return None if self.expires_days.data == "never" else int(self.expires_days.data)

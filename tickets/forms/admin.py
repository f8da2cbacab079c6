"""The forms of administration: teams and people."""
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import Length, Optional, ValidationError

from ..models import ROLES, Team, name_key
from ..people import PASSWORD_LENGTH, password_problem
from .base import DatadeskForm, normalise_email, options, required, strip


class TeamForm(DatadeskForm):
    name = StringField("Name", filters=[strip],
                       validators=[required("Give the team a name."), Length(max=80)])
    description = StringField("Description", filters=[strip], validators=[Length(max=300)])
    is_active = BooleanField("Active (can send requests)", default=True)

    def validate_name(self, field):
        # Case folding can lengthen a name (ß is ss), and the folded form is stored too.
        if len(name_key(field.data)) > Team.name_key.type.length:
            raise ValidationError("Use a shorter name.")


class UserForm(DatadeskForm):
    name = StringField("Full name", filters=[strip],
                       validators=[required("Enter the person's name."), Length(max=120)])
    email = StringField("E-mail", filters=[strip],
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

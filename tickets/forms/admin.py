"""The forms of administration: teams and people."""
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.validators import Length, ValidationError

from ..models import ROLES, Team, name_key
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
    """A person as an admin or lead sees them. No password: a new person is invited by mail
    and chooses their own (tickets/invitations.py)."""

    name = StringField("Full name", filters=[strip],
                       validators=[required("Enter the person's name."), Length(max=120)])
    email = StringField("E-mail", filters=[strip],
                        validators=[required("Enter an e-mail address."), Length(max=254)])
    role = SelectField("Role", choices=options(ROLES.items()), validate_choice=False)
    teams = SelectMultipleField(
        "Teams", coerce=int, validate_choice=False,
        description="For requesters: the teams they belong to. For analysts: the teams they serve.")
    is_active = BooleanField("Active (may log in)", default=True)

    def __init__(self, *args, teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.teams.choices = options((team.id, team.name) for team in teams)

    def validate_email(self, field):
        try:
            field.data = normalise_email(field.data)
        except ValueError as error:
            raise ValidationError(f"Not a valid e-mail address: {error}") from error

    def validate_role(self, field):
        if field.data not in ROLES:
            raise ValidationError("Choose a role from the list.")

    def validate_teams(self, field):
        known = {choice.value for choice in self.teams.choices}
        if any(team_id not in known for team_id in field.data or []):
            raise ValidationError("Choose teams from the list.")

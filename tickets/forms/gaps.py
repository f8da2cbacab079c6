"""The forms of platform gaps: the taxonomy a lead edits, and the filter bar of the gaps report.

(The gap an analyst records on a decline or a delivery is part of those forms.)
"""
from datetime import date

from werkzeug.datastructures import MultiDict
from wtforms import DateField, Form, SelectField, StringField, ValidationError
from wtforms.validators import Length, Optional

from ..gaps import DESCRIPTION_LENGTH, NAME_LENGTH
from ..models import GAP_CONTEXTS, name_key
from ..reports.gaps import gap_filters_query
from .base import DatadeskForm, options, required, strip


class CategoryForm(DatadeskForm):
    """Add a category of the taxonomy, or rename one and change its description."""

    name = StringField("Name", filters=[strip],
                       description="What was missing, in a few words: “No access”.",
                       validators=[required("Give the category a name."),
                                   Length(max=NAME_LENGTH,
                                          message=f"Keep it under {NAME_LENGTH} characters.")])
    description = StringField(
        "Description", filters=[strip],
        description="One line that helps the analyst choose it.",
        validators=[Length(max=DESCRIPTION_LENGTH,
                           message=f"Keep it under {DESCRIPTION_LENGTH} characters.")])

    def validate_name(self, field):
        # Case folding can lengthen a name (ß is ss), and the folded form is stored too.
        if field.data and len(field.data) <= NAME_LENGTH < len(name_key(field.data)):
            raise ValidationError("Use a shorter name.")


class CategoryActionForm(DatadeskForm):
    """A button on one category (move, retire, reactivate, delete): the CSRF token only."""


class GapFiltersForm(Form):
    """The gaps report's filter bar: a GET form whose values live in the URL.

    ``parse_gap_filters`` decides what the URL means (never failing); this form shows what it
    decided, with a note on each field whose value in the URL was not used.
    """

    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])
    team = SelectField("Team", default="")
    context = SelectField("Recorded at", default="")

    def __init__(self, filters, *, today, teams, sees_everything):
        super().__init__(MultiDict({name: str(value)
                                    for name, value in gap_filters_query(filters).items()}))
        self.today = today
        self.sees_everything = sees_everything
        self.team.choices = options(
            [("", "All teams" if sees_everything else "All my teams")]
            + [(str(team.id), team.name if team.is_active else f"{team.name} (inactive)")
               for team in teams])
        self.context.choices = options([("", "Declines and deliveries"),
                                        *GAP_CONTEXTS.items()])
        for field in (self.start, self.end):
            field.render_kw = {"max": today.isoformat()}
        for field in self:
            field.errors = []

    def explain(self, args, filters):
        """Note on each field where the URL asked for something else than ``filters`` shows."""
        for name, applied in (("start", filters.base.start), ("end", filters.base.end)):
            asked = str(args.get(name) or "").strip()
            if asked and asked != applied.isoformat():
                try:
                    date.fromisoformat(asked)
                except ValueError:
                    self[name].errors.append(
                        f"Enter a date as YYYY-MM-DD; the report uses {applied.isoformat()}.")
                else:
                    self[name].errors.append(
                        f"The report uses {applied.isoformat()}: a range runs forwards and "
                        "covers at most 5 years.")
        if filters.base.end > self.today and not self.end.errors:
            self.end.errors.append(f"Days after today ({self.today.isoformat()}) have no data yet.")
        asked = str(args.get("team") or "").strip()
        if asked and filters.base.team_id is None:
            self.team.errors.append(
                "There is no such team: showing every team." if self.sees_everything
                else "You see the gaps of your own teams only: showing all of them.")
        if str(args.get("context") or "").strip() and filters.context is None:
            self.context.errors.append("Choose from the list: showing both.")

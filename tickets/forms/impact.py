"""The impact ledger's filter bar (/reports/impact): a GET form whose values live in the URL."""
from datetime import date

from werkzeug.datastructures import MultiDict
from wtforms import DateField, Form, SelectField
from wtforms.validators import Optional

from ..models import FORMATS, KINDS
from ..reports.impact import GROUPS, impact_filters_query
from .base import options


class ImpactFiltersForm(Form):
    """The ledger's filter bar: range, team, kind, format, and what the rows are grouped by.

    ``parse_impact_filters`` decides what the URL means (never failing); this form shows what
    it decided, and ``explain`` notes on each field whose value in the URL was not used what
    is shown instead. ``refused`` tells whether a value was bad (the page answers 400) rather
    than only noted (days after today).
    """

    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])
    team = SelectField("Team", default="")
    kind = SelectField("Kind", default="")
    format = SelectField("Format", default="")
    group = SelectField("Rows by", default="team")

    def __init__(self, filters, *, today, teams):
        values = impact_filters_query(filters)
        values.setdefault("group", filters.group)
        super().__init__(MultiDict({name: str(value) for name, value in values.items()}))
        self.today = today
        self.refused = False
        self.team.choices = options(
            [("", "All teams")]
            + [(str(team.id), team.name if team.is_active else f"{team.name} (inactive)")
               for team in teams])
        self.kind.choices = options([("", "Any kind")] + [(key, label) for key, (label, _)
                                                           in KINDS.items()])
        self.format.choices = options([("", "Any format"), *FORMATS.items()])
        self.group.choices = options(list(GROUPS.items()))
        for field in (self.start, self.end):
            field.render_kw = {"max": today.isoformat()}
        for field in self:
            field.errors = []

    def _refuse(self, name, message):
        self[name].errors.append(message)
        self.refused = True

    def explain(self, args, filters):
        """Note on each field where the URL asked for something else than ``filters`` shows."""
        base = filters.base
        for name, applied in (("start", base.start), ("end", base.end)):
            asked = str(args.get(name) or "").strip()
            if asked and asked != applied.isoformat():
                try:
                    date.fromisoformat(asked)
                except ValueError:
                    self._refuse(name, "Enter a date as YYYY-MM-DD; the ledger uses "
                                       f"{applied.isoformat()}.")
                else:
                    self._refuse(name, f"The ledger uses {applied.isoformat()}: a range runs "
                                       "forwards and covers at most 5 years.")
        if base.end > self.today and not self.end.errors:
            self.end.errors.append(f"Days after today ({self.today.isoformat()}) have no data yet.")
        for name, applied, message in (
                ("team", base.team_id, "There is no such team: showing every team."),
                ("kind", base.kind, "Choose a kind from the list: showing every kind."),
                ("format", filters.format, "Choose a format from the list: showing every "
                                           "format."),
                ("group", None, "Choose team, kind or format: showing rows by team.")):
            asked = str(args.get(name) or "").strip()
            if name == "group":
                if asked and asked != filters.group:
                    self._refuse(name, message)
            elif asked and applied is None:
                self._refuse(name, message)

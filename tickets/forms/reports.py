"""The forms of the reports: the filter bar of /reports and the what-if of the forecast. Both
are sent by GET, so a view's URL keeps its inputs and can be shared."""
from datetime import date

from werkzeug.datastructures import MultiDict
from wtforms import DateField, Form, SelectField, ValidationError
from wtforms.validators import Optional

from .. import forecast, reports
from ..models import KINDS
from .base import DatadeskForm, NumberField, number_in, options


class ReportFiltersForm(Form):
    """The filter bar: a GET form whose values live in the URL, so a view can be shared.

    ``reports.parse_filters`` decides what the URL means (it never fails: a bad value falls
    back to its default); this form shows what it decided, and ``explain`` puts a note on each
    field whose value in the URL was not used, saying what is shown instead.
    """

    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])
    team = SelectField("Team", default="")
    analyst = SelectField("Analyst", default="")
    kind = SelectField("Kind", default="")

    def __init__(self, filters, *, today, teams, analysts, sees_everything):
        super().__init__(MultiDict({name: str(value)
                                    for name, value in reports.filters_query(filters).items()}))
        self.today = today
        self.sees_everything = sees_everything
        all_teams = "All teams" if sees_everything else "All my teams"
        self.team.choices = options([("", all_teams)] + [
            (str(team.id), team.name if team.is_active else f"{team.name} (inactive)")
            for team in teams])
        self.analyst.choices = options([("", "Anyone")] + [(str(person.id), person.name)
                                                           for person in analysts])
        self.kind.choices = options([("", "Any kind")] + [(key, label) for key, (label, _)
                                                           in KINDS.items()])
        for field in (self.start, self.end):
            field.render_kw = {"max": today.isoformat()}
        for field in self:
            field.errors = []

    def explain(self, args, filters):
        """Note on each field where the URL asked for something else than ``filters`` shows."""
        for name, applied in (("start", filters.start), ("end", filters.end)):
            asked = (args.get(name) or "").strip()
            if asked and asked != applied.isoformat():
                try:
                    date.fromisoformat(asked)
                except ValueError:
                    self[name].errors.append(
                        f"Enter a date as YYYY-MM-DD; the charts use {applied.isoformat()}.")
                else:
                    self[name].errors.append(
                        f"The charts use {applied.isoformat()}: a range runs forwards and "
                        "covers at most 5 years.")
        if filters.end > self.today and not self.end.errors:
            self.end.errors.append(f"Days after today ({self.today.isoformat()}) have no data yet.")
        for name, applied, kind in (("team", filters.team_id, "team"),
                                    ("analyst", filters.analyst_id, "analyst")):
            asked = (args.get(name) or "").strip()
            if asked and (applied is None or self[name].data != str(applied)):
                self[name].errors.append(
                    "You see the reports of your own teams only: showing all of them."
                    if name == "team" and not self.sees_everything
                    else f"There is no such {kind}: showing everyone's." if kind == "analyst"
                    else "There is no such team: showing every team.")
        if (args.get("kind") or "").strip() and filters.kind is None:
            self.kind.errors.append("Choose a kind from the list: showing every kind.")


class WhatIfForm(DatadeskForm):
    """The what-if of /reports/forecast: a team, and throughput as a percentage of the recent
    one. It changes nothing, so it is sent by GET without a CSRF token."""

    class Meta:
        csrf = False

    team = SelectField("Team", coerce=str, default="", validate_choice=False)
    throughput = NumberField(
        "Throughput (% of recent)",
        default=100,
        description="100 is the recent pace; 125 is a quarter more, e.g. one more analyst in a "
                    "team of four; 50 is half.",
        validators=[Optional(), number_in(*forecast.MULTIPLIER_RANGE,
                                          "Enter a whole percentage from "
                                          f"{forecast.MULTIPLIER_RANGE[0]} to "
                                          f"{forecast.MULTIPLIER_RANGE[1]}.")])

    def __init__(self, *args, teams, everyone, **kwargs):
        super().__init__(*args, **kwargs)
        self.team.choices = options(
            [("", "All teams" if everyone else "All your teams"),
             *((str(team.id), team.name) for team in teams)])

    def validate_team(self, field):
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Choose one of the teams listed.")

    @property
    def team_id(self):
        return int(self.team.data) if self.team.data else None

    @property
    def multiplier(self):
        return (self.throughput.data or 100) / 100

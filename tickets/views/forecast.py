"""The backlog forecast (/reports/forecast): how long each team's open backlog takes to clear,
with a "what if" on throughput (GET, so the URL keeps the inputs and can be shared). Leads and
admins see every team and all of them together, analysts the teams they serve; requesters are
refused (403)."""
from flask import Blueprint, render_template, request
from flask_login import current_user
from wtforms import SelectField, ValidationError
from wtforms.validators import Optional

from .. import forecast, settings
from ..auth import roles_required
from ..extensions import db
from ..forms import DatadeskForm, NumberField, number_in, options
from ..models import Team, utcnow

bp = Blueprint("forecast", __name__)


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


@bp.route("/reports/forecast")
@roles_required("lead", "admin", "analyst")
def index():
    """Backlog clearance per team and overall at 50/85/95% confidence; analysts see their
    teams only."""
    everyone = current_user.sees_everything
    query = db.select(Team).order_by(Team.name)
    if not everyone:
        query = query.where(Team.id.in_(current_user.team_ids))
    teams = db.session.scalars(query).all()
    form = WhatIfForm(request.args, teams=teams, everyone=everyone)
    status = 200
    report = None
    if request.args and not form.validate():
        status = 400
    elif teams or everyone:
        report = forecast.backlog_clearance(
            form.team_id, utcnow(), settings.current(), multiplier=form.multiplier,
            team_ids=None if everyone else [team.id for team in teams])
    return render_template("forecast/index.html", form=form, report=report,
                           history_weeks=forecast.HISTORY_WEEKS,
                           trials=forecast.TRIALS), status


@bp.app_context_processor
def forecast_rules():
    """The forecast's constants for pages that explain it (the help page): static values."""
    return {"forecast_rules": {"weeks": forecast.HISTORY_WEEKS, "trials": forecast.TRIALS,
                               "max_years": forecast.MAX_WEEKS // 52}}

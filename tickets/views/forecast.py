"""The backlog forecast (/reports/forecast): how long each team's open backlog takes to clear,
with a "what if" on throughput (GET, so the URL keeps the inputs and can be shared). Leads and
admins see every team and all of them together, analysts the teams they serve; requesters are
refused (403)."""
from flask import Blueprint, render_template, request
from flask_login import current_user

from .. import counts, forecast, settings
from ..extensions import db
from ..forms.reports import WhatIfForm
from ..models import Team, utcnow
from ..policy import allowed, require

bp = Blueprint("forecast", __name__)


@bp.route("/reports/forecast")
@require("view_forecast")
def index():
    """Backlog clearance per team and overall at 50/85/95% confidence; analysts see their
    teams only."""
    everyone = allowed(current_user, "see_all")
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
                           trials=forecast.TRIALS, words=counts.WORDS,
                           size_days=forecast.SIZE_DAYS,
                           assumed_size=forecast.ASSUMED_SIZE), status

"""Settings for leads and admins: WIP and lead-time policy, business hours and holidays, SLA
targets, outcomes' follow-ups and the track record in the score, the priority weights, team ad-hoc budgets and
analysts' WIP limits, with the list of recent changes."""
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from .. import settings
from ..errors import run_action
from ..extensions import db
from ..forms.settings import SettingsForm
from ..models import SettingChange, Team, User, utcnow
from ..policy import WORKER_ROLES, require
from .helpers import paginate

bp = Blueprint("settings", __name__, url_prefix="/settings")

# The form field that shows a domain error about a setting (they are checked twice, so this
# is only reached if the form and the domain module ever disagree).
ERROR_FIELDS = {"sla_targets": "sla_high_first_response",
                "follow_up_business_days": "follow_up_days_ad_hoc"}


def _error_field(key):
    """The name of the form field that shows an error about settings key ``key``."""
    kind, _, rest = key.partition(":")
    if kind in ("team", "user") and rest:
        return ("budget_" if kind == "team" else "wip_") + rest.split(":")[0]
    return ERROR_FIELDS.get(key, key)


@bp.route("", methods=["GET", "POST"])
@require("manage_settings")
def index():
    """Show and change the settings; every change is saved with its audit row in one commit."""
    teams = db.session.scalars(db.select(Team).order_by(Team.name)).all()
    analysts = db.session.scalars(
        db.select(User).where(User.role.in_(WORKER_ROLES), User.is_active.is_(True))
        .order_by(User.name)).all()
    values = settings.current()
    form = SettingsForm.for_people(teams, analysts)(
        data=SettingsForm.initial(values, teams, analysts))
    if form.validate_on_submit():
        done = run_action(lambda: _save(form, teams, analysts, utcnow()), form=form,
                          field_of=_error_field, success=_saved_message)
        if done:
            return redirect(url_for("settings.index"))
    status = 400 if request.method == "POST" else 200
    page = paginate(db.select(SettingChange).options(joinedload(SettingChange.actor))
                    .order_by(SettingChange.created_at.desc(), SettingChange.id.desc()),
                    current_app.config["PAGE_SIZE"])
    subject_teams, subject_users = settings.subjects_of(page.items)
    history = [(change, *settings.describe(change, subject_teams, subject_users))
               for change in page.items]
    return render_template("settings/index.html", form=form, teams=teams, analysts=analysts,
                           values=values, page=page, history=history), status


def _save(form, teams, analysts, now):
    """Save what ``form`` chose, with an audit row per change; return the changes (None for a
    value that stays)."""
    chosen = {
        "wip_limit_default": form.wip_limit_default.data,
        "lead_time_business_days": form.lead_time_business_days.data,
        "timezone": form.timezone.data,
        "working_days": form.working_days.data,
        "work_start": form.work_start.data,
        "work_end": form.work_end.data,
        "sla_targets": form.sla_targets(),
        "digest_weekday": form.digest_weekday.data,
        "digest_time": form.digest_time.data,
        "auto_resolve_days": form.auto_resolve_days.data,
        "follow_up_business_days": form.follow_up_business_days(),
        "follow_up_reminder_days": form.follow_up_reminder_days.data,
        "track_record_in_priority": bool(form.track_record_in_priority.data),
    }
    # A post without them (an older page) leaves the attachment rules alone.
    if form.attachment_max_mb.raw_data:
        chosen["attachment_max_mb"] = form.attachment_max_mb.data
    if form.attachment_types.raw_data:
        chosen["attachment_types"] = form.attachment_type_list
    chosen.update(form.priority_weights())  # a post without them leaves the weights alone
    if form.holidays.raw_data:  # a post without the field leaves the holidays alone
        chosen["holidays"] = [day.isoformat() for day in form.holiday_dates]
    changes = settings.update(chosen, current_user, now)
    for team in teams:
        changes.append(settings.set_team_budget(
            team, form[f"budget_{team.id}"].data, current_user, now))
    for analyst in analysts:
        changes.append(settings.set_wip_limit(
            analyst, form[f"wip_{analyst.id}"].data, current_user, now))
    return changes


def _saved_message(changes):
    count = sum(change is not None for change in changes)
    if not count:
        return "Nothing changed."
    message = f"Saved {count} change{'' if count == 1 else 's'}."
    released = [request for change in changes if change is not None
                for request in getattr(change, "released", ())]
    if released:
        listed = ", ".join(f"#{request.id} {request.title}" for request in released[:5])
        more = f" and {len(released) - 5} more" if len(released) > 5 else ""
        message += (f" The bigger budget released {len(released)} waitlisted "
                    f"request{'' if len(released) == 1 else 's'} to triage at once: "
                    f"{listed}{more}.")
    return message

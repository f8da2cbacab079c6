"""SLA: a lead sets a request's SLA class (or returns it to the priority rule) with a reason."""
from flask import Blueprint, abort, flash, g, redirect, url_for
from flask_login import current_user

from .. import lifecycle, sla_clocks
from ..auth import get_visible_request_or_404, roles_required
from ..extensions import db
from ..forms import SlaClassForm
from ..models import SLA_CLASSES, utcnow
from . import requests as request_pages

bp = Blueprint("sla", __name__)


@bp.app_context_processor
def sla_rules():
    """The SLA rules in words for any page that explains them (the help page): static values."""
    return {"sla_rules": {"classes": sla_clocks.class_table(),
                          "at_risk_percent": round(sla_clocks.AT_RISK_RATIO * 100)}}


def _page_with(request_id, form, status):
    """The request page again, its SLA form showing what was sent and what is wrong."""
    g.sla_class_form = form
    return request_pages._render_detail(request_id, status=status)


@bp.route("/requests/<int:request_id>/sla-class", methods=["POST"])
@roles_required("lead")
def set_class(request_id):
    """Set the SLA class of a request, recorded as an event with the lead's reason."""
    req = get_visible_request_or_404(request_id, current_user)
    form = SlaClassForm(prefix="sla")
    if not form.validate_on_submit():
        return _page_with(request_id, form, 400)
    try:
        sla_clocks.set_class(req, form.sla_class.data or None, current_user, form.reason.data,
                             utcnow(), expected_version=form.version.data)
        db.session.commit()
    except sla_clocks.SlaClassError as error:
        db.session.rollback()
        form[error.field].errors.append(str(error))
        return _page_with(request_id, form, 400)
    except lifecycle.NotAllowed:
        db.session.rollback()
        abort(403)
    except lifecycle.ConcurrentChange as conflict:
        db.session.rollback()
        flash(str(conflict), "warning")
        return request_pages._render_detail(request_id, status=409)
    label = SLA_CLASSES[req.sla_class]
    flash(f"The SLA class is now {label.lower()}"
          + (", following the priority." if not req.sla_class_is_set else "."), "success")
    return redirect(url_for("requests.detail", request_id=req.id, _anchor="h-sla"))

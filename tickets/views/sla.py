"""SLA: a lead sets a request's SLA class (or returns it to the priority rule) with a reason."""
from flask import Blueprint, redirect, url_for
from flask_login import current_user

from .. import sla_clocks
from ..errors import run_action
from ..forms.triage import SlaClassForm
from ..models import SLA_CLASSES, utcnow
from ..policy import get_visible_request_or_404, require
from .request_page import SLA_CLASS, render_request_page

bp = Blueprint("sla", __name__)


@bp.route("/requests/<int:request_id>/sla-class", methods=["POST"])
@require("set_sla_class")
def set_class(request_id):
    """Set the SLA class of a request, recorded as an event with the lead's reason."""
    req = get_visible_request_or_404(request_id, current_user)
    form = SlaClassForm(prefix="sla")
    if form.validate_on_submit():
        done = run_action(
            lambda: sla_clocks.set_class(req, form.sla_class.data or None, current_user,
                                         form.reason.data, utcnow(),
                                         expected_version=form.version.data),
            form=form, success=lambda _: _class_message(req))
        if done:
            return redirect(url_for("requests.detail", request_id=req.id, _anchor="h-sla"))
        status = done.status
    else:
        status = 400
    return render_request_page(request_id, current_user, {SLA_CLASS: form}, status=status)


def _class_message(req):
    label = SLA_CLASSES[req.sla_class]
    return (f"The SLA class is now {label.lower()}"
            + (", following the priority." if not req.sla_class_is_set else "."))

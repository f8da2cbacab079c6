"""Queues: an analyst's own queue and the leads' backlog, in priority order."""
from flask import Blueprint, render_template

from ..auth import roles_required

bp = Blueprint("queue", __name__)


@bp.route("/queue")
@roles_required("analyst", "lead")
def queue():
    return render_template("queue/queue.html")


@bp.route("/backlog")
@roles_required("lead", "admin")
def backlog():
    return render_template("queue/backlog.html")

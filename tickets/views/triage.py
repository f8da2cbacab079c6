"""Triage: the queue of requests waiting for an analyst's first look."""
from flask import Blueprint, render_template

from ..auth import roles_required

bp = Blueprint("triage", __name__)


@bp.route("/triage")
@roles_required("analyst", "lead")
def index():
    return render_template("triage/index.html")

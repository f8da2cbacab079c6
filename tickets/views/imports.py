"""Importing past requests from a spreadsheet, for leads and admins: upload the file, check
the mapping and a preview of the rows, confirm, read what was refused (tickets/imports.py)."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import imports
from ..errors import run_action
from ..forms.imports import UploadForm, mapping_form
from ..models import utcnow
from ..policy import require
from .reports import csv_response

bp = Blueprint("imports", __name__, url_prefix="/admin/import")

importer = require("import_requests")


@bp.route("", methods=["GET", "POST"])
@importer
def upload():
    """Step 1: choose the file. A file that cannot be read is refused on the field; one that
    can is held under a random name for the next steps."""
    form = UploadForm()
    if form.validate_on_submit():
        upload_file = form.file.data
        with upload_file.stream as stream:  # a large upload waits in a temporary file
            data = stream.read(imports.MAX_BYTES + 1)
        try:
            imports.read_file(upload_file.filename, data)
            token = imports.hold(current_user, upload_file.filename, data)
        except imports.ImportRefused as refusal:
            form.file.errors = [*form.file.errors, str(refusal)]
        else:
            return redirect(url_for("imports.mapping", token=token))
    status = 400 if request.method == "POST" else 200
    return render_template("imports/upload.html", form=form), status


def _held_sheet(token):
    """The Sheet of the file ``token`` holds for the current user, or None."""
    found = imports.held(current_user, token) if token else None
    if found is None:
        return None
    try:
        return imports.read_file(*found)
    except imports.ImportRefused:
        return None


def _lost():
    flash("That file is no longer held (files are kept a day): choose it again.", "warning")
    return redirect(url_for("imports.upload"))


@bp.route("/map", methods=["GET", "POST"])
@importer
def mapping():
    """Step 2: the mapping, guessed, with a preview of the first rows and every row's errors,
    the counts and the people and teams to create; "Check again" after a change, "Import"
    (step 3) to write the good rows."""
    token = request.values.get("token", "")
    sheet = _held_sheet(token)
    if sheet is None:
        return _lost()
    guessed = imports.guess_mapping(sheet.headers)
    form = mapping_form(sheet.headers, guessed, token=token)
    if request.method == "POST" and not form.validate():
        return _mapping_page(form, sheet, None, 400)
    chosen = form.mapping() if request.method == "POST" else guessed
    now = utcnow()
    try:
        plan = imports.check(sheet, chosen, now, create_missing=form.create_missing.data)
    except imports.ImportRefused as refusal:  # the mapping as a whole: a field left out
        return _mapping_page(form, sheet, None, 400 if request.method == "POST" else 200,
                             mapping_error=str(refusal))
    if request.method == "POST" and "import" in request.form:
        done = run_action(lambda: imports.run(plan, current_user, now))
        if done:
            return render_template("imports/result.html", plan=plan, form=form)
    return _mapping_page(form, sheet, plan, 200)


def _mapping_page(form, sheet, plan, status, mapping_error=None):
    return render_template("imports/mapping.html", form=form, sheet=sheet, plan=plan,
                           mapping_error=mapping_error), status


@bp.route("/refused.csv", methods=["POST"])
@importer
def refused():
    """The refused rows of the file with its mapping, as a CSV to fix and import again (each
    row as it was, with a last column saying why)."""
    sheet = _held_sheet(request.form.get("token", ""))
    if sheet is None:
        return _lost()
    form = mapping_form(sheet.headers, imports.guess_mapping(sheet.headers))
    if not form.validate():
        return _lost()
    try:
        plan = imports.check(sheet, form.mapping(), utcnow(),
                             create_missing=form.create_missing.data)
    except imports.ImportRefused:
        return _lost()
    columns, rows = imports.refused_rows_table(plan)
    return csv_response("refused-rows.csv", columns, rows)

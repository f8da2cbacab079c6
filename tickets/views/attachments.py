"""Attachments: download a file, add files to a request from its page, remove one.

A file is served only to people who may see its request (404 for anyone else, as for a request
they may not see), always as a download: Content-Disposition attachment with the name in
RFC 6266 form, the Content-Type of its type (never what the uploader's browser claimed),
nosniff and a Content-Security-Policy that lets nothing in it run.
"""
import os
import unicodedata
from urllib.parse import quote

from flask import Blueprint, abort, current_app, g, redirect, send_file, url_for
from flask_login import current_user, login_required

from .. import attachments
from ..errors import run_action
from ..extensions import db
from ..forms.attachments import AddFilesForm
from ..models import Attachment, utcnow
from ..policy import allowed, get_visible_request_or_404, visible_attachments
from .request_page import FILES, render_request_page

bp = Blueprint("attachments", __name__)

# Nothing in a downloaded file may run, load or be framed, should a browser ever render it.
DOWNLOAD_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'; form-action 'none'"


# A Bootstrap Icons class per extension (the others get a plain file).
ICONS = {ext: f"bi-filetype-{ext}" for ext in (
    "csv", "doc", "docx", "gif", "jpg", "json", "md", "pdf", "png", "ppt", "pptx", "sql", "txt",
    "xls", "xlsx")}
ICONS.update({"jpeg": "bi-filetype-jpg", "tsv": "bi-file-earmark-spreadsheet",
              "zip": "bi-file-earmark-zip", "webp": "bi-file-earmark-image",
              "parquet": "bi-file-earmark-binary"})


@bp.app_template_filter("file_icon")
def file_icon(filename):
    """The icon class of a file by its name's extension."""
    return ICONS.get(str(filename).rpartition(".")[2].lower(), "bi-file-earmark")


@bp.app_template_filter("file_kind")
def file_kind(filename):
    """A file's type in words ("CSV", "PNG image") by its name's extension."""
    extension = str(filename).rpartition(".")[2].lower()
    return attachments.TYPE_NAMES.get(extension, extension.upper() or "File")


@bp.app_template_filter("filesize")
def filesize(size):
    """A size in bytes as people read it."""
    return attachments.human_size(size)


@bp.teardown_app_request
def close_open_files(error=None):
    """Close the held files a form opened to attach them (forms.attachments)."""
    for stream in g.pop("open_files", ()):
        stream.close()


@bp.route("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id):
    """Send one file as a download, to people who may see its request."""
    attachment = attachments.get_visible(attachment_id, current_user)
    if attachment is None:
        abort(404)
    path = attachments.path_of(attachment)
    if not os.path.isfile(path):
        current_app.logger.error("The file of attachment %s is missing: %s", attachment.id, path)
        abort(404)
    response = send_file(path, mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.filename, etag=attachment.sha256,
                         max_age=0, conditional=True)
    response.headers["Content-Disposition"] = content_disposition(attachment.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    response.headers["Cache-Control"] = "private, no-store"
    return response


def content_disposition(filename):
    """``attachment`` with the name twice (RFC 6266): an ASCII ``filename`` for old clients
    (quotes, backslashes and what ASCII lacks replaced) and the exact UTF-8 ``filename*``."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = "".join("_" if ch in '"\\' or ord(ch) < 32 or ord(ch) == 127 else ch
                         for ch in ascii_name).strip() or "download"
    if "." not in ascii_name and "." in filename:
        ascii_name += "." + filename.rpartition(".")[2].encode("ascii", "ignore").decode()
    return (f'attachment; filename="{ascii_name}"; '
            f"filename*=UTF-8''{quote(filename, safe='')}")


@bp.route("/requests/<int:request_id>/attachments", methods=["POST"])
@login_required
def add(request_id):
    """Add files to a request from its page, with a note for the timeline."""
    req = get_visible_request_or_404(request_id, current_user)
    if not allowed(current_user, "attach", req):
        abort(403)
    form = AddFilesForm(prefix=FILES)
    if form.validate_on_submit():
        done = run_action(lambda: _attach(req, form), form=form,
                          success=lambda added: _added_message(added))
        if done:
            return redirect(url_for("requests.detail", request_id=req.id, _anchor="attachments"))
        status = done.status
    else:
        status = 400
    form.hold_files(current_user)
    return render_request_page(request_id, current_user, {FILES: form}, status=status)


def _attach(req, form):
    return attachments.attach(req, current_user, form.uploads(), utcnow(),
                              note=form.note.data or "", release=form.held.data)


def _added_message(added):
    if len(added) == 1:
        return f"\u201c{added[0].filename}\u201d is attached."
    return f"{len(added)} files are attached."


@bp.route("/attachments/<int:attachment_id>/remove", methods=["POST"])
@login_required
def remove(attachment_id):
    """Remove a file (its uploader while the request is open, or a lead); the timeline keeps
    its name."""
    attachment = db.session.scalar(db.select(Attachment).where(
        Attachment.id == attachment_id, visible_attachments(current_user)))
    if attachment is None:
        abort(404)
    # No input but the CSRF token, which CSRFProtect checked before the view.
    name, request_id = attachment.filename, attachment.request_id
    run_action(lambda: attachments.remove(attachment, current_user, utcnow()),
               success=f"\u201c{name}\u201d is removed.")
    return redirect(url_for("requests.detail", request_id=request_id, _anchor="attachments"))

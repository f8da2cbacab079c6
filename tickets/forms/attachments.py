"""Files on forms: the file input every form with attachments shares (intake, edit, comment,
"add files"), the files it holds between two posts, and the request page's "add files" form."""
from flask import g
from flask_login import current_user
from wtforms import Field, TextAreaField
from wtforms.fields import MultipleFileField
from wtforms.validators import Length, ValidationError
from markupsafe import Markup

from .. import attachments, settings
from ..errors import Refusal
from .base import DatadeskForm, strip


class FilesField(MultipleFileField):
    """A file input taking several files; ``data`` is the files chosen (none when the input
    was left empty, which browsers send as one part without a name)."""

    def process_formdata(self, valuelist):
        self.data = [upload for upload in valuelist
                     if getattr(upload, "filename", None) and hasattr(upload, "stream")]


class _Unrendered:
    """The widget of a field its template draws itself (and ``hidden_tag`` leaves out)."""

    input_type = "held"

    def __call__(self, field, **kwargs):
        return Markup("")


class HeldField(Field):
    """The tokens of files held from the form's previous post (attachments.hold): each posted
    as a ticked box "keep this file" (templates/_files.html); ``data`` is those still held
    for this person."""

    widget = _Unrendered()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, default=list, **kwargs)

    def process_formdata(self, valuelist):
        self.data = []
        for token in valuelist[:attachments.MAX_FILES]:
            found = attachments.held(current_user, token) if isinstance(token, str) else None
            if found is not None and found.token not in {item.token for item in self.data}:
                self.data.append(found)

    def _value(self):
        return ""


def _open(path):
    """Open a held file for reading; it is closed when the request ends (views.attachments)."""
    stream = open(path, "rb")
    g.setdefault("open_files", []).append(stream)
    return stream


class WithFiles:
    """What a form with a ``files`` input (and its ``held`` files) offers the view."""

    def validate_files(self, field):
        uploads = [(upload.filename, upload.stream) for upload in field.data or []]
        if len(uploads) + len(self.held.data or []) > attachments.MAX_FILES:
            raise ValidationError(f"Send at most {attachments.MAX_FILES} files at a time.")
        try:
            attachments.check_uploads(uploads)
        except Refusal as refusal:
            raise ValidationError(str(refusal)) from None

    def uploads(self):
        """Every file to attach: those held from the last post, then those chosen now, as
        (filename, binary stream)."""
        return ([(item.filename, _open(item.path)) for item in self.held.data or []]
                + [(upload.filename, upload.stream) for upload in self.files.data or []])

    def hold_files(self, user):
        """Before the form is shown again: hold the files chosen now that passed their
        checks, so the person need not choose them again (the refused ones are named in the
        field's error)."""
        kept = list(self.held.data or [])
        values = None
        for upload in self.files.data or []:
            if len(kept) >= attachments.MAX_FILES:
                break
            values = values or settings.current()
            found = attachments.hold(user, upload.filename, upload.stream, values)
            if found is not None:
                kept.append(found)
        self.held.data = kept
        self.files.data = []


def files_field(label="Attach files"):
    """The file input of a form with attachments."""
    return FilesField(label, default=list)


class AddFilesForm(WithFiles, DatadeskForm):
    """"Add files" on the request page: one or more files, and a note for the timeline."""

    files = files_field("Files")
    held = HeldField()
    note = TextAreaField("About these files (optional)", filters=[strip],
                         description="What they are, for the timeline.",
                         validators=[Length(max=2000, message="Keep the note under 2,000 "
                                                              "characters.")])

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if valid and not self.files.data and not self.held.data:  # None: no form was sent
            self.files.errors = ["Choose at least one file."]
            valid = False
        return valid
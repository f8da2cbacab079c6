"""The forms of importing requests from a spreadsheet: the file, then the mapping."""
from wtforms import BooleanField, HiddenField, SelectField
from wtforms.fields import FileField
from wtforms.validators import ValidationError

from .. import imports
from .base import DatadeskForm, options

NOT_IMPORTED = ""


class UploadForm(DatadeskForm):
    """Step 1: the spreadsheet to import."""

    file = FileField("Spreadsheet (CSV or XLSX)", description=(
        f"A CSV (comma or semicolon, UTF-8 or Excel's encoding) or an Excel workbook (.xlsx, "
        f"its first sheet), up to {imports.MAX_MB} MB and {imports.MAX_ROWS:,} rows, with a "
        "header row. Nothing is written before you confirm."))

    def validate_file(self, field):
        """Ask for a file when none was chosen (what it holds is imports.read_file's)."""
        if not getattr(field.data, "filename", None) or not hasattr(field.data, "stream"):
            raise ValidationError("Choose the file to import.")


class MappingForm(DatadeskForm):
    """Step 2 and 3: one select per column of the file (fields ``column_0``...), built by
    ``mapping_form``; the held file's token; whether to create the missing people and teams."""

    token = HiddenField()
    create_missing = BooleanField("Create them")

    def columns(self):
        """The column selects, in the file's order."""
        return [field for field in self if field.name.startswith("column_")]

    def mapping(self):
        """The chosen field of each column (None: not imported)."""
        return [field.data or None for field in self.columns()]


def mapping_form(headers, mapping, formdata=None, **kwargs):
    """The mapping form of a file with ``headers``, each select preset to ``mapping``'s
    field (the guess); ``formdata`` None reads the request's post, as Flask-WTF does."""
    choices = options([(NOT_IMPORTED, "(not imported)"),
                       *((name, field.label) for name, field in imports.FIELDS.items())])

    class Form(MappingForm):
        """This file's mapping form: MappingForm with a select per column."""

    for index, (header, chosen) in enumerate(zip(headers, mapping)):
        setattr(Form, f"column_{index}", SelectField(
            header, choices=choices, default=chosen or NOT_IMPORTED))
    if formdata is not None:
        kwargs["formdata"] = formdata
    return Form(**kwargs)

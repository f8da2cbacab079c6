"""Importing past requests from a spreadsheet (DESIGN.md, Integrations: Import; issue 16).

A CSV or XLSX file is read into rows (``read_file``), its columns are mapped to Datadesk's
fields (``guess_mapping`` guesses from the headers; every choice can be changed), every row is
checked (``check``: a Plan with the good rows, the refused ones with their reasons as
(row number, field, message), those already imported, and the people and teams the good rows
need created), then the good rows are written (``run``): in batches of ``BATCH`` inside the
caller's one transaction, so a failure of the write leaves no imported row at all. A bad row
never stops the others.

Each imported request keeps the file's ID of its row (or a hash of its mapped values) as its
``external_id``: importing the same file again skips every row already imported. Its history
is one "imported" event, dated with the row's original created date, in the state the file
gives (``lifecycle.import_state``), whose note names the file and row. Requests and events are
written with bulk inserts (50,000 rows in seconds), so what the ORM's flush hooks do for one
request is done here once for all: the search index of the new requests and the reports' flow
snapshot.

Unknown teams and people are created only when asked (``create_missing``): teams by name,
people as inactive requesters who have not joined (an admin invites them later).
"""
import codecs
import csv
import functools
import hashlib
import io
import logging
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from . import (attachments, lifecycle, localtime, people, queues, search, sla_clocks,
               triage)
from .errors import Refusal
from .extensions import db
from .models import (FORMATS, IMPACTS, KINDS, STATES, Event, Request, Team, User, name_key,
                     utcnow)
from .policy import WORKER_ROLES
from .reports import snapshot

log = logging.getLogger(__name__)

FILE_FIELD = "file"  # the form field a refusal of the file names
MAPPING_FIELD = "mapping"  # ... and one of the mapping
MAX_MB = 20
MAX_BYTES = MAX_MB * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 100
MAX_TEXT = 20_000  # characters in one cell of a text field
PREVIEW_ROWS = 20
BATCH = 1000  # rows per bulk insert
EXTENSIONS = ("csv", "xlsx")
HELD_SALT = "datadesk-held-import"
HELD_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Field:
    """A Datadesk field a column can be mapped to: its label, whether the import needs it, and
    the headers it is guessed from (compared as ``header_key`` does)."""

    label: str
    is_required: bool = False
    synonyms: tuple = ()


# The fields a column maps to, in the order the mapping shows them.
FIELDS = {
    "external_id": Field("ID", synonyms=("id", "key", "issue key", "issue id", "ticket id",
                                         "ticket", "request id", "ref", "reference", "number",
                                         "no", "#", "external id")),
    "title": Field("Title", True, ("title", "summary", "subject", "name", "request",
                                   "request title")),
    "team": Field("Team", True, ("team", "requesting team", "department", "dept",
                                 "business unit", "group", "organization", "organisation")),
    "requester_email": Field("Requester e-mail", True, (
        "requester email", "requester e-mail", "requester", "reporter email", "reporter",
        "requested by", "email", "e-mail", "from", "submitter", "customer email")),
    "requester_name": Field("Requester name", synonyms=(
        "requester name", "reporter name", "submitter name", "customer name", "full name")),
    "data_needed": Field("Data needed", synonyms=(
        "data needed", "description", "details", "what data", "data", "body", "question")),
    "format": Field("Format", synonyms=("format", "output", "deliverable", "output format",
                                        "deliverable type")),
    "usage": Field("Usage", synonyms=("usage", "use", "how it will be used", "purpose",
                                      "use case", "why")),
    "kind": Field("Kind", synonyms=("kind", "type", "request type", "issue type",
                                    "ticket type")),
    "business_impact": Field("Business impact", synonyms=(
        "impact", "business impact", "priority", "urgency", "severity")),
    "deadline": Field("Deadline", synonyms=("deadline", "due", "due date", "needed by",
                                            "due by", "target date")),
    "created_at": Field("Created", synonyms=("created", "created at", "created date",
                                             "date created", "submitted", "submitted at",
                                             "opened", "date", "requested", "requested on")),
    "state": Field("State", synonyms=("state", "status", "stage")),
    "assignee": Field("Assignee (e-mail or name)", synonyms=(
        "assignee", "assignee email", "assignee e-mail", "assigned to", "analyst", "owner",
        "assigned", "assignee name")),
    "delivered_at": Field("Delivered", synonyms=("delivered", "delivered at", "delivery date",
                                                 "date delivered", "completed",
                                                 "completed at", "done")),
    "closed_at": Field("Resolved or closed", synonyms=(
        "resolved", "resolved at", "resolution date", "closed", "closed at", "date closed",
        "solved", "solved at", "date resolved")),
    "delivered_url": Field("Link", synonyms=("link", "url", "delivered url", "deliverable link",
                                             "result", "delivery link")),
}
REQUIRED = tuple(name for name, f in FIELDS.items() if f.is_required)

# Values of the state column, as spreadsheets and other tools write them.
STATE_WORDS = {
    "new": "submitted", "open": "submitted", "to triage": "submitted", "untriaged": "submitted",
    "pending": "needs_info", "waiting for customer": "needs_info",
    "waiting on requester": "needs_info", "on hold": "blocked", "todo": "accepted",
    "to do": "accepted", "backlog": "accepted", "triaged": "accepted", "ready": "accepted",
    "doing": "in_progress", "wip": "in_progress", "started": "in_progress",
    "in review": "in_progress", "waiting": "blocked", "done": "resolved", "closed": "resolved",
    "complete": "resolved", "completed": "resolved", "solved": "resolved",
    "rejected": "declined", "won't do": "declined", "wont do": "declined",
    "canceled": "cancelled", "withdrawn": "cancelled", "dup": "duplicate",
}
FORMAT_WORDS = {
    "excel": "spreadsheet", "csv": "spreadsheet", "xlsx": "spreadsheet", "sheet": "spreadsheet",
    "extract": "spreadsheet", "google sheet": "spreadsheet", "report": "analysis",
    "document": "analysis", "doc": "analysis", "analysis document": "analysis",
    "write-up": "analysis", "database table": "table", "view": "table", "sql": "table",
    "number": "answer", "quick answer": "answer", "slides": "presentation", "deck": "presentation",
    "powerpoint": "presentation", "tableau": "dashboard", "looker": "dashboard",
    "power bi": "dashboard",
}
KIND_WORDS = {
    "adhoc": "ad_hoc", "ad-hoc": "ad_hoc", "ad hoc": "ad_hoc", "one-off": "ad_hoc",
    "task": "ad_hoc", "request": "ad_hoc", "service request": "ad_hoc", "question": "ad_hoc",
    "epic": "project", "story": "project", "recurring": "project", "bug": "data_issue",
    "incident": "data_issue", "problem": "data_issue", "issue": "data_issue",
    "data quality": "data_issue",
}
IMPACT_WORDS = {
    "urgent": 5, "highest": 5, "blocker": 5, "p1": 5, "p0": 5, "p2": 4, "major": 4,
    "normal": 3, "p3": 3, "moderate": 3, "p4": 2, "minor": 2, "lowest": 1, "p5": 1,
    "trivial": 1,
}
DEFAULT_FORMAT = "spreadsheet"
DEFAULT_IMPACT = 3

_CONTROL_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_NOT_ALNUM = re.compile(r"[\W_]+")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
                  r"\s*(Z|[+-]\d{2}:?\d{2})?)?$")
_NUMERIC = re.compile(r"(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})"
                      r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$")
_MONTHS = {name: number for number, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
     ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
     ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")], start=1) for name in names}
_WORDY = re.compile(r"(\d{1,2})[ -]([A-Za-z]+)\.?,?[ -](\d{4})$"
                    r"|([A-Za-z]+)\.? (\d{1,2}),? (\d{4})$")


class ImportRefused(Refusal):
    """The file or the mapping cannot be imported at all (``field``: "file" or "mapping")."""


def header_key(text):
    """A header as compared with the fields' synonyms: case-folded, letters and digits only."""
    text = unicodedata.normalize("NFKC", str(text or "")).casefold()
    return _NOT_ALNUM.sub("", text) or text.strip()


_SYNONYMS = {}
for _name, _field in FIELDS.items():
    for _word in (_name, _field.label, *_field.synonyms):
        _SYNONYMS.setdefault(header_key(_word), _name)


def _word_key(text):
    return " ".join(_NOT_ALNUM.sub(" ", str(text).casefold().replace("'", "")).split())


def _vocabulary(labels, words):
    """{value as compared: code} from a vocabulary's codes, labels and synonyms."""
    found = {}
    for code, label in labels.items():
        found[_word_key(code)] = code
        found[_word_key(label)] = code
    for word, code in words.items():
        found[_word_key(word)] = code
    return found


_STATES = _vocabulary(STATES, STATE_WORDS)
_FORMATS = _vocabulary({code: code for code in FORMATS}, FORMAT_WORDS)
_FORMATS.update({_word_key(label): code for code, label in FORMATS.items()})
_KINDS = _vocabulary({code: label for code, (label, _) in KINDS.items()}, KIND_WORDS)
_IMPACTS = {**{_word_key(label): level for level, (label, _) in IMPACTS.items()},
            **{_word_key(word): level for word, level in IMPACT_WORDS.items()},
            **{str(level): level for level in IMPACTS}}


# --- Reading a file -----------------------------------------------------------------------------

@dataclass
class Sheet:
    """A file read into rows: its name, its header row and its rows of cells (text, numbers,
    dates or None); the first row under the header is row 2, as spreadsheets number it.
    ``numbers``: each row's number in the file (empty rows are left out)."""

    filename: str
    headers: list
    rows: list
    numbers: list


def _shown(text, length=60):
    text = _CONTROL_ONE_LINE.sub("\N{REPLACEMENT CHARACTER}", str(text))
    return text if len(text) <= length else text[:length - 3] + "\u2026"


def _decode(data):
    """The text of a CSV file: UTF-8 with or without its BOM, UTF-16 with its BOM (Excel's
    "Unicode text"), else Excel's Windows-1252."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _separator(text):
    """The separator of a CSV file: the one of , ; and tab its first line has most of."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return max((",", ";", "\t"), key=first.count)


def _read_csv(data):
    text = _decode(data)
    if "\x00" in text[:8192]:
        raise ImportRefused("This file is not a CSV file (it holds binary data): save the "
                            "spreadsheet as CSV or XLSX and choose it again.", FILE_FIELD)
    # A cell may be as large as a file (the limit is the process's: raised, never lowered,
    # so another thread's read is never cut short).
    csv.field_size_limit(max(csv.field_size_limit(), MAX_BYTES))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text))
    try:
        return list(reader)
    except csv.Error as error:
        raise ImportRefused(f"This CSV file cannot be read ({error}): check it opens in a "
                            "spreadsheet program, save it again as CSV and choose it again.",
                            FILE_FIELD) from None


def _read_xlsx(data):
    import openpyxl  # only here: most processes never read a workbook

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # noqa: BLE001 - any broken or foreign file is the same refusal
        raise ImportRefused("This file is not an Excel workbook (.xlsx) that can be read: "
                            "save it again from your spreadsheet program and choose it again.",
                            FILE_FIELD) from None
    try:
        sheet = workbook.worksheets[0]
        rows = []
        # One column more than allowed: enough to refuse a wider file without reading the
        # thousands of empty cells a workbook may claim per row.
        for row in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1):
            rows.append(list(row))
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    except Exception:  # noqa: BLE001 - a broken workbook fails anywhere inside openpyxl
        raise ImportRefused("This workbook cannot be read to its end: save it again from your "
                            "spreadsheet program and choose it again.", FILE_FIELD) from None
    finally:
        workbook.close()


def _is_empty(cell):
    return cell is None or (isinstance(cell, str) and not cell.strip())


def read_file(filename, data):
    """Read ``data`` (bytes) of the file called ``filename`` into a Sheet, or raise
    ImportRefused: not CSV or XLSX, empty, too large, unreadable, without a header row or
    without rows under it, or with more than MAX_ROWS rows or MAX_COLUMNS columns."""
    name = _shown(os.path.basename(str(filename or "").replace("\\", "/")).strip(), 100)
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension not in EXTENSIONS:
        raise ImportRefused(f"\u201c{name}\u201d is not a CSV or XLSX file: save the "
                            "spreadsheet as one of those and choose it again.", FILE_FIELD)
    if not data:
        raise ImportRefused(f"\u201c{name}\u201d is empty (0 bytes).", FILE_FIELD)
    if len(data) > MAX_BYTES:
        raise ImportRefused(f"\u201c{name}\u201d is larger than {MAX_MB} MB: split it into "
                            "several files.", FILE_FIELD)
    rows = _read_csv(data) if extension == "csv" else _read_xlsx(data)
    numbered = [(number, row) for number, row in enumerate(rows, start=1)
                if not all(_is_empty(cell) for cell in row)]
    if not numbered:
        raise ImportRefused(f"\u201c{name}\u201d has no rows.", FILE_FIELD)
    (_, header), body = numbered[0], numbered[1:]
    while header and _is_empty(header[-1]):
        header = header[:-1]
    if len(header) > MAX_COLUMNS:
        raise ImportRefused(f"\u201c{name}\u201d has {len(header)} columns: keep at most "
                            f"{MAX_COLUMNS}.", FILE_FIELD)
    if not body:
        raise ImportRefused(f"\u201c{name}\u201d has a header row but no rows under it.",
                            FILE_FIELD)
    if len(body) > MAX_ROWS:
        raise ImportRefused(f"\u201c{name}\u201d has more than {MAX_ROWS:,} rows: split it "
                            "into several files.", FILE_FIELD)
    headers = [_shown(cell, 80).strip() if not _is_empty(cell) else f"Column {index}"
               for index, cell in enumerate(header, start=1)]
    width = len(headers)
    return Sheet(name, headers, [list(row[:width]) + [None] * (width - len(row))
                                 for _, row in body], [number for number, _ in body])


# --- The mapping --------------------------------------------------------------------------------

def guess_mapping(headers):
    """The field each column most likely holds, from its header (None: not imported); each
    field goes to the first column that names it."""
    taken, mapping = set(), []
    for header in headers:
        name = _SYNONYMS.get(header_key(header))
        if name is not None and name not in taken:
            taken.add(name)
            mapping.append(name)
        else:
            mapping.append(None)
    return mapping


def parse_mapping(headers, choices):
    """A mapping from ``choices`` (COLUMN=field strings, as the command line takes them, the
    column by its header or its number from 1) over the guessed one; raise ImportRefused on an
    unknown column or field."""
    mapping = guess_mapping(headers)
    keys = [header_key(header) for header in headers]
    for choice in choices:
        column, sep, name = choice.rpartition("=")
        column, name = column.strip(), name.strip()
        if not sep or not column:
            raise ImportRefused(f"\u201c{choice}\u201d is not COLUMN=field.", MAPPING_FIELD)
        if name not in FIELDS and name not in ("", "-"):
            raise ImportRefused(f"There is no field \u201c{name}\u201d: choose one of "
                                f"{', '.join(FIELDS)} (or - to leave the column out).",
                                MAPPING_FIELD)
        if column.isdigit() and 1 <= int(column) <= len(headers):
            index = int(column) - 1
        elif header_key(column) in keys:
            index = keys.index(header_key(column))
        else:
            raise ImportRefused(f"There is no column \u201c{column}\u201d in the file.",
                                MAPPING_FIELD)
        field_name = name if name in FIELDS else None
        if field_name is not None:
            mapping = [None if chosen == field_name else chosen for chosen in mapping]
        mapping[index] = field_name
    return mapping


def check_mapping(headers, mapping):
    """Refuse a mapping that leaves out a required field or maps a field twice."""
    chosen = [name for name in mapping if name]
    twice = sorted({name for name in chosen if chosen.count(name) > 1})
    if twice:
        raise ImportRefused("Each field takes one column: " + ", ".join(
            FIELDS[name].label for name in twice) + " is chosen for several.", MAPPING_FIELD)
    missing = [FIELDS[name].label for name in REQUIRED if name not in chosen]
    if missing:
        raise ImportRefused("Choose the column of " + ", ".join(missing)
                            + ": every request needs one.", MAPPING_FIELD)
    if len(mapping) != len(headers) or any(name not in FIELDS for name in chosen):
        raise ImportRefused("Choose a field (or nothing) for each column.", MAPPING_FIELD)


def mapping_lines(headers, mapping):
    """The mapping in words, a line per column: 'Title -> Title', 'Notes -> (not imported)'."""
    return [f"{header} -> {FIELDS[name].label if name else '(not imported)'}"
            for header, name in zip(headers, mapping)]


# --- Reading values -------------------------------------------------------------------------------

class BadValue(ValueError):
    """A cell that cannot be the value of its field; the message says why."""


def _text(cell):
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell).strip()


def _one_line(value, limit):
    if _CONTROL_ONE_LINE.search(value):
        raise BadValue("has control characters or line breaks; use one line of text")
    if len(value) > limit:
        raise BadValue(f"is {len(value):,} characters long; at most {limit:,}")
    return value


def _long_text(value):
    if _CONTROL_TEXT.search(value):
        raise BadValue("has control characters (such as NUL); remove them")
    if len(value) > MAX_TEXT:
        raise BadValue(f"is {len(value):,} characters long; at most {MAX_TEXT:,}")
    return value


def _date_parts(text, day_first):
    """(year, month, day, hour, minute, second, offset or None) of a date written as text."""
    match = _ISO.match(text)
    if match:
        year, month, day, hour, minute, second, zone = match.groups()
        offset = None
        if zone:
            if zone == "Z":
                offset = timedelta(0)
            else:
                sign = -1 if zone[0] == "-" else 1
                digits = zone[1:].replace(":", "")
                offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return (int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                int(second or 0), offset)
    match = _NUMERIC.match(text)
    if match:
        first, second_part, third, hour, minute, second, half = match.groups()
        if len(first) == 4:
            year, month, day = int(first), int(second_part), int(third)
        else:
            year = int(third)
            if len(third) == 2:
                year += 2000 if year < 70 else 1900
            elif len(third) != 4:
                raise BadValue("is not a date")
            month, day = ((int(second_part), int(first)) if day_first
                          else (int(first), int(second_part)))
        hour = int(hour or 0)
        if half:
            if not 1 <= hour <= 12:
                raise BadValue("is not a date")
            hour = hour % 12 + (12 if half.lower() == "pm" else 0)
        return year, month, day, hour, int(minute or 0), int(second or 0), None
    match = _WORDY.match(text)
    if match:
        if match.group(1):
            day, month_name, year = match.group(1), match.group(2), match.group(3)
        else:
            month_name, day, year = match.group(4), match.group(5), match.group(6)
        month = _MONTHS.get(month_name.casefold())
        if month is None:
            raise BadValue("is not a date")
        return int(year), month, int(day), 0, 0, 0, None
    raise BadValue("is not a date")


def _instant(cell, day_first, zone):
    """An aware UTC datetime from a cell: a date or datetime (XLSX), an Excel day number, or
    text; times without an offset are the installation's wall clock."""
    if isinstance(cell, datetime):
        moment = cell
    elif isinstance(cell, date):
        moment = datetime.combine(cell, time(0))
    elif isinstance(cell, (int, float)) and not isinstance(cell, bool):
        if not 1 <= cell < 2958466:
            raise BadValue("is not a date")
        from openpyxl.utils.datetime import from_excel

        moment = from_excel(cell)
    else:
        year, month, day, hour, minute, second, offset = _date_parts(_text(cell), day_first)
        try:
            moment = datetime(year, month, day, hour, minute, second)
        except ValueError:
            raise BadValue("is not a date") from None
        if offset is not None:
            return moment.replace(tzinfo=UTC) - offset
    if not 1900 <= moment.year <= 2999:
        raise BadValue("is not a date between 1900 and 2999")
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    return moment.replace(tzinfo=zone).astimezone(UTC)


def _day(cell, day_first):
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        return _instant(cell, day_first, UTC).date()
    year, month, day, *_ = _date_parts(_text(cell), day_first)
    try:
        found = date(year, month, day)
    except ValueError:
        raise BadValue("is not a date") from None
    if not 1900 <= found.year <= 2999:
        raise BadValue("is not a date between 1900 and 2999")
    return found


def _choice(value, vocabulary, labels):
    found = vocabulary.get(_word_key(value))
    if found is None:
        raise BadValue(f"is not one of {', '.join(labels)}")
    return found


@functools.lru_cache(maxsize=4096)
def _email(value):
    """The normalised form of e-mail address ``value`` (a file names the same people again
    and again: each is validated once)."""
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise BadValue("is not an e-mail address") from None


def guess_day_first(sheet, mapping):
    """Whether the file writes dates day first (31/12/2024) rather than month first
    (12/31/2024): day first unless some date can only be month first and none only day
    first."""
    columns = [index for index, name in enumerate(mapping)
               if name in ("deadline", "created_at", "delivered_at", "closed_at")]
    day_only = month_only = False
    for row in sheet.rows:
        for index in columns:
            cell = row[index]
            if not isinstance(cell, str):
                continue
            match = _NUMERIC.match(cell.strip())
            if match and len(match.group(1)) <= 2:
                first, second = int(match.group(1)), int(match.group(2))
                day_only |= first > 12 >= second
                month_only |= second > 12 >= first
    return not (month_only and not day_only)


# --- Checking rows --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """Why a row is refused: its number in the file, the field (its label) and what is
    wrong, with the value quoted."""

    row: int
    field: str
    message: str

    def __str__(self):
        return f"row {self.row}: {self.field}: {self.message}" if self.field else \
            f"row {self.row}: {self.message}"


@dataclass
class Plan:
    """What importing a Sheet with a mapping would do: the good rows (ready to write), the
    refused ones, how many are there already, the teams and people it creates (or would,
    with ``create_missing``), and the first rows as the preview shows them."""

    sheet: Sheet
    is_day_first: bool
    create_missing: bool
    good: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    already: int = 0
    missing_teams: dict = field(default_factory=dict)  # name_key -> name
    missing_people: dict = field(default_factory=dict)  # e-mail -> name
    imported: int = 0  # set by ``run``

    @property
    def refused_rows(self):
        """{row number: [Problem]} of the refused rows, in file order."""
        found = {}
        for problem in self.problems:
            found.setdefault(problem.row, []).append(problem)
        return found

    @property
    def creation_text(self):
        """'Create 3 people and 1 team' (empty when there is nothing to create)."""
        parts = []
        if self.missing_people:
            count = len(self.missing_people)
            parts.append(f"{count} {'person' if count == 1 else 'people'}")
        if self.missing_teams:
            count = len(self.missing_teams)
            parts.append(f"{count} team{'' if count == 1 else 's'}")
        return ("Create " + " and ".join(parts)) if parts else ""

    def preview(self, limit=PREVIEW_ROWS):
        """The first ``limit`` rows: (row number, [cell as text], [Problem])."""
        refused = self.refused_rows
        return [(number, [_shown(_text(cell), 80) for cell in row], refused.get(number, []))
                for number, row in zip(self.sheet.numbers[:limit], self.sheet.rows[:limit])]

    def counts_text(self):
        """The plan's counts in one line."""
        return (f"{len(self.good)} to import, {len(self.refused_rows)} refused, "
                f"{self.already} already imported")


def _external_id(values, raw_id):
    if raw_id:
        return "id:" + raw_id
    digest = hashlib.sha256(repr(sorted(
        (name, _text(value)) for name, value in values.items())).encode()).hexdigest()
    return "sha256:" + digest


def _row_values(sheet, mapping, row):
    return {name: row[index] for index, name in enumerate(mapping) if name}


def _parse_row(values, day_first, zone, now):
    """The request a row's ``values`` describe, as (parsed fields, [(field, message)])."""
    found, problems = {}, []

    def read(name, reader, default=None):
        """Read field ``name``'s cell with ``reader`` into ``found`` (``default`` when it is
        empty), or note why it cannot be read."""
        cell = values.get(name)
        if _is_empty(cell):
            found[name] = default
            return
        try:
            found[name] = reader(cell)
        except BadValue as error:
            problems.append((name, f"\u201c{_shown(_text(cell))}\u201d {error}"))

    read("title", lambda cell: _one_line(_text(cell), 200))
    read("team", lambda cell: _one_line(_text(cell), 80))
    read("requester_email", lambda cell: _email(_one_line(_text(cell), 254)))
    read("requester_name", lambda cell: _one_line(_text(cell), 120))
    read("external_id", lambda cell: _one_line(_text(cell), 190))
    for name in ("data_needed", "usage"):
        read(name, lambda cell: _long_text(_text(cell)), "")
    read("format", lambda cell: _choice(_text(cell), _FORMATS, list(FORMATS.values())),
         DEFAULT_FORMAT)
    read("kind", lambda cell: _choice(_text(cell), _KINDS, [label for label, _ in KINDS.values()]),
         "ad_hoc")
    read("business_impact", lambda cell: _choice(_text(cell), _IMPACTS, [
        f"{level} ({label})" for level, (label, _) in IMPACTS.items()]), DEFAULT_IMPACT)
    read("state", lambda cell: _choice(_text(cell), _STATES, list(STATES.values())), "submitted")
    read("assignee", lambda cell: _person(_one_line(_text(cell), 254)))
    read("deadline", lambda cell: _day(cell, day_first))
    for name in ("created_at", "delivered_at", "closed_at"):
        read(name, lambda cell: _instant(cell, day_first, zone))
    read("delivered_url", lambda cell: _url(_text(cell)))
    for name in REQUIRED:
        if found.get(name) in (None, "") and not any(name == seen for seen, _ in problems):
            problems.append((name, "is empty; every request needs one"))
    if problems:
        return found, problems
    created = found["created_at"] or now
    if created > now:
        problems.append(("created_at", f"{created:%Y-%m-%d} is in the future"))
    try:
        found["lifecycle"] = lifecycle.import_state(
            found["state"], created, found["delivered_at"], found["closed_at"])
    except lifecycle.MissingInput as error:
        problems.append((error.field, str(error)))
    found["created_at"] = created
    return found, problems


def _url(value):
    try:
        lifecycle.check_url(value)
    except lifecycle.MissingInput as error:
        raise BadValue(f"is not a link: {error}") from None
    return value


def _existing(column, values):
    """The ``values`` of ``column`` already in the database (IN lists of BATCH)."""
    values, found = sorted(values), set()
    for start in range(0, len(values), BATCH):
        found.update(db.session.scalars(
            select(column).where(column.in_(values[start:start + BATCH]))))
    return found


def check(sheet, mapping, now=None, create_missing=False, values=None):
    """Check every row of ``sheet`` under ``mapping`` (a field or None per column); return the
    Plan. Writes nothing. Raises ImportRefused when the mapping itself cannot be used."""
    now = now or utcnow()
    check_mapping(sheet.headers, mapping)
    zone = localtime.zone(values)
    day_first = guess_day_first(sheet, mapping)
    plan = Plan(sheet, day_first, create_missing)
    parsed = []
    seen_ids = {}
    for number, row in zip(sheet.numbers, sheet.rows):
        row_values = _row_values(sheet, mapping, row)
        found, problems = _parse_row(row_values, day_first, zone, now)
        if not problems:
            found["external_id_text"] = found.get("external_id")
            found["external_id"] = _external_id(row_values, found["external_id_text"])
            first = seen_ids.setdefault(found["external_id"], number)
            if first != number and found.get("external_id_text"):
                problems.append(("external_id", f"\u201c{_shown(found['external_id_text'])}"
                                 f"\u201d is also the ID of row {first} of this file"))
            elif first != number:
                problems.append(("", f"the same values as row {first} of this file"))
        for name, message in problems:
            plan.problems.append(Problem(number, FIELDS[name].label if name else "", message))
        if not problems:
            found["row"] = number
            parsed.append(found)
    already = _existing(Request.external_id, {found["external_id"] for found in parsed})
    teams = set(db.session.scalars(select(Team.name_key)))
    people_known = _existing(User.email, {found["requester_email"] for found in parsed})
    workers = _workers()
    for found in parsed:
        if found["external_id"] in already:
            plan.already += 1
            continue
        problems = []
        assignee = found["assignee"]
        found["assignee_id"] = (workers.get(assignee) or workers.get(name_key(assignee))
                                if assignee else None)
        if assignee and found["assignee_id"] is None:
            problems.append(("assignee", f"\u201c{_shown(assignee)}\u201d is not the e-mail "
                             "or the name of one active analyst or lead of Datadesk"))
        key = name_key(found["team"])
        if key not in teams:
            plan.missing_teams.setdefault(key, found["team"])
            if not create_missing:
                problems.append(("team", f"there is no team called \u201c{_shown(found['team'])}"
                                 "\u201d (create the missing teams to import it)"))
        if found["requester_email"] not in people_known:
            plan.missing_people.setdefault(found["requester_email"], found["requester_name"]
                                           or _name_of(found["requester_email"]))
            if not create_missing:
                problems.append(("requester_email", "nobody has the e-mail \u201c"
                                 f"{_shown(found['requester_email'])}\u201d (create the "
                                 "missing people to import it)"))
        if problems:
            plan.problems.extend(Problem(found["row"], FIELDS[name].label, message)
                                 for name, message in problems)
            continue
        plan.good.append(found)
    plan.problems.sort(key=lambda problem: problem.row)
    return plan


def _person(value):
    """A person as a cell names them: their e-mail address (normalised), or their name."""
    return _email(value) if "@" in value else value


def _workers():
    """{e-mail, and name as compared (``name_key``): id} of the active analysts and leads, who
    may be given a request; a name two of them share finds nobody."""
    found, names = {}, {}
    for user in db.session.scalars(select(User).where(User.role.in_(WORKER_ROLES),
                                                      User.is_active)):
        found[user.email] = user.id
        names.setdefault(name_key(user.name), []).append(user.id)
    found.update({key: ids[0] for key, ids in names.items() if len(ids) == 1})
    return found


def _name_of(email):
    """A person's name from their e-mail address: 'jane.doe@x' is 'Jane Doe'."""
    local = email.partition("@")[0]
    return " ".join(part.capitalize() for part in re.split(r"[._\-+]+", local) if part)[:120] \
        or email


# --- Writing ------------------------------------------------------------------------------------

def _create_missing(plan, now):
    """Create the plan's missing teams and people. People are inactive requesters who have
    not joined; they share the hash of one random password nobody knows (an invitation gives
    each their own link)."""
    for name in sorted(plan.missing_teams.values()):
        people.save_team(None, name=name,
                         description=f"Imported from {plan.sheet.filename}"[:300])
    unknown = None
    for email, name in sorted(plan.missing_people.items()):
        user = people.save_user(None, name=name, email=email, role="requester", is_active=False,
                                now=now, unknown_password_hash=unknown)
        unknown = user.password_hash


def _write_batch(rows, events):
    """Insert one batch of requests and their events with Core executemany; return the new
    requests' ids. The ids are read back by external id: the ORM's bulk insert, or RETURNING
    from an executemany, costs more than the insert itself."""
    connection = db.session.connection()
    connection.execute(insert(Request.__table__), rows)
    ids = dict(connection.execute(select(Request.external_id, Request.id).where(
        Request.external_id.in_([found["external_id"] for found in rows]))).all())
    for found, event in zip(rows, events):
        event["request_id"] = ids[found["external_id"]]
    connection.execute(insert(Event.__table__), events)
    return [ids[found["external_id"]] for found in rows]


def run(plan, actor=None, now=None, progress=None):
    """Write the good rows of ``plan`` (from ``check``): create the missing teams and people
    if the plan says so, insert the requests and their "imported" events in batches of BATCH,
    index them for search and rebuild the flow snapshot. Flushes, never commits: the caller
    commits once, so a failure leaves nothing. ``progress(count)`` is called after each batch.
    Returns the number of requests imported."""
    now = now or utcnow()
    if not plan.good:
        return 0
    if plan.create_missing:
        _create_missing(plan, now)
    team_ids = dict(db.session.execute(select(Team.name_key, Team.id)).all())
    user_ids = {}
    emails = sorted({found["requester_email"] for found in plan.good})
    for start in range(0, len(emails), BATCH):
        user_ids.update(dict(db.session.execute(select(User.email, User.id).where(
            User.email.in_(emails[start:start + BATCH]))).all()))
    central = {team_id: triage.route(team_id) == "central"
               for team_id in {team_ids[name_key(found["team"])] for found in plan.good}}
    note = f"Imported from {plan.sheet.filename}, row "
    actor_id = actor.id if actor is not None else None
    new_ids = []
    queues.note_ranking_changed(db.session())
    for start in range(0, len(plan.good), BATCH):
        rows, events = [], []
        for found in plan.good[start:start + BATCH]:
            team_id = team_ids[name_key(found["team"])]
            state = found["lifecycle"]
            rows.append({
                "title": found["title"], "team_id": team_id,
                "requester_id": user_ids[found["requester_email"]],
                "data_needed": found["data_needed"], "format": found["format"],
                "usage": found["usage"], "lever_result": "", "lever_expected_shape": "",
                "lever_extraction": "", "lever_decision": "", "deadline": found["deadline"],
                "kind": found["kind"], "business_impact": found["business_impact"],
                "is_exec_sponsored": False, "exec_sponsor": "", "is_confidential": False,
                "is_short_notice": False, "is_central": central[team_id],
                "assignee_id": found["assignee_id"],
                "delivered_url": found["delivered_url"], "sla_class": "standard",
                "sla_class_is_set": False, "external_id": found["external_id"],
                "version": 1, **state.columns})
            events.append({"actor_id": actor_id, "kind": "imported", "action": None,
                           "from_state": None, "to_state": state.event["to_state"],
                           "text": note + str(found["row"]),
                           "data": {"file": plan.sheet.filename, "row": found["row"],
                                    **state.event["data"]},
                           "created_at": state.event["created_at"]})
        try:
            new_ids.extend(_write_batch(rows, events))
        except IntegrityError:
            # Only the external ids are unique here: another import wrote some of these rows
            # since they were checked.
            raise ImportRefused("Another import brought in some of these rows at the same "
                                "moment; nothing of this one was written. Import the file "
                                "again: the rows already there are skipped.") from None
        if progress is not None:
            progress(len(rows))
    connection = db.session.connection()
    search.reindex(connection, "request", new_ids)
    # The SLA clocks of the open ones (from their "imported" event), as a flush would store
    # them; other imports' rows among these ids are recomputed alike, which changes nothing.
    sla_clocks.refresh_all(now, where=(Request.id.between(min(new_ids), max(new_ids)),
                                       Request.external_id.is_not(None)))
    snapshot.rebuild()
    if connection.dialect.name == "postgresql":
        # Tens of thousands of new rows the planner's statistics do not know yet (until
        # autovacuum comes by): looking them up by external id (the next import) or listing
        # them would choose plans for the tables as they were. ANALYZE sees this transaction's
        # own rows.
        connection.execute(text("ANALYZE requests, events, search_documents"))
    plan.imported = len(new_ids)
    return len(new_ids)


def refused_rows_table(plan):
    """The refused rows as a table to fix and import again: the file's headers and a last
    column of reasons, then each refused row as it was."""
    refused = plan.refused_rows
    rows = [[*row, "; ".join(f"{problem.field}: {problem.message}" if problem.field
                             else problem.message for problem in refused[number])]
            for number, row in zip(plan.sheet.numbers, plan.sheet.rows) if number in refused]
    return [*plan.sheet.headers, "Refused because"], rows


# --- Files held between the steps of the page --------------------------------------------------

def _folder():
    """Where held files wait: beside the attachments' incoming files (instance/attachments,
    or ATTACHMENTS_FOLDER), in a folder of their own that the attachments' sweep leaves alone."""
    return os.path.join(attachments.folder(), ".imports")


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=HELD_SALT)


def hold(user, filename, data):
    """Keep an uploaded file for ``user``'s next steps under a random name in the instance
    folder (deleting those held longer than a day); return the signed token that names it
    (the client never sends a path)."""
    folder = _folder()
    stored = secrets.token_hex(16)
    try:
        os.makedirs(folder, exist_ok=True)
        sweep()
        with open(os.path.join(folder, stored), "xb") as out:
            out.write(data)
    except OSError:
        log.exception("Could not hold an import file")
        raise ImportRefused("The file could not be kept for the next step just now; nothing "
                            "was imported. Try again, and tell an administrator if it keeps "
                            "happening.", FILE_FIELD) from None
    return _serializer().dumps({"s": stored, "f": str(filename)[:200], "u": user.id})


def held(user, token):
    """(file name, bytes) of the file ``token`` holds for ``user``, or None (not theirs,
    forged, older than a day, or gone)."""
    try:
        found = _serializer().loads(token, max_age=HELD_SECONDS)
    except (BadData, TypeError):
        return None
    if (not isinstance(found, dict) or found.get("u") != getattr(user, "id", None)
            or not re.fullmatch(r"[0-9a-f]{32}", str(found.get("s")))
            or not isinstance(found.get("f"), str)):
        return None
    try:
        with open(os.path.join(_folder(), found["s"]), "rb") as stream:
            return found["f"], stream.read()
    except OSError:
        return None


def sweep(now=None):
    """Delete held files older than a day; return how many."""
    now = now or utcnow()
    folder, deleted = _folder(), 0
    if not os.path.isdir(folder):
        return 0
    for entry in os.scandir(folder):
        if entry.is_file() and entry.stat().st_mtime < now.timestamp() - HELD_SECONDS:
            try:
                os.remove(entry.path)
            except FileNotFoundError:  # another process swept it first
                continue
            deleted += 1
    return deleted

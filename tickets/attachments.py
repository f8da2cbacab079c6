"""Attachments: files on requests and comments (DESIGN.md, Conversation; issue 14).

A file is checked (``check_upload``: a plain name, an allowed type whose content does not
contradict it, not empty, not too large, from the settings ``attachment_max_mb`` and
``attachment_types``), then written under a random name to a temporary file in the attachments
folder, and its row is added to the session. The file is moved into place only when the
session's transaction commits; a rollback (or a session closed without a commit) deletes it, so
a failed commit leaves no orphan file, and a failed write raises before any row exists.
Removing an attachment keeps its row (the timeline still names the file), writes an event, and
deletes the file once that commits. ``sweep`` clears what a crash between the two left behind.

Who may see a file is who may see its request (policy.visible_attachments); who may add and
remove files is policy's too. Functions here flush; the caller commits.
"""
import hashlib
import logging
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import event as sa_event
from sqlalchemy import update
from sqlalchemy.orm import Session, joinedload

from . import settings, signals
from .errors import Conflict, Refusal
from .extensions import db
from .models import ATTACHMENT_TYPES, Attachment, Event, utcnow
from .policy import allowed, removes_attachment, visible_attachments

log = logging.getLogger(__name__)

FIELD = "files"  # the form field refusals name
MAX_FILES = 10  # files in one post
MAX_NAME_LENGTH = 150
MB = 1024 * 1024
CHUNK = 64 * 1024
HEAD = 2048  # bytes read to check that the content matches the name
INCOMING = ".incoming"  # the folder of files written but not committed yet
STALE_SECONDS = 24 * 3600  # an incoming file this old belongs to no transaction any more

# What the start of a file of each type looks like, where it is cheap to say: a name that
# promises an image, a PDF or an office document must not hold something else.
_ZIP = (b"PK\x03\x04",)
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
SIGNATURES = {
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "pdf": (b"%PDF-",),
    "xlsx": _ZIP, "docx": _ZIP, "pptx": _ZIP, "zip": _ZIP,
    "xls": _OLE, "doc": _OLE, "ppt": _OLE,
    "parquet": (b"PAR1",),
}
# Types that are text: binary content (a NUL byte, unless the text is UTF-16) contradicts them.
TEXT_TYPES = frozenset({"csv", "tsv", "txt", "json", "sql", "md"})
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
TYPE_NAMES = {"csv": "CSV", "tsv": "TSV", "txt": "text", "json": "JSON", "sql": "SQL",
              "md": "Markdown", "xlsx": "Excel", "xls": "Excel", "docx": "Word", "doc": "Word",
              "pptx": "PowerPoint", "ppt": "PowerPoint", "pdf": "PDF", "png": "PNG image",
              "jpg": "JPEG image", "jpeg": "JPEG image", "gif": "GIF image",
              "webp": "WebP image", "zip": "zip", "parquet": "Parquet"}
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class NotAllowed(Refusal):
    """The person may not add or remove this file (403)."""

    status = 403


@dataclass(frozen=True)
class Checked:
    """An upload that passed ``check_upload``: its cleaned name, extension, size in bytes and
    the Content-Type it will be served with."""

    filename: str
    extension: str
    size: int
    content_type: str


# --- Checking an upload ------------------------------------------------------------------------


def allowed_types(values=None):
    """The extensions the settings allow, sorted."""
    return list((values or settings.current())["attachment_types"])


def rules(values=None):
    """What an upload form says and the browser checks before sending: the largest file in MB
    and bytes, the types allowed, the largest post (MAX_CONTENT_LENGTH, with every field),
    the ``accept`` attribute of the file input, and a hint."""
    values = values or settings.current()
    types = allowed_types(values)
    max_mb = values["attachment_max_mb"]
    return {"max_mb": max_mb, "max_bytes": max_mb * MB, "types": types,
            "max_total_bytes": current_app.config.get("MAX_CONTENT_LENGTH") or 0,
            "max_files": MAX_FILES, "accept": ",".join(f".{ext}" for ext in types),
            "hint": f"Up to {MAX_FILES} files of at most {max_mb} MB each: "
                    + ", ".join(types) + "."}


def human_size(size):
    """A size in bytes as people read it: '812 bytes', '14 KB', '2.4 MB'."""
    if size < 1024:
        return f"{size} byte{'' if size == 1 else 's'}"
    if size < MB:
        return f"{round(size / 1024)} KB"
    return f"{size / MB:.1f} MB".replace(".0 MB", " MB")


def _shown(name):
    """A name as a message quotes it: control characters made visible, long names cut."""
    text = _CONTROL.sub("\N{REPLACEMENT CHARACTER}", name)
    return text if len(text) <= 60 else text[:57] + "\u2026"


def clean_filename(raw):
    """Return the name of an uploaded file as it is kept and shown (NFC, spaces around it
    removed), or raise a Refusal saying why it cannot be a file's name: none, folder parts
    (/ or \\), control characters (NUL included), a leading dot, too long, no extension."""
    name = unicodedata.normalize("NFC", raw or "").strip()
    if not name:
        raise Refusal("A file came without a name: choose it again.", FIELD)
    shown = _shown(name)
    if _CONTROL.search(name):
        raise Refusal(f"\u201c{shown}\u201d has control characters in its name: rename the "
                      "file and choose it again.", FIELD)
    if "/" in name or "\\" in name:
        raise Refusal(f"\u201c{shown}\u201d names folders (/ or \\): send the file under a "
                      "plain name, without its path.", FIELD)
    if name.startswith("."):
        raise Refusal(f"\u201c{shown}\u201d starts with a dot (a hidden file): rename it so "
                      "the name starts with a letter or a digit.", FIELD)
    if len(name) > MAX_NAME_LENGTH:
        raise Refusal(f"\u201c{shown}\u201d is a name of {len(name)} characters: rename the "
                      f"file to at most {MAX_NAME_LENGTH}.", FIELD)
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or not extension.strip():
        raise Refusal(f"\u201c{shown}\u201d has no type at the end of its name (such as .csv "
                      "or .png): rename it with its type.", FIELD)
    return name


def _size_of(stream):
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def _contradicts(extension, head):
    """Tell whether the first bytes of a file contradict its extension."""
    signatures = SIGNATURES.get(extension)
    if signatures is not None:
        if extension == "pdf":  # the header may follow a little garbage (PDF 1.7, 7.5.2)
            return b"%PDF-" not in head[:1024]
        return not head.startswith(signatures)
    if extension in TEXT_TYPES:
        return b"\x00" in head and not head.startswith(_UTF16_BOMS)
    return False


def check_upload(filename, stream, values=None):
    """Check one upload (its name as sent and a seekable binary ``stream``) against the rules
    and return what is kept of it (Checked), or raise a Refusal on the ``files`` field:
    a name that cannot be a file's (``clean_filename``), a type not allowed, empty, larger
    than ``attachment_max_mb``, or content that is not what its type says."""
    values = values or settings.current()
    name = clean_filename(filename)
    shown = _shown(name)
    extension = name.rpartition(".")[2].lower()
    types = allowed_types(values)
    if extension not in types:
        raise Refusal(f"\u201c{shown}\u201d: {extension} files are not allowed here. Allowed "
                      f"types: {', '.join(types)}.", FIELD)
    size = _size_of(stream)
    if size == 0:
        raise Refusal(f"\u201c{shown}\u201d is empty (0 bytes): choose the file again once it "
                      "is saved.", FIELD)
    limit = values["attachment_max_mb"] * MB
    if size > limit:
        raise Refusal(f"\u201c{shown}\u201d is {human_size(size)}: files may be at most "
                      f"{values['attachment_max_mb']} MB. Send a smaller extract, or a link to "
                      "where the whole file is.", FIELD)
    head = stream.read(HEAD)
    stream.seek(0)
    if _contradicts(extension, head):
        what = TYPE_NAMES.get(extension, extension)
        raise Refusal(f"\u201c{shown}\u201d is not a {what} file, whatever its name says: "
                      "choose the right file, or save it again in that format.", FIELD)
    return Checked(name, extension, size,
                   ATTACHMENT_TYPES.get(extension, "application/octet-stream"))


def check_uploads(uploads, values=None):
    """Check every upload ([(filename, stream)]); return their Checked, or raise one Refusal
    naming every file refused (so one post says all that is wrong)."""
    values = values or settings.current()
    if len(uploads) > MAX_FILES:
        raise Refusal(f"That is {len(uploads)} files: send at most {MAX_FILES} at a time.",
                      FIELD)
    checked, problems = [], []
    for filename, stream in uploads:
        try:
            checked.append(check_upload(filename, stream, values))
        except Refusal as refusal:
            problems.append(str(refusal))
    if problems:
        raise Refusal(" ".join(problems), FIELD)
    return checked


# --- Storing files with the transaction --------------------------------------------------------


def folder():
    """The folder attachments are kept in (ATTACHMENTS_FOLDER, default instance/attachments)."""
    return (current_app.config.get("ATTACHMENTS_FOLDER")
            or os.path.join(current_app.instance_path, "attachments"))


def path_of(attachment, base=None):
    """Where ``attachment``'s file is kept: in a sub-folder named by its random name's first
    two characters (so no folder holds every file)."""
    name = attachment.stored_name
    return os.path.join(base or folder(), name[:2], name)


_PENDING = "datadesk_attachment_files"


def _pending(session):
    """The file work waiting for this session's transaction: files to move into place and
    files to delete once it commits."""
    return session.info.setdefault(_PENDING, {"move": [], "delete": []})


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session):
    """The transaction committed: move its new files into place and delete its removed ones."""
    if session.in_nested_transaction():
        return  # a savepoint: the transaction around it decides
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    for temp, final in pending["move"]:
        try:
            os.makedirs(os.path.dirname(final), exist_ok=True)
            os.replace(temp, final)
        except OSError:
            log.exception("Could not move the committed attachment %s into place", final)
    for path in pending["delete"]:
        _unlink(path)


@sa_event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session, transaction):
    """The transaction ended without a commit (rolled back, or the session closed): delete
    the files it wrote; the removals it asked for do not happen."""
    if transaction.parent is not None:
        return
    pending = session.info.pop(_PENDING, None)
    if pending:
        for temp, _ in pending["move"]:
            _unlink(temp)


def _unlink(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    except OSError:
        log.exception("Could not delete the attachment file %s", path)


def _write_incoming(stream, limit, base):
    """Copy ``stream`` to a new file under a random name in the incoming folder; return
    (random name, its path, size, sha256). Nothing is left behind when it fails."""
    incoming = os.path.join(base, INCOMING)
    os.makedirs(incoming, exist_ok=True)
    stored = secrets.token_hex(16)
    temp = os.path.join(incoming, stored + ".part")
    digest, size = hashlib.sha256(), 0
    stream.seek(0)
    try:
        with open(temp, "xb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise Refusal("A file grew past the size limit while it was read: send "
                                  "it again.", FIELD)
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        _unlink(temp)
        raise
    return stored, temp, size, digest.hexdigest()


def attach(request, actor, uploads, now=None, event=None, note="", values=None, release=()):
    """Attach ``uploads`` ([(filename, binary stream)]) to ``request`` by ``actor``; return the
    new Attachment rows (none when there is nothing to attach).

    ``event`` is what brings them (the request's creation, a comment); without one, an
    "attached" event is written with ``note``. Every file is checked before any is written
    (one Refusal names all that is wrong). A file that cannot be written raises a Refusal and
    leaves no row; each is moved into place when the transaction commits
    (``signals.attachments_added`` is sent once the rows are flushed). ``release``: the Held
    files among the uploads, deleted once the copies attached now are committed.
    """
    if not uploads:
        return []
    now = now or utcnow()
    if actor is not None and not allowed(actor, "attach", request):
        raise NotAllowed("You may not add files to this request.")
    values = values or settings.current()
    checked = check_uploads(uploads, values)
    base = folder()
    if event is None:
        event = Event(request=request, actor=actor, kind="attached", text=(note or "").strip(),
                      data={"files": [item.filename for item in checked]}, created_at=now)
        db.session.add(event)
    pending = _pending(db.session())
    added = []
    for item, (_, stream) in zip(checked, uploads):
        try:
            stored, temp, size, sha256 = _write_incoming(stream, item.size, base)
        except OSError:
            log.exception("Could not write an attachment of request %s", request.id)
            raise Refusal("The files could not be stored just now; nothing was saved. Try "
                          "again, and tell an administrator if it keeps happening.", FIELD)
        attachment = Attachment(request=request, event=event, uploader=actor,
                                filename=item.filename, stored_name=stored, size=size,
                                content_type=item.content_type, sha256=sha256, created_at=now)
        pending["move"].append((temp, path_of(attachment, base)))
        db.session.add(attachment)
        added.append(attachment)
    db.session.flush()
    release_after_commit(release or ())
    signals.attachments_added.send(request, event=event, attachments=tuple(added), now=now)
    return added


def remove(attachment, actor, now=None):
    """Remove ``attachment`` (its uploader while the request is open, or a lead): mark its row
    removed, write an "attachment_removed" event, and delete the file once that commits.
    Returns the event. Two removals at once: the second is told it was already removed."""
    now = now or utcnow()
    if attachment.is_removed:
        raise Conflict(f"\u201c{attachment.filename}\u201d was already removed.")
    if not removes_attachment(actor, attachment):
        raise NotAllowed("You may not remove this file.")
    # A conditional UPDATE: of two removals at the same moment, one changes the row.
    done = db.session.execute(
        update(Attachment).where(Attachment.id == attachment.id, Attachment.removed_at.is_(None))
        .values(removed_at=now, removed_by_id=actor.id if actor else None)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict(f"\u201c{attachment.filename}\u201d was already removed by someone else.")
    db.session.expire(attachment, ["removed_at", "removed_by_id", "removed_by"])
    event = Event(request=attachment.request, actor=actor, kind="attachment_removed",
                  data={"attachment_id": attachment.id, "filename": attachment.filename},
                  created_at=now)
    db.session.add(event)
    db.session.flush()
    _pending(db.session())["delete"].append(path_of(attachment))
    return event


# --- Files held between two posts of a form ---------------------------------------------------
#
# A form sent back with an error elsewhere (or the intake's "check before you submit" step)
# cannot give the browser its files back: the files that passed are held in the incoming folder
# instead, each named by a token signed for the person (its own salt), and the form shows them
# as kept. The next post brings the tokens; the held files are attached from there and deleted
# once that commits. ``sweep`` deletes those never posted again.

HELD_SALT = "datadesk-held-upload"
HELD_SECONDS = 24 * 3600


def _held_serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=HELD_SALT)


@dataclass(frozen=True)
class Held:
    """A file held for ``user_id`` between two posts: its token, name, size and path."""

    token: str
    filename: str
    size: int
    path: str

    @property
    def size_text(self):
        return human_size(self.size)


def hold(user, filename, stream, values=None):
    """Hold an upload that passed its checks for ``user``'s next post of the same form;
    return it as Held (None when it fails its checks: the form says why)."""
    values = values or settings.current()
    try:
        item = check_upload(filename, stream, values)
        stored, path, size, _ = _write_incoming(stream, item.size, folder())
    except (Refusal, OSError):
        return None
    token = _held_serializer().dumps({"s": stored, "f": item.filename, "u": user.id})
    return Held(token, item.filename, size, path)


def held(user, token, now=None):
    """The file ``token`` holds for ``user``, or None (not theirs, forged, older than a day,
    or gone)."""
    now = now or utcnow()
    try:
        found, signed_at = _held_serializer().loads(token, max_age=HELD_SECONDS,
                                                    return_timestamp=True)
    except BadData:
        return None
    if (not isinstance(found, dict) or found.get("u") != getattr(user, "id", None)
            or not re.fullmatch(r"[0-9a-f]{32}", str(found.get("s")))
            or not isinstance(found.get("f"), str)
            or (now - signed_at).total_seconds() > HELD_SECONDS):
        return None
    path = os.path.join(folder(), INCOMING, found["s"] + ".part")
    try:
        size = os.path.getsize(path)
    except OSError:
        return None
    return Held(token, found["f"], size, path)


def release_after_commit(held_files):
    """Delete ``held_files`` once the transaction that attached copies of them commits."""
    _pending(db.session())["delete"].extend(item.path for item in held_files)


# --- Reading -----------------------------------------------------------------------------------


def of_request(request, viewer):
    """Every attachment of ``request`` that ``viewer`` may see, removed ones included (the
    timeline names them), oldest first, with their uploaders: one SQL statement."""
    return db.session.scalars(
        db.select(Attachment).where(Attachment.request_id == request.id,
                                    visible_attachments(viewer))
        .options(joinedload(Attachment.uploader), joinedload(Attachment.removed_by))
        .order_by(Attachment.id)).all()


def by_event(attachments):
    """{event id: [attachments]} of ``attachments``, for the timeline."""
    grouped = {}
    for attachment in attachments:
        grouped.setdefault(attachment.event_id, []).append(attachment)
    return grouped


def get_visible(attachment_id, viewer):
    """The attachment ``attachment_id`` if ``viewer`` may see it and it is not removed, with
    its request; else None (the caller answers 404 either way: existence is not revealed)."""
    return db.session.scalar(
        db.select(Attachment).where(Attachment.id == attachment_id,
                                    Attachment.removed_at.is_(None),
                                    visible_attachments(viewer))
        .options(joinedload(Attachment.request)))


def sweep(now=None, base=None):
    """Delete files no committed row keeps: incoming files older than a day (a process that
    died between writing and committing) and stored files whose row is gone or removed.
    Returns how many were deleted."""
    now = now or utcnow()
    base = base or folder()
    if not os.path.isdir(base):
        return 0
    cutoff = now.timestamp() - STALE_SECONDS
    deleted = 0
    incoming = os.path.join(base, INCOMING)
    if os.path.isdir(incoming):
        for entry in os.scandir(incoming):
            if entry.is_file() and entry.stat().st_mtime < cutoff:
                _unlink(entry.path)
                deleted += 1
    kept = set(db.session.scalars(db.select(Attachment.stored_name)
                                  .where(Attachment.removed_at.is_(None))))
    for sub in os.scandir(base):
        if not sub.is_dir() or sub.name == INCOMING or len(sub.name) != 2:
            continue
        for entry in os.scandir(sub.path):
            # Only files older than a day: a file moved into place a moment ago may belong to
            # a commit this process has not seen the row of.
            if (entry.is_file() and entry.name not in kept
                    and entry.stat().st_mtime < cutoff):
                _unlink(entry.path)
                deleted += 1
    return deleted

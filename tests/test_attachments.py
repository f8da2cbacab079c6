"""Attachments (issue 14, item 4): files on requests and comments, posted as real multipart
bodies, stored under random names with the transaction, refused with field messages, served
only to people who may see the request, removed with an event."""
import hashlib
import io
import os
import re
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.test_intake import answers
from tickets import attachments, settings
from tickets.extensions import db
from tickets.models import Attachment, Event, Request, User, utcnow

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(40))
CSV = b"region,week,churned\nnorth,1,12\nsouth,1,31\n"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
XLSX = b"PK\x03\x04" + bytes(60)


@pytest.fixture(autouse=True)
def folder(app, tmp_path):
    """Each test keeps its files in a folder of its own."""
    saved = app.config["ATTACHMENTS_FOLDER"]
    app.config["ATTACHMENTS_FOLDER"] = str(tmp_path / "attachments")
    yield tmp_path / "attachments"
    app.config["ATTACHMENTS_FOLDER"] = saved


@pytest.fixture
def desk(make):
    """Marketing (requester, a colleague, its analyst), Finance (a requester), a lead, an
    admin, and a submitted Marketing request."""
    marketing, finance = make.team("Marketing"), make.team("Finance")
    desk = SimpleNamespace(
        marketing=marketing, finance=finance,
        requester=make.user("requester", teams=[marketing], name="Rita Requester"),
        colleague=make.user("requester", teams=[marketing], name="Carl Colleague"),
        analyst=make.user("analyst", teams=[marketing], name="Ana Analyst"),
        outsider=make.user("requester", teams=[finance], name="Fred Finance"),
        lead=make.user("lead", name="Leo Lead"),
        admin=make.user("admin", name="Ada Admin"),
    )
    desk.request = make.request(desk.requester, marketing)
    return desk


def files(*pairs):
    """Files as the test client posts them: (bytes, name) pairs."""
    return [(io.BytesIO(content), name) for content, name in pairs]


def post_files(auth, path, data=None, uploads=(), field="files"):
    """POST ``data`` with ``uploads`` under ``field`` as multipart/form-data, with CSRF."""
    body = MultiDict({"csrf_token": auth.token, **(data or {})})
    for content, name in uploads:
        body.add(field, FileStorage(io.BytesIO(content), filename=name,
                                    content_type="application/octet-stream"))
    # Encoded here, in memory: the test client spools a large body to a temporary file it
    # leaves open when the app refuses the body unread.
    boundary, encoded = encode_multipart(body)
    return auth.client.post(path, data=encoded,
                            content_type=f"multipart/form-data; boundary={boundary}")


def rows(app, model=Attachment):
    with app.app_context():
        found = db.session.scalars(select(model).order_by(model.id)).all()
        for row in found:
            db.session.expunge(row)
        return found


def files_on_disk(folder):
    """Every file under the attachments folder, as paths relative to it."""
    if not folder.exists():
        return []
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def stored_files(folder):
    """The files moved into place (not the incoming ones)."""
    return [path for path in files_on_disk(folder) if not path.startswith(".incoming")]


def download(client, attachment_id):
    """GET a download and read it whole (the response's file closed)."""
    with client.get(f"/attachments/{attachment_id}") as response:
        response.body = response.get_data()
        return response


def attach_directly(app, request_id, user_id, pairs, now=None):
    """Attach files through the domain, committed; return their ids."""
    with app.app_context():
        req = db.session.get(Request, request_id)
        user = db.session.get(User, user_id) if user_id else None
        added = attachments.attach(req, user, [(name, io.BytesIO(content))
                                               for content, name in pairs], now or utcnow())
        db.session.commit()
        return [item.id for item in added]


def set_rules(app, **changes):
    with app.app_context():
        settings.update(changes, None, utcnow())
        db.session.commit()


# --- Adding files ---------------------------------------------------------------------------------

def test_intake_with_files_keeps_them_under_random_names_on_the_created_event(
        app, auth, desk, folder):
    auth.login(desk.requester)
    response = post_files(auth, "/requests/new", answers(desk, title="Churn with a sample"),
                          [(CSV, "sample churn.csv"), (PNG, "current report.png")])
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    found = rows(app)
    assert [(a.filename, a.size, a.content_type) for a in found] == [
        ("sample churn.csv", len(CSV), "text/csv"), ("current report.png", len(PNG), "image/png")]
    assert found[0].sha256 == hashlib.sha256(CSV).hexdigest()
    assert all(a.uploader_id == desk.requester for a in found)
    with app.app_context():
        event = db.session.get(Event, found[0].event_id)
        assert event.kind == "created" and event.request.title == "Churn with a sample"
    for attachment in found:
        assert re.fullmatch(r"[0-9a-f]{32}", attachment.stored_name)
        path = folder / attachment.stored_name[:2] / attachment.stored_name
        assert path.read_bytes() in (CSV, PNG)
    assert files_on_disk(folder) == sorted(
        f"{a.stored_name[:2]}/{a.stored_name}" for a in found)  # nothing left incoming
    page = auth.client.get(response.location).get_data(as_text=True)
    for attachment in found:
        assert f'href="/attachments/{attachment.id}"' in page
    assert "sample churn.csv" in page and "current report.png" in page


def test_a_comment_carries_several_files_at_once(app, auth, desk):
    auth.login(desk.analyst)
    response = post_files(auth, f"/requests/{desk.request}/comments",
                          {"text": "Here is what I found so far."},
                          [(CSV, "first cut.csv"), (XLSX, "pivot.xlsx"), (PDF, "notes.pdf")])
    assert response.status_code == 302
    found = rows(app)
    assert [a.filename for a in found] == ["first cut.csv", "pivot.xlsx", "notes.pdf"]
    with app.app_context():
        event = db.session.get(Event, found[0].event_id)
        assert (event.kind, event.text) == ("comment", "Here is what I found so far.")
    assert len({a.event_id for a in found}) == 1
    page = auth.client.get(f"/requests/{desk.request}").get_data(as_text=True)
    timeline = page[page.index('id="timeline"'):]
    assert timeline.index("Here is what I found so far.") < timeline.index("first cut.csv")


def test_files_added_on_the_request_page_make_an_attached_event_with_the_note(app, auth, desk):
    auth.login(desk.requester)
    response = post_files(auth, f"/requests/{desk.request}/attachments",
                          {"files-note": "The export we use today."}, [(CSV, "today.csv")],
                          field="files-files")
    assert response.status_code == 302
    assert response.location.endswith(f"/requests/{desk.request}#attachments")
    (attachment,) = rows(app)
    with app.app_context():
        event = db.session.get(Event, attachment.event_id)
        assert (event.kind, event.text, event.data) == (
            "attached", "The export we use today.", {"files": ["today.csv"]})
    page = auth.client.get(f"/requests/{desk.request}").get_data(as_text=True)
    assert "attached a file" in page and "\u201ctoday.csv\u201d is attached." in page


def test_the_edit_form_adds_files_without_changing_anything_else(app, auth, desk):
    auth.login(desk.requester)
    with app.app_context():
        version = db.session.get(Request, desk.request).version
    data = answers(desk, version=str(version))
    del data["watchers"]
    response = post_files(auth, f"/requests/{desk.request}/edit", data, [(PNG, "mock-up.png")])
    assert response.status_code == 302
    (attachment,) = rows(app)
    with app.app_context():
        kinds = [e.kind for e in db.session.get(Request, desk.request).events]
    assert kinds == ["created", "attached"]
    page = auth.client.get(f"/requests/{desk.request}").get_data(as_text=True)
    assert "\u201cmock-up.png\u201d is attached; nothing else was changed." in page


def test_an_empty_file_input_attaches_nothing(app, auth, desk):
    auth.login(desk.requester)
    response = auth.client.post(
        f"/requests/{desk.request}/comments", content_type="multipart/form-data",
        data={"csrf_token": auth.token, "text": "No files", "files": (io.BytesIO(b""), "")})
    assert response.status_code == 302
    assert rows(app) == []


def test_text_posted_as_the_files_field_is_no_file(app, auth, desk):
    auth.login(desk.requester)
    response = auth.post(f"/requests/{desk.request}/comments",
                         data={"text": "Just words", "files": "../../etc/passwd"})
    assert response.status_code == 302
    assert rows(app) == []


# --- Refusals -------------------------------------------------------------------------------------

REFUSED = [
    pytest.param((b"x" * (1024 * 1024 + 1), "big.csv"), "is 1 MB: files may be at most 1 MB",
                 id="too-large"),
    pytest.param((b"MZ\x90\x00", "tool.exe"), "exe files are not allowed here", id="blocked-type"),
    pytest.param((b"<h1>hi</h1>", "page.html"), "html files are not allowed here", id="html"),
    pytest.param((b"a,b\n", "data.ods"), "ods files are not allowed here", id="not-listed"),
    pytest.param((b"", "empty.csv"), "is empty (0 bytes)", id="empty"),
    pytest.param((CSV, "../secrets.csv"), "names folders (/ or \\)", id="dot-dot"),
    pytest.param((CSV, "a/b.csv"), "names folders (/ or \\)", id="slash"),
    pytest.param((CSV, "a\x00.csv"), "has control characters in its name", id="nul"),
    pytest.param((CSV, ".hidden.csv"), "starts with a dot", id="leading-dot"),
    pytest.param((CSV, "x" * 147 + ".csv"), "is a name of 151 characters", id="overlong"),
    pytest.param((CSV, "README"), "has no type at the end of its name", id="no-extension"),
    pytest.param((b"just text, not an image", "shot.png"), "is not a PNG image file",
                 id="png-that-is-text"),
    pytest.param((b"hello", "report.pdf"), "is not a PDF file", id="pdf-that-is-text"),
    pytest.param((CSV, "book.xlsx"), "is not a Excel file", id="xlsx-that-is-text"),
    pytest.param((PNG, "numbers.csv"), "is not a CSV file", id="csv-that-is-binary"),
]


@pytest.mark.parametrize("upload, message", REFUSED)
def test_intake_refuses_a_bad_file_with_a_field_message_keeping_the_form(
        app, auth, desk, errors, folder, upload, message):
    set_rules(app, attachment_max_mb=1)
    auth.login(desk.requester)
    response = post_files(auth, "/requests/new",
                          answers(desk, title="Kept title", data_needed="Kept words."), [upload])
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in errors(response)["files"]
    assert 'value="Kept title"' in page and "Kept words." in page
    with app.app_context():
        assert db.session.scalars(select(Request.title)).all() == ["Weekly churn by region"]
    assert rows(app) == []
    assert stored_files(folder) == []


def raw_upload(auth, path, text, disposition, content=CSV):
    """POST a comment with one file whose Content-Disposition parameters are written by hand
    (as a browser or a script may send them), in a multipart body built byte by byte."""
    boundary = "----DatadeskTestBoundary7MA4YWxkTrZu0gW"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
             f"{auth.token}\r\n",
             f'--{boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\n{text}\r\n',
             f'--{boundary}\r\nContent-Disposition: form-data; name="files"; {disposition}\r\n'
             "Content-Type: application/octet-stream\r\n\r\n"]
    body = "".join(parts).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return auth.client.post(path, data=body,
                            content_type=f"multipart/form-data; boundary={boundary}")


@pytest.mark.parametrize("disposition, message", [
    ('filename="a\\\\b.csv"', "names folders (/ or \\)"),
    ('filename="C:\\\\Users\\\\rita\\\\b.csv"', "names folders (/ or \\)"),
    ("filename*=UTF-8''..%2F..%2Fetc%2Fpasswd.csv", "names folders (/ or \\)"),
    ("filename*=UTF-8''a%5Cb.csv", "names folders (/ or \\)"),
    ("filename*=UTF-8''a%00b.csv", "has control characters in its name"),
    ("filename*=UTF-8''%2Eenv.csv", "starts with a dot"),
])
def test_names_with_path_parts_written_by_hand_are_refused(app, auth, desk, errors,
                                                           disposition, message):
    auth.login(desk.requester)
    response = raw_upload(auth, f"/requests/{desk.request}/comments", "A file", disposition)
    assert response.status_code == 400
    assert message in errors(response)["files"]
    assert rows(app) == []


def test_a_comment_of_an_older_page_sent_to_a_question_keeps_its_text_and_file_errors(
        app, auth, desk, make, errors):
    """The request waits on the requester now, so the page shows the reply box, which takes
    no files: the comment's text goes there, its file errors and good files to "add files"."""
    make.act(desk.request, "ask", desk.analyst, note="Which regions?")
    auth.login(desk.requester)
    response = post_files(auth, f"/requests/{desk.request}/comments", {"text": "North only"},
                          [(CSV, "good.csv"), (b"MZ", "tool.exe")])
    assert response.status_code == 400
    found = errors(response)
    assert "exe files are not allowed" in found["files-files"]
    page = response.get_data(as_text=True)
    assert re.search(r'<textarea[^>]*name="reply-text"[^>]*>\s*North only</textarea>', page)
    assert 'class="collapse show" id="add-files"' in page
    assert "Kept from your last try" in page and "good.csv" in page
    assert rows(app) == [] and make.state(desk.request) == "needs_info"


def test_a_control_character_in_a_file_name_of_a_reply_by_comment_is_named(
        app, auth, desk, make, errors):
    make.act(desk.request, "ask", desk.analyst, note="Which regions?")
    auth.login(desk.requester)
    response = raw_upload(auth, f"/requests/{desk.request}/comments", "North only",
                          "filename*=UTF-8''a%00b.csv")
    assert response.status_code == 400
    assert "has control characters in its name" in errors(response)["files-files"]
    assert make.state(desk.request) == "needs_info"


def test_every_refused_file_of_a_post_is_named_and_none_is_attached(app, auth, desk, errors):
    auth.login(desk.requester)
    response = post_files(auth, f"/requests/{desk.request}/comments", {"text": "Three files"},
                          [(CSV, "good.csv"), (b"", "empty.csv"), (b"MZ", "tool.exe")])
    assert response.status_code == 400
    message = errors(response)["files"]
    assert "\u201cempty.csv\u201d is empty" in message and "exe files are not allowed" in message
    assert "good.csv\u201d" not in message
    assert rows(app) == [] and rows(app, Event)[-1].kind == "created"
    assert "Three files" in response.get_data(as_text=True)  # the comment is kept


def test_more_than_ten_files_at_once_are_refused(app, auth, desk, errors):
    auth.login(desk.requester)
    response = post_files(auth, f"/requests/{desk.request}/comments", {"text": "Many"},
                          [(CSV, f"part {n}.csv") for n in range(11)])
    assert response.status_code == 400
    assert errors(response)["files"] == "Send at most 10 files at a time."


def test_a_utf16_text_file_is_text_and_a_pdf_may_start_after_a_little_garbage(app, auth, desk):
    auth.login(desk.requester)
    response = post_files(auth, f"/requests/{desk.request}/comments", {"text": "Exports"},
                          [("a,b\n1,2\n".encode("utf-16"), "excel unicode.csv"),
                           (b"\r\n" + PDF, "scan.pdf")])
    assert response.status_code == 302
    assert len(rows(app)) == 2


def test_a_body_past_the_largest_post_gets_a_page_that_says_so(app, auth, desk):
    auth.login(desk.requester)
    saved = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 4096
    try:
        response = post_files(auth, f"/requests/{desk.request}/comments", {"text": "Big"},
                              [(b"x" * 8000, "big.csv")])
    finally:
        app.config["MAX_CONTENT_LENGTH"] = saved
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "That was too much to send at once" in page
    assert "attach fewer or smaller files" in page
    assert rows(app) == []


def test_the_forms_tell_the_limits_before_anything_is_sent(app, auth, desk):
    set_rules(app, attachment_max_mb=5, attachment_types=["csv", "png"])
    auth.login(desk.requester)
    for path in ("/requests/new", f"/requests/{desk.request}/edit", f"/requests/{desk.request}"):
        page = auth.client.get(path).get_data(as_text=True)
        assert 'enctype="multipart/form-data"' in page, path
        assert 'accept=".csv,.png"' in page, path
        assert f'data-max-bytes="{5 * 1024 * 1024}"' in page, path
        assert "Up to 10 files of at most 5 MB each: csv, png." in page, path


# --- Files held between two posts -----------------------------------------------------------------

def test_files_of_a_post_refused_for_another_field_are_kept_for_the_next_one(
        app, auth, desk, errors, folder):
    auth.login(desk.requester)
    response = post_files(auth, "/requests/new", answers(desk, title=""),
                          [(CSV, "sample.csv")])
    assert response.status_code == 400
    assert set(errors(response)) == {"title"}
    page = response.get_data(as_text=True)
    assert "Kept from your last try" in page and "sample.csv" in page
    token = re.search(r'name="held" value="([^"]+)"', page).group(1)
    assert rows(app) == []
    response = auth.post("/requests/new", data={**answers(desk, title="Second try"),
                                                "held": token})
    assert response.status_code == 302
    (attachment,) = rows(app)
    assert (attachment.filename, attachment.size) == ("sample.csv", len(CSV))
    assert files_on_disk(folder) == [f"{attachment.stored_name[:2]}/{attachment.stored_name}"]


def test_a_held_file_is_only_its_uploaders(app, auth, desk):
    auth.login(desk.requester)
    page = post_files(auth, f"/requests/{desk.request}/comments", {"text": ""},
                      [(CSV, "mine.csv")]).get_data(as_text=True)
    token = re.search(r'name="held" value="([^"]+)"', page).group(1)
    auth.logout()
    auth.login(desk.colleague)
    response = auth.post(f"/requests/{desk.request}/comments",
                         data={"text": "Taking it", "held": token})
    assert response.status_code == 302
    assert rows(app) == []
    response = auth.post(f"/requests/{desk.request}/comments",
                         data={"text": "Forged", "held": token[:-3] + "abc"})
    assert response.status_code == 302
    assert rows(app) == []


def test_the_check_before_you_submit_step_keeps_the_files(app, auth, desk, make):
    delivered = make.request(desk.requester, desk.marketing, title="Weekly churn by region")
    make.act(delivered, "accept", desk.analyst, size="S")
    make.act(delivered, "claim", desk.analyst)
    make.act(delivered, "deliver", desk.analyst, url="https://bi.example.com/churn",
             note="Done")
    auth.login(desk.requester)
    response = post_files(auth, "/requests/new", answers(desk), [(CSV, "sample.csv")])
    page = response.get_data(as_text=True)
    assert "Check before you submit" in page
    token = re.search(r'name="held" value="([^"]+)"', page).group(1)
    seen = re.search(r'name="suggestions_seen" type="hidden" value="([^"]+)"', page).group(1)
    response = auth.post("/requests/new", data={**answers(desk), "held": token,
                                                "suggestions_seen": seen})
    assert response.status_code == 302
    assert [a.filename for a in rows(app)] == ["sample.csv"]


# --- Downloads ------------------------------------------------------------------------------------

def test_a_download_is_an_attachment_with_a_safe_type_nosniff_and_a_closed_csp(app, client,
                                                                               auth, desk):
    (png_id, csv_id) = attach_directly(app, desk.request, desk.requester,
                                       [(PNG, "Résumé “Q3” €.png"), (CSV, 'plain "name".csv')])
    auth.login(desk.requester)
    response = download(client, png_id)
    assert response.status_code == 200
    assert response.body == PNG
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"Resume Q3 .png\"; "
        "filename*=UTF-8''R%C3%A9sum%C3%A9%20%E2%80%9CQ3%E2%80%9D%20%E2%82%AC.png")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'; sandbox")
    assert "no-store" in response.headers["Cache-Control"]
    response = download(client, csv_id)
    assert response.body == CSV
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"plain _name_.csv\"; filename*=UTF-8''plain%20%22name%22.csv")


def test_the_type_served_is_the_extensions_not_what_the_browser_claimed(app, client, auth, desk):
    auth.login(desk.requester)
    response = auth.client.post(
        f"/requests/{desk.request}/comments", content_type="multipart/form-data",
        data={"csrf_token": auth.token, "text": "Screenshot",
              "files": (io.BytesIO(PNG), "shot.png", "text/html")})
    assert response.status_code == 302
    (attachment,) = rows(app)
    assert attachment.content_type == "image/png"
    assert download(client, attachment.id).headers["Content-Type"] == "image/png"


@pytest.mark.parametrize("who, confidential, status", [
    ("requester", False, 200), ("colleague", False, 200), ("analyst", False, 200),
    ("lead", False, 200), ("admin", False, 200), ("outsider", False, 404),
    ("requester", True, 200), ("lead", True, 200), ("colleague", True, 404),
    ("analyst", True, 404), ("outsider", True, 404),
])
def test_only_people_who_may_see_the_request_download_its_files(
        app, client, auth, desk, make, who, confidential, status):
    request_id = make.request(desk.requester, desk.marketing, is_confidential=confidential)
    (attachment_id,) = attach_directly(app, request_id, desk.requester, [(CSV, "rows.csv")])
    auth.login(getattr(desk, who))
    response = download(client, attachment_id)
    assert response.status_code == status
    page = auth.client.get(f"/requests/{request_id}")
    assert (page.status_code == 200) == (status == 200)
    missing = download(client, 2147483647)
    assert missing.status_code == 404
    if status == 404:  # the same answer as for a file that does not exist (but the tokens)
        token = rb'name="csrf_token" value="[^"]+"'
        assert re.sub(token, b"", response.body) == re.sub(token, b"", missing.body)


def test_an_anonymous_visitor_is_sent_to_log_in_and_gets_no_file(app, client, desk):
    (attachment_id,) = attach_directly(app, desk.request, desk.requester, [(CSV, "rows.csv")])
    response = client.get(f"/attachments/{attachment_id}")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")
    assert CSV not in response.get_data()


def test_the_assigned_analyst_of_a_confidential_request_downloads_its_files(
        app, client, auth, desk, make):
    request_id = make.request(desk.requester, desk.marketing, is_confidential=True)
    make.act(request_id, "accept", desk.lead, size="S")
    make.act(request_id, "assign", desk.lead, assignee=desk.analyst)
    (attachment_id,) = attach_directly(app, request_id, desk.requester, [(CSV, "rows.csv")])
    auth.login(desk.analyst)
    assert download(client, attachment_id).status_code == 200


def test_a_missing_file_on_disk_is_not_found_not_a_crash(app, client, auth, desk, folder):
    (attachment_id,) = attach_directly(app, desk.request, desk.requester, [(CSV, "rows.csv")])
    for path in folder.rglob("*"):
        if path.is_file():
            path.unlink()
    auth.login(desk.requester)
    assert download(client, attachment_id).status_code == 404


# --- Removing -------------------------------------------------------------------------------------

def test_the_uploader_removes_a_file_while_the_request_is_open(app, client, auth, desk, folder):
    (attachment_id,) = attach_directly(app, desk.request, desk.requester, [(CSV, "wrong.csv")])
    assert len(stored_files(folder)) == 1
    auth.login(desk.requester)
    response = auth.post(f"/attachments/{attachment_id}/remove")
    assert response.status_code == 302 and response.location.endswith("#attachments")
    (attachment,) = rows(app)
    assert attachment.removed_at is not None and attachment.removed_by_id == desk.requester
    event = rows(app, Event)[-1]
    assert (event.kind, event.data) == ("attachment_removed",
                                        {"attachment_id": attachment_id, "filename": "wrong.csv"})
    assert stored_files(folder) == []
    assert download(client, attachment_id).status_code == 404
    page = auth.client.get(f"/requests/{desk.request}").get_data(as_text=True)
    assert "removed the file" in page and "<del>wrong.csv</del>" in page
    assert f'href="/attachments/{attachment_id}"' not in page


@pytest.mark.parametrize("who, delivered, status", [
    ("colleague", False, 403), ("analyst", False, 403), ("outsider", False, 404),
    ("requester", True, 403), ("lead", True, 302), ("lead", False, 302),
])
def test_who_may_remove_a_file(app, auth, desk, make, who, delivered, status, folder):
    (attachment_id,) = attach_directly(app, desk.request, desk.requester, [(CSV, "rows.csv")])
    if delivered:
        make.act(desk.request, "accept", desk.analyst, size="S")
        make.act(desk.request, "claim", desk.analyst)
        make.act(desk.request, "deliver", desk.analyst, url="https://bi.example.com/x", note="n")
    auth.login(getattr(desk, who))
    page = auth.client.get(f"/requests/{desk.request}").get_data(as_text=True)
    assert (f"/attachments/{attachment_id}/remove" in page) == (status == 302)
    response = auth.post(f"/attachments/{attachment_id}/remove")
    assert response.status_code == status
    assert (rows(app)[0].removed_at is not None) == (status == 302)
    assert len(stored_files(folder)) == (0 if status == 302 else 1)


def test_a_file_removed_twice_says_it_was_already_removed(app, auth, desk):
    (attachment_id,) = attach_directly(app, desk.request, desk.requester, [(CSV, "rows.csv")])
    auth.login(desk.lead)
    assert auth.post(f"/attachments/{attachment_id}/remove").status_code == 302
    response = auth.post(f"/attachments/{attachment_id}/remove")
    assert response.status_code == 302
    page = auth.client.get(response.location).get_data(as_text=True)
    assert "\u201crows.csv\u201d was already removed." in page
    assert [e.kind for e in rows(app, Event)].count("attachment_removed") == 1


def test_two_removals_at_the_same_moment_make_one_event(app, desk):
    (attachment_id,) = attach_directly(app, desk.request, desk.requester, [(CSV, "rows.csv")])
    with app.app_context():
        lead = db.session.get(User, desk.lead)
        stale = db.session.get(Attachment, attachment_id)
        stale.request  # loaded before the other removal commits
        with app.app_context():  # another request, its own session
            attachments.remove(db.session.get(Attachment, attachment_id),
                               db.session.get(User, desk.lead), utcnow())
            db.session.commit()
        with pytest.raises(attachments.Conflict, match="already removed by someone else"):
            attachments.remove(stale, lead, utcnow())
        db.session.rollback()
    assert [e.kind for e in rows(app, Event)].count("attachment_removed") == 1


def test_files_on_a_closed_request_cannot_be_added(app, auth, desk, make):
    make.act(desk.request, "cancel", desk.requester, note="Not needed")
    auth.login(desk.requester)
    page = auth.client.get(f"/requests/{desk.request}").get_data(as_text=True)
    assert "Add files" not in page
    response = post_files(auth, f"/requests/{desk.request}/attachments", {},
                          [(CSV, "late.csv")], field="files-files")
    assert response.status_code == 403
    assert rows(app) == []


# --- Files and the transaction --------------------------------------------------------------------

def test_a_rolled_back_transaction_leaves_no_file(app, desk, folder):
    with app.app_context():
        req = db.session.get(Request, desk.request)
        attachments.attach(req, db.session.get(User, desk.requester),
                           [("rows.csv", io.BytesIO(CSV))], utcnow())
        assert len(files_on_disk(folder)) == 1  # written, not yet in place
        db.session.rollback()
    assert files_on_disk(folder) == []
    assert rows(app) == []


def test_a_session_closed_without_a_commit_leaves_no_file(app, desk, folder):
    with app.app_context():
        req = db.session.get(Request, desk.request)
        attachments.attach(req, db.session.get(User, desk.requester),
                           [("rows.csv", io.BytesIO(CSV))], utcnow())
    assert files_on_disk(folder) == []


def test_a_failed_commit_leaves_no_orphan_file(app, desk, folder):
    with app.app_context():
        req = db.session.get(Request, desk.request)
        attachments.attach(req, db.session.get(User, desk.requester),
                           [("rows.csv", io.BytesIO(CSV))], utcnow())
        # A second request by nobody: the commit's flush fails on the NOT NULL requester.
        db.session.add(Request(title="Broken", team_id=desk.marketing, data_needed="x",
                               format="spreadsheet", usage="x", lever_result="x",
                               lever_expected_shape="x", lever_extraction="x",
                               lever_decision="x", requester_id=None))
        with pytest.raises(Exception):
            db.session.commit()
        db.session.rollback()
    assert files_on_disk(folder) == []
    assert rows(app) == []


def test_a_failed_file_write_leaves_no_row_and_says_so(app, auth, desk, errors, folder):
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("a file where the folder should be")
    auth.login(desk.requester)
    response = post_files(auth, "/requests/new", answers(desk, title="Not saved"),
                          [(CSV, "rows.csv")])
    assert response.status_code == 400
    assert "could not be stored just now; nothing was saved" in errors(response)["files"]
    with app.app_context():
        assert db.session.scalars(select(Request.title)).all() == ["Weekly churn by region"]
    assert rows(app) == []


def test_sweep_deletes_what_no_committed_row_keeps(app, desk, folder):
    (kept_id,) = attach_directly(app, desk.request, desk.requester, [(CSV, "kept.csv")])
    (incoming := folder / ".incoming").mkdir(exist_ok=True)
    (incoming / "old.part").write_bytes(b"x")
    (incoming / "new.part").write_bytes(b"x")
    (folder / "ab").mkdir()
    orphan = folder / "ab" / ("ab" + "0" * 30)
    orphan.write_bytes(b"orphan")
    day_ago = utcnow().timestamp() - 2 * 24 * 3600
    os.utime(incoming / "old.part", (day_ago, day_ago))
    os.utime(orphan, (day_ago, day_ago))
    with app.app_context():
        kept = db.session.get(Attachment, kept_id)
        os.utime(attachments.path_of(kept), (day_ago, day_ago))
        assert attachments.sweep(utcnow()) == 2
    assert sorted(files_on_disk(folder)) == sorted(
        [".incoming/new.part", f"{rows(app)[0].stored_name[:2]}/{rows(app)[0].stored_name}"])


def test_concurrent_uploads_to_one_request_all_land(app, make_app, desk):
    """Several people attach at the same moment: every file gets its own row and file."""
    apps = [make_app() for _ in range(4)]
    for other in apps:
        other.config["ATTACHMENTS_FOLDER"] = app.config["ATTACHMENTS_FOLDER"]
    barrier, failures = threading.Barrier(len(apps)), []

    def upload(application, n):
        try:
            with application.app_context():
                req = db.session.get(Request, desk.request)
                user = db.session.get(User, desk.requester)
                barrier.wait(timeout=10)
                attachments.attach(req, user, [(f"part {n}.csv", io.BytesIO(CSV))], utcnow())
                db.session.commit()
        except Exception as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=upload, args=(application, n))
               for n, application in enumerate(apps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    found = rows(app)
    assert sorted(a.filename for a in found) == [f"part {n}.csv" for n in range(4)]
    assert len({a.stored_name for a in found}) == 4


# --- Settings -------------------------------------------------------------------------------------

def test_a_lead_sets_the_largest_file_and_the_types_on_the_settings_page(app, auth, desk,
                                                                         errors):
    from tests.conftest import settings_page_form

    auth.login(desk.lead)
    response = auth.post("/settings", data=settings_page_form(
        attachment_max_mb="25", attachment_types=".CSV, xlsx; parquet png"))
    assert response.status_code == 302
    with app.app_context():
        values = settings.current()
    assert values["attachment_max_mb"] == 25
    assert values["attachment_types"] == ["csv", "parquet", "png", "xlsx"]
    response = auth.post("/settings", data=settings_page_form(
        attachment_max_mb="500", attachment_types="csv, html"))
    assert response.status_code == 400
    assert errors(response) == {
        "attachment_max_mb": "Enter a whole number of MB from 1 to 50.",
        "attachment_types": "html files cannot be allowed: web pages, scripts and programs "
                            "could run on a colleague\u2019s computer when opened."}
    response = auth.post("/settings", data=settings_page_form(attachment_types=", ,"))
    assert errors(response) == {"attachment_types": "Allow at least one type, e.g. csv."}


def test_a_settings_post_without_the_attachment_fields_leaves_them_alone(app, auth, desk):
    from tests.conftest import settings_page_form

    set_rules(app, attachment_max_mb=3)
    auth.login(desk.lead)
    assert auth.post("/settings", data=settings_page_form()).status_code == 302
    with app.app_context():
        assert settings.current()["attachment_max_mb"] == 3


# --- The request page -----------------------------------------------------------------------------

def test_the_request_page_costs_the_same_statements_with_more_files(app, auth, desk, statements):
    attach_directly(app, desk.request, desk.requester, [(CSV, "one.csv")])
    auth.login(desk.requester)
    auth.client.get(f"/requests/{desk.request}")
    few = statements[-1]
    attach_directly(app, desk.request, desk.colleague, [(CSV, f"{n}.csv") for n in range(5)])
    attach_directly(app, desk.request, desk.analyst, [(PNG, "shot.png")])
    page = auth.client.get(f"/requests/{desk.request}").get_data(as_text=True)
    assert page.count('class="attachment') >= 7 * 2  # the Files card and the timeline
    assert statements[-1] == few


def test_the_files_card_shows_name_size_type_who_and_when(app, auth, desk):
    attach_directly(app, desk.request, desk.requester, [(CSV, "rows.csv"), (PNG, "shot.png")])
    auth.login(desk.analyst)
    page = auth.client.get(f"/requests/{desk.request}").get_data(as_text=True)
    card = page[page.index('id="attachments"'):page.index('id="timeline"')]
    assert "bi-filetype-csv" in card and "bi-filetype-png" in card
    assert f"{len(CSV)} bytes · CSV · Rita Requester" in card
    assert "PNG image" in card
    assert 'download>rows.csv</a>' in card


def test_file_names_are_escaped_on_the_page(app, auth, desk):
    attach_directly(app, desk.request, desk.requester,
                    [(CSV, "<img src=x onerror=alert(1)>.csv")])
    auth.login(desk.requester)
    page = auth.client.get(f"/requests/{desk.request}").get_data(as_text=True)
    assert "<img src=x onerror" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in page


def test_an_old_comment_of_a_removed_file_keeps_its_name_on_the_timeline(app, auth, desk):
    auth.login(desk.requester)
    post_files(auth, f"/requests/{desk.request}/comments", {"text": "See file"},
               [(CSV, "old.csv")])
    (attachment,) = rows(app)
    auth.logout()
    auth.login(desk.lead)
    auth.post(f"/attachments/{attachment.id}/remove")
    page = auth.client.get(f"/requests/{desk.request}").get_data(as_text=True)
    timeline = page[page.index('id="timeline"'):]
    assert timeline.count("old.csv") == 2  # under the comment, and the removal event
    assert "No files yet." in page


def test_domain_attach_refuses_a_closed_request(app, desk, make):
    make.act(desk.request, "cancel", desk.requester, note="n")
    with app.app_context():
        with pytest.raises(attachments.NotAllowed):
            attachments.attach(db.session.get(Request, desk.request),
                               db.session.get(User, desk.requester),
                               [("a.csv", io.BytesIO(CSV))], utcnow())
        db.session.rollback()


def test_held_files_expire_after_a_day(app, desk):
    with app.test_request_context():
        user = db.session.get(User, desk.requester)
        kept = attachments.hold(user, "a.csv", io.BytesIO(CSV))
        assert attachments.held(user, kept.token).filename == "a.csv"
        later = utcnow() + timedelta(days=1, minutes=1)
        assert attachments.held(user, kept.token, now=later) is None
        other = db.session.get(User, desk.colleague)
        assert attachments.held(other, kept.token) is None


# --- Demo data ------------------------------------------------------------------------------------

def test_the_demo_has_a_few_believable_files_a_newcomer_can_open(app, runner, client, auth,
                                                                   folder):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    found = rows(app)
    assert 5 <= len(found) <= 10
    assert {a.filename.rpartition(".")[2] for a in found} == {"csv", "png"}
    for attachment in found:
        with app.app_context(), open(attachments.path_of(attachment), "rb") as stored:
            content = stored.read()
        assert hashlib.sha256(content).hexdigest() == attachment.sha256
        assert len(content) == attachment.size
        assert content.startswith(b"\x89PNG" if attachment.filename.endswith(".png")
                                  else b"week,region,accounts,churned\n")
    with app.app_context():
        requester = db.session.scalar(select(User.id).where(
            User.email == "requester@example.com"))
        mine = [a for a in found if db.session.get(Request, a.request_id).requester_id
                == requester]
    assert mine, "the demo requester sees files on their own requests"
    auth.login("requester@example.com", "datadesk")
    page = auth.client.get(f"/requests/{mine[0].request_id}").get_data(as_text=True)
    assert mine[0].filename in page
    assert download(client, mine[0].id).status_code == 200

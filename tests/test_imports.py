"""Importing past requests from a spreadsheet (tickets/imports.py; issue 16, "Import"): the
columns guessed from their headers, each kind of row error, bad rows never stopping the good
ones, re-imports that change nothing, the history and original dates of what is imported,
people and teams created only when asked, the page as a lead, and the command line."""
import csv
import importlib
import io
import re
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import openpyxl
import pytest
from sqlalchemy import func, select

from tests.conftest import AuthActions
from tickets import business_hours, imports, lifecycle, models, search
from tickets.extensions import db
from tickets.models import Event, FlowDay, Request, SearchDocument, Team, User

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

HEADER = ["ID", "Title", "Team", "Requester e-mail", "Description", "Format", "Status",
          "Created", "Delivered", "Resolved", "Assignee", "Link", "Priority", "Deadline"]


def csv_bytes(rows, header=HEADER, delimiter=",", encoding="utf-8"):
    """A CSV file of ``rows`` under ``header``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows, header=HEADER):
    """An Excel workbook of ``rows`` under ``header`` (cells keep their Python types)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def row(number, title=None, team="Finance", requester="rita@example.com", status="Resolved",
        created="2024-03-01", delivered="2024-03-05", resolved="2024-03-06", assignee="",
        link="", priority="High", deadline="", description="Churn per region", fmt="Excel"):
    """One row of the file, by HEADER's columns."""
    title = f"Request {number}" if title is None else title
    return [f"DATA-{number}", title, team, requester, description, fmt,
            status, created, delivered, resolved, assignee, link, priority, deadline]


@pytest.fixture
def desk(make):
    finance = make.team("Finance")
    return SimpleNamespace(
        finance=finance,
        rita=make.user("requester", teams=[finance], email="rita@example.com", name="Rita"),
        analyst=make.user("analyst", teams=[finance], email="ana@example.com", name="Ana"),
        lead=make.user("lead", email="lead@example.com", name="Leo Lead"),
        admin=make.user("admin", email="admin@example.com"))


def plan_of(app, data, filename="requests.csv", choices=(), create_missing=False):
    """Read and check a file without writing; return its Plan."""
    with app.app_context():
        sheet = imports.read_file(filename, data)
        mapping = imports.parse_mapping(sheet.headers, choices)
        plan = imports.check(sheet, mapping, NOW, create_missing=create_missing)
        db.session.rollback()
        return plan


def import_file(app, data, filename="requests.csv", choices=(), create_missing=False,
                actor=None):
    """Import a file as the command line does, in one committed transaction; return the Plan."""
    with app.app_context():
        sheet = imports.read_file(filename, data)
        plan = imports.check(sheet, imports.parse_mapping(sheet.headers, choices), NOW,
                             create_missing=create_missing)
        imports.run(plan, db.session.get(User, actor) if actor else None, NOW)
        db.session.commit()
        return plan


def requests_table(app):
    """Every request as a tuple of its columns (to compare the database before and after)."""
    with app.app_context():
        table = Request.__table__
        return [tuple(found) for found in db.session.execute(
            select(table).order_by(table.c.id))]


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# --- Guessing the mapping -------------------------------------------------------------------------

def test_columns_are_guessed_from_their_headers_whatever_their_case_and_punctuation():
    headers = ["Issue key", "SUMMARY", "Requesting team", "Requester E-mail", "Data needed",
               "Output format", "How it will be used", "Due date", "Date created", "Status",
               "Assigned to", "Resolved at", "Delivered", "URL", "Impact", "Notes"]
    assert imports.guess_mapping(headers) == [
        "external_id", "title", "team", "requester_email", "data_needed", "format", "usage",
        "deadline", "created_at", "state", "assignee", "closed_at", "delivered_at",
        "delivered_url", "business_impact", None]


def test_a_field_goes_to_the_first_column_that_names_it():
    assert imports.guess_mapping(["Title", "Summary", "Team"]) == ["title", None, "team"]


def test_every_guess_can_be_changed_by_header_or_by_number():
    headers = ["Title", "Team", "Requester", "Notes"]
    assert imports.parse_mapping(headers, ["Notes=data_needed", "1=-"]) == [
        None, "team", "requester_email", "data_needed"]
    assert imports.parse_mapping(headers, ["notes=title"]) == [
        None, "team", "requester_email", "title"]


@pytest.mark.parametrize("choice, message", [
    ("Nope=title", "no column"), ("Title=colour", "no field"), ("Title", "COLUMN=field")])
def test_a_mapping_naming_an_unknown_column_or_field_is_refused(choice, message):
    with pytest.raises(imports.ImportRefused, match=message):
        imports.parse_mapping(["Title", "Team"], [choice])


def test_a_mapping_without_a_required_field_is_refused(app, desk):
    data = csv_bytes([["Churn", "Finance"]], header=["Title", "Team"])
    with pytest.raises(imports.ImportRefused, match="Requester e-mail"):
        plan_of(app, data)


# --- Reading files --------------------------------------------------------------------------------

def test_utf8_with_bom_and_semicolons_is_read(app, desk):
    data = b"\xef\xbb\xbf" + csv_bytes([row(1, title="Ventes été")], delimiter=";")
    plan = plan_of(app, data)
    assert plan.sheet.headers[0] == "ID"
    assert [found["title"] for found in plan.good] == ["Ventes été"]


def test_excels_unicode_text_in_utf16_is_read(app, desk):
    data = csv_bytes([row(1, title="Umsatz über alles")], delimiter="\t", encoding="utf-16")
    assert [found["title"] for found in plan_of(app, data).good] == ["Umsatz über alles"]


def test_excels_windows_1252_csv_is_read(app, desk):
    plan = plan_of(app, csv_bytes([row(1, title="Coût – prévision")], encoding="cp1252"))
    assert [found["title"] for found in plan.good] == ["Coût – prévision"]


@pytest.mark.parametrize("filename, data, message", [
    ("requests.csv", b"", "empty"),
    ("requests.csv", b"\x00\x01\x02binary\xff" * 50, "not a CSV file"),
    ("requests.xlsx", b"PK\x03\x04 not really a zip", "not an Excel workbook"),
    ("requests.xlsx", bytes(range(256)) * 4, "not an Excel workbook"),
    ("requests.pdf", b"%PDF-1.4", "not a CSV or XLSX"),
    ("requests.csv", b"Title,Team,Requester\r\n", "no rows under it"),
    ("requests.csv", b"\r\n ,,\r\n", "has no rows"),
])
def test_files_that_cannot_be_imported_are_refused_with_a_reason(app, filename, data, message):
    with app.app_context(), pytest.raises(imports.ImportRefused, match=message) as refused:
        imports.read_file(filename, data)
    assert refused.value.field == "file"


def test_an_xlsx_file_is_read_with_real_excel_dates(app, desk):
    data = xlsx_bytes([["DATA-1", "From Excel", "Finance", "rita@example.com", "Needs", "Excel",
                        "Delivered", datetime(2024, 2, 1, 9, 30), datetime(2024, 2, 9, 16, 0),
                        None, None, None, 4, date(2024, 3, 1)]])
    plan = import_file(app, data, filename="requests.xlsx")
    assert plan.imported == 1 and plan.problems == []
    with app.app_context():
        request = db.session.scalar(select(Request))
        assert request.created_at == datetime(2024, 2, 1, 9, 30, tzinfo=UTC)
        assert request.delivered_at == datetime(2024, 2, 9, 16, 0, tzinfo=UTC)
        assert request.deadline == date(2024, 3, 1)
        assert request.business_impact == 4 and request.state == "delivered"


# --- Row errors -----------------------------------------------------------------------------------

@pytest.mark.parametrize("changes, field, message", [
    ({"deadline": "31/02/2024"}, "Deadline", "\u201c31/02/2024\u201d is not a date"),
    ({"created": "yesterday"}, "Created", "is not a date"),
    ({"status": "Parked"}, "State", "\u201cParked\u201d is not one of Submitted, Needs info"),
    ({"requester": "not-an-address"}, "Requester e-mail", "is not an e-mail address"),
    ({"title": ""}, "Title", "is empty"),
    ({"title": "x" * 201}, "Title", "201 characters long"),
    ({"title": "Two\nlines"}, "Title", "control characters"),
    ({"description": "escape\x1bcode"}, "Data needed", "control characters"),
    ({"description": "x" * 30_000}, "Data needed", "30,000 characters"),
    ({"fmt": "Carrier pigeon"}, "Format", "is not one of"),
    ({"priority": "Meh"}, "Business impact", "is not one of 1 (Minimal)"),
    ({"link": "ftp://files"}, "Link", "is not a link"),
    ({"assignee": "nobody@example.com"}, "Assignee (e-mail or name)", "is not the e-mail or"),
    ({"assignee": "rita@example.com"}, "Assignee (e-mail or name)", "one active analyst or lead"),
    ({"assignee": "Rita"}, "Assignee (e-mail or name)", "is not the e-mail or the name"),
    ({"status": "Submitted"}, "Delivered", "was not delivered"),
    ({"delivered": "2024-02-01"}, "Delivered", "is before the request was created"),
    ({"resolved": "2024-03-04"}, "Resolved or closed", "is before its delivery"),
    ({"created": "2027-01-01", "delivered": "", "resolved": ""}, "Created", "in the future"),
    ({"team": "Nowhere"}, "Team", "no team called \u201cNowhere\u201d"),
    ({"requester": "new@example.com"}, "Requester e-mail", "nobody has the e-mail"),
])
def test_each_kind_of_bad_row_is_refused_naming_its_field_and_value(app, desk, changes, field,
                                                                    message):
    plan = plan_of(app, csv_bytes([row(1), row(2, **changes)]))
    assert [found["row"] for found in plan.good] == [2]
    assert len(plan.problems) == 1
    problem = plan.problems[0]
    assert (problem.row, problem.field) == (3, field)
    assert message in problem.message


def test_an_assignee_is_found_by_e_mail_or_by_name(app, desk):
    rows = [row(1, assignee="ANA@example.com"), row(2, assignee="ana"), row(3, assignee="Leo lead")]
    plan = plan_of(app, csv_bytes(rows))
    assert plan.problems == []
    assert [found["assignee_id"] for found in plan.good] == [desk.analyst, desk.analyst,
                                                            desk.lead]


def test_a_bad_row_never_stops_the_others(app, desk):
    rows = [row(1), row(2, deadline="31/02/2024"), row(3), row(4, status="Parked"), row(5)]
    plan = import_file(app, csv_bytes(rows))
    assert plan.imported == 3
    assert [str(problem) for problem in plan.problems] == [
        'row 3: Deadline: \u201c31/02/2024\u201d is not a date',
        'row 5: State: \u201cParked\u201d is not one of Submitted, Needs info, Waitlisted, '
        'Accepted, In progress, Blocked, Delivered, Resolved, Declined, Duplicate, Cancelled']
    with app.app_context():
        assert db.session.scalars(select(Request.title).order_by(Request.id)).all() == [
            "Request 1", "Request 3", "Request 5"]


def test_the_same_id_twice_in_a_file_imports_the_first(app, desk):
    plan = plan_of(app, csv_bytes([row(1), row(1, title="Again")]))
    assert [found["title"] for found in plan.good] == ["Request 1"]
    assert str(plan.problems[0]) == "row 3: ID: \u201cDATA-1\u201d is also the ID of row 2 " \
                                    "of this file"


def test_formulas_and_huge_cells_are_plain_text(app, desk):
    formula = "=cmd|' /C calc'!A0"
    plan = import_file(app, csv_bytes([row(1, title=formula, description="@SUM(1+1)" * 100)]))
    assert plan.imported == 1
    with app.app_context():
        assert db.session.scalar(select(Request.title)) == formula


def test_an_xlsx_formula_cell_is_stored_as_its_text(app, desk):
    formula = "=cmd|' /C calc'!A0"
    data = xlsx_bytes([["DATA-1", formula, "Finance", "rita@example.com"]],
                      header=["ID", "Title", "Team", "Requester"])
    assert import_file(app, data, filename="requests.xlsx").imported == 1
    with app.app_context():
        assert db.session.scalar(select(Request.title)) == formula


def test_the_same_row_twice_without_an_id_column_imports_the_first(app, desk):
    data = csv_bytes([["A", "Finance", "rita@example.com"]] * 2,
                     header=["Title", "Team", "Requester"])
    plan = plan_of(app, data)
    assert len(plan.good) == 1
    assert str(plan.problems[0]) == "row 3: the same values as row 2 of this file"


def test_dates_in_the_common_spreadsheet_forms_are_read(app, desk):
    forms = ["2024-03-01", "2024-03-01T09:15:00Z", "2024-03-01 09:15", "01/03/2024",
             "1.3.2024", "1 Mar 2024", "March 1, 2024", "2024/03/01"]
    rows = [row(number, created=text, delivered="", resolved="", status="Submitted")
            for number, text in enumerate(forms, start=1)]
    plan = plan_of(app, csv_bytes(rows))
    assert plan.problems == []
    assert {found["created_at"].date() for found in plan.good} == {date(2024, 3, 1)}


def test_month_first_dates_are_recognised_when_the_file_shows_them(app, desk):
    rows = [row(1, created="03/25/2024", delivered="", resolved="", status="New"),
            row(2, created="04/01/2024", delivered="", resolved="", status="New")]
    plan = plan_of(app, csv_bytes(rows))
    assert not plan.is_day_first
    assert [found["created_at"].date() for found in plan.good] == [date(2024, 3, 25),
                                                                   date(2024, 4, 1)]


def test_state_words_of_other_tools_map_to_datadesk_states(app, desk):
    words = {"New": "submitted", "To Do": "accepted", "In Progress": "in_progress",
             "On hold": "blocked", "Done": "resolved", "Won't Do": "declined",
             "Canceled": "cancelled", "needs info": "needs_info"}
    rows = [row(number, status=word, delivered="", resolved="")
            for number, word in enumerate(words, start=1)]
    plan = plan_of(app, csv_bytes(rows))
    assert plan.problems == []
    assert [found["state"] for found in plan.good] == list(words.values())


# --- Writing --------------------------------------------------------------------------------------

def test_an_imported_request_keeps_its_original_dates_state_and_history(app, desk):
    plan = import_file(app, csv_bytes([row(1, assignee="ana@example.com",
                                           link="https://bi.example.com/churn")]),
                       filename="requests.csv", actor=desk.lead)
    assert plan.imported == 1
    with app.app_context():
        request = db.session.scalar(select(Request))
        assert request.state == "resolved"
        assert request.created_at == datetime(2024, 3, 1, tzinfo=UTC)
        assert request.delivered_at == datetime(2024, 3, 5, tzinfo=UTC)
        assert request.closed_at == datetime(2024, 3, 6, tzinfo=UTC)
        assert request.team_id == desk.finance and request.requester_id == desk.rita
        assert request.assignee_id == desk.analyst
        assert request.delivered_url == "https://bi.example.com/churn"
        assert request.format == "spreadsheet" and request.business_impact == 4
        assert request.external_id == "id:DATA-1"
        [event] = request.events
        assert (event.kind, event.to_state, event.actor_id) == ("imported", "resolved", desk.lead)
        assert event.text == "Imported from requests.csv, row 2"
        assert event.created_at == datetime(2024, 3, 1, tzinfo=UTC)
        assert lifecycle.replay_state(request.events) == "resolved"


def test_reimporting_the_same_file_changes_nothing(app, desk):
    data = csv_bytes([row(1), row(2, status="In progress", delivered="", resolved="",
                              assignee="ana@example.com"), row(3, deadline="bad")])
    first = import_file(app, data)
    assert first.imported == 2
    before = requests_table(app), count(app, Event), count(app, SearchDocument)
    again = import_file(app, data)
    assert (again.imported, again.already, len(again.refused_rows)) == (0, 2, 1)
    assert (requests_table(app), count(app, Event), count(app, SearchDocument)) == before


def test_rows_without_an_id_column_are_recognised_by_their_values(app, desk):
    header = ["Title", "Team", "Requester"]
    data = csv_bytes([["A", "Finance", "rita@example.com"], ["B", "Finance", "rita@example.com"]],
                     header=header)
    assert import_file(app, data).imported == 2
    changed = csv_bytes([["A", "Finance", "rita@example.com"], ["C", "Finance",
                                                                 "rita@example.com"]],
                        header=header)
    plan = import_file(app, changed)
    assert (plan.imported, plan.already) == (1, 1)


def test_imported_requests_are_searchable_and_in_the_flow_snapshot(app, desk):
    import_file(app, csv_bytes([row(1, title="Quarterly churn by region")]))
    with app.app_context():
        request_id = db.session.scalar(select(Request.id))
        titles = db.session.scalars(select(SearchDocument.title).where(
            SearchDocument.ref_id == request_id)).all()
        assert titles == ["Quarterly churn by region"]
        rows = db.session.execute(select(FlowDay.state, FlowDay.change)).all()
        assert rows == [("resolved", 1)]


def test_open_imported_requests_have_their_sla_clocks_stored(app, desk):
    import_file(app, csv_bytes([row(1, status="Accepted", delivered="", resolved=""),
                                row(2)]))
    with app.app_context():
        clocks = db.session.execute(select(Request.state, Request.sla_due_at)
                                    .order_by(Request.id)).all()
    assert clocks[0].state == "accepted" and clocks[0].sla_due_at is not None
    assert clocks[1] == ("resolved", None)


def test_importing_open_requests_tells_the_queues_to_rank_again(app, desk):
    with app.app_context():
        before = db.session.scalar(select(models.RankingVersion.version))
    import_file(app, csv_bytes([row(1, status="Accepted", delivered="", resolved="")]))
    with app.app_context():
        assert db.session.scalar(select(models.RankingVersion.version)) == before + 1


def test_the_reports_count_imported_deliveries_on_their_original_days(app, client, auth, desk):
    today = date.today()
    delivered = (today - timedelta(days=10)).isoformat()
    created = (today - timedelta(days=20)).isoformat()
    rows = [row(number, created=created, delivered=delivered, resolved="") for number in (1, 2)]
    rows.append(row(3, created=created, delivered="", resolved="", status="New"))
    with app.app_context():
        sheet = imports.read_file("requests.csv", csv_bytes(rows))
        imports.run(imports.check(sheet, imports.guess_mapping(sheet.headers)), None)
        db.session.commit()
    auth.login(desk.lead)
    chart = client.get("/reports/throughput.json").get_json()
    assert sum(value or 0 for series in chart["series"] for value in series["data"]) == 2


def test_people_and_teams_are_created_only_when_asked(app, desk):
    data = csv_bytes([row(1, team="Growth", requester="jane.doe@example.com"), row(2)])
    plan = import_file(app, data)
    assert plan.imported == 1 and plan.creation_text == "Create 1 person and 1 team"
    assert [problem.field for problem in plan.problems] == ["Team", "Requester e-mail"]
    with app.app_context():
        assert db.session.scalar(select(Team).where(Team.name == "Growth")) is None
        assert db.session.scalar(select(User).where(User.email == "jane.doe@example.com")) is None
    plan = import_file(app, data, create_missing=True)
    assert (plan.imported, plan.already) == (1, 1)
    with app.app_context():
        jane = db.session.scalar(select(User).where(User.email == "jane.doe@example.com"))
        assert (jane.name, jane.role, jane.is_active, jane.joined_at) == (
            "Jane Doe", "requester", False, None)
        assert db.session.scalar(select(Team.name).where(Team.name_key == "growth")) == "Growth"


def test_a_failure_mid_write_leaves_nothing(app, desk, monkeypatch):
    monkeypatch.setattr(imports, "BATCH", 2)
    real = imports._write_batch
    calls = []

    def failing(rows, events):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(rows, events)

    monkeypatch.setattr(imports, "_write_batch", failing)
    data = csv_bytes([row(number, team="Growth") for number in range(1, 6)])
    with app.app_context():
        sheet = imports.read_file("requests.csv", data)
        plan = imports.check(sheet, imports.guess_mapping(sheet.headers), NOW,
                             create_missing=True)
        with pytest.raises(RuntimeError):
            imports.run(plan, None, NOW)
        db.session.rollback()
    assert calls == [2, 2]
    assert count(app, Request) == 0 and count(app, Event) == 0
    with app.app_context():
        assert db.session.scalar(select(Team).where(Team.name == "Growth")) is None


def test_rows_another_import_wrote_meanwhile_refuse_the_whole_write(app, desk, monkeypatch):
    data = csv_bytes([row(1), row(2)])
    import_file(app, csv_bytes([row(2)]))
    real = imports._existing
    monkeypatch.setattr(imports, "_existing", lambda column, values: (  # checked before
        set() if column is Request.external_id else real(column, values)))
    with app.app_context():
        sheet = imports.read_file("requests.csv", data)
        plan = imports.check(sheet, imports.guess_mapping(sheet.headers), NOW)
        assert len(plan.good) == 2
        with pytest.raises(imports.ImportRefused, match="Another import"):
            imports.run(plan, None, NOW)
        db.session.rollback()
    assert count(app, Request) == 1


def test_the_state_event_kinds_are_the_same_in_the_pure_clock_module():
    assert business_hours.STATE_EVENT_KINDS == models.STATE_EVENT_KINDS


# --- The page -------------------------------------------------------------------------------------

def upload(auth, data, filename="requests.csv"):
    """Step 1 as a browser posts it."""
    return auth.post("/admin/import", data={"file": (io.BytesIO(data), filename)},
                     content_type="multipart/form-data")


def held_token(response):
    """The held file's token the upload redirects to."""
    assert response.status_code == 302, response.get_data(as_text=True)
    return re.search(r"token=([^&]+)", response.headers["Location"]).group(1)


def mapping_post(auth, token, mapping, **extra):
    """Step 2 or 3: the mapping form with one field per column (None: not imported)."""
    data = {"token": token, **{f"column_{index}": name or ""
                               for index, name in enumerate(mapping)}, **extra}
    return auth.post("/admin/import/map", data=data)


def text_of(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_a_lead_imports_a_file_through_every_step(app, client, auth, desk):
    auth.login(desk.lead)
    assert "Import requests" in client.get("/admin/import").get_data(as_text=True)
    rows = [row(1, team="Growth", requester="jane.doe@example.com"), row(2),
            row(3, deadline="31/02/2024")]
    token = held_token(upload(auth, csv_bytes(rows)))
    preview = client.get(f"/admin/import/map?token={token}")
    assert preview.status_code == 200
    page = text_of(preview)
    assert "1 row to import" in page and "2 refused" in page
    assert "Create 1 person and 1 team" in page
    assert 'Deadline: \u201c31/02/2024\u201d is not a date' in page
    assert count(app, Request) == 0  # nothing is written before the confirmation
    guessed = imports.guess_mapping(HEADER)
    checked = mapping_post(auth, token, guessed, create_missing="y", check="1")
    assert "2 rows to import" in text_of(checked) and count(app, Request) == 0
    done = mapping_post(auth, token, guessed, create_missing="y", **{"import": "1"})
    assert done.status_code == 200
    page = text_of(done)
    assert "2 requests imported; 1 refused" in page
    assert "row 4: Deadline:" in page
    with app.app_context():
        assert db.session.scalars(select(Event.actor_id).where(
            Event.kind == "imported")).all() == [desk.lead, desk.lead]
        imported = db.session.scalars(select(Request.id).order_by(Request.id)).all()
    refused = auth.post("/admin/import/refused.csv", data={
        "token": token, "create_missing": "y",
        **{f"column_{index}": name or "" for index, name in enumerate(guessed)}})
    assert refused.status_code == 200 and refused.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(refused.get_data(as_text=True))))
    assert lines[0] == [*HEADER, "Refused because"]
    assert lines[1][0] == "DATA-3" and "is not a date" in lines[1][-1]
    timeline = client.get(f"/requests/{imported[0]}").get_data(as_text=True)
    assert "Imported from requests.csv, row 2" in timeline


def test_the_mapping_can_be_changed_on_the_page(app, client, auth, desk):
    auth.login(desk.lead)
    data = csv_bytes([["Churn", "Finance", "rita@example.com", "Per region"]],
                     header=["Title", "Team", "Requester", "Notes"])
    token = held_token(upload(auth, data))
    mapping = ["title", "team", "requester_email", "data_needed"]
    done = mapping_post(auth, token, mapping, **{"import": "1"})
    assert "1 request imported" in text_of(done)
    with app.app_context():
        assert db.session.scalar(select(Request.data_needed)) == "Per region"


def test_a_mapping_without_a_required_field_is_refused_on_the_page(app, auth, desk):
    auth.login(desk.lead)
    token = held_token(upload(auth, csv_bytes([row(1)])))
    mapping = imports.guess_mapping(HEADER)
    mapping[1] = None  # no title
    response = mapping_post(auth, token, mapping, **{"import": "1"})
    assert response.status_code == 400
    assert "Choose the column of Title" in text_of(response)
    assert count(app, Request) == 0


@pytest.mark.parametrize("filename, data", [
    ("random.csv", bytes(range(256)) * 64), ("empty.csv", b""), ("header.csv", b"Title\r\n"),
    ("random.xlsx", bytes(range(256)) * 64), ("notes.txt", b"hello"),
])
def test_files_that_cannot_be_read_are_refused_on_the_field(app, auth, desk, errors, filename,
                                                            data):
    auth.login(desk.lead)
    response = upload(auth, data, filename)
    assert response.status_code == 400
    assert errors(response)["file"]


def test_huge_cells_control_characters_and_formulas_are_shown_and_refused_not_failed(
        app, client, auth, desk):
    auth.login(desk.lead)
    rows = [row(1, title="=cmd|' /C calc'!A0"), row(2, title="x" * 400_000),
            row(3, title="bell\x07", description="nul\x00")]
    token = held_token(upload(auth, csv_bytes(rows)))
    preview = client.get(f"/admin/import/map?token={token}")
    assert preview.status_code == 200
    page = text_of(preview)
    assert "1 row to import" in page and "2 refused" in page
    assert "=cmd|&#39; /C calc&#39;!A0" in preview.get_data(as_text=True)
    assert "Title: \u201c" + "x" * 57 + "\u2026\u201d is 400,000 characters long" in page
    done = mapping_post(auth, token, imports.guess_mapping(HEADER), **{"import": "1"})
    assert done.status_code == 200 and "1 request imported" in text_of(done)


def test_a_file_that_cannot_be_held_is_said_so_on_the_field(app, auth, desk, errors,
                                                            monkeypatch, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setattr(imports, "_folder", lambda: str(blocker / "imports"))
    auth.login(desk.lead)
    response = upload(auth, csv_bytes([row(1)]))
    assert response.status_code == 400
    assert "could not be kept" in errors(response)["file"]


def test_an_upload_without_a_file_is_asked_for_one(app, auth, desk, errors):
    auth.login(desk.lead)
    response = auth.post("/admin/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert errors(response)["file"] == "Choose the file to import."


def test_a_posted_choice_outside_the_list_and_a_forged_token_never_fail(app, client, auth, desk,
                                                                        errors):
    auth.login(desk.lead)
    token = held_token(upload(auth, csv_bytes([row(1)])))
    mapping = imports.guess_mapping(HEADER)
    mapping[0] = "password_hash"
    response = mapping_post(auth, token, mapping, **{"import": "1"})
    assert response.status_code == 400 and errors(response)["column_0"]
    forged = client.get("/admin/import/map?token=../../etc/passwd")
    assert forged.status_code == 302 and forged.headers["Location"].endswith("/admin/import")
    assert count(app, Request) == 0


def test_a_held_file_is_only_its_uploaders(app, client, auth, desk, make):
    auth.login(desk.lead)
    token = held_token(upload(auth, csv_bytes([row(1)])))
    other = AuthActions(app.test_client(), app)
    other.login(make.user("lead"))
    assert other.client.get(f"/admin/import/map?token={token}").status_code == 302


def test_the_page_needs_a_csrf_token(app, client, auth, desk):
    auth.login(desk.lead)
    response = client.post("/admin/import", data={"file": (io.BytesIO(b"x"), "a.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400


@pytest.mark.parametrize("role", ["requester", "analyst"])
def test_requesters_and_analysts_may_not_import(app, client, auth, desk, make, role):
    auth.login(make.user(role, teams=[desk.finance]))
    assert client.get("/admin/import").status_code == 403
    assert auth.post("/admin/import/map", data={"token": "x"}).status_code == 403
    assert auth.post("/admin/import/refused.csv", data={"token": "x"}).status_code == 403
    assert "Import requests" not in client.get("/requests/new").get_data(as_text=True)


def test_admins_may_import(app, client, auth, desk):
    auth.login(desk.admin)
    assert client.get("/admin/import").status_code == 200


# --- The command line -----------------------------------------------------------------------------

def test_the_command_line_dry_run_writes_nothing(app, runner, desk, tmp_path):
    path = tmp_path / "requests.csv"
    path.write_bytes(csv_bytes([row(1), row(2, deadline="31/02/2024"),
                                row(3, team="Growth")]))
    result = runner.invoke(args=["import", "requests", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Title -> Title" in result.output and "Notes" not in result.output
    assert "Dry run: 1 to import, 2 refused, 0 already imported; nothing written." in result.output
    assert 'row 3: Deadline: \u201c31/02/2024\u201d is not a date' in result.output
    assert "Create 1 team: would (with --create-missing) be created." in result.output
    assert count(app, Request) == 0 and count(app, Team) == 1


def test_the_command_line_imports_with_a_mapping_and_creates_what_is_missing(app, runner, desk,
                                                                            tmp_path):
    path = tmp_path / "old.xlsx"
    path.write_bytes(xlsx_bytes([["Churn", "Growth", "new@example.com", "x"],
                                 ["Revenue", "Finance", "rita@example.com", "y"]],
                                header=["Subject", "Dept", "From", "Remarks"]))
    result = runner.invoke(args=["import", "requests", str(path), "--map", "Remarks=usage",
                                 "--create-missing", "--as", "lead@example.com"])
    assert result.exit_code == 0, result.output
    assert "Remarks -> Usage" in result.output
    assert "Imported 2; 0 refused; 0 already imported." in result.output
    again = runner.invoke(args=["import", "requests", str(path), "--map", "Remarks=usage"])
    assert "Imported 0; 0 refused; 2 already imported." in again.output
    with app.app_context():
        assert db.session.scalars(select(Request.usage).order_by(Request.id)).all() == ["x", "y"]


@pytest.mark.parametrize("args, message", [
    (["--map", "Nope=title"], "no column"),
    (["--as", "ghost@example.com"], "nobody has the e-mail"),
])
def test_command_line_usage_errors_exit_with_2(app, runner, desk, tmp_path, args, message):
    path = tmp_path / "requests.csv"
    path.write_bytes(csv_bytes([row(1)]))
    result = runner.invoke(args=["import", "requests", str(path), *args])
    assert result.exit_code == 2 and message in result.output
    assert count(app, Request) == 0


def test_a_file_that_is_not_a_spreadsheet_is_a_usage_error(app, runner, desk, tmp_path):
    path = tmp_path / "requests.csv"
    path.write_bytes(b"")
    result = runner.invoke(args=["import", "requests", str(path)])
    assert result.exit_code == 2 and "is empty" in result.output


def test_the_benchmark_builds_a_file_that_imports(app):
    bench = importlib.import_module("bench.import")
    bench.seed_people(app)
    figures = {}
    plan = bench.import_once(app, bench.build_file(1500, 5), figures, "")
    assert plan.imported + len(plan.refused_rows) == 1500 and len(plan.refused_rows) >= 1
    assert plan.creation_text.endswith("and 1 team")
    again = bench.import_once(app, bench.build_file(1500, 5), figures, "again_")
    assert (again.imported, again.already) == (0, plan.imported)
    assert {"read_s", "check_s", "write_s", "search_s", "again_check_s"} <= set(figures)

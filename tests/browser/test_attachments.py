"""Attachments in Chromium: a requester attaches a sample at intake and a screenshot from the
request page, the browser says at once what would be refused, an analyst downloads the file
and comments with one, and the uploader removes one."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tests.test_attachments import CSV, PNG

pytestmark = pytest.mark.browser


def fill_intake(page, title):
    page.get_by_label("Title").fill(title)
    page.get_by_label("What data do you need?").fill("Churned accounts per region per week.")
    page.get_by_label("How will you use it?").fill("Monday growth meeting.")
    page.get_by_label("Which result are you trying to influence?").fill("Retention.")
    page.get_by_label("What do you expect the data to look like?").fill("About 3% a week.")
    page.get_by_label("How will you read the answer from it?").fill("Compare regions.")
    page.get_by_label("Which decision or action will it drive?").fill("Move the budget.")
    page.get_by_label("No hard deadline").check()


def test_files_from_intake_to_download_and_removal(make, new_page, tmp_path):
    marketing = make.team("Marketing")
    make.user("requester", teams=[marketing], email="rita@example.com", name="Rita Requester")
    make.user("analyst", teams=[marketing], email="alex@example.com", name="Alex Analyst")
    sample = tmp_path / "sample churn.csv"
    sample.write_bytes(CSV)
    shot = tmp_path / "current report.png"
    shot.write_bytes(PNG)
    tool = tmp_path / "tool.exe"
    tool.write_bytes(b"MZ")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")

    page = new_page()
    log_in(page, "rita@example.com", PASSWORD)
    page.goto("/requests/new")
    fill_intake(page, "Churn by region with a sample")
    files = page.get_by_label("Attach files")
    # What the server would refuse is said before anything is sent, and stops the post.
    files.set_input_files([str(tool), str(empty)])
    error = page.locator("#files-error")
    expect(error).to_contain_text("\u201ctool.exe\u201d: exe files are not allowed here.")
    expect(error).to_contain_text("\u201cempty.csv\u201d is empty")
    expect(files).to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Submit request").click()
    expect(page).to_have_url(re.compile(r"/requests/new$"))
    expect(files).to_be_focused()
    files.set_input_files([str(sample)])
    expect(error).to_have_count(0)
    page.get_by_role("button", name="Submit request").click()
    page.wait_for_url("**/requests/*")
    request_url = page.url
    card = page.locator("#attachments")
    expect(card.get_by_role("link", name="sample churn.csv")).to_be_visible()
    expect(page.locator("#timeline").locator("..")).to_contain_text("sample churn.csv")

    # Later, from the request page: a screenshot with a note.
    page.get_by_role("button", name="Add files…").click()
    page.locator("#files-files").set_input_files(str(shot))
    page.get_by_label("About these files (optional)").fill("How the report looks today.")
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status").first).to_contain_text("\u201ccurrent report.png\u201d is attached.")
    expect(card.get_by_role("link", name="current report.png")).to_be_visible()

    analyst = new_page()
    log_in(analyst, "alex@example.com", PASSWORD)
    analyst.goto(request_url)
    with analyst.expect_download() as caught:
        analyst.locator("#attachments").get_by_role("link", name="sample churn.csv").click()
    download = caught.value
    assert download.suggested_filename == "sample churn.csv"
    with open(download.path(), "rb") as saved:
        assert saved.read() == CSV
    analyst.get_by_placeholder("Write a comment…").fill("A first cut, per region.")
    analyst.locator("#attachments").wait_for()
    analyst.locator("form[action$='/comments']").get_by_label("Attach files").set_input_files(
        str(sample))
    analyst.get_by_role("button", name="Add comment").click()
    expect(analyst.locator("#timeline").locator("..")).to_contain_text("A first cut, per region.")
    expect(analyst.locator(".timeline-comment .attachment-name")).to_have_text("sample churn.csv")
    # Not their file, and not a lead: no remove button.
    expect(analyst.locator("#attachments").get_by_role("button", name="Remove current report.png")).to_have_count(0)

    page.reload()
    page.get_by_role("button", name="Remove current report.png").click()
    expect(page.get_by_role("status").first).to_contain_text("\u201ccurrent report.png\u201d is removed.")
    expect(card.get_by_role("link", name="current report.png")).to_have_count(0)
    expect(page.locator("#timeline").locator("..")).to_contain_text("removed the file")


def test_a_file_kept_when_the_form_comes_back_with_an_error(make, new_page, tmp_path):
    marketing = make.team("Marketing")
    make.user("requester", teams=[marketing], email="rita@example.com", name="Rita Requester")
    sample = tmp_path / "sample.csv"
    sample.write_bytes(CSV)
    page = new_page()
    log_in(page, "rita@example.com", PASSWORD)
    page.goto("/requests/new")
    fill_intake(page, "")
    page.get_by_label("Attach files").set_input_files(str(sample))
    page.get_by_role("button", name="Submit request").click()
    expect(page.locator("#title-error")).to_have_text("Give the request a short title.")
    kept = page.get_by_label("sample.csv")
    expect(kept).to_be_checked()
    page.get_by_label("Title").fill("Churn, second try")
    page.get_by_role("button", name="Submit request").click()
    page.wait_for_url("**/requests/*")
    expect(page.locator("#attachments").get_by_role("link", name="sample.csv")).to_be_visible()

"""The impact ledger in Chromium: a lead opens it from the navigation's menu of reports, the week-by-week chart is
drawn (answers stacked by outcome, the used share as a line on its own axis), and choosing
another "Rows by" redraws the table."""
from datetime import timedelta

import pytest

from tests.browser.conftest import log_in
from tests.browser.test_reports import drawn_charts, wait_until_drawn
from tests.conftest import PASSWORD
from tests.test_impact import World
from tickets.models import utcnow

pytestmark = pytest.mark.browser


def test_a_lead_reads_the_ledger_and_groups_its_rows_by_format(app, make, new_page):
    world = World(app, make)
    marketing, finance = make.team("Marketing"), make.team("Finance")
    rita = make.user("requester", teams=[marketing])
    fred = make.user("requester", teams=[finance])
    analyst = make.user("analyst", teams=[marketing, finance], name="Ana Analyst")
    make.user("lead", email="leo@example.com")
    now = utcnow()
    answers = [{"outcome": "acted", "decision": "Moved budget"},
               {"outcome": "decided_not_to_act"},
               {"outcome": "not_used", "reason": "hard_to_use", "note": "<i>too many tabs</i>"},
               {"outcome": "not_yet"}, None]
    ids = []
    for n, answer in enumerate(answers):
        ids.append(world.resolved(rita if n % 2 else fred, marketing if n % 2 else finance,
                                  analyst, now - timedelta(days=30 - 5 * n),
                                  title=f"Delivery {n}",
                                  format="dashboard" if n < 3 else "spreadsheet"))
    world.send(now - timedelta(days=2))
    for request_id, answer in zip(ids, answers):
        if answer:
            world.answer(request_id, now - timedelta(days=1), **answer)

    page = new_page()
    log_in(page, "leo@example.com", PASSWORD)
    page.get_by_role("button", name="Every report").click()
    page.get_by_role("link", name="Impact ledger").click()
    page.wait_for_url("**/reports/impact")
    wait_until_drawn(page)
    (chart,) = drawn_charts(page)
    assert chart["key"] == "weeks" and chart["instance"] and chart["height"] > 150
    datasets = page.evaluate("""() => Chart.getChart(document.getElementById('chart-weeks'))
        .data.datasets.map(d => [d.label, d.type || 'bar', d.yAxisID || 'y'])""")
    assert datasets[-1] == ["Used %", "line", "share"]
    assert [label for label, _, _ in datasets[:-1]] == [
        "Acted on it", "Informed a decision not to act", "Not used yet", "Not used"]
    figure = page.locator("[data-figure='used']")
    assert "50%" in figure.inner_text() and "2 of 4 answers" in figure.inner_text()
    table = page.locator("table.impact-table")
    assert table.locator("thead th").first.inner_text() == "Team"
    assert table.locator("tbody th").all_inner_texts() == ["Finance", "Marketing", "Total"]
    assert "<i>too many tabs</i>" in page.locator("#impact-not_used").inner_text()

    page.get_by_label("Rows by").select_option(label="Format")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**group=format**")
    wait_until_drawn(page)
    table = page.locator("table.impact-table")
    assert table.locator("thead th").first.inner_text() == "Format"
    assert table.locator("tbody th").all_inner_texts() == [
        "Dashboard", "Spreadsheet or CSV extract", "Total"]

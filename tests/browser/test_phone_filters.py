"""The lists' filters on a phone (issue 14, item 11): folded under one "Filters" button that
says how many are set and how many rows match, so the list starts on the first screen; the
button (by keyboard too) unfolds them. On a laptop they always show."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.browser.test_keyboard import focused, tab_to
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

# (who, page, the filter form's name, a filter field on it)
LISTS = [
    ("requester", "/requests/mine", "Filter requests", "Team"),
    ("requester", "/catalogue?kind=dashboard", "Find in the catalogue", "Owning team"),
    ("analyst", "/triage", "Filter the triage queue", "Team"),
    ("analyst", "/queue", "Filter the requests up next", "SLA status"),
    ("lead", "/backlog?kind=ad_hoc", "Filter the backlog", "Analyst"),
    ("lead", "/search?q=churn", "Search requests and the catalogue", "Team"),
]


@pytest.fixture
def people(make):
    """A team with a requester, an analyst and a lead (their e-mails by role), and requests
    waiting in each list."""
    team = make.team("Marketing")
    emails = {"requester": "rita@example.com", "analyst": "priya@example.com",
              "lead": "lea@example.com"}
    ids = {role: make.user(role, teams=[] if role == "lead" else [team], email=email)
           for role, email in emails.items()}
    for n in range(3):
        make.request(ids["requester"], team, title=f"Churn by region {n}")
    accepted = make.request(ids["requester"], team, title="Churn by channel")
    make.act(accepted, "accept", ids["analyst"], size="S")
    return emails


def is_filter_toggle(stop):
    """Whether a focus stop is a filter panel's button (it says whether it is unfolded)."""
    return stop["expanded"] is not None and "filter" in stop["text"].lower()


# What a list shows first: its rows, its results, or that nothing matches.
CONTENT = "table tbody tr, .asset-list, .search-hit, .search-empty, .card.text-center"


def test_on_a_phone_the_filters_fold_under_one_button_and_the_list_starts_on_screen(
        people, new_page):
    pages = {}
    for role, path, name, field in LISTS:
        if role not in pages:
            pages[role] = new_page()
            pages[role].set_viewport_size({"width": 390, "height": 844})
            log_in(pages[role], people[role], PASSWORD)
        page = pages[role]
        page.goto(path)
        form = page.get_by_role("search", name=name)
        expect(form.get_by_label(field, exact=True)).to_be_hidden()
        expect(form.locator(".filters-toggle")).to_be_visible()
        if not path.startswith("/search"):  # search keeps its box open: only its filters fold
            assert form.bounding_box()["height"] < 110, path
        top = page.locator(CONTENT).first.bounding_box()["y"]
        assert top < 844 * 0.75, f"{path}: the list starts at {top} px"
        # The keyboard unfolds them.
        tab_to(page, is_filter_toggle)
        assert focused(page)["expanded"] == "false"
        page.keyboard.press("Enter")
        expect(form.get_by_label(field, exact=True)).to_be_visible()
        assert focused(page)["expanded"] == "true"


def test_the_phone_filter_button_says_how_many_filters_are_set_and_what_matches(people, new_page):
    page = new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, people["requester"], PASSWORD)
    page.goto("/requests/mine?q=churn&kind=ad_hoc")
    bar = page.locator(".filters-bar")
    expect(bar.get_by_role("button")).to_have_text("Filters 2 set")
    expect(bar).to_contain_text("4 requests")
    page.goto("/requests/mine")
    expect(bar.get_by_role("button")).to_have_text("Filters")


def test_on_a_laptop_the_filters_always_show(people, new_page):
    page = new_page()
    log_in(page, people["lead"], PASSWORD)
    for role, path, name, field in LISTS:
        if role != "lead" and role != "requester":
            continue
        page.goto(path)
        form = page.get_by_role("search", name=name)
        expect(form.get_by_label(field, exact=True)).to_be_visible()
        expect(form.locator(".filters-toggle")).to_be_hidden()

"""The conversation in Chromium (issue 14): the requester answers a question in the reply box
beside it, on a laptop and on a phone; an analyst mentions people by keyboard alone through the
@mention autocomplete (ARIA combobox of a listbox); My requests shows what waits first."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tickets.extensions import db
from tickets.models import Event

pytestmark = pytest.mark.browser

QUESTION = "Do you need the split by region, or is a total enough?"


@pytest.fixture
def desk(make):
    team = make.team("Marketing")
    return {"team": team,
            "rita": make.user("requester", teams=[team], email="rita@example.com",
                              name="Rita Requester"),
            "ricardo": make.user("requester", teams=[team], email="ricardo@example.com",
                                 name="Ricardo Reyes"),
            "ana": make.user("analyst", teams=[team], email="ana@example.com",
                             name="Ana Analyst"),
            "leo": make.user("lead", email="leo@example.com", name="Leo Lead")}


def asked(make, desk, title="Weekly churn by region"):
    request_id = make.request(desk["rita"], desk["team"], title=title)
    make.act(request_id, "accept", desk["ana"], size="M")
    make.act(request_id, "ask", desk["ana"], note=QUESTION)
    return request_id


@pytest.mark.parametrize("width", [1280, 390])
def test_the_requester_answers_in_the_reply_box_beside_the_question(app, make, new_page, desk,
                                                                    width):
    request_id = asked(make, desk)
    page = new_page()
    page.set_viewport_size({"width": width, "height": 844})
    log_in(page, "rita@example.com", PASSWORD)
    # Home: My requests, with the question first and its one action.
    waits = page.locator(".waiting-on-you")
    expect(waits).to_contain_text(QUESTION)
    waits.get_by_role("link", name=f"Answer the question for #{request_id}").click()
    page.wait_for_url(f"**/requests/{request_id}#reply")

    box = page.locator("#reply")
    expect(box).to_contain_text(QUESTION)
    reply = box.get_by_label("Reply and send back to the analyst")
    expect(reply).to_be_visible()
    # Beside the question: the box follows the question directly, and on load the top of the
    # page already shows both, before the request's own fields.
    question_box = box.locator(".question-text").bounding_box()
    reply_box = reply.bounding_box()
    fields_box = page.locator("#h-request").bounding_box()
    assert question_box["y"] < reply_box["y"] < fields_box["y"]
    assert reply_box["y"] - (question_box["y"] + question_box["height"]) < 200
    page.evaluate("window.scrollTo(0, 0)")
    assert page.locator("#reply textarea").bounding_box()["y"] < 844, "the reply box is on screen"
    assert page.locator("#reply").bounding_box()["width"] <= width
    # No second way to answer, no plain comment box.
    expect(page.get_by_role("button", name="Answer…")).to_have_count(0)
    expect(page.get_by_role("button", name="Add comment")).to_have_count(0)

    reply.fill("The split by region, please: north and south.")
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_url(f"**/requests/{request_id}#timeline")
    expect(page.get_by_role("status").first).to_contain_text("your answer is sent")
    expect(page.locator("#reply")).to_have_count(0)
    expect(page.locator(".timeline")).to_contain_text("north and south")
    expect(page.get_by_role("button", name="Add comment")).to_be_visible()
    assert make.state(request_id) == "accepted"


def test_an_empty_reply_says_what_to_do_beside_the_question(make, new_page, desk):
    request_id = asked(make, desk)
    page = new_page()
    log_in(page, "rita@example.com", PASSWORD)
    page.goto(f"/requests/{request_id}")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("#reply-text-error")).to_have_text("Write your answer before sending.")
    expect(page.locator("#reply")).to_contain_text(QUESTION)
    assert make.state(request_id) == "needs_info"


def test_an_analyst_mentions_people_with_the_keyboard_alone(app, make, new_page, desk):
    request_id = make.request(desk["rita"], desk["team"])
    page = new_page()
    log_in(page, "ana@example.com", PASSWORD)
    page.goto(f"/requests/{request_id}")
    page.wait_for_load_state()
    comment = page.get_by_role("textbox", name="Comment")
    comment.focus()
    page.keyboard.type("Thanks @ri")
    listbox = page.get_by_role("listbox", name="People who may see this request")
    expect(listbox).to_be_visible()
    options = listbox.get_by_role("option")
    expect(options).to_have_count(2)
    # The requester first; the first option is chosen as the list opens.
    expect(options.nth(0)).to_contain_text("Rita Requester")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    combobox = page.get_by_role("combobox")
    expect(combobox).to_have_attribute("aria-expanded", "true")
    expect(combobox).to_have_attribute("aria-activedescendant",
                                       options.nth(0).get_attribute("id"))
    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(options.nth(1)).to_contain_text("Ricardo Reyes")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    expect(listbox).to_have_count(0)
    expect(comment).to_have_value("Thanks @[Rita Requester] ")

    # Escape closes the list and leaves the text as typed.
    page.keyboard.type("and @le")
    expect(page.get_by_role("option", name="Leo Lead leo@example.com")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("listbox")).to_have_count(0)
    expect(comment).to_have_value("Thanks @[Rita Requester] and @le")
    # Someone who may not see the request is never offered.
    page.keyboard.type(" and @otto")
    page.wait_for_timeout(600)
    expect(page.get_by_role("listbox")).to_have_count(0)
    expect(page.locator(".mention-status")).to_contain_text("Nobody who may see this request")

    comment.fill("Thanks @[Rita Requester], and @[Leo Lead] for the approval.")
    for _ in range(5):  # past the file input to the "Add comment" button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.innerText") == "Add comment":
            break
    page.keyboard.press("Enter")  # the focused "Add comment" button
    page.wait_for_url(f"**/requests/{request_id}#timeline")
    mentions = page.locator(".timeline .mention")
    expect(mentions).to_have_text(["@Rita Requester", "@Leo Lead"])
    with app.app_context():
        last = db.session.scalars(db.select(Event).where(Event.request_id == request_id)
                                  .order_by(Event.id.desc())).first()
        assert [m["name"] for m in last.data["mentions"]] == ["Rita Requester", "Leo Lead"]


def test_a_mention_of_someone_who_may_not_see_a_confidential_request_is_refused(app, make,
                                                                              new_page, desk):
    request_id = make.request(desk["rita"], desk["team"], is_confidential=True)
    page = new_page()
    log_in(page, "rita@example.com", PASSWORD)
    page.goto(f"/requests/{request_id}")
    comment = page.get_by_role("textbox", name="Comment")
    comment.fill("Can @[Ricardo Reyes] have a look?")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("#text-error")).to_contain_text(
        "Ricardo Reyes may not see this request (it is confidential)")
    expect(page.get_by_role("textbox", name="Comment")).to_have_value(
        "Can @[Ricardo Reyes] have a look?")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Event).where(
            Event.request_id == request_id, Event.kind == "comment")) == 0

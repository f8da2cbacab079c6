"""The conversation on a request (tickets/conversation.py, issue 14): the requester's reply box
beside the question is the answer, @mentions among the people who may see the request, and
"My requests" putting what waits on the requester first (tickets/waiting.py)."""
import re
import threading
from types import SimpleNamespace

import pytest

from tests.cast import Cast
from tests.conftest import AuthActions
from tests.test_intake import timeline
from tickets import conversation, intake, outcomes, policy, signals, waiting
from tickets.errors import Refusal
from tickets.extensions import db
from tickets.models import Event, Request, User, utcnow

QUESTION = "Which regions do you need?"


@pytest.fixture
def desk(make):
    """Marketing with its requester, a teammate and an embedded analyst; Finance with its
    requester; a lead."""
    marketing, finance = make.team("Marketing"), make.team("Finance")
    return SimpleNamespace(
        marketing=marketing, finance=finance,
        requester=make.user("requester", teams=[marketing], name="Rita Requester",
                            email="rita@example.com"),
        teammate=make.user("requester", teams=[marketing], name="Tess Teammate",
                           email="tess@example.com"),
        analyst=make.user("analyst", teams=[marketing], name="Ana Analyst",
                          email="ana@example.com"),
        outsider=make.user("requester", teams=[finance], name="Otto Outsider",
                           email="otto@example.com"),
        lead=make.user("lead", name="Leo Lead", email="leo@example.com"))


def asked(make, desk, **fields):
    """A Marketing request of the requester, accepted, then asked a question: needs_info."""
    request_id = make.request(desk.requester, desk.marketing, **fields)
    make.act(request_id, "accept", desk.analyst, size="M")
    make.act(request_id, "ask", desk.analyst, note=QUESTION)
    return request_id


def events(app, request_id):
    with app.app_context():
        return db.session.scalars(db.select(Event).where(Event.request_id == request_id)
                                  .order_by(Event.id)).all()


def html(response):
    return response.get_data(as_text=True)


def reply(auth, request_id, text):
    return auth.post(f"/requests/{request_id}/reply", {"reply-csrf_token": auth.token,
                                                       "reply-text": text})


@pytest.fixture
def announced():
    """What signals.comment_added announced during the test: [(request id, event, mentioned)]."""
    heard = []

    def hear(request, event, mentioned, now):
        heard.append((request.id, event, [person.id for person in mentioned]))

    with signals.comment_added.connected_to(hear):
        yield heard


# --- Mentions: the syntax ---------------------------------------------------------------------

def test_mention_names_are_read_between_brackets_each_once_in_order():
    text = ("Thanks @[Ana Analyst], and @[ leo@example.com ] too. @[ana  analyst] again; "
            "mail bob@[x] or write @[] or @[Not closed")
    assert conversation.mention_names(text) == ["Ana Analyst", "leo@example.com"]


def test_a_mention_glued_to_a_word_or_spread_over_lines_is_plain_text():
    assert conversation.mention_names("see me@[Ana Analyst] and @[Ana\nAnalyst]") == []


def test_the_mention_token_is_the_name_unless_it_is_shared_or_cannot_be_bracketed():
    assert conversation.mention_token("Ana  Analyst", "ana@example.com") == "@[Ana Analyst]"
    assert conversation.mention_token("Ana Analyst", "ana@example.com",
                                      is_name_shared=True) == "@[ana@example.com]"
    assert conversation.mention_token("Ana [BI]", "ana@example.com") == "@[ana@example.com]"


# --- Mentions: who may be mentioned -----------------------------------------------------------

def resolve(app, request_id, actor, text):
    """conversation.resolve_mentions as ``actor``: the ids mentioned, or the Refusal."""
    with app.app_context():
        req = db.session.get(Request, request_id)
        try:
            return [user.id for user in conversation.resolve_mentions(
                req, db.session.get(User, actor), text)]
        except Refusal as refusal:
            assert refusal.field == "text"
            return refusal


def test_people_who_may_see_the_request_are_mentioned_by_name_or_address(app, make, desk):
    request_id = make.request(desk.requester, desk.marketing)
    found = resolve(app, request_id, desk.requester,
                    "@[Ana Analyst] and @[TESS@example.com], with @[leo lead].")
    assert found == [desk.analyst, desk.teammate, desk.lead]


def test_the_author_mentioning_themselves_tells_nobody(app, make, desk):
    request_id = make.request(desk.requester, desk.marketing)
    assert resolve(app, request_id, desk.requester, "Note to @[Rita Requester]") == []


def test_someone_who_may_not_see_the_request_is_refused_by_name(app, make, desk):
    request_id = make.request(desk.requester, desk.marketing)
    refusal = resolve(app, request_id, desk.analyst, "Ask @[Otto Outsider] please")
    assert str(refusal) == ("Otto Outsider may not see this request (they are not in Marketing "
                            "and do not watch it), so they cannot be mentioned: remove the "
                            "mention to send your text.")


def test_on_a_confidential_request_only_its_requester_analyst_and_leads_may_be_mentioned(
        app, make, desk):
    request_id = make.request(desk.requester, desk.marketing, is_confidential=True)
    assert resolve(app, request_id, desk.requester, "@[Leo Lead]") == [desk.lead]
    refusal = resolve(app, request_id, desk.requester, "@[Tess Teammate] @[Ana Analyst]")
    assert "Tess Teammate may not see this request (it is confidential)" in str(refusal)
    assert "Ana Analyst may not see this request (it is confidential)" in str(refusal)


def test_a_watcher_of_another_team_may_be_mentioned(app, make, desk):
    request_id = make.request(desk.requester, desk.marketing, watchers=["otto@example.com"])
    assert resolve(app, request_id, desk.analyst, "@[Otto Outsider]") == [desk.outsider]


def test_unknown_and_deactivated_people_are_refused_naming_each(app, make, desk):
    gone = make.user("requester", teams=[desk.marketing], name="Gus Gone", is_active=False)
    request_id = make.request(desk.requester, desk.marketing)
    refusal = resolve(app, request_id, desk.requester, "@[Nobody Here] and @[Gus Gone]")
    assert str(refusal) == (
        "Nobody called \u201cNobody Here\u201d has an account here: pick the person from the "
        "list that opens when you type @, or remove the mention. Gus Gone no longer has an "
        "account here, so they cannot be mentioned: remove the mention to send your text.")
    assert gone


def test_a_name_two_people_share_is_refused_and_their_address_picks_one(app, make, desk):
    other = make.user("analyst", teams=[desk.marketing], name="Ana Analyst",
                      email="ana.two@example.com")
    request_id = make.request(desk.requester, desk.marketing)
    refusal = resolve(app, request_id, desk.requester, "@[Ana Analyst]")
    assert str(refusal).startswith("2 people called \u201cAna Analyst\u201d may see this request")
    assert resolve(app, request_id, desk.requester, "@[ana.two@example.com]") == [other]


def test_a_shared_name_only_one_of_whom_may_see_the_request_picks_that_one(app, make, desk):
    make.user("requester", teams=[desk.finance], name="Ana Analyst", email="ana.fin@example.com")
    request_id = make.request(desk.requester, desk.marketing)
    assert resolve(app, request_id, desk.requester, "@[Ana Analyst]") == [desk.analyst]


def test_more_than_twenty_mentions_are_refused(app, make, desk):
    request_id = make.request(desk.requester, desk.marketing)
    text = " ".join(f"@[Person {n}]" for n in range(21))
    assert str(resolve(app, request_id, desk.requester, text)) == (
        "Mention at most 20 people in one message.")


def test_resolving_mentions_is_one_statement_whatever_their_number(app, make, desk):
    from tests.conftest import count_sql

    request_id = make.request(desk.requester, desk.marketing, watchers=["otto@example.com"])

    def cost(text):
        def run():
            req = db.session.get(Request, request_id)
            actor = db.session.get(User, desk.requester)
            req.team  # loaded before counting: the page has it
            return conversation.resolve_mentions(req, actor, text)
        with app.app_context():
            db.session.get(Request, request_id)
        return count_sql(app, run)

    one, _ = cost("@[Ana Analyst]")
    four, found = cost("@[Ana Analyst] @[Leo Lead] @[Tess Teammate] @[otto@example.com]")
    assert len(found) == 4
    assert one == four


def test_people_who_see_agrees_with_the_rule_of_seeing_for_every_person_and_request(app, make):
    cast = Cast(app, make, central=True)
    cases = [("submitted", False, cast.marketing), ("in_progress", False, cast.marketing),
             ("submitted", True, cast.marketing), ("in_progress", True, cast.marketing),
             ("submitted", False, cast.teams["ops"])]
    for state, confidential, team in cases:
        request_id = cast.request(state, confidential=confidential, team=team)
        with app.app_context():
            req = db.session.get(Request, request_id)
            users = db.session.scalars(db.select(User).order_by(User.id)).all()
            by_rule = {user.id for user in users if policy.allowed(user, "see", req)}
            in_sql = set(db.session.scalars(db.select(User.id).where(
                policy.people_who_see(req))))
        assert in_sql == by_rule, (state, confidential, team)


# --- Mentions: comments -------------------------------------------------------------------------

def test_a_comment_records_its_mentions_and_announces_them(app, make, desk, auth, announced):
    request_id = make.request(desk.requester, desk.marketing)
    auth.login(desk.requester)
    response = auth.post(f"/requests/{request_id}/comments",
                         {"text": "@[Ana Analyst], can @[Leo Lead] approve this?"})
    assert response.status_code == 302
    comment = events(app, request_id)[-1]
    assert (comment.kind, comment.data["mentions"]) == ("comment", [
        {"id": desk.analyst, "name": "Ana Analyst", "email": "ana@example.com"},
        {"id": desk.lead, "name": "Leo Lead", "email": "leo@example.com"}])
    assert [(req_id, event.id, mentioned) for req_id, event, mentioned in announced] == [
        (request_id, comment.id, [desk.analyst, desk.lead])]


def test_the_timeline_highlights_mentions_and_escapes_everything_else(app, make, desk, auth):
    request_id = make.request(desk.requester, desk.marketing)
    auth.login(desk.requester)
    auth.post(f"/requests/{request_id}/comments",
              {"text": "<b>Hi</b> @[ana@example.com]: see @[Not A Mention"})
    shown = timeline(html(auth.client.get(f"/requests/{request_id}")))
    assert ('&lt;b&gt;Hi&lt;/b&gt; <span class="mention">@Ana Analyst</span>: see '
            '@[Not A Mention') in shown
    assert "<b>" not in shown


def test_a_comment_mentioning_someone_who_may_not_see_the_request_keeps_the_text(
        app, make, desk, auth, errors, announced):
    request_id = make.request(desk.requester, desk.marketing, is_confidential=True)
    auth.login(desk.requester)
    text = "Could @[Tess Teammate] check the numbers?"
    response = auth.post(f"/requests/{request_id}/comments", {"text": text})
    assert response.status_code == 400
    assert errors(response)["text"].startswith("Tess Teammate may not see this request")
    assert text in html(response)
    assert [e.kind for e in events(app, request_id)] == ["created"]
    assert announced == []


def test_a_mention_of_markup_is_refused_with_the_markup_escaped(make, desk, auth):
    request_id = make.request(desk.requester, desk.marketing)
    auth.login(desk.requester)
    response = auth.post(f"/requests/{request_id}/comments", {"text": "@[<script>x</script>]"})
    assert response.status_code == 400
    assert "<script>x</script>" not in html(response)
    assert "&lt;script&gt;x&lt;/script&gt;" in html(response)


# --- Mentions: the autocomplete's people -----------------------------------------------------

def test_the_autocomplete_offers_people_who_may_see_the_request_its_requester_first(
        client, make, desk, auth):
    request_id = make.request(desk.requester, desk.marketing)
    auth.login(desk.analyst)
    response = client.get(f"/requests/{request_id}/mentionable.json")
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    people = response.get_json()["people"]
    assert people == [
        {"name": "Rita Requester", "email": "rita@example.com", "token": "@[Rita Requester]"},
        {"name": "Leo Lead", "email": "leo@example.com", "token": "@[Leo Lead]"},
        {"name": "Tess Teammate", "email": "tess@example.com", "token": "@[Tess Teammate]"}]
    found = client.get(f"/requests/{request_id}/mentionable.json?q=LE").get_json()["people"]
    assert [person["name"] for person in found] == ["Leo Lead"]
    assert client.get(f"/requests/{request_id}/mentionable.json?q=otto").get_json() == {
        "people": []}


def test_the_autocomplete_writes_the_address_of_someone_whose_name_is_shared(client, make, desk,
                                                                              auth):
    make.user("requester", teams=[desk.marketing], name="Tess Teammate",
              email="tess.two@example.com")
    request_id = make.request(desk.requester, desk.marketing)
    auth.login(desk.requester)
    found = client.get(f"/requests/{request_id}/mentionable.json?q=tess").get_json()["people"]
    assert sorted(person["token"] for person in found) == [
        "@[tess.two@example.com]", "@[tess@example.com]"]


def test_the_autocomplete_of_a_confidential_request_offers_only_those_who_see_it(
        client, make, desk, auth):
    request_id = make.request(desk.requester, desk.marketing, is_confidential=True)
    auth.login(desk.requester)
    found = client.get(f"/requests/{request_id}/mentionable.json").get_json()["people"]
    assert [person["name"] for person in found] == ["Leo Lead"]


def test_the_autocomplete_needs_a_log_in_and_a_request_the_person_may_see(client, make, desk,
                                                                          auth):
    request_id = make.request(desk.requester, desk.marketing)
    response = client.get(f"/requests/{request_id}/mentionable.json")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    auth.login(desk.outsider)
    assert client.get(f"/requests/{request_id}/mentionable.json").status_code == 404
    assert client.get("/requests/99999/mentionable.json").status_code == 404


def test_the_autocomplete_lists_at_most_eight_in_constant_statements(client, make, desk, auth,
                                                                     statements):
    request_id = make.request(desk.requester, desk.marketing)
    auth.login(desk.analyst)
    path = f"/requests/{request_id}/mentionable.json?q=e"
    client.get(path)
    del statements[:]
    few = len(client.get(path).get_json()["people"])
    for n in range(10):
        make.user("requester", teams=[desk.marketing], name=f"Eve {n:02}")
    many = client.get(path).get_json()["people"]
    assert few < len(many) == conversation.SUGGESTIONS
    assert statements[0] == statements[1]


def test_the_autocomplete_treats_like_wildcards_and_odd_text_as_plain_text(client, make, desk,
                                                                           auth):
    request_id = make.request(desk.requester, desk.marketing)
    auth.login(desk.requester)
    for words in ("%", "_", "\\", "a\x00b", "'; DROP TABLE users; --", "x" * 5000):
        response = client.get(f"/requests/{request_id}/mentionable.json",
                              query_string={"q": words})
        assert response.status_code == 200 and response.get_json() == {"people": []}, words


# --- The reply beside the question ------------------------------------------------------------

def test_the_requester_sees_the_question_with_the_reply_box_beside_it_and_no_comment_box(
        client, make, desk, auth):
    request_id = asked(make, desk)
    auth.login(desk.requester)
    page = html(client.get(f"/requests/{request_id}"))
    box = page.index('id="reply"')
    assert page.index('<h1') < box < page.index('<div class="row g-4">')  # at the top
    assert box < page.index(QUESTION) < page.index("Reply and send back to the analyst")
    assert f'action="/requests/{request_id}/reply"' in page
    assert f'action="/requests/{request_id}/comments"' not in page
    assert 'id="action-answer"' not in page  # the reply box is the answer: offered once
    assert 'href="#reply"' in page  # where the comment box was, a pointer to it


@pytest.mark.parametrize("who", ["analyst", "teammate", "lead"])
def test_everyone_else_keeps_a_normal_comment_box_while_the_request_waits(client, make, desk,
                                                                           auth, who):
    request_id = asked(make, desk)
    auth.login(getattr(desk, who))
    page = html(client.get(f"/requests/{request_id}"))
    assert f'action="/requests/{request_id}/comments"' in page
    assert 'id="reply"' not in page


def test_a_reply_answers_the_question_in_one_transaction(app, make, desk, auth):
    request_id = asked(make, desk)
    heard = []
    auth.login(desk.requester)
    with signals.request_transitioned.connected_to(
            lambda request, event, now: heard.append(event.action)):
        response = reply(auth, request_id, "North and south; @[Ana Analyst] knows.")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/requests/{request_id}#timeline")
    answer = events(app, request_id)[-1]
    assert (answer.kind, answer.action, answer.from_state, answer.to_state, answer.text) == (
        "transition", "answer", "needs_info", "accepted",
        "North and south; @[Ana Analyst] knows.")
    assert answer.data["mentions"] == [
        {"id": desk.analyst, "name": "Ana Analyst", "email": "ana@example.com"}]
    assert heard == ["answer"]  # the analyst is told by the answer's notification
    assert make.state(request_id) == "accepted"
    page = html(auth.client.get(f"/requests/{request_id}"))
    assert "Thank you: your answer is sent to the data team." in page
    assert 'id="reply"' not in page
    assert '<span class="mention">@Ana Analyst</span> knows.' in timeline(page)


def test_a_comment_posted_from_an_older_page_while_asked_answers_the_question(app, make, desk,
                                                                              auth, announced):
    request_id = asked(make, desk)
    auth.login(desk.requester)
    response = auth.post(f"/requests/{request_id}/comments", {"text": "All regions, please."})
    assert response.status_code == 302
    last = events(app, request_id)[-1]
    assert (last.action, last.text) == ("answer", "All regions, please.")
    assert make.state(request_id) == "accepted"
    assert announced == []  # an answer, not a comment


def test_an_empty_reply_is_refused_beside_the_question(make, desk, auth, errors):
    request_id = asked(make, desk)
    auth.login(desk.requester)
    response = reply(auth, request_id, "   ")
    assert response.status_code == 400
    assert errors(response) == {"reply-text": "Write your answer before sending."}
    assert make.state(request_id) == "needs_info"


def test_a_reply_mentioning_someone_who_may_not_see_the_request_keeps_the_text(
        app, make, desk, auth, errors):
    request_id = asked(make, desk)
    auth.login(desk.requester)
    response = reply(auth, request_id, "Ask @[Otto Outsider] for the numbers.")
    assert response.status_code == 400
    assert errors(response)["reply-text"].startswith("Otto Outsider may not see this request")
    assert "Ask @[Otto Outsider] for the numbers." in html(response)
    assert make.state(request_id) == "needs_info"


def test_a_reply_to_a_request_no_longer_asked_keeps_the_text_in_the_comment_box(
        app, make, desk, auth):
    request_id = asked(make, desk)
    auth.login(desk.requester)
    page = html(auth.client.get(f"/requests/{request_id}"))
    make.act(request_id, "answer", desk.requester, note="Answered in another tab.")
    before = len(events(app, request_id))
    response = reply(auth, request_id, "My typed answer.")
    shown = html(response)
    assert 'id="reply"' in page and response.status_code == 409
    assert ("Your reply was not sent: this request is now accepted, so it no longer waits for "
            "your answer.") in shown
    comment_box = re.search(r'<form method="post" action="/requests/\d+/comments".*?</form>',
                            shown, re.S).group(0)
    assert "My typed answer." in comment_box and "Your reply was not sent" in comment_box
    assert len(events(app, request_id)) == before


def test_a_reply_to_a_request_declined_meanwhile_shows_the_text_to_copy(app, make, desk, auth):
    request_id = asked(make, desk)
    make.act(request_id, "decline", desk.analyst, reason="low_value", note="Not this quarter.")
    auth.login(desk.requester)
    response = reply(auth, request_id, "My typed answer.")
    shown = html(response)
    assert response.status_code == 409
    assert "this request is now declined" in shown
    assert re.search(r'<textarea id="unsent-text"[^>]*readonly>My typed answer.</textarea>', shown)
    assert f'action="/requests/{request_id}/comments"' not in shown


@pytest.mark.parametrize(("who", "status"), [("analyst", 403), ("teammate", 403),
                                             ("lead", 403), ("outsider", 404)])
def test_only_the_requester_replies(make, desk, auth, who, status):
    request_id = asked(make, desk)
    auth.login(getattr(desk, who))
    assert reply(auth, request_id, "Not mine to answer.").status_code == status
    assert make.state(request_id) == "needs_info"


def test_a_reply_racing_a_decline_in_the_database_leaves_one_winner(app, make, desk):
    request_id = asked(make, desk)
    with app.app_context():
        mine = db.session.get(Request, request_id)
        requester = db.session.get(User, desk.requester)
        with app.app_context():  # the analyst, in another session, declines first
            theirs = db.session.get(Request, request_id)
            from tickets import lifecycle
            lifecycle.transition(theirs, "decline", db.session.get(User, desk.analyst),
                                 reason="low_value", note="Not now.")
            db.session.commit()
        with pytest.raises(Refusal) as refused:
            conversation.reply(mine, requester, "Too late.", utcnow())
        assert refused.value.status == 409
        db.session.rollback()
    assert [e.action for e in events(app, request_id)][-1] == "decline"
    assert make.state(request_id) == "declined"


def test_a_reply_and_a_decline_posted_together_one_wins_and_the_reply_text_survives(
        app, make, desk):
    request_id = asked(make, desk)
    sessions = {}
    for who in ("requester", "analyst"):
        sessions[who] = AuthActions(app.test_client(), app)
        sessions[who].login(getattr(desk, who))
    version = make.get(Request, request_id).version
    barrier = threading.Barrier(2)
    responses = {}

    def send(who):
        barrier.wait()
        if who == "requester":
            responses[who] = reply(sessions[who], request_id, "Racing answer.")
        else:
            responses[who] = sessions[who].act(request_id, "decline", version=version,
                                               reason="low_value", note="Not now.")

    threads = [threading.Thread(target=send, args=(who,)) for who in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    codes = {who: response.status_code for who, response in responses.items()}
    assert sorted(codes.values()) == [302, 409], codes
    actions = [e.action for e in events(app, request_id) if e.kind == "transition"]
    if codes["requester"] == 302:
        assert actions[-1] == "answer" and make.state(request_id) == "accepted"
    else:
        assert actions[-1] == "decline" and "Racing answer." in html(responses["requester"])


# --- My requests: what waits on the requester first -------------------------------------------

def delivered(make, desk, **fields):
    request_id = make.request(desk.requester, desk.marketing, **fields)
    make.act(request_id, "accept", desk.analyst, size="S")
    make.act(request_id, "claim", desk.analyst)
    make.act(request_id, "deliver", desk.analyst, url="https://bi.example.com/d", note="Here.")
    return request_id


def follow_up_asked(app, make, desk, **fields):
    request_id = delivered(make, desk, **fields)
    make.act(request_id, "confirm", desk.requester)
    with app.app_context():
        outcomes.send_due(utcnow(), force=True)
        db.session.commit()
    return request_id


def section(page):
    match = re.search(r'<section class="card[^"]*waiting-on-you.*?</section>', page, re.S)
    return match.group(0) if match else ""


def test_my_requests_lists_what_waits_on_the_requester_first_each_with_its_action(
        app, make, desk, auth):
    follow_up = follow_up_asked(app, make, desk, title="Churn follow-up")
    delivery = delivered(make, desk, title="Signups delivered")
    question = asked(make, desk, title="Regions asked")
    other = make.request(desk.requester, desk.marketing, title="Just submitted")
    auth.login(desk.requester)
    page = html(auth.client.get("/requests/mine"))
    waits = section(page)
    assert page.index("Waiting on you") < page.index('<form method="get"')  # before the list
    assert re.findall(r'href="/requests/(\d+)#(\w[\w-]*)">([^<]+)<', waits) == [
        (str(question), "reply", "Answer the question"),
        (str(delivery), "h-actions", "Check the delivery"),
        (str(follow_up), "outcome", "Answer the follow-up")]
    assert f"\u201c{QUESTION}\u201d" in waits
    assert "Just submitted" not in waits and f"/requests/{other}" in page
    assert page.count("Waiting on you</span>") == 1  # the delivery's row in the open list


def test_nothing_waits_on_a_requester_with_no_question_delivery_or_follow_up(make, desk, auth):
    make.request(desk.requester, desk.marketing)
    asked(make, desk)  # the teammate's team's request, but not theirs to answer
    auth.login(desk.teammate)
    page = html(auth.client.get("/requests/mine"))
    assert section(page) == ""


def test_waiting_on_lists_at_most_its_limit_and_says_there_is_more(app, make, desk):
    for n in range(3):
        asked(make, desk, title=f"Asked {n}")
    with app.app_context():
        user = db.session.get(User, desk.requester)
        waits, more = waiting.waiting_on(user, limit=2)
        assert ([w.kind for w in waits], more) == (["question", "question"], True)
        waits, more = waiting.waiting_on(user, limit=3)
        assert (len(waits), more) == (3, False)


def test_my_requests_costs_the_same_statements_however_much_waits(app, make, desk, auth,
                                                                  statements):
    asked(make, desk)
    auth.login(desk.requester)

    def cost():
        auth.client.get("/requests/mine")
        del statements[:]
        assert auth.client.get("/requests/mine").status_code == 200
        return statements[-1]

    few = cost()
    for n in range(4):
        asked(make, desk, title=f"Asked {n}")
        delivered(make, desk, title=f"Delivered {n}")
    follow_up_asked(app, make, desk)
    assert cost() == few


def test_the_reply_box_costs_the_same_statements_however_long_the_conversation(
        app, make, desk, auth, statements):
    short = asked(make, desk)
    long = asked(make, desk)
    make.act(long, "answer", desk.requester, note="North.")
    with app.app_context():
        req = db.session.get(Request, long)
        for n in range(5):
            conversation.post(req, db.session.get(User, desk.analyst),
                              f"Note {n} for @[Rita Requester]", utcnow())
        db.session.commit()
    make.act(long, "ask", desk.analyst, note="And which quarter?")
    auth.login(desk.requester)
    counts = []
    for request_id in (short, long):
        auth.client.get(f"/requests/{request_id}")
        del statements[:]
        page = html(auth.client.get(f"/requests/{request_id}"))
        assert 'id="reply"' in page
        counts.append(statements[-1])
    assert "And which quarter?" in page
    assert counts[0] == counts[1]


def test_an_event_without_mentions_is_one_plain_piece():
    event = SimpleNamespace(text="Plain @[Ana Analyst] text", data={})
    assert conversation.segments(event) == [("Plain @[Ana Analyst] text", None)]
    assert conversation.segments(SimpleNamespace(text="", data={})) == []


def test_intake_add_comment_without_mentions_keeps_empty_data(app, make, desk):
    request_id = make.request(desk.requester, desk.marketing)
    with app.app_context():
        req = db.session.get(Request, request_id)
        event = intake.add_comment(req, db.session.get(User, desk.analyst), " Hello ")
        db.session.commit()
        assert (event.text, event.data) == ("Hello", {})


def test_the_demo_shows_mentions_and_what_waits_on_the_requester(app, runner):
    runner.invoke(args=["seed-demo"])
    with app.app_context():
        comments = db.session.scalars(db.select(Event).where(Event.kind == "comment")).all()
        mentioning = [event for event in comments if event.data.get("mentions")]
        assert mentioning, "some demo comments mention someone"
        for event in mentioning:  # every one resolves to people who may see its request
            for record in event.data["mentions"]:
                person = db.session.get(User, record["id"])
                assert policy.allowed(person, "see", event.request), (event.id, record)
            assert any(person for _, person in conversation.segments(event))
        requester = db.session.scalar(db.select(User).where(
            User.email == "requester@example.com"))
        kinds = {wait.kind for wait in waiting.waiting_on(requester)[0]}
    assert {"question", "delivery"} <= kinds

"""The conversation on a request: comments, @mentions, and the requester's reply to a question.

A **mention** is written ``@[Name]`` or ``@[e-mail address]``: the brackets say where a name of
several words ends, so the text still reads well where it is shown as typed (mail, search),
and the e-mail address picks one person when several share a name. A comment's mentions are
resolved when it is written, among the people who may see the request
(``policy.people_who_see``), and kept on its event (``lifecycle.mention_records``): the
timeline highlights them and notifications tell those people, whatever names or addresses
change later. A mention of someone unknown, or who may not see the request, refuses the
comment, naming them.

While a request waits on its requester (needs_info), their comment **is** the answer: posting
it takes the ``answer`` transition with the text (``post``), so the clock resumes and the
analyst is told; nobody can leave the question unanswered by commenting beside it.

Each function changes the session and flushes; the caller commits.
"""
import re

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import aliased

from . import intake, lifecycle
from .errors import Refusal
from .extensions import db
from .models import STATES, User, utcnow
from .policy import people_who_see
from .queries import contains_text, starts_with_text

# ``@[...]`` not glued to a word before it (``x@[y]`` is no mention), on one line.
MENTION = re.compile(r"(?<![\w@])@\[([^\[\]\r\n]{1,254})\]")
MAX_MENTIONS = 20
# How many people the autocomplete offers at once.
SUGGESTIONS = 8
ANSWER = lifecycle.TRANSITIONS["answer"]


class ReplyNotAwaited(Refusal):
    """A reply to a question the request no longer waits on (it moved on meanwhile): 409."""

    status = 409


def mention_names(text):
    """The people ``text`` mentions, as written inside ``@[...]`` (spaces trimmed), each once
    (compared without case), in order."""
    found, seen = [], set()
    for match in MENTION.finditer(text or ""):
        written = " ".join(match.group(1).split())
        if written and written.casefold() not in seen:
            seen.add(written.casefold())
            found.append(written)
    return found


def mention_token(name, email, is_name_shared=False):
    """How a comment mentions a person: ``@[Name]``, or ``@[email]`` when the name does not
    pick them alone (``is_name_shared``) or cannot be written between brackets."""
    if is_name_shared or not name.strip() or re.search(r"[\[\]\r\n]", name):
        return f"@[{email}]"
    return f"@[{' '.join(name.split())}]"


def resolve_mentions(request, actor, text):
    """Return the people ``text`` mentions (User rows; not ``actor``, who needs no telling).

    Each mention must name exactly one active person who may see ``request``; otherwise the
    whole text is refused (Refusal on field "text") with a message naming each problem. One
    SQL statement, whatever the number of mentions.
    """
    written = mention_names(text)
    if not written:
        return []
    if len(written) > MAX_MENTIONS:
        raise Refusal(f"Mention at most {MAX_MENTIONS} people in one message.", "text")
    names = [func.lower(name) for name in written]
    emails = [name.lower() for name in written if "@" in name]
    may_see = case((people_who_see(request), True), else_=False)
    rows = db.session.execute(
        select(User, may_see).where(or_(func.lower(User.name).in_(names),
                                        User.email.in_(emails or [""])))
        .order_by(User.id)).all()
    people, problems = [], []
    for name in written:
        key = name.casefold()
        matching = [(user, bool(sees)) for user, sees in rows
                    if user.email == name.lower() or user.name.casefold() == key]
        seeing = [user for user, sees in matching if sees and user.is_active]
        if len(seeing) == 1:
            if seeing[0] not in people and seeing[0] != actor:
                people.append(seeing[0])
            continue
        problems.append(_problem(request, name, matching, seeing))
    if problems:
        raise Refusal(" ".join(problems), "text")
    return people


def _problem(request, written, matching, seeing):
    """Why the mention ``@[written]`` names nobody who may be mentioned, in one sentence."""
    if len(seeing) > 1:
        return (f"{len(seeing)} people called \u201c{written}\u201d may see this request: "
                "mention the one you mean by e-mail address, like @[name@example.com], or "
                "pick them from the list that opens when you type @.")
    active = [user for user, _ in matching if user.is_active]
    if active:
        person = active[0].name
        why = ("it is confidential" if request.is_confidential
               else f"they are not in {request.team.name} and do not watch it")
        return (f"{person} may not see this request ({why}), so they cannot be mentioned: "
                "remove the mention to send your text.")
    if matching:
        return (f"{matching[0][0].name} no longer has an account here, so they cannot be "
                "mentioned: remove the mention to send your text.")
    return (f"Nobody called \u201c{written}\u201d has an account here: pick the person from the "
            "list that opens when you type @, or remove the mention.")


def mentionable(request, viewer, words="", limit=SUGGESTIONS):
    """The people ``viewer`` may mention in a comment on ``request`` whose name contains
    ``words`` or whose e-mail address starts with them: active people who may see it, not the viewer; its requester
    and assignee first, then names starting with the words, then by name. Each is a dict of
    name, email and the ``token`` that mentions them. One SQL statement."""
    other = aliased(User)
    shared = (select(func.count()).select_from(other)
              .where(other.is_active, func.lower(other.name) == func.lower(User.name),
                     people_who_see(request, of=other))
              .scalar_subquery())
    involved = [User.id == request.requester_id]
    if request.assignee_id is not None:
        involved.append(User.id == request.assignee_id)
    order = [case((or_(*involved), 0), else_=1)]
    query = select(User.name, User.email, shared).where(
        User.is_active, people_who_see(request), User.id != viewer.id)
    words = " ".join((words or "").split())
    if words:
        # Not "e-mail contains": every address contains its company's domain.
        query = query.where(or_(contains_text(User.name, words),
                                starts_with_text(User.email, words)))
        order.append(case((starts_with_text(User.name, words), 0), else_=1))
    rows = db.session.execute(query.order_by(*order, User.name, User.id).limit(limit)).all()
    return [{"name": name, "email": email,
             "token": mention_token(name, email, is_name_shared=count > 1)}
            for name, email, count in rows]


def segments(event):
    """The text of ``event`` in pieces for the timeline: (text, name) pairs where ``name`` is
    the person a piece mentions (a mention the event recorded), None for plain text. The
    template escapes every piece; nothing here is markup."""
    text = event.text or ""
    people = {}
    for record in (event.data or {}).get("mentions", ()):
        people[record["name"].casefold()] = record["name"]
        people[record["email"].casefold()] = record["name"]
    if not people:
        return [(text, None)] if text else []
    pieces, start = [], 0
    for match in MENTION.finditer(text):
        name = people.get(" ".join(match.group(1).split()).casefold())
        if name is None:
            continue
        if match.start() > start:
            pieces.append((text[start:match.start()], None))
        pieces.append((f"@{name}", name))
        start = match.end()
    if start < len(text):
        pieces.append((text[start:], None))
    return pieces


def awaits_reply(request, user):
    """Tell whether ``request`` waits on ``user``'s answer to a question: it is in needs_info
    and ``user`` may answer (the ``answer`` transition's rule)."""
    return lifecycle.may_take(ANSWER, request, user)


def question_of(request):
    """The latest question asked on ``request`` (its ``ask`` event, from the events loaded
    with it), or None."""
    asked = [event for event in request.events
             if event.kind == "transition" and event.action == "ask"]
    return asked[-1] if asked else None


def post(request, actor, text, now=None):
    """Post ``text`` by ``actor`` on ``request``: the answer to its question when the request
    waits on ``actor``'s reply (``reply``), else a comment. Mentions are resolved first (a
    refusal writes nothing). Return the event written."""
    now = now or utcnow()
    if awaits_reply(request, actor):
        return reply(request, actor, text, now)
    mentioned = resolve_mentions(request, actor, text)
    return intake.add_comment(request, actor, text, now, mentioned=mentioned)


def reply(request, actor, text, now=None):
    """Answer the question ``request`` waits on with ``text``: the ``answer`` transition, in
    the caller's transaction (the clock resumes, the analyst is told). Refused with
    ReplyNotAwaited when the request no longer waits on ``actor`` (it moved on meanwhile).
    Return the event."""
    now = now or utcnow()
    if not awaits_reply(request, actor):
        raise ReplyNotAwaited(
            "Your reply was not sent: this request is now "
            f"{STATES[request.state].lower()}, so it no longer waits for your answer.")
    mentioned = resolve_mentions(request, actor, text)
    return lifecycle.transition(request, "answer", actor, now, note=text, mentioned=mentioned)

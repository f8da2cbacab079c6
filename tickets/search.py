"""Full-text search over requests and catalogue assets, with the databases' own engines.

Each request and asset has one ``SearchDocument`` (title, and a body: a request's data needed,
usage, levers, comments and delivery notes; an asset's description, kind and tags). A session
hook keeps the documents current on every write: whatever creates, edits or deletes a request,
an asset or a comment, in the app, a command or a test, changes the document in the same
transaction. The index over the documents is the database's: SQLite FTS5 ranked by bm25,
PostgreSQL ``tsvector`` with a GIN index ranked by ``ts_rank_cd`` (the migration creates both).

User text never reaches the engines' query syntax: ``terms`` keeps words only (letters and
digits of any script), drops common words and caps their number, and each term is quoted
(FTS5) or passed as a bound parameter to ``plainto_tsquery`` (PostgreSQL), so operators,
quotes, parentheses, ``*`` or 10,000 characters are plain words or nothing, never an error.
Terms are OR-ed and ranked, so a paraphrase that shares a few words still finds its target;
documents matching more (and rarer) terms come first.

Visibility is part of every query (``policy.visible_requests`` / ``policy.visible_assets``):
nothing a person may not see is ranked, counted or shown.
"""
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from markupsafe import Markup, escape
from sqlalchemy import (and_, bindparam, case, event as sa_event, false, func, literal_column,
                        or_, select)
from sqlalchemy import text as sql_text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, joinedload

from . import counts
from .extensions import db
from .models import (ASSET_KINDS, KINDS, Asset, Event, Request,
                     SearchDocument, SearchMiss, utcnow)
from .policy import visible_assets, visible_requests
from .queries import id_matches, upsert

# A query longer than this is cut (and the person told so).
MAX_QUERY_CHARS = 500
# Terms searched at most: the first ones typed (intake text is long; a search box is short).
MAX_TERMS = 16
PER_PAGE = 20
MAX_PAGE = 50

# Words that say nothing about which data is meant: dropped from queries (both engines alike).
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
get got had has have having he her here hers him his how i if in into is it its itself just
me more most my no nor not now of off on once only or other our ours out over own please same
she should so some such than that the their theirs them then there these they this those
through to too under until up us very want was we were what when where which while who whom
why will with would you your yours need needs needed like know show give find see data
""".split())

REQUEST_FIELDS = ("data_needed", "usage", "lever_result", "lever_expected_shape",
                  "lever_extraction", "lever_decision")
ASSET_FIELDS = ("title", "description", "tags", "kind")
# The events whose text is part of a request's document: comments and delivery notes.
_INDEXED_ACTIONS = ("deliver",)

# Highlight markers the engines put around matched words; escaped text never contains them.
_START, _STOP = "\x02", "\x03"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_WORD = re.compile(r"\w+")


def terms(text, limit=MAX_TERMS):
    """The searchable words of ``text``: case-folded, without common words, each once, in the
    order typed, at most ``limit`` of them. Digits count as words; a lone letter does not."""
    found = []
    for word in _WORD.findall((text or "")[:MAX_QUERY_CHARS * 20].casefold()):
        word = word.strip("_")
        if not word or word in STOPWORDS or word in found:
            continue
        if len(word) < 2 and word.isascii() and not word.isdigit():
            continue
        found.append(word[:60])
        if len(found) == limit:
            break
    return found


def normalise(text):
    """``text`` as compared when grouping searches: its words, lower-case, in order."""
    return " ".join(_WORD.findall((text or "").casefold()))[:200]


# The parts of the full-text index each engine owns (created by the migration, not by the
# models): autogenerate and the schema test leave them alone.
_ENGINE_TABLE_PREFIX = "search_fts"
_ENGINE_INDEXES = frozenset({"ix_search_documents_document"})


def is_schema_object(obj, name, type_, reflected, compare_to):
    """Alembic's ``include_object``: False for the engines' own index objects (SQLite's FTS5
    tables, PostgreSQL's generated tsvector column and its GIN index)."""
    if type_ == "table" and name and name.startswith(_ENGINE_TABLE_PREFIX):
        return False
    if type_ == "column" and name == "document" and getattr(obj, "table", None) is not None \
            and obj.table.name == "search_documents":
        return False
    return not (type_ == "index" and name in _ENGINE_INDEXES)


# --- keeping the documents current -------------------------------------------------------------

def _clean(text):
    return _CONTROL.sub(" ", text or "")


def request_documents(request_ids, connection):
    """{request id: (title, body)} of the documents of requests ``request_ids`` that exist,
    read through ``connection`` (two statements)."""
    rows = connection.execute(
        select(Request.id, Request.title, *(getattr(Request, name) for name in REQUEST_FIELDS))
        .where(Request.id.in_(request_ids))).all()
    notes = {}
    for request_id, text in connection.execute(
            select(Event.request_id, Event.text)
            .where(Event.request_id.in_(request_ids),
                   or_(Event.kind == "comment", Event.action.in_(_INDEXED_ACTIONS)))
            .order_by(Event.id)):
        notes.setdefault(request_id, []).append(text)
    return {row[0]: (_clean(row[1]), _clean(" ".join([*row[2:], *notes.get(row[0], ())])))
            for row in rows}


def request_document(request_id, connection):
    """(title, body) of request ``request_id``'s document, read through ``connection``; None
    when the request does not exist."""
    return request_documents([request_id], connection).get(request_id)


def asset_documents(asset_ids, connection):
    """{asset id: (title, body)} of the documents of assets ``asset_ids`` that exist."""
    return {asset_id: (_clean(title), _clean(" ".join([description, tags.replace(",", " "),
                                                       ASSET_KINDS.get(kind, kind)])))
            for asset_id, title, description, tags, kind in connection.execute(
                select(Asset.id, Asset.title, Asset.description, Asset.tags, Asset.kind)
                .where(Asset.id.in_(asset_ids)))}


def asset_document(asset_id, connection):
    """(title, body) of asset ``asset_id``'s document; None when it does not exist."""
    return asset_documents([asset_id], connection).get(asset_id)


_DOCUMENTS_OF = {"request": request_documents, "asset": asset_documents}
# Rows read and written per statement when many are indexed at once (an import, a rebuild).
REINDEX_BATCH = 500


def reindex(connection, kind, ids):
    """Write the documents of the ``kind`` rows ``ids`` afresh (delete those gone): a few
    statements per REINDEX_BATCH rows, in id order."""
    table = SearchDocument.__table__
    ids = sorted(ids)
    for start in range(0, len(ids), REINDEX_BATCH):
        batch = ids[start:start + REINDEX_BATCH]
        documents = _DOCUMENTS_OF[kind](batch, connection)
        gone = [ref_id for ref_id in batch if ref_id not in documents]
        if gone:
            connection.execute(table.delete().where(table.c.kind == kind,
                                                    table.c.ref_id.in_(gone)))
        if documents:
            # One statement that inserts or replaces: two transactions indexing the same row
            # at once (two comments on one request) both succeed, where a delete then an
            # insert made the second one's insert break the unique key on PostgreSQL.
            rows = [{"kind": kind, "ref_id": ref_id, "title": title, "body": body}
                    for ref_id, (title, body) in sorted(documents.items())]
            connection.execute(upsert(connection, table, rows, keys=("kind", "ref_id")), rows)


def rebuild(connection=None):
    """Index every request and asset again (after bulk loads that bypass the ORM); return the
    number of documents."""
    connection = connection or db.session.connection()
    connection.execute(SearchDocument.__table__.delete())
    count = 0
    for kind, model in (("request", Request), ("asset", Asset)):
        ids = connection.execute(select(model.id).order_by(model.id)).scalars().all()
        reindex(connection, kind, ids)
        count += len(ids)
    return count


def _changed(obj, names):
    state = sa_inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


@sa_event.listens_for(Session, "before_flush")
def _collect(session, flush_context, instances):
    """Note which requests and assets this flush changes in a way their documents show."""
    pending = session.info.setdefault("search_pending", {"request": set(), "asset": set()})
    for obj in session.new:
        if isinstance(obj, Request):
            pending["request"].add(obj)
        elif isinstance(obj, Asset):
            pending["asset"].add(obj)
        elif isinstance(obj, Event) and (obj.kind == "comment"
                                         or obj.action in _INDEXED_ACTIONS):
            pending["request"].add(obj.request if obj.request is not None else obj.request_id)
    for obj in session.dirty:
        if isinstance(obj, Request) and _changed(obj, ("title", *REQUEST_FIELDS)):
            pending["request"].add(obj)
        elif isinstance(obj, Asset) and _changed(obj, ASSET_FIELDS):
            pending["asset"].add(obj)
    for obj in session.deleted:
        if isinstance(obj, Request):
            pending["request"].add(obj.id)
        elif isinstance(obj, Asset):
            pending["asset"].add(obj.id)


@sa_event.listens_for(Session, "after_flush")
def _write(session, flush_context):
    """Rewrite the documents noted before the flush, in the flush's transaction."""
    pending = session.info.pop("search_pending", None)
    if not pending:
        return
    connection = session.connection()
    for kind, found in pending.items():
        ids = {item if isinstance(item, int) else item.id for item in found}
        reindex(connection, kind, {ref_id for ref_id in ids if ref_id is not None})


@sa_event.listens_for(Session, "after_rollback")
def _forget(session):
    session.info.pop("search_pending", None)


# --- querying -----------------------------------------------------------------------------------

def _dialect():
    return db.session.get_bind().dialect.name


@dataclass
class Match:
    """How a query is matched and ranked on this database (built by ``_match``)."""

    condition: object  # the WHERE condition selecting matching documents
    rank: object  # lower is better
    source: object  # what to select from: the FTS table, or the documents
    id_column: object  # the document id in ``source``
    # The words as the engine's query (snippets mark what it matches): PostgreSQL's OR-ed
    # tsquery, SQLite's MATCH expression.
    query: object = None


# A term found in more than this share of the documents (and in more than RARE_MIN of them)
# is common: it ranks the documents but does not select them on its own. Without this, a
# query with one everyday word ("monthly", "customers") ranks half the index on every call.
COMMON_SHARE = 0.02
RARE_MIN = 1000
# Suggestions (``similar``) ask who may see a match only among this many of the best matches
# in their scope: five visible ones are almost always among them, and asking it of every match
# costs one EXISTS per catalogue asset.
SIMILAR_BEST = 300
# When every word is common, the newest documents holding all of them are ranked, at most this
# many: ranking tens of thousands of everyday matches costs more than it tells.
COMMON_CANDIDATES = 2000


def _shares(words):
    """PostgreSQL: {word: the share of documents holding it}, from the lexeme frequencies
    ANALYZE keeps in pg_stats; None for a word not among the most common (a rare one)."""
    return dict(db.session.execute(sql_text(
            "SELECT w, (SELECT s.freqs[array_position(s.elems, (ts_lexize('english_stem', w))[1])]"
            " FROM (SELECT most_common_elems::text::text[] AS elems,"
            " most_common_elem_freqs AS freqs FROM pg_stats"
            " WHERE schemaname = current_schema() AND tablename = 'search_documents'"
            " AND attname = 'document') s) FROM unnest(CAST(:words AS text[])) AS w"),
            {"words": list(words)}).all())


def _rarity(shares):
    """{word: weight} growing as the word gets rarer (an inverse document frequency): what
    bm25 gives SQLite and ts_rank lacks. A word the statistics do not list is rarer than the
    rarest listed one."""
    listed = [share for share in shares.values() if share]
    floor = min(listed) / 2 if listed else 0.001
    return {word: math.log(1 / min(max(share or floor, 1e-6), 1.0)) + 0.1
            for word, share in shares.items()}


def _common(words, prefix, shares=None):
    """The words of ``words`` too common to select documents by (see COMMON_SHARE), from the
    engine's own statistics: PostgreSQL's lexeme frequencies (``shares``, see ``_shares``),
    SQLite's document counts, each counted only up to the threshold."""
    documents = db.session.scalar(select(func.max(SearchDocument.id))) or 0
    cap = int(documents * COMMON_SHARE)
    if cap <= RARE_MIN:
        return set()
    if shares is not None:
        return {word for word, share in shares.items() if share is not None
                and share > COMMON_SHARE}
    counts = select(*(
        select(func.count()).select_from(
            select(literal_column("1")).select_from(db.table("search_fts"))
            .where(literal_column("search_fts").op("MATCH")(
                bindparam(f"df_{i}", _quoted(word, prefix and i == len(words) - 1))))
            .limit(cap + 1).subquery()).scalar_subquery()
        for i, word in enumerate(words)))
    found = db.session.execute(counts).one()
    return {word for word, count in zip(words, found) if count > cap}


def _quoted(word, prefix=False):
    return '"' + word.replace('"', '""') + '"' + ("*" if prefix else "")


def _match(words, prefix=False):
    """The engine's condition and rank for ``words``: every word ranks (OR-ed, the last one as a
    prefix when the person is still typing it); the rare words select, or, when every word is
    common, documents with all of them."""
    postgresql = _dialect() == "postgresql"
    shares = _shares(words) if postgresql else None
    common = _common(words, prefix, shares)
    rare = [word for word in words if word not in common]
    last = len(words) - 1
    if postgresql:
        document = literal_column("search_documents.document")

        def one(i, word):
            if prefix and i == last and word.isalnum():
                # A prefix query needs to_tsquery: the word is letters and digits only, quoted.
                return func.to_tsquery("english", bindparam(f"term_{i}", f"'{word}':*"))
            return func.plainto_tsquery("english", bindparam(f"term_{i}", word))

        def joined(parts, operator):
            query = parts[0]
            for part in parts[1:]:
                query = query.op(operator)(part)
            return query

        parts = [one(i, word) for i, word in enumerate(words)]
        ranking = joined(parts, "||")
        if not common:
            condition = document.op("@@")(ranking)
        elif rare:
            condition = document.op("@@")(
                joined([part for part, word in zip(parts, words) if word in rare], "||"))
        else:
            condition = document.op("@@")(joined(parts, "&&"))
            floor = db.session.scalar(
                select(SearchDocument.id).where(condition).order_by(SearchDocument.id.desc())
                .offset(COMMON_CANDIDATES - 1).limit(1))
            if floor is not None:
                condition = and_(condition, SearchDocument.id >= floor)
        # Each word's match weighed by its rarity, as bm25 does: a rare word found counts for
        # more than an everyday one ("MRR by month" is about MRR, not about months).
        weights = _rarity(shares)
        rank = None
        for i, (part, word) in enumerate(zip(parts, words)):
            term = bindparam(f"weight_{i}", weights[word]) * func.ts_rank(document, part, 1)
            rank = term if rank is None else rank + term
        return Match(condition=condition, rank=-rank, source=SearchDocument.__table__,
                     id_column=SearchDocument.id, query=ranking)
    quoted = [_quoted(word, prefix and i == last) for i, word in enumerate(words)]
    ranking = " OR ".join(quoted)
    if not common:
        expression = ranking
    elif rare:
        # bm25 scores every phrase of the expression: the common words still rank.
        chosen = " OR ".join(q for q, word in zip(quoted, words) if word in rare)
        expression = f"({chosen}) AND ({ranking})"
    else:
        expression = " AND ".join(quoted)
    fts = literal_column("search_fts")
    rowid = literal_column("search_fts.rowid")
    source = db.table("search_fts")
    condition = fts.op("MATCH")(bindparam("fts_query", expression))
    if common and not rare:
        floor = db.session.scalar(
            select(rowid).select_from(source).where(condition).order_by(rowid.desc())
            .offset(COMMON_CANDIDATES - 1).limit(1))
        if floor is not None:
            condition = and_(condition, rowid >= floor)
    return Match(condition=condition, rank=func.bm25(fts, 10.0, 1.0), source=source,
                 id_column=rowid, query=expression)


@dataclass
class Hit:
    """One result: a request or an asset, its title and a snippet with the matched words
    marked (HTML, escaped)."""

    kind: str  # request, asset
    id: int
    item: object  # the Request or Asset
    title: Markup
    snippet: Markup
    rank: float = 0.0


@dataclass
class Results:
    """A page of search results."""

    query: str
    terms: list
    hits: list = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = PER_PAGE
    notice: str = ""  # e.g. the query was cut
    counts: dict = field(default_factory=dict)  # {kind: matching documents}, kinds counted

    @property
    def pages(self):
        return max(1, -(-self.total // self.per_page))


def _marked(text):
    """Escape ``text`` and turn the engine's markers into <mark> elements."""
    html = str(escape(text or ""))
    html = html.replace(_START, "<mark>").replace(_STOP, "</mark>")
    if html.count("<mark>") != html.count("</mark>"):
        html = html.replace("<mark>", "").replace("</mark>", "")
    return Markup(html)


def _snippets(match, ids):
    """{document id: (title, snippet)} with matched words marked, for ``ids`` only (asked even
    for none, so a page costs the same statements whether or not it found anything)."""
    if _dialect() == "postgresql":
        options = f"StartSel={_START}, StopSel={_STOP}, MaxWords=28, MinWords=10, MaxFragments=2"
        rows = db.session.execute(
            select(SearchDocument.id,
                   func.ts_headline("english", SearchDocument.title,
                                    match.query,
                                    f"HighlightAll=true, StartSel={_START}, StopSel={_STOP}"),
                   func.ts_headline("english", SearchDocument.body, match.query, options))
            .where(SearchDocument.id.in_(ids)))
        return {row[0]: (row[1], row[2]) for row in rows}
    fts = literal_column("search_fts")
    rows = db.session.execute(
        select(literal_column("search_fts.rowid"),
               func.highlight(fts, 0, _START, _STOP),
               func.snippet(fts, 1, _START, _STOP, "\u2026", 24))
        .select_from(db.table("search_fts"))
        .where(fts.op("MATCH")(bindparam("fts_query")), literal_column("search_fts.rowid").in_(ids)),
        {"fts_query": match.query})
    return {row[0]: (row[1], row[2]) for row in rows}


def _of_scope(types, request_condition=None, asset_condition=None, *, kind):
    """SQL: the document (joined as ``_joined`` does) is of ``types`` and meets the extra
    conditions on requests and assets (who may see it aside); ``kind`` is the column holding
    its kind (the candidates', ``Candidates.kind``)."""
    parts = []
    if "request" in types:
        parts.append(and_(kind == "request",
                          *([request_condition] if request_condition is not None else [])))
    if "asset" in types:
        parts.append(and_(kind == "asset",
                          *([asset_condition] if asset_condition is not None else [])))
    return or_(*parts)


def _visible(user, types, request_condition=None, asset_condition=None, *, kind):
    """SQL: the document (its request or asset joined, as ``_joined`` does) is one ``user`` may
    see, of ``types`` (request, asset), meeting the extra conditions on requests and assets;
    ``kind`` as ``_of_scope`` takes it."""
    def with_rule(rule, condition):
        return rule if condition is None else and_(rule, condition)

    return _of_scope(
        types,
        with_rule(visible_requests(user), request_condition) if "request" in types else None,
        with_rule(visible_assets(user), asset_condition) if "asset" in types else None,
        kind=kind)


def _joined(query, documents):
    """``query`` (of ``documents``: the candidates of ``_matching``) with each document's
    request or asset joined."""
    return (query.outerjoin(Request, and_(documents.kind == "request",
                                          Request.id == documents.ref_id))
            .outerjoin(Asset, and_(documents.kind == "asset", Asset.id == documents.ref_id)))


def _scoped(query, documents, user, types, request_condition=None, asset_condition=None):
    """``query`` (of ``documents``) narrowed to the documents ``user`` may see, of ``types``
    (request, asset), with extra conditions on the requests and assets."""
    return _joined(query, documents).where(
        _visible(user, types, request_condition, asset_condition, kind=documents.kind))


@dataclass
class Candidates:
    """The documents a Match finds, with their rank (``_matching``): ``selected(query)`` is
    ``query`` selecting from them, and ``doc_id``, ``kind`` and ``ref_id`` are their columns
    there."""

    selected: Callable
    doc_id: object
    kind: object
    ref_id: object

    def columns(self, rank):
        """The columns of a ranked row: ``id``, ``kind``, ``ref_id`` and ``rank``."""
        return (self.doc_id.label("id"), self.kind.label("kind"), self.ref_id.label("ref_id"),
                rank.label("rank"))


def _matching(match):
    """(candidates, rank): the documents ``match`` finds (Candidates), and the rank to order
    them by, best (lowest) first, once an asset is joined."""
    # The matching documents and their rank first, from the index alone (materialised, so no
    # planner walks the requests and asks the index row by row), then who may see them.
    query = (select(match.id_column.label("doc_id"), match.rank.label("score"))
             .select_from(match.source).where(match.condition))
    # PostgreSQL ranks the documents themselves: the CTE carries their kind and reference.
    # Joined to search_documents again instead, it hashed the whole table (100,000 rows) to
    # find a few thousand.
    carries = match.source is SearchDocument.__table__
    if carries:
        query = query.add_columns(SearchDocument.kind.label("kind"),
                                  SearchDocument.ref_id.label("ref_id"))
    cte = query.cte("candidates").prefix_with("MATERIALIZED")
    if carries:
        found = Candidates(lambda query: query.select_from(cte), cte.c.doc_id, cte.c.kind,
                           cte.c.ref_id)
    else:
        # SQLite's index is its own table: each match is joined to its document by id (inside
        # the CTE, the load test ran 20 % slower).
        found = Candidates(
            lambda query: query.select_from(cte).join(SearchDocument,
                                                      SearchDocument.id == cte.c.doc_id),
            SearchDocument.id, SearchDocument.kind, SearchDocument.ref_id)
    # Deprecated assets stay findable, after the active ones that match as well.
    # (Ranks are negative, lower is better: a smaller factor moves a row down.)
    return found, cte.c.score * case((Asset.status == "deprecated", 0.6), else_=1.0)


def _candidates(match, user, types, request_condition, asset_condition):
    """(scoped, rank, documents): ``scoped(columns)`` selects ``columns`` of the documents
    ``match`` finds that ``user`` may see, of ``types``; ``rank`` orders them, best first;
    ``documents`` are their columns (``doc_id``, ``kind``, ``ref_id``)."""
    candidates, rank = _matching(match)

    def scoped(columns):
        return _scoped(candidates.selected(select(*columns)), candidates, user, types,
                       request_condition, asset_condition)

    return scoped, rank, candidates


def _ranked(user, match, *, types, request_condition=None, asset_condition=None, limit,
            offset=0):
    """[(document id, kind, ref id, rank)] best first (every one with ``limit`` None)."""
    scoped, rank, documents = _candidates(match, user, types, request_condition, asset_condition)
    return db.session.execute(
        scoped(documents.columns(rank)).order_by(rank, documents.doc_id)
        .limit(limit).offset(offset)).all()


def _best_visible(user, match, *, types, request_condition=None, asset_condition=None, limit,
                  best):
    """``_ranked`` (``limit`` rows, from the first) asking who may see a match only among the
    ``best`` best ranked matches of the scope: the same rows whenever at least ``limit`` of
    those are visible to ``user``, else the visible ones among them. Suggestions, where asking
    it of every match (one EXISTS per catalogue asset) cost most of the time."""
    documents, rank = _matching(match)
    found = (_joined(documents.selected(select(*documents.columns(rank))), documents)
             .where(_of_scope(types, request_condition, asset_condition, kind=documents.kind))
             .order_by(rank, documents.doc_id).limit(best).subquery("best"))
    return db.session.execute(
        _joined(select(found.c.id, found.c.kind, found.c.ref_id, found.c.rank), found.c)
        .where(_visible(user, types, kind=found.c.kind))
        .order_by(found.c.rank, found.c.id).limit(limit)).all()


def _load(rows):
    """{(kind, id): Request or Asset} for ranked rows: one query per kind, each with its team
    (and a request's assignee) joined, run even when the page has none of that kind, so a page
    costs the same statements whatever mix of requests and assets it shows."""
    ids = {"request": [r.ref_id for r in rows if r.kind == "request"],
           "asset": [r.ref_id for r in rows if r.kind == "asset"]}
    found = {}
    for item in db.session.scalars(select(Request).where(Request.id.in_(ids["request"]))
                                   .options(joinedload(Request.team),
                                            joinedload(Request.assignee))):
        found["request", item.id] = item
    for item in db.session.scalars(select(Asset).where(Asset.id.in_(ids["asset"]))
                                   .options(joinedload(Asset.team))):
        found["asset", item.id] = item
    return found


def _hits(match, rows):
    items = _load(rows)
    marked = _snippets(match, [row.id for row in rows])
    hits = []
    for row in rows:
        item = items.get((row.kind, row.ref_id))
        if item is None:
            continue
        title, snippet = marked.get(row.id, (item.title, ""))
        hits.append(Hit(kind=row.kind, id=row.ref_id, item=item, title=_marked(title),
                        snippet=_marked(snippet), rank=float(row.rank or 0)))
    return hits


def search(user, text, *, types=("request", "asset"), request_condition=None,
           asset_condition=None, page=1, per_page=PER_PAGE, count_types=None):
    """One page of what ``user`` may see matching ``text``, best first (Results).

    ``types`` narrows to requests or assets; ``request_condition`` and ``asset_condition`` are
    extra SQL conditions (the page's filters). ``count_types`` (default ``types``) are the
    kinds counted in ``Results.counts`` (a page's "requests 12 · assets 3"), in the same
    statement as the total. ``page`` is capped to the pages there are (and MAX_PAGE); a value
    that is not a whole number is page 1. An empty or wordless query finds nothing and says why
    in ``notice``.
    """
    text = text or ""
    notice = ""
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        notice = f"Only the first {MAX_QUERY_CHARS} characters were searched."
    words = terms(text)
    results = Results(query=text, terms=words, page=1, per_page=per_page, notice=notice)
    if not words:
        results.notice = ("Type a few words about the data you are looking for."
                          if not text.strip() else
                          "Those words are too common to search for: add a more specific one.")
        return results
    match = _match(words)
    counted = tuple(count_types or types)
    # Every match the person may see, best first, in one statement: counted here and paged
    # here, where a count and a page each had to rank and check the visibility of them all.
    ranked = _ranked(user, match, types=tuple(dict.fromkeys((*types, *counted))),
                     request_condition=request_condition, asset_condition=asset_condition,
                     limit=None)
    counts = Counter(row.kind for row in ranked)
    results.total = sum(counts.get(kind, 0) for kind in types)
    results.counts = {kind: counts.get(kind, 0) for kind in counted}
    results.page = min(_page_number(page), results.pages, MAX_PAGE)
    if results.total == 0:
        return results
    start = (results.page - 1) * per_page
    rows = [row for row in ranked if row.kind in types][start:start + per_page]
    results.hits = _hits(match, rows)
    return results


def _page_number(page):
    try:
        return max(1, int(page))
    except (TypeError, ValueError, OverflowError):
        return 1


def similar(user, text, *, types=("request", "asset"), request_condition=None,
            asset_condition=None, exclude_request_id=None, limit=5, prefix=False):
    """Up to ``limit`` things ``user`` may see most like ``text`` (a title and a description),
    best first, as Hits: the intake suggestions and the pickers' choices. Who may see them is
    asked among the SIMILAR_BEST best matches of the scope only (``_best_visible``)."""
    words = terms(text)
    if not words:
        return []
    request_condition = _excluding(request_condition, exclude_request_id)
    match = _match(words, prefix)
    rows = _best_visible(user, match, types=types, request_condition=request_condition,
                         asset_condition=asset_condition, limit=limit, best=SIMILAR_BEST)
    return _hits(match, rows)


def _excluding(request_condition, exclude_request_id):
    """``request_condition`` (None: any request) that also leaves out request
    ``exclude_request_id`` (None: none left out)."""
    if exclude_request_id is None:
        return request_condition
    keep = Request.id != exclude_request_id
    return keep if request_condition is None else and_(request_condition, keep)


def similar_in(user, text, scopes, *, limit=5):
    """``similar`` for several scopes at once: {name: up to ``limit`` Hits} for each of
    ``scopes`` ({name: {"types", "request_condition", "asset_condition",
    "exclude_request_id"}}, the keywords ``similar`` takes), with one ranking of the matches
    for all (the engine's rank is what costs: bm25 over every match). A document in two
    scopes goes to the first. The triage neighbours: possible duplicates and possible
    answers."""
    found = {name: [] for name in scopes}
    words = terms(text)
    if not words or not scopes:
        return found
    match = _match(words)
    documents, rank = _matching(match)
    conditions = []
    types = set()
    for scope in scopes.values():
        conditions.append(_of_scope(
            scope["types"],
            _excluding(scope.get("request_condition"), scope.get("exclude_request_id")),
            scope.get("asset_condition"), kind=documents.kind))
        types.update(scope["types"])
    group = case(*((condition, index) for index, condition in enumerate(conditions)))
    # Who may see a document is asked once a row, after the scopes (cheap) chose it.
    numbered = _joined(documents.selected(
        select(*documents.columns(rank), group.label("scope"),
               func.row_number().over(partition_by=group, order_by=(rank, documents.doc_id))
               .label("place"))), documents
    ).where(or_(*conditions), _visible(user, types, kind=documents.kind)).subquery()
    rows = db.session.execute(
        select(numbered.c.id, numbered.c.kind, numbered.c.ref_id, numbered.c.rank,
               numbered.c.scope)
        .where(numbered.c.place <= limit).order_by(numbered.c.scope, numbered.c.place)).all()
    names = list(scopes)
    scope_of = {(row.kind, row.ref_id): names[row.scope] for row in rows}
    for hit in _hits(match, rows):
        found[scope_of[hit.kind, hit.id]].append(hit)
    return found


def record_miss(user, text, source="search", now=None):
    """Remember that ``user`` searched for ``text`` and found nothing (a catalogue gap)."""
    key = normalise(text)
    if not key:
        return None
    team_ids = user.team_ids
    miss = SearchMiss(user_id=user.id, team_id=team_ids[0] if team_ids else None,
                      query=(text or "").strip()[:200], query_key=key, source=source,
                      created_at=now or utcnow())
    db.session.add(miss)
    return miss


# The state filters of the search page: the counting words of DESIGN.md (Lifecycle).
STATE_GROUPS = {word: (counts.WORDS[word].title, counts.WORDS[word].states)
                for word in ("open", "delivered", "closed")}


def filter_conditions(*, kind=None, state_group=None, team_id=None):
    """(request condition, asset condition) of the search page's filters; None for no filter.

    ``kind`` (of KINDS) and ``state_group`` (of STATE_GROUPS) are about requests only, so
    either of them leaves no asset; ``team_id`` is a request's team and an asset's owning team.
    Unknown values are the caller's to refuse; here they match nothing.
    """
    requests, assets = [], []
    if kind is not None:
        requests.append(Request.kind == kind if kind in KINDS else false())
        assets.append(false())
    if state_group is not None:
        states = STATE_GROUPS.get(state_group, (None, ()))[1]
        requests.append(Request.state.in_(sorted(states)) if states else false())
        assets.append(false())
    if team_id is not None:
        requests.append(id_matches(Request.team_id, team_id))
        assets.append(id_matches(Asset.team_id, team_id))
    return (and_(*requests) if requests else None), (and_(*assets) if assets else None)


def answers_condition():
    """The requests that can answer someone else's question: delivered or resolved ones."""
    return Request.state.in_(("delivered", "resolved"))


def active_assets_condition():
    """Catalogue assets worth suggesting: active ones."""
    return Asset.status == "active"


__all__ = ["Hit", "Results", "STATE_GROUPS", "answers_condition", "active_assets_condition",
           "filter_conditions", "normalise", "rebuild", "record_miss", "reindex", "search",
           "similar", "terms"]

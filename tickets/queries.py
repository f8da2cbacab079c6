"""SQL conditions and statements shared by views, permission checks and the domain (no Flask
here)."""
from sqlalchemy import Boolean, bindparam, false, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

# The largest value an INTEGER column holds. A bigger number in a URL or a form names no row;
# sent to the database it would raise (SQLite: overflow, PostgreSQL: out of range) instead.
MAX_ID = 2**31 - 1


def id_matches(column, value):
    """``column == value``, or a condition matching nothing when ``value`` cannot be an id."""
    return column == value if 0 < value <= MAX_ID else false()


class _Few(FunctionElement):
    """A condition that holds for few rows, for SQLite's planner (see ``few``)."""

    name = "likelihood"
    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # else SQLite gets "likelihood(...) = 1", which it ignores


class _Unindexed(FunctionElement):
    """A column the planner must not look rows up by (see ``unindexed``)."""

    name = "unindexed"
    inherit_cache = True

    def __init__(self, column):
        super().__init__(column)
        self.type = column.type


@compiles(_Few)
@compiles(_Unindexed)
def _plain(element, compiler, **kw):
    return compiler.process(next(iter(element.clauses)), **kw)


@compiles(_Few, "sqlite")
def _with_likelihood(element, compiler, **kw):
    # SQLite takes the probability as a literal only, never as a bound parameter.
    return f"likelihood({_plain(element, compiler, **kw)}, 0.01)"


@compiles(_Unindexed, "sqlite")
def _with_unary_plus(element, compiler, **kw):
    return f"+{_plain(element, compiler, **kw)}"


def few(condition):
    """``condition``, marked as holding for few rows (for example: the open requests, a
    small part of all requests, however many have been closed).

    SQLite's statistics (ANALYZE) hold no histograms: to its planner each state is as common
    as any other, so it may read every request in the sort's order rather than look up the
    few open ones. This tells it (SQLite's ``likelihood``); PostgreSQL's statistics know.
    """
    return _Few(condition)


def unindexed(column):
    """``column``, which SQLite's planner must not use an index of to find rows: for a
    condition that holds for most rows (the closed requests), where reading the table in
    order costs less than looking most of its rows up one by one (SQLite's unary ``+``;
    see ``few``). PostgreSQL's own statistics decide there."""
    return _Unindexed(column)


def _like_escaped(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class _LikeIgnoringCase(FunctionElement):
    """``column ILIKE pattern ESCAPE '\\'`` (see ``contains_text``)."""

    name = "like_ignoring_case"
    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True


@compiles(_LikeIgnoringCase)
def _ilike(element, compiler, **kw):
    column, pattern = element.clauses
    return compiler.process(column.ilike(pattern, escape="\\"), **kw)


@compiles(_LikeIgnoringCase, "sqlite")
def _like(element, compiler, **kw):
    # SQLite's LIKE ignores the case of ASCII letters, and only of those, as its lower() does:
    # the same matches as lower(column) LIKE lower(pattern), without lower() on every row.
    column, pattern = element.clauses
    return compiler.process(column.like(pattern, escape="\\"), **kw)


def contains_text(column, text):
    """A case-insensitive 'contains' condition in which % and _ are plain characters."""
    return _LikeIgnoringCase(column, bindparam(None, f"%{_like_escaped(text)}%"))


def starts_with_text(column, text):
    """A case-insensitive 'starts with' condition in which % and _ are plain characters."""
    return _LikeIgnoringCase(column, bindparam(None, f"{_like_escaped(text)}%"))


def insert_once(session, table, values, key):
    """Insert ``values`` into ``table`` unless a row with the same unique ``key`` column value
    exists; return the new row's id, or None when it existed.

    The unique constraint decides, whatever process inserts at the same time (ON CONFLICT DO
    NOTHING on PostgreSQL and SQLite); a None key never conflicts.
    """
    dialect = session.get_bind().dialect.name
    if values.get(key) is not None and dialect in ("postgresql", "sqlite"):
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
        statement = insert.values(values).on_conflict_do_nothing(
            index_elements=[key]).returning(table.c.id)
    else:
        statement = table.insert().values(values).returning(table.c.id)
    return session.execute(statement).scalar()


def upsert(connection, table, values, keys):
    """An INSERT of ``values`` (a row's {column: value}) into ``table`` that updates the other
    columns of the row whose unique ``keys`` columns hold the same values instead (ON CONFLICT
    DO UPDATE on PostgreSQL and SQLite). ``values`` a list of rows with the same columns: the
    statement to execute with that list (executemany; compiled once whatever the rows)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    is_many = isinstance(values, list)
    statement = dialect.insert(table) if is_many else dialect.insert(table).values(values)
    names = values[0] if is_many else values
    return statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: statement.excluded[name] for name in names if name not in keys})


def lease_due(session, model, due, order_by, limit, until, holder, now):
    """Lock up to ``limit`` rows of ``model`` that match ``due`` and no one holds (its
    ``locked_until`` is None or past ``now``) for ``holder`` until ``until``; return their
    ids, sorted. The outboxes' lease (mail, webhooks); the caller commits.

    One UPDATE ... RETURNING: on PostgreSQL the rows are picked with SKIP LOCKED, on SQLite
    writers take turns and the second finds the rows already locked, so two senders never take
    the same row.
    """
    free = or_(model.locked_until.is_(None), model.locked_until <= now)
    picked = select(model.id).where(due, free).order_by(*order_by).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        picked = picked.with_for_update(skip_locked=True)
    # Materialised: picked once. As a plain subquery PostgreSQL may rescan it for each row
    # (its plan depends on the table's statistics), and every rescan skips the rows the last
    # one locked: a batch then takes far more than ``limit`` rows.
    picked = picked.cte("due").prefix_with("MATERIALIZED")
    taken = session.execute(
        update(model)
        .where(model.id.in_(select(picked.c.id)), free)
        .values(locked_until=until, locked_by=holder)
        .returning(model.id)
        .execution_options(synchronize_session=False))
    return sorted(taken.scalars())

"""SQL conditions and statements shared by views, permission checks and the domain (no Flask
here)."""
from sqlalchemy import false
from sqlalchemy.dialects import postgresql, sqlite

# The largest value an INTEGER column holds. A bigger number in a URL or a form names no row;
# sent to the database it would raise (SQLite: overflow, PostgreSQL: out of range) instead.
MAX_ID = 2**31 - 1


def id_matches(column, value):
    """``column == value``, or a condition matching nothing when ``value`` cannot be an id."""
    return column == value if 0 < value <= MAX_ID else false()


def _like_escaped(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains_text(column, text):
    """A case-insensitive 'contains' condition in which % and _ are plain characters."""
    return column.ilike(f"%{_like_escaped(text)}%", escape="\\")


def starts_with_text(column, text):
    """A case-insensitive 'starts with' condition in which % and _ are plain characters."""
    return column.ilike(f"{_like_escaped(text)}%", escape="\\")


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
    """An INSERT of ``values`` into ``table`` that updates the other columns of the row whose
    unique ``keys`` columns hold the same values instead (ON CONFLICT DO UPDATE on PostgreSQL
    and SQLite)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(values)
    return statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: statement.excluded[name] for name in values if name not in keys})

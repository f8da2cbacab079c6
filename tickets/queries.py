"""SQL conditions shared by views and permission checks (no Flask here)."""
from sqlalchemy import false

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

"""Hypothesis strategies for what a person (or an attacker) can type into a form field.

``valid`` strategies give values a form should accept, varied enough to store non-ASCII text;
``bad_value(field, ...)`` gives what it must refuse or survive: control characters, huge strings,
non-ASCII case pairs, out-of-range numbers, impossible dates, ids that do not exist or overflow,
and ``MISSING`` (the field left out of the post altogether).
"""
import io
from datetime import date, timedelta

from hypothesis import strategies as st

class _Missing:
    def __repr__(self):
        return "MISSING"


# A field left out of the posted form (a crafted post, or a browser that omits an unticked box).
MISSING = _Missing()

# Letters whose upper and lower case do not map one to one, or differently on each database.
CASE_PAIRS = ("Équipe", "équipe", "ÉQUIPE", "Équipe",  # the last is E + combining acute
              "İstanbul", "i̇stanbul", "istanbul", "ISTANBUL", "ıstanbul",
              "Straße", "STRASSE", "strasse", "ẞtraße",
              "ΣΊΣΥΦΟΣ", "σίσυφος", "σίσυφοσ", "Σίσυφος",
              "ﬁnance", "FINANCE", "Ǆemal", "ǅemal", "ǆemal", "Kelvin", "Kelvin")

# Characters that must never reach a single-line value unseen (headers, CSV, logs, subjects).
CONTROLS = ("\x00", "\r", "\n", "\r\n", "\u2028", "\u2029", "\u0085", "\x0b", "\x0c", "\x1b",
            "\x7f", "\t", "\u200b", "\u202e", "\ufeff", "\x08")

# Text shaped like an attack on some layer behind the form.
NASTY = ("<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "=cmd|' /C calc'!A0",
         "' OR 1=1 --", "%_\\", "{{ 7*7 }}", "${jndi:ldap://x}", "NEAR(", "\"unbalanced",
         "a\r\nBcc: victim@example.com", "../../etc/passwd", "\U0001F600" * 3, "ß" * 3, "  ")

# Numbers as typed: out of range, overflowing, or not quite numbers.
NUMBERS = ("-1", "0", "1", "-0", "+5", "007", "1.5", "1e9", "1E400", "NaN", "nan", "inf",
           "-inf", "Infinity", "2147483647", "2147483648", "-2147483649", "9223372036854775807",
           "9223372036854775808", str(2**64), str(10**30), "1_000", "0x10", "１２", "٣", "3 ",
           " 3", "3\n", "4.0", ".5", "5.", "1,000", "9" * 400)

# Dates as typed: impossible, extreme, or in another format.
DATES = ("0000-01-01", "0001-01-01", "1900-02-29", "1970-01-01", "2026-02-30", "2026-13-01",
         "2026-00-10", "2026-1-1", "20260101", "2026/01/01", "01-01-2026", "9999-12-31",
         "9999-12-30", "10000-01-01", "-2026-01-01", "2026-01-01T00:00", "today", "2026-W01")

# Ids that name nothing, or that no INTEGER column can hold.
IDS = ("0", "-1", "2147483647", "2147483648", "9223372036854775807", "9223372036854775808",
       str(10**30), "1.0", "1e3", "abc", "", " ", "None", "null", "[]")

# References to an asset or a request ("asset:7") that name nothing, or nothing well-formed.
REFS = ("asset:0", "request:0", "asset:-1", "request:2147483648", "asset:99999999999",
        "request:1.0", "asset:", ":1", "request", "team:1", "asset:\u0661", "asset:1 ",
        " request:1", "asset::1", "asset:1,request:2", "asset:0x1", "ASSET:1", "request:1e3",
        "asset:" + "9" * 400, "request:%s" % 2**64)

# Times of day as typed.
TIMES = ("24:00", "23:59", "00:00", "9:00", "09:00:00", "25:61", "09:60", "0900", "09h00",
         "09:00\n", "12:00 PM", "-1:00")

# A ``next`` target a redirect must not follow blindly.
NEXTS = ("/", "/triage", "//evil.example", "https://evil.example/", "/\\evil.example",
         "\\\\evil.example", "/triage\r\nSet-Cookie: x=y", "/triage\nLocation: //evil",
         "/\x00", "/%0d%0aX: y", "javascript:alert(1)", " /triage", "/" + "a" * 5000,
         "/triage?section=central#x", "/\u2028", "http:/evil.example")


def text(min_size=0, max_size=60):
    """Any text a keyboard (of any language) can produce: no lone surrogates, which no browser
    can send, but control characters, combining marks and astral planes included."""
    return st.text(st.characters(exclude_categories=("Cs",)), min_size=min_size,
                   max_size=max_size)


def printable(min_size=1, max_size=60):
    """Text without control characters: letters of every script, marks, symbols, spaces."""
    return st.text(st.characters(exclude_categories=("Cs", "Cc", "Cf", "Zl", "Zp", "Co", "Cn")),
                   min_size=min_size, max_size=max_size)


class Long(str):
    """A long string that shows itself in a failure report as its start and its length."""

    def __repr__(self):
        return f"Long({str.__repr__(self[:12])}\u2026, {len(self)} chars)"


def huge():
    """A string of 1,000 to 100,000 characters, of one or a few repeated pieces."""
    unit = st.sampled_from(("x", "é", "İ", "ß", "\n", "\u2028", "<", "a b ", "\U0001F600",
                            "\x00"))
    return st.builds(lambda piece, count: Long(piece * count), unit, st.integers(1_000, 100_000))


def with_control(base):
    """``base`` text with a control character put in at its start, middle or end."""
    return st.builds(lambda text_, control, where: _insert(text_, control, where),
                     base, st.sampled_from(CONTROLS), st.sampled_from(("start", "middle", "end")))


def _insert(text_, piece, where):
    if where == "start":
        return piece + text_
    if where == "end":
        return text_ + piece
    middle = len(text_) // 2
    return text_[:middle] + piece + text_[middle:]


def case_variant(names):
    """One of ``names`` (existing values) with its case changed, or a non-ASCII case pair."""
    changes = (str.upper, str.lower, str.swapcase, str.title, str.casefold, lambda s: s)
    existing = st.builds(lambda name, change: change(name), st.sampled_from(names),
                         st.sampled_from(changes)) if names else st.nothing()
    return st.one_of(existing, st.sampled_from(CASE_PAIRS))


def just_over(max_length, piece):
    """A value of about ``max_length`` characters: the longest allowed, or a little longer."""
    if not max_length:
        return st.nothing()
    return st.integers(max_length - 1, max_length + 2).map(
        lambda length: Long((piece * length)[:length]))


def generic_bad():
    """What any field may receive from a crafted post."""
    return st.one_of(
        st.just(MISSING), st.just(""), st.just("   "), huge(), with_control(printable(0, 20)),
        st.sampled_from(CONTROLS), st.sampled_from(CASE_PAIRS), st.sampled_from(NASTY),
        st.sampled_from(NUMBERS), text(0, 40))


BAD_FILES = (
    (b"", "empty.csv"), (b"MZ\x90\x00", "tool.exe"), (b"<svg onload=alert(1)>", "x.svg"),
    (b"a,b\n", "../../etc/passwd.csv"), (b"a,b\n", "a/b.csv"), (b"a,b\n", "a\x00b.csv"),
    (b"a,b\n", ".env.csv"), (b"a,b\n", "x" * 300 + ".csv"), (b"a,b\n", "README"),
    (b"plain text", "shot.png"), (b"\x89PNG\r\n\x1a\n\x00", "rows.csv"), (b"a,b\n", ""),
    (b"a,b\n", "\u202eexe.csv"), (b"a,b\n", "CON.csv"),
)


def bad_value(field, context):
    """A value for ``field`` (a catalogue Field) that tests its limits, drawn per its kind."""
    kind = field.kind
    specific = {
        "text": lambda: st.one_of(with_control(printable(1, 30)),
                                  case_variant(field.names(context)),
                                  just_over(field.max_length, "x")),
        "textarea": lambda: st.one_of(with_control(printable(1, 30)),
                                      just_over(field.max_length, "y\r\n")),
        "select": lambda: st.one_of(st.sampled_from(NUMBERS), case_variant(field.options(context))),
        "multi": lambda: st.lists(st.one_of(st.sampled_from(field.options(context) or ("x",)),
                                            st.sampled_from(NUMBERS + IDS), text(0, 10)),
                                  max_size=12),
        "boolean": lambda: st.sampled_from(("y", "on", "", "false", "False", "0", "no", "off",
                                            "n", "\x00", "true\r\n")),
        "number": lambda: st.one_of(st.sampled_from(NUMBERS), st.integers().map(str),
                                    st.floats().map(str)),
        "integer": lambda: st.one_of(st.sampled_from(NUMBERS), st.integers().map(str)),
        "id": lambda: st.one_of(st.sampled_from(IDS + NUMBERS),
                                st.integers(-(2**70), 2**70).map(str)),
        "multi_id": lambda: st.lists(st.one_of(st.sampled_from(IDS + NUMBERS),
                                               st.integers(-(2**70), 2**70).map(str)),
                                     min_size=1, max_size=6),
        "date": lambda: st.one_of(st.sampled_from(DATES), st.dates().map(date.isoformat)),
        "time": lambda: st.sampled_from(TIMES),
        "email": lambda: st.one_of(case_variant(field.names(context)),
                                   st.sampled_from(("a@b", "@example.com", "a@", "a b@example.com",
                                                    "é@exämple.com", "a@example.com\r\nBcc: x@y",
                                                    "a" * 300 + "@example.com", "A@EXAMPLE.COM",
                                                    "\x00@example.com", "<a@example.com>")),
                                   st.emails().map(str)),
        "emails": lambda: st.tuples(
            st.lists(st.one_of(st.emails().map(str),
                               st.sampled_from(("x", "a@", "@b", "é@exämple.com"))), max_size=30),
            st.sampled_from((",", "\n", "; ", " ", "\r\n", "\t", ",,"))).map(
                lambda pair: pair[1].join(pair[0])),
        "url": lambda: st.sampled_from(("javascript:alert(1)", "data:text/html,x", "ftp://x",
                                        "https://", "https://x" + "/a" * 300, "http://[::1",
                                        "https://exa mple.com", "https://example.com/\r\nX",
                                        "HTTPS://EXAMPLE.COM", "https://éxample.com/ß",
                                        "//example.com", "https://example.com:99999/")),
        "password": lambda: st.one_of(text(0, 12), st.sampled_from(("", "short", "x" * 201,
                                                                     "\x00" * 8))),
        "version": lambda: st.one_of(st.sampled_from(IDS + NUMBERS),
                                     st.integers(-3, 3).map(lambda d: context.version_offset(d))),
        "next": lambda: st.sampled_from(NEXTS),
        "holidays": lambda: st.lists(st.one_of(st.sampled_from(DATES),
                                               st.dates().map(date.isoformat),
                                               st.sampled_from(CONTROLS), text(0, 12)),
                                     max_size=600).map("\n".join),
        # A file a crafted post sends: empty, of a type not allowed, a name with folders, a
        # control character or a leading dot, content that contradicts its name; or text.
        "file": lambda: st.one_of(st.sampled_from(BAD_FILES).map(
            lambda pair: (io.BytesIO(pair[0]), pair[1])), text(0, 20)),
        "token": lambda: st.one_of(text(1, 40), huge(), st.sampled_from(context.tokens_bad())),
        # An answer's reference: malformed, naming nothing, or (``similar``) naming something
        # that exists but answers nothing; or a valid one with its case changed.
        "ref": lambda: st.one_of(st.sampled_from(REFS),
                                 st.sampled_from(field.names(context) or REFS),
                                 case_variant(field.options(context))),
    }[kind]
    # Left out is as likely as any other way to be wrong: views must not rely on a field's presence.
    return st.one_of(st.just(MISSING), specific(), generic_bad())


def future_date(today, max_days=400):
    """A date from today to ``max_days`` ahead, as the form posts it."""
    return st.integers(0, max_days).map(lambda days: (today + timedelta(days=days)).isoformat())

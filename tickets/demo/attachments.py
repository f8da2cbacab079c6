"""The demo's files: a sample CSV a requester attached at intake, a screenshot of the report a
request is about, an analyst's first cut on a comment. Made by code (a few lines of CSV, a
small PNG bar chart drawn pixel by pixel), attached through ``attachments.attach`` to events
the histories already wrote, so every timeline stays in the order it happened.
"""
import io
import random
import struct
import zlib

from .. import attachments
from ..extensions import db
from ..models import OPEN_STATES, Event, Request

__all__ = ["seed_attachments", "bar_chart_png"]

SHOWN_STATES = OPEN_STATES | {"delivered"}  # files may still be added and removed on them
REGIONS = ("North", "South", "East", "West")
SAMPLE_NAMES = ("what we track today.csv", "sample rows from our sheet.csv",
                "current export (Q3).csv")


def seed_attachments(played):
    """Attach the demo files to the open requests of ``played`` ([(stories item, request)]):
    a sample on the created event of the first three, a screenshot on the first two, a first cut on the
    first analysts' comments. Flushes; the caller commits (the files move into place then)."""
    rng = random.Random(14)
    shown = [request for _, request in played if request.state in SHOWN_STATES]
    # The demo requester's first: what a newcomer logging in as them sees.
    shown.sort(key=lambda request: (request.requester.email != "requester@example.com",
                                    request.id))
    for request, name in zip(shown, SAMPLE_NAMES):
        created = _event(request, "created")
        attachments.attach(request, request.requester, [(name, io.BytesIO(sample_csv(rng)))],
                           created.created_at, event=created)
    for request in shown[:2]:
        created = _event(request, "created")
        attachments.attach(request, request.requester,
                           [("current report.png", io.BytesIO(bar_chart_png(rng)))],
                           created.created_at, event=created)
    comments = db.session.scalars(
        db.select(Event).join(Request).where(Event.kind == "comment",
                                             Event.actor_id != Request.requester_id,
                                             Request.state.in_(SHOWN_STATES))
        .order_by(Event.id).limit(2)).all()
    for comment in comments:
        attachments.attach(comment.request, comment.actor,
                           [("first cut.csv", io.BytesIO(sample_csv(rng, weeks=8)))],
                           comment.created_at, event=comment)
    db.session.flush()


def _event(request, kind):
    return next(event for event in request.events if event.kind == kind)


def sample_csv(rng, weeks=4):
    """A few weeks of a number per region, as a requester pastes from their own sheet."""
    lines = ["week,region,accounts,churned"]
    for week in range(1, weeks + 1):
        for region in REGIONS:
            accounts = rng.randint(800, 2400)
            lines.append(f"2026-W{week + 39:02d},{region},{accounts},"
                         f"{round(accounts * rng.uniform(0.01, 0.06))}")
    return ("\n".join(lines) + "\n").encode()


def bar_chart_png(rng, width=360, height=200):
    """A small PNG of a bar chart (a 'screenshot' of a report): white, an axis, six bars."""
    bars = [rng.uniform(0.25, 0.95) for _ in range(6)]
    colours = [(13, 110, 253), (25, 135, 84), (253, 126, 20), (111, 66, 193), (32, 201, 151),
               (214, 51, 132)]
    left, bottom, gap = 30, height - 24, 12
    bar_width = (width - left - 20 - gap * 5) // 6
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")  # filter: none
        for x in range(width):
            colour = (255, 255, 255)
            if x == left and 12 <= y <= bottom or y == bottom and left <= x <= width - 12:
                colour = (73, 80, 87)
            elif left < x and y < bottom:
                index, offset = divmod(x - left - 6, bar_width + gap)
                if 0 <= index < 6 and offset < bar_width and x - left > 6:
                    top = bottom - int(bars[index] * (bottom - 16))
                    if y >= top:
                        colour = colours[index]
            elif y % 40 == 0 and x > left:
                colour = (233, 236, 239)
            row.extend(colour)
        rows.append(bytes(row))

    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))

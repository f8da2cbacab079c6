"""The domain's tables: teams, users, requests, their watchers and their immutable events.

Names follow ../shared/DESIGN.md. Datetimes are stored in UTC and come back timezone-aware.
"""
import secrets
import unicodedata
from datetime import datetime, timezone

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import event as sa_event
from sqlalchemy.orm import validates
from sqlalchemy.types import DateTime, TypeDecorator
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db

# --- Vocabulary ---------------------------------------------------------------------------

ROLES = {
    "requester": "Requester",
    "analyst": "Analyst",
    "lead": "Lead",
    "admin": "Admin",
}

STATES = {
    "submitted": "Submitted",
    "needs_info": "Needs info",
    "waitlisted": "Waitlisted",
    "accepted": "Accepted",
    "in_progress": "In progress",
    "blocked": "Blocked",
    "delivered": "Delivered",
    "resolved": "Resolved",
    "declined": "Declined",
    "duplicate": "Duplicate",
    "cancelled": "Cancelled",
}
# The counting words of DESIGN.md (Lifecycle), the same on every page, digest and report.
# Backlog: open and not started (needs_info only ever waits before work starts).
BACKLOG_STATES = frozenset({"submitted", "needs_info", "waitlisted", "accepted"})
# In work: being worked on (blocked still counts toward WIP).
IN_WORK_STATES = frozenset({"in_progress", "blocked"})
# Open: before delivery; only an open request can still be declined, merged or cancelled.
OPEN_STATES = BACKLOG_STATES | IN_WORK_STATES
# Closed: finished one way or another. Delivered is neither open nor closed.
CLOSED_STATES = frozenset({"resolved", "declined", "duplicate", "cancelled"})
# Committed: accepted by the team and not delivered yet: its queue and its work in progress.
COMMITTED_STATES = frozenset({"accepted"}) | IN_WORK_STATES
# The transitions that start work on a request (its cycle time counts from the first of them).
START_ACTIONS = ("claim", "assign")
# Paused: the SLA clocks stop while the team waits on the requester or the budget.
PAUSED_STATES = frozenset({"needs_info", "waitlisted"})
# Waiting on the requester: a question to answer, or a delivery to confirm or reopen.
WAITING_ON_REQUESTER_STATES = frozenset({"needs_info", "delivered"})
# The events that put a request in a state: its creation (or its import from a spreadsheet,
# in the state the file gives: tickets/imports.py), then its transitions. A request's state is
# the ``to_state`` of the latest of them (lifecycle.replay_state); clocks and charts read them.
STATE_EVENT_KINDS = ("created", "imported", "transition")

KINDS = {
    "ad_hoc": ("Ad-hoc", "A one-off pull, report or answer"),
    "project": ("Project", "Larger or recurring work: a new dashboard, a model, a pipeline"),
    "data_issue": ("Data issue", "Something is wrong with data or a report that already exists"),
}

FORMATS = {
    "spreadsheet": "Spreadsheet or CSV extract",
    "dashboard": "Dashboard",
    "analysis": "Analysis document or write-up",
    "table": "Database table or view",
    "answer": "A quick answer (a number or a short list)",
    "presentation": "Slides for a presentation",
}

# Business impact: a small ordered scale, explained in words a requester can choose from.
IMPACTS = {
    1: ("Minimal", "Nice to know; nothing changes if it never comes"),
    2: ("Low", "Improves a routine decision for a few people"),
    3: ("Medium", "Shapes a team's plan, budget or campaign"),
    4: ("High", "Drives a significant decision on revenue, cost or customers"),
    5: ("Critical", "A company-level decision, a legal duty, or customers affected now"),
}

# Size estimates set at triage, with the days guidance shown to analysts.
SIZES = {
    "S": ("Small", "up to 1 day"),
    "M": ("Medium", "2 to 3 days"),
    "L": ("Large", "1 to 2 weeks"),
    "XL": ("Extra large", "more than 2 weeks"),
}

# SLA classes (DESIGN.md, SLA), each with its own targets in the settings; highest first.
SLA_CLASSES = {"high": "High", "standard": "Standard", "low": "Low"}

# Event notifications a user can choose to receive (issue 4; every kind of issue 14).
NOTIFICATIONS = {
    "accepted": "Your request is accepted, with its forecast",
    "declined": "Your request is declined",
    "question": "The data team asks you a question about your request",
    "answered": "The requester answers your question",
    "comment": "Someone comments on a request you follow",
    "mention": "Someone mentions you in a comment",
    "assigned": "A request is assigned to you",
    "delivered": "Your request is delivered and waits for your confirmation",
    "reopened": "A request you delivered is reopened",
    "waitlisted": "Your request is waitlisted: its team's ad-hoc budget is spent",
    "released": "Your waitlisted request is released from the waitlist",
    "sla_at_risk": "A request you work on is at risk of missing its SLA",
}

# Attachments (issue 14): the types a file may be, by extension, with the Content-Type each is
# served with (whatever the browser claimed at upload); an allowed extension not listed here is
# served as application/octet-stream. The settings choose which are allowed.
ATTACHMENT_TYPES = {
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "txt": "text/plain",
    "json": "application/json",
    "sql": "text/plain",
    "md": "text/markdown",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xls": "application/vnd.ms-excel",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "ppt": "application/vnd.ms-powerpoint",
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "zip": "application/zip",
    "parquet": "application/vnd.apache.parquet",
}
# Types no setting may allow: pages, scripts and programs that would run on a colleague's
# computer (or in the browser) when opened.
BLOCKED_ATTACHMENT_TYPES = frozenset({
    "html", "htm", "xhtml", "shtml", "svg", "svgz", "xml", "xsl", "js", "mjs", "css", "swf",
    "exe", "com", "bat", "cmd", "msi", "dll", "scr", "pif", "cpl", "jar", "vbs", "vbe", "wsf",
    "hta", "ps1", "psm1", "sh", "bash", "zsh", "csh", "app", "dmg", "pkg", "deb", "rpm", "apk",
    "lnk", "reg", "iso", "php", "py", "pl", "rb", "cgi", "asp", "aspx", "jsp", "docm", "xlsm",
    "pptm", "dotm", "xltm",
})

# How a person gets each kind of notification (issue 14): in the app and by mail a few minutes
# later, in the app and in one mail a day, or not at all.
NOTIFICATION_MODES = {
    "immediately": "Immediately",
    "daily": "Daily batch",
    "off": "Off",
}
DEFAULT_NOTIFICATION_MODE = "immediately"

DECLINE_REASONS = {
    "self_serve": "Self-serve available (an existing dashboard or dataset answers it)",
    "out_of_scope": "Out of the data team's scope",
    "low_value": "Value too low for the effort",
    "no_data": "The data does not exist or cannot be used",
    "no_capacity": "No capacity before the deadline",
    "other": "Other",
}


def name_key(text):
    """The form of a name used to compare names: NFKC-normalised and case-folded in Python, so
    `Équipe`/`équipe` and `İstanbul`/`i̇stanbul` are one name on every database (SQLite's lower()
    folds ASCII only, and PostgreSQL lowercases some letters differently from Python)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def new_session_token():
    """A fresh, unguessable session generation for a user (issue 10)."""
    return secrets.token_urlsafe(24)


def utcnow():
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A datetime stored as naive UTC on every database and returned as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


# --- Tables -------------------------------------------------------------------------------

team_memberships = db.Table(
    "team_memberships",
    db.Column("user_id", db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    db.Column("team_id", db.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
)


class Team(db.Model):
    """A business team that sends requests; analysts are embedded in one or more teams."""

    __tablename__ = "teams"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False, unique=True)
    # ``name`` compared as people read it (name_key): unique, so two teams cannot differ in case.
    name_key = db.Column(db.String(80), nullable=False, unique=True)
    description = db.Column(db.String(300), nullable=False, default="")
    is_active = db.Column(db.Boolean, nullable=False, default=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    # Ad-hoc requests its analysts take per week; None: no limit (DESIGN.md, Limits).
    weekly_ad_hoc_budget = db.Column(db.Integer)

    members = db.relationship(
        "User", secondary=team_memberships, back_populates="teams", order_by="User.name"
    )

    @validates("name")
    def _keep_name_key(self, key, value):
        self.name_key = name_key(value)
        return value

    def __repr__(self):
        return f"<Team {self.name}>"


class User(UserMixin, db.Model):
    """Someone who logs in: a requester, analyst, lead or admin."""

    __tablename__ = "users"

    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), nullable=False, unique=True)
    name = db.Column(db.String(120), nullable=False)
    password_hash = db.Column(db.String(255), nullable=False)
    role = db.Column(db.String(20), nullable=False, default="requester")
    is_active = db.Column(db.Boolean, nullable=False, default=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    last_login_at = db.Column(UTCDateTime)
    # The session generation: part of every session and remember cookie (get_id), replaced on
    # logout, password, role or activity change and "log out everywhere", which revokes them.
    session_token = db.Column(db.String(64), nullable=False, default=new_session_token)
    # This analyst's WIP limit; None: the default of the settings.
    wip_limit = db.Column(db.Integer)
    # Mail preferences (issue 4): the weekly digest, its day (None: the settings' day), and how
    # each kind of notification reaches this person (issue 14): {kind of NOTIFICATIONS: a mode
    # of NOTIFICATION_MODES}; a kind missing from the mapping is DEFAULT_NOTIFICATION_MODE.
    is_digest_enabled = db.Column(db.Boolean, nullable=False, default=True,
                                  server_default=db.true())
    digest_weekday = db.Column(db.Integer)
    notification_modes = db.Column(db.JSON, nullable=False, default=dict, server_default="{}")
    # The IANA time zone every timestamp is shown to this person in (issue 14); None: the
    # installation's (localtime.person_zone). Business rules keep the installation's zone.
    time_zone = db.Column(db.String(64))
    # Invitations (issue 14): when the latest invitation mail was queued (None: never invited,
    # e.g. made at the command line), and when the person set their own password and joined
    # (None: invited, not yet joined; until then the password is a random one nobody knows).
    invited_at = db.Column(UTCDateTime)
    joined_at = db.Column(UTCDateTime)

    teams = db.relationship(
        "Team", secondary=team_memberships, back_populates="members", order_by="Team.name"
    )

    __table_args__ = (
        db.CheckConstraint("role IN ('requester', 'analyst', 'lead', 'admin')", name="role"),
        db.CheckConstraint("digest_weekday IS NULL OR digest_weekday BETWEEN 0 AND 6",
                           name="digest_weekday"),
    )

    def get_id(self):
        """Flask-Login's id for this user: its id and session generation (tickets/sessions.py)."""
        return f"{self.id}:{self.session_token}"

    def set_password(self, password):
        """Store a salted hash of ``password``; the password itself is never kept."""
        method = current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password):
        """Tell whether ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_lead(self):
        return self.role == "lead"

    @property
    def is_admin(self):
        return self.role == "admin"

    @property
    def is_analyst(self):
        return self.role == "analyst"

    @property
    def is_requester(self):
        return self.role == "requester"

    @property
    def team_ids(self):
        return [team.id for team in self.teams]

    @property
    def role_label(self):
        return ROLES[self.role]

    @property
    def has_joined(self):
        """Whether this person has a password of their own (not an invitation still open)."""
        return self.joined_at is not None

    def __repr__(self):
        return f"<User {self.email}>"


class Request(db.Model):
    """A data request, from intake to resolution; its state follows from its events."""

    __tablename__ = "requests"

    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200), nullable=False)
    team_id = db.Column(db.ForeignKey("teams.id"), nullable=False, index=True)
    requester_id = db.Column(db.ForeignKey("users.id"), nullable=False, index=True)

    data_needed = db.Column(db.Text, nullable=False)
    format = db.Column(db.String(30), nullable=False)
    usage = db.Column(db.Text, nullable=False)
    lever_result = db.Column(db.Text, nullable=False)
    lever_expected_shape = db.Column(db.Text, nullable=False)
    lever_extraction = db.Column(db.Text, nullable=False)
    lever_decision = db.Column(db.Text, nullable=False)
    deadline = db.Column(db.Date)
    kind = db.Column(db.String(20), nullable=False, default="ad_hoc")
    business_impact = db.Column(db.Integer, nullable=False, default=3)
    is_exec_sponsored = db.Column(db.Boolean, nullable=False, default=False)
    exec_sponsor = db.Column(db.String(120), nullable=False, default="")
    is_confidential = db.Column(db.Boolean, nullable=False, default=False)
    # The deadline was closer than the lead time when submitted or last edited (lead_time.py).
    is_short_notice = db.Column(db.Boolean, nullable=False, default=False,
                                server_default=db.false())

    state = db.Column(db.String(20), nullable=False, default="submitted", index=True)
    # The state a request returns to when the requester answers a question (needs_info).
    resume_state = db.Column(db.String(20))
    size = db.Column(db.String(2))
    assignee_id = db.Column(db.ForeignKey("users.id"), index=True)
    duplicate_of_id = db.Column(db.ForeignKey("requests.id"))
    delivered_url = db.Column(db.String(500))
    decline_reason = db.Column(db.String(30))
    rating = db.Column(db.Integer)
    # Routed at submission to the central triage queue (the team had no embedded analyst):
    # every analyst sees and triages it (DESIGN.md, Roles; issue 3, Triage).
    is_central = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    # When the request took a place in its team's weekly ad-hoc budget: at submission, or when
    # it left the waitlist. None: it never counted (not ad-hoc, or still waitlisted).
    budget_counted_at = db.Column(UTCDateTime)
    # A lead's override of the queue position (1 is the top); the reason is its event's text.
    rank_override = db.Column(db.Integer)

    # SLA (sla_clocks.py): the class follows from the priority unless a lead set it.
    sla_class = db.Column(db.String(10), nullable=False, default="standard",
                          server_default="standard")
    sla_class_is_set = db.Column(db.Boolean, nullable=False, default=False,
                                 server_default=db.false())
    # Stored when they happen, so reports need no recomputation (business seconds).
    first_response_at = db.Column(UTCDateTime)
    first_response_seconds = db.Column(db.Float)
    delivered_at = db.Column(UTCDateTime)
    resolution_seconds = db.Column(db.Float)
    # The first start of work (the first claim or assignment): cycle time counts from it.
    started_at = db.Column(UTCDateTime)
    # The instants the running clocks reach at-risk and breached, so SQL can filter by SLA
    # status; frozen states are encoded by sla_clocks.py (see there). None: no clock runs.
    sla_at_risk_at = db.Column(UTCDateTime)
    sla_due_at = db.Column(UTCDateTime)

    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    closed_at = db.Column(UTCDateTime)
    version = db.Column(db.Integer, nullable=False)
    # Imported from a spreadsheet (tickets/imports.py): the file's ID of the row, or a hash of
    # its values, so importing the same file again adds nothing. None: made in Datadesk.
    external_id = db.Column(db.String(200))

    team = db.relationship("Team")
    requester = db.relationship("User", foreign_keys=[requester_id])
    assignee = db.relationship("User", foreign_keys=[assignee_id])
    duplicate_of = db.relationship("Request", remote_side=[id])
    watchers = db.relationship(
        "Watcher", back_populates="request", cascade="all, delete-orphan", order_by="Watcher.email"
    )
    events = db.relationship(
        "Event", back_populates="request", order_by="Event.id", cascade="all", passive_deletes=True
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        db.CheckConstraint("business_impact BETWEEN 1 AND 5", name="business_impact"),
        db.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
        db.Index("ix_requests_state_team", "state", "team_id"),
        db.Index("ix_requests_team_budget", "team_id", "budget_counted_at"),
        db.Index("ix_requests_state_due", "state", "sla_due_at"),
        # The requests resolved (or closed otherwise) in a range: the impact ledger, closures.
        # (covering what closures read of them: how they closed, the charts' filters)
        db.Index("ix_requests_state_closed", "state", "closed_at", "decline_reason", "team_id",
                 "kind"),
        # The requests submitted, delivered or first answered in a chart's range, covering
        # what the charts read of them (their filters, lead time, SLA attainment).
        db.Index("ix_requests_created_team_kind", "created_at", "team_id", "kind"),
        db.Index("ix_requests_delivered", "delivered_at", "team_id", "kind", "created_at",
                 "sla_class", "resolution_seconds", "started_at"),
        db.Index("ix_requests_first_response", "first_response_at", "team_id", "kind",
                 "sla_class", "first_response_seconds"),
        # The triage page: one state's requests oldest first, its filters and counts read from
        # the index alone (migration 5e7a1c3b9d20).
        db.Index("ix_requests_triage", "state", "created_at", "id", "is_central",
                 "is_confidential", "team_id", "kind"),
        # The request page: its duplicates, and its team's recent deliveries (the forecast).
        db.Index("ix_requests_duplicate_of", "duplicate_of_id"),
        db.Index("ix_requests_team_delivered", "team_id", "delivered_at", "size"),
        # Everything queues read to rank and filter (queues._ROW_COLUMNS and the SLA status),
        # so ranking a queue is an index-only scan.
        db.Index("ix_requests_queue", "state", "team_id", "id", "business_impact", "deadline",
                 "is_exec_sponsored", "size", "created_at", "rank_override", "kind",
                 "assignee_id", "is_confidential", "is_central", "sla_due_at",
                 "sla_at_risk_at"),
        # The lists' "Recently updated" and "Deadline soonest" sorts: a page read in the
        # index's order, not sorted (the deadline's on PostgreSQL, which keeps NULLs last).
        db.Index("ix_requests_updated", "updated_at", "id"),
        db.Index("ix_requests_deadline", "deadline", "id"),
        # An imported request's row in its file (imports.py): importing it again adds nothing.
        db.Index("ix_requests_external_id", "external_id", unique=True),
        db.CheckConstraint("sla_class IN ('high', 'standard', 'low')", name="sla_class"),
        db.CheckConstraint("rank_override IS NULL OR rank_override >= 1", name="rank_override"),
    )

    @property
    def is_closed(self):
        return self.state in CLOSED_STATES

    @property
    def state_label(self):
        return STATES[self.state]

    @property
    def kind_label(self):
        return KINDS[self.kind][0]

    @property
    def format_label(self):
        return FORMATS.get(self.format, self.format)

    @property
    def impact_label(self):
        return IMPACTS[self.business_impact][0]

    @property
    def watcher_emails(self):
        return [watcher.email for watcher in self.watchers]

    def __repr__(self):
        return f"<Request #{self.id} {self.state}>"


class Watcher(db.Model):
    """An e-mail address that follows a request (it need not belong to a user)."""

    __tablename__ = "watchers"

    id = db.Column(db.Integer, primary_key=True)
    request_id = db.Column(
        db.ForeignKey("requests.id", ondelete="CASCADE"), nullable=False, index=True
    )
    email = db.Column(db.String(254), nullable=False, index=True)

    request = db.relationship("Request", back_populates="watchers")

    __table_args__ = (db.UniqueConstraint("request_id", "email", name="uq_watchers_request_email"),)


class Event(db.Model):
    """One immutable step in a request's history: creation, a transition, a comment, an edit."""

    __tablename__ = "events"

    id = db.Column(db.Integer, primary_key=True)
    request_id = db.Column(
        db.ForeignKey("requests.id", ondelete="CASCADE"), nullable=False, index=True
    )
    actor_id = db.Column(db.ForeignKey("users.id"))  # None: the system
    kind = db.Column(db.String(20), nullable=False)  # created, imported, transition, comment...
    action = db.Column(db.String(30))  # the transition's name, for transitions
    from_state = db.Column(db.String(20))
    to_state = db.Column(db.String(20))
    text = db.Column(db.Text, nullable=False, default="")
    data = db.Column(db.JSON, nullable=False, default=dict)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)

    request = db.relationship("Request", back_populates="events")
    actor = db.relationship("User")

    __table_args__ = (
        # A request's first claim or assignment (cycle time), whether it was reopened: a seek.
        db.Index("ix_events_request_action_created", "request_id", "action", "created_at"),
        # The requests ever reopened (closures' reopen rate): a few entries, read whole.
        db.Index("ix_events_reopen", "request_id", sqlite_where=db.text("action = 'reopen'"),
                 postgresql_where=db.text("action = 'reopen'")),
    )

    @property
    def actor_name(self):
        return self.actor.name if self.actor else "Datadesk"

    def __repr__(self):
        return f"<Event {self.kind} #{self.request_id} {self.from_state}->{self.to_state}>"


class Attachment(db.Model):
    """A file on a request or one of its comments (DESIGN.md, Conversation), visible to whoever
    sees the request.

    The file lives under the attachments folder by ``stored_name``, a random name: the uploaded
    name is never a path, only ``filename`` (cleaned) for display and download. ``event`` is
    what brought it: the request's creation, a comment, or an "attached" event. Removing it
    keeps the row (the timeline still names it) with ``removed_at``; the file goes.
    """

    __tablename__ = "attachments"

    id = db.Column(db.Integer, primary_key=True)
    request_id = db.Column(db.ForeignKey("requests.id", ondelete="CASCADE"), nullable=False,
                           index=True)
    event_id = db.Column(db.ForeignKey("events.id", ondelete="CASCADE"), nullable=False,
                         index=True)
    uploader_id = db.Column(db.ForeignKey("users.id"))  # None: the system
    filename = db.Column(db.String(200), nullable=False)
    stored_name = db.Column(db.String(64), nullable=False, unique=True)
    size = db.Column(db.Integer, nullable=False)
    content_type = db.Column(db.String(100), nullable=False)
    sha256 = db.Column(db.String(64), nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    removed_at = db.Column(UTCDateTime)
    removed_by_id = db.Column(db.ForeignKey("users.id"))

    request = db.relationship("Request", backref=db.backref(
        "attachments", order_by="Attachment.id", passive_deletes=True))
    event = db.relationship("Event")
    uploader = db.relationship("User", foreign_keys=[uploader_id])
    removed_by = db.relationship("User", foreign_keys=[removed_by_id])

    __table_args__ = (db.CheckConstraint("size > 0", name="size"),)

    @property
    def is_removed(self):
        return self.removed_at is not None

    @property
    def extension(self):
        return self.filename.rpartition(".")[2].lower()

    @property
    def uploader_name(self):
        return self.uploader.name if self.uploader else "Datadesk"

    def __repr__(self):
        return f"<Attachment #{self.id} {self.filename!r} on #{self.request_id}>"


class ImmutableEventError(RuntimeError):
    """Raised when code tries to change or delete an event: history is never rewritten."""


def append_only(model, what):
    """Make rows of ``model`` refuse ORM updates and deletes: ``what`` names them in the error."""

    def refuse(mapper, connection, target):
        raise ImmutableEventError(f"{what} are immutable ({model.__name__} {target.id})")

    sa_event.listen(model, "before_update", refuse)
    sa_event.listen(model, "before_delete", refuse)


append_only(Event, "events")


class Setting(db.Model):
    """One stored setting (tickets.settings holds the defaults of those never changed)."""

    __tablename__ = "settings"

    key = db.Column(db.String(60), primary_key=True)
    value = db.Column(db.JSON, nullable=False)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_by_id = db.Column(db.ForeignKey("users.id"))

    updated_by = db.relationship("User")

    def __repr__(self):
        return f"<Setting {self.key}={self.value!r}>"


# The installation's time zone, read with every user (one more column of the same statement):
# pages and mail show times in a person's zone, the installation's when they chose none
# (localtime.person_zone), without a statement of their own, which a page's constant count
# and a mail rendered inside a write transaction (SQLite) could not afford. None: never set.
User.installation_time_zone = db.column_property(
    db.select(Setting.value).where(Setting.key == "timezone").scalar_subquery())


class SettingChange(db.Model):
    """One immutable change of a setting, a team's budget or an analyst's WIP limit."""

    __tablename__ = "setting_changes"

    id = db.Column(db.Integer, primary_key=True)
    key = db.Column(db.String(100), nullable=False)
    old_value = db.Column(db.JSON)  # None: the key had no stored value (its default applied)
    new_value = db.Column(db.JSON, nullable=False)
    actor_id = db.Column(db.ForeignKey("users.id"))  # None: the system
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)

    actor = db.relationship("User")

    @property
    def actor_name(self):
        return self.actor.name if self.actor else "Datadesk"

    def __repr__(self):
        return f"<SettingChange {self.key} {self.old_value!r}->{self.new_value!r}>"


append_only(SettingChange, "setting changes")


# --- Mail (issue 4) -------------------------------------------------------------------------


class OutboxMessage(db.Model):
    """One e-mail to send, written in the same transaction as the change that caused it.

    A sender drains pending rows over SMTP (mail.py); a failure stays pending with its error and
    a later ``send_after``, so nothing is dropped while the SMTP server is down.
    ``idempotency_key`` (unique) makes a message that must exist once, such as one recipient's
    digest of one ISO week, impossible to queue twice, whatever process tries.
    """

    __tablename__ = "outbox"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(20), nullable=False)  # digest, notification
    idempotency_key = db.Column(db.String(200), unique=True)
    user_id = db.Column(db.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    recipient = db.Column(db.String(254), nullable=False)
    subject = db.Column(db.String(300), nullable=False)
    text_body = db.Column(db.Text, nullable=False)
    html_body = db.Column(db.Text, nullable=False)
    headers = db.Column(db.JSON, nullable=False, default=dict)  # e.g. List-Unsubscribe
    # Notifications of one recipient about one request gather in one message while it waits
    # (mail.notify): ``batch_key`` finds it, ``payload`` lists the events it tells about.
    batch_key = db.Column(db.String(100), index=True)
    payload = db.Column(db.JSON, nullable=False, default=dict)
    status = db.Column(db.String(10), nullable=False, default="pending")
    # Lower goes first: notifications (0) never wait behind a burst of digests (1).
    priority = db.Column(db.SmallInteger, nullable=False, default=1, server_default="1")
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    send_after = db.Column(UTCDateTime, nullable=False, default=utcnow)
    # A sender that takes a message holds it until this instant; a crashed sender's messages
    # become due again when it passes.
    locked_until = db.Column(UTCDateTime)
    # Who holds the lock ("host:pid"), so a lock of a sender that is gone can be released.
    locked_by = db.Column(db.String(120))
    attempts = db.Column(db.Integer, nullable=False, default=0)
    last_attempt_at = db.Column(UTCDateTime)
    last_error = db.Column(db.Text)
    sent_at = db.Column(UTCDateTime)

    user = db.relationship("User")

    __table_args__ = (
        db.CheckConstraint("status IN ('pending', 'sent')", name="status"),
        db.Index("ix_outbox_status_send_after", "status", "send_after"),
        db.Index("ix_outbox_status_priority_send_after", "status", "priority", "send_after"),
    )

    def __repr__(self):
        return f"<OutboxMessage {self.id} {self.kind} to {self.recipient} {self.status}>"


class JobRun(db.Model):
    """One run of a scheduled job for one period: the unique key makes each period run once."""

    __tablename__ = "job_runs"

    id = db.Column(db.Integer, primary_key=True)
    job = db.Column(db.String(50), nullable=False)
    period = db.Column(db.String(40), nullable=False)  # e.g. 2026-11-23T09:00 or 2026-W48
    started_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    finished_at = db.Column(UTCDateTime)
    error = db.Column(db.Text)
    summary = db.Column(db.String(300), nullable=False, default="")

    __table_args__ = (db.UniqueConstraint("job", "period", name="uq_job_runs_job_period"),)

    def __repr__(self):
        return f"<JobRun {self.job} {self.period}>"


class FlowDay(db.Model):
    """How many requests entered (+) or left (-) a state on one local day, per team and kind:
    the event history summed by day, so charts read days instead of events (reports/snapshot.py).

    ``day`` is the local day in the timezone the snapshot was built for (the setting row
    ``flow_days_zone``), counted in days since 1970-01-01. A 'created' event is +1 in its
    ``to_state``; a 'transition' -1 in its ``from_state`` and +1 in its ``to_state``. Kept as
    events are written (a flush hook) and rebuilt by ``flask reports rebuild-snapshot``.
    """

    __tablename__ = "flow_days"

    day = db.Column(db.Integer, primary_key=True, autoincrement=False)
    team_id = db.Column(db.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True,
                        autoincrement=False)
    kind = db.Column(db.String(20), primary_key=True)
    state = db.Column(db.String(20), primary_key=True)
    change = db.Column(db.Integer, nullable=False, default=0)

    # On SQLite the rows live in their primary key's order: a range of days is read in one pass.
    __table_args__ = {"sqlite_with_rowid": False}

    def __repr__(self):
        return f"<FlowDay {self.day} team {self.team_id} {self.kind} {self.state} {self.change:+}>"


class RankingVersion(db.Model):
    """One row whose ``version`` goes up in every transaction that changes what the queues
    are ranked from (a committed request's score inputs, state or SLA clock): the key under
    which each process keeps the ranking of every queue (``queues.current_ranking``), so
    that a page ranks only after a change."""

    __tablename__ = "ranking_version"

    id = db.Column(db.Integer, primary_key=True, autoincrement=False)
    version = db.Column(db.BigInteger, nullable=False, default=0)

    def __repr__(self):
        return f"<RankingVersion {self.version}>"


# The catalogue (DESIGN.md, Reuse; issue 12): what the data team delivered or maintains.
ASSET_KINDS = {
    "dashboard": "Dashboard",
    "dataset": "Dataset or extract",
    "table": "Database table or view",
    "report": "Report",
    "document": "Document or analysis",
}
ASSET_STATUSES = {"active": "Active", "deprecated": "Deprecated"}
# The asset kind a delivery in each request format most likely is (prefills the catalogue tick).
FORMAT_ASSET_KINDS = {
    "spreadsheet": "dataset", "dashboard": "dashboard", "analysis": "document",
    "table": "table", "answer": "report", "presentation": "document",
}
# How an asset came to answer a request: delivered for it, pointed at by a self-serve decline,
# or linked by hand afterwards.
ASSET_LINK_KINDS = {"delivered": "Delivered for it", "pointed": "Pointed to instead",
                    "linked": "Linked"}
# Where a platform gap was recorded.
GAP_CONTEXTS = {"decline": "Self-serve decline", "delivery": "Delivery"}
# The platform-gap taxonomy a new installation starts with (leads edit it).
DEFAULT_GAP_CATEGORIES = [
    ("Data not available", "The data exists nowhere the requester can reach it."),
    ("No access", "The data exists, but the requester has no access to it."),
    ("Does not know the tool", "The requester does not know how to use the tool that answers it."),
    ("Data not trusted", "The requester does not trust the data they can reach."),
    ("Documentation missing", "Nothing tells the requester where the answer is or how to read it."),
    ("Other", "Something else was missing; the note says what."),
]


class Asset(db.Model):
    """Something the data team delivered or maintains: a dashboard, dataset, table, report or
    document, with a link, an owning team, a status and the date it was last verified."""

    __tablename__ = "assets"

    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200), nullable=False)
    url = db.Column(db.String(500), nullable=False)
    kind = db.Column(db.String(20), nullable=False, default="dashboard")
    team_id = db.Column(db.ForeignKey("teams.id"), nullable=False, index=True)
    description = db.Column(db.Text, nullable=False, default="")
    # Lower-case tags, each between commas (",churn,retention,"), so one LIKE finds a tag.
    tags = db.Column(db.String(400), nullable=False, default="")
    status = db.Column(db.String(12), nullable=False, default="active", index=True)
    last_verified_on = db.Column(db.Date)
    created_by_id = db.Column(db.ForeignKey("users.id"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    version = db.Column(db.Integer, nullable=False)

    team = db.relationship("Team")
    created_by = db.relationship("User")
    links = db.relationship("AssetLink", back_populates="asset", cascade="all, delete-orphan",
                            passive_deletes=True, order_by="AssetLink.id")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        db.CheckConstraint("status IN ('active', 'deprecated')", name="asset_status"),
        db.CheckConstraint(
            "kind IN ('dashboard', 'dataset', 'table', 'report', 'document')", name="asset_kind"),
    )

    @property
    def kind_label(self):
        return ASSET_KINDS.get(self.kind, self.kind)

    @property
    def status_label(self):
        return ASSET_STATUSES.get(self.status, self.status)

    @property
    def is_deprecated(self):
        return self.status == "deprecated"

    @property
    def tag_list(self):
        return [tag for tag in self.tags.split(",") if tag]

    def __repr__(self):
        return f"<Asset #{self.id} {self.title!r}>"


class AssetLink(db.Model):
    """An asset answered a request: delivered for it, pointed to instead of doing it, or linked
    afterwards."""

    __tablename__ = "asset_links"

    id = db.Column(db.Integer, primary_key=True)
    asset_id = db.Column(db.ForeignKey("assets.id", ondelete="CASCADE"), nullable=False)
    request_id = db.Column(db.ForeignKey("requests.id", ondelete="CASCADE"), nullable=False,
                           index=True)
    how = db.Column(db.String(12), nullable=False, default="delivered")
    linked_by_id = db.Column(db.ForeignKey("users.id"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    asset = db.relationship("Asset", back_populates="links")
    request = db.relationship("Request")
    linked_by = db.relationship("User")

    __table_args__ = (
        db.UniqueConstraint("asset_id", "request_id", name="uq_asset_links_asset_request"),
    )


class SearchDocument(db.Model):
    """The searchable text of one request or asset (search.py keeps it current on every write).

    The full-text index over it is the database's own: an FTS5 table ``search_fts`` (external
    content, kept in step by triggers) on SQLite, a generated ``tsvector`` column ``document``
    with a GIN index on PostgreSQL; both are created by the migration, not by this model.
    """

    __tablename__ = "search_documents"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(10), nullable=False)  # request, asset
    ref_id = db.Column(db.Integer, nullable=False)
    title = db.Column(db.Text, nullable=False, default="")
    body = db.Column(db.Text, nullable=False, default="")

    __table_args__ = (
        db.UniqueConstraint("kind", "ref_id", name="uq_search_documents_kind_ref"),
        db.CheckConstraint("kind IN ('request', 'asset')", name="search_document_kind"),
    )


class Deflection(db.Model):
    """A would-be request that ended before submission: the requester found an asset or a
    delivered request that answers it (DESIGN.md, Reuse). ``resubmitted_request_id``: the
    similar request the same person submitted within 7 days, which makes it no true deflection.
    """

    __tablename__ = "deflections"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    team_id = db.Column(db.ForeignKey("teams.id"), index=True)
    asset_id = db.Column(db.ForeignKey("assets.id", ondelete="SET NULL"), index=True)
    answer_request_id = db.Column(db.ForeignKey("requests.id", ondelete="SET NULL"))
    text = db.Column(db.Text, nullable=False, default="")
    resubmitted_request_id = db.Column(db.ForeignKey("requests.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)

    user = db.relationship("User")
    team = db.relationship("Team")
    asset = db.relationship("Asset")
    answer_request = db.relationship("Request", foreign_keys=[answer_request_id])
    resubmitted_request = db.relationship("Request", foreign_keys=[resubmitted_request_id])

    @property
    def is_true(self):
        return self.resubmitted_request_id is None


class SearchMiss(db.Model):
    """A search that found nothing: what people look for and cannot find (a catalogue gap)."""

    __tablename__ = "search_misses"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    team_id = db.Column(db.ForeignKey("teams.id"))
    query = db.Column(db.String(200), nullable=False)
    # The query as compared (search.normalise): lower-case words in order, to group misses.
    query_key = db.Column(db.String(200), nullable=False, index=True)
    source = db.Column(db.String(10), nullable=False, default="search")  # search, intake
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)


class GapCategory(db.Model):
    """One entry of the lead-editable platform-gap taxonomy."""

    __tablename__ = "gap_categories"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    name_key = db.Column(db.String(80), nullable=False, unique=True)
    description = db.Column(db.String(300), nullable=False, default="")
    is_active = db.Column(db.Boolean, nullable=False, default=True)
    position = db.Column(db.Integer, nullable=False, default=0)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    @validates("name")
    def _keep_name_key(self, key, value):
        self.name_key = name_key(value)
        return value

    def __repr__(self):
        return f"<GapCategory {self.name}>"


class PlatformGap(db.Model):
    """What was missing for the requester to do a request themselves, recorded by the analyst
    on a self-serve decline or a delivery, with the analyst hours it cost."""

    __tablename__ = "platform_gaps"

    id = db.Column(db.Integer, primary_key=True)
    request_id = db.Column(db.ForeignKey("requests.id", ondelete="CASCADE"), nullable=False,
                           index=True)
    team_id = db.Column(db.ForeignKey("teams.id"), nullable=False, index=True)
    category_id = db.Column(db.ForeignKey("gap_categories.id"), nullable=False, index=True)
    note = db.Column(db.Text, nullable=False, default="")
    hours = db.Column(db.Float, nullable=False, default=0)
    context = db.Column(db.String(10), nullable=False)  # decline, delivery
    recorded_by_id = db.Column(db.ForeignKey("users.id"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)

    request = db.relationship("Request")
    team = db.relationship("Team")
    category = db.relationship("GapCategory")
    recorded_by = db.relationship("User")

    __table_args__ = (
        db.CheckConstraint("hours >= 0 AND hours <= 10000", name="gap_hours"),
        db.CheckConstraint("context IN ('decline', 'delivery')", name="gap_context"),
    )


# --- Outcomes (DESIGN.md, Outcomes; issue 13) -----------------------------------------------

# What became of a delivery, as its requester answers the follow-up. "Used" is the first two:
# the data drove a decision, to act or not to act.
OUTCOMES = {
    "acted": "Acted on it",
    "decided_not_to_act": "Informed a decision not to act",
    "not_yet": "Not used yet",
    "not_used": "Not used",
}
USED_OUTCOMES = frozenset({"acted", "decided_not_to_act"})
# Why a delivery was not used (the answer "not used" needs one).
NOT_USED_REASONS = {
    "too_late": "It came too late for the decision",
    "not_what_was_needed": "It did not answer the question we had",
    "decided_otherwise": "The decision was made another way, or was dropped",
    "hard_to_use": "Hard to understand or to use",
    "data_doubts": "We did not trust the numbers",
    "other": "Other",
}
# A follow-up's steps: scheduled (waits for its moment), asked (the mail went), reminded (the
# one reminder went), answered (an outcome is recorded), unanswerable (nobody left to ask).
FOLLOW_UP_STATUSES = {
    "scheduled": "Scheduled",
    "asked": "Waiting for an answer",
    "reminded": "Reminded, waiting for an answer",
    "answered": "Answered",
    "unanswerable": "Nobody to ask",
}
# A follow-up that waits on its recipient (DESIGN.md: waiting on the requester).
WAITING_FOLLOW_UP_STATUSES = frozenset({"asked", "reminded"})


class FollowUp(db.Model):
    """The question, after a request is resolved, whether what was delivered was used.

    One per resolved request, created with the resolution (``outcomes``), asked at ``due_at``
    by mail and in the app, reminded once, then left. The latest answer is kept here for the
    impact ledger; every answer is also an immutable ``outcome`` event on the request, so its
    history stays on the timeline.
    """

    __tablename__ = "follow_ups"

    id = db.Column(db.Integer, primary_key=True)
    request_id = db.Column(db.ForeignKey("requests.id", ondelete="CASCADE"), nullable=False,
                           unique=True)
    # Who is asked: the requester, or a watcher of the team when the requester left.
    recipient_id = db.Column(db.ForeignKey("users.id"), nullable=False, index=True)
    status = db.Column(db.String(20), nullable=False, default="scheduled")
    # The day the requester said they would know by (at confirmation); None: the default of
    # the settings for the request's kind.
    know_by = db.Column(db.Date)
    due_at = db.Column(UTCDateTime, nullable=False)
    asked_at = db.Column(UTCDateTime)
    reminded_at = db.Column(UTCDateTime)
    # A secret part of the answer links: a new one (handing over to another recipient) voids
    # the links sent before.
    link_nonce = db.Column(db.String(32), nullable=False,
                           default=lambda: secrets.token_urlsafe(16))
    # The latest answer (the events keep every one).
    outcome = db.Column(db.String(20))
    decision = db.Column(db.Text, nullable=False, default="")
    not_used_reason = db.Column(db.String(30))
    note = db.Column(db.Text, nullable=False, default="")
    answered_at = db.Column(UTCDateTime)
    answered_by_id = db.Column(db.ForeignKey("users.id"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    request = db.relationship("Request", backref=db.backref("follow_up", uselist=False,
                                                            passive_deletes=True))
    recipient = db.relationship("User", foreign_keys=[recipient_id])
    answered_by = db.relationship("User", foreign_keys=[answered_by_id])

    __table_args__ = (
        db.CheckConstraint("status IN ('scheduled', 'asked', 'reminded', 'answered', "
                           "'unanswerable')", name="status"),
        db.CheckConstraint("outcome IS NULL OR outcome IN ('acted', 'decided_not_to_act', "
                           "'not_yet', 'not_used')", name="outcome"),
        db.Index("ix_follow_ups_status_due", "status", "due_at"),
        db.Index("ix_follow_ups_answered_at", "answered_at"),
    )

    @property
    def is_waiting(self):
        return self.status in WAITING_FOLLOW_UP_STATUSES

    @property
    def is_used(self):
        return self.outcome in USED_OUTCOMES

    @property
    def status_label(self):
        return FOLLOW_UP_STATUSES[self.status]

    @property
    def outcome_label(self):
        return OUTCOMES.get(self.outcome, "")

    @property
    def reason_label(self):
        return NOT_USED_REASONS.get(self.not_used_reason, "")

    def __repr__(self):
        return f"<FollowUp #{self.request_id} {self.status}>"


# --- Notifications (DESIGN.md, Conversation; issue 14) ---------------------------------------


class Notification(db.Model):
    """One thing that happened on a request, told to one person in the app (``/notifications``)
    and, by their preferences, by mail: at once (batched per request) or in their daily batch.

    ``text`` is a short line of what happened (the question, the decline's reason, the
    forecast); the event keeps the whole. ``is_daily``: it goes into its recipient's daily mail,
    which sets ``mailed_at``. ``once_key``: what a notification without an event (a request at
    risk of missing its SLA) is about, so that it is told once whatever runs at the same time.
    """

    __tablename__ = "notifications"

    id = db.Column(db.Integer, primary_key=True)
    recipient_id = db.Column(db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    request_id = db.Column(db.ForeignKey("requests.id", ondelete="CASCADE"), nullable=False,
                           index=True)
    kind = db.Column(db.String(20), nullable=False)
    event_id = db.Column(db.ForeignKey("events.id", ondelete="CASCADE"), index=True)
    actor_id = db.Column(db.ForeignKey("users.id", ondelete="SET NULL"))  # None: the system
    text = db.Column(db.String(300), nullable=False, default="")
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    read_at = db.Column(UTCDateTime)
    is_daily = db.Column(db.Boolean, nullable=False, default=False)
    mailed_at = db.Column(UTCDateTime)
    once_key = db.Column(db.String(200), unique=True)

    recipient = db.relationship("User", foreign_keys=[recipient_id])
    actor = db.relationship("User", foreign_keys=[actor_id])
    request = db.relationship("Request")
    event = db.relationship("Event")

    __table_args__ = (
        # "My unread" (the bell, one statement a page) and "mine, newest first" (the list).
        db.Index("ix_notifications_recipient_read", "recipient_id", "read_at"),
        db.Index("ix_notifications_recipient_created", "recipient_id", "created_at"),
        # What the daily batch has still to mail.
        db.Index("ix_notifications_daily_mailed", "is_daily", "mailed_at"),
    )

    @property
    def is_unread(self):
        return self.read_at is None

    @property
    def actor_name(self):
        return self.actor.name if self.actor else "Datadesk"

    def __repr__(self):
        return f"<Notification {self.kind} #{self.request_id} to {self.recipient_id}>"


# --- Integrations (issue 16) ------------------------------------------------------------------

# What an access token may do: read (GET) only, or everything its owner may (DESIGN.md).
TOKEN_SCOPES = {
    "read": "Read only",
    "write": "Read and write",
}


class AccessToken(db.Model):
    """A personal access token for the REST API: it carries exactly its owner's permissions,
    limited to reading when its scope is "read". Only a SHA-256 hash of the secret is kept
    (``token_hash``); ``prefix``, the secret's first characters, tells tokens apart on the
    page. It stops working when it expires, is revoked, or its owner is deactivated."""

    __tablename__ = "access_tokens"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                        index=True)
    name = db.Column(db.String(100), nullable=False)
    prefix = db.Column(db.String(16), nullable=False)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    scope = db.Column(db.String(10), nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = db.Column(UTCDateTime)  # None: never
    last_used_at = db.Column(UTCDateTime)
    revoked_at = db.Column(UTCDateTime)

    user = db.relationship("User")

    __table_args__ = (
        db.CheckConstraint("scope IN ('read', 'write')", name="scope"),
    )

    def is_live(self, now):
        """Whether the token still opens the API at ``now`` (its owner's activity aside)."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def scope_label(self):
        return TOKEN_SCOPES[self.scope]

    def __repr__(self):
        return f"<AccessToken {self.prefix}… of {self.user_id}>"


# --- Webhooks (issue 16) ----------------------------------------------------------------------

WEBHOOK_DELIVERY_STATUSES = {"pending": "Pending", "succeeded": "Succeeded", "failed": "Failed"}


class Webhook(db.Model):
    """An endpoint a lead registered: Datadesk POSTs the events it subscribed to (``events``, a
    list of names of webhooks.EVENTS), signed with ``secret``. Paused (``is_active`` False)
    by a lead, or by Datadesk after ``consecutive_failures`` failed attempts in a row; only an
    admin sets ``allow_private`` (requests to private or loopback addresses)."""

    __tablename__ = "webhooks"

    id = db.Column(db.Integer, primary_key=True)
    url = db.Column(db.String(500), nullable=False)
    description = db.Column(db.String(200), nullable=False, default="")
    events = db.Column(db.JSON, nullable=False, default=list)
    secret = db.Column(db.String(100), nullable=False)
    is_active = db.Column(db.Boolean, nullable=False, default=True)
    paused_at = db.Column(UTCDateTime)
    paused_reason = db.Column(db.String(300))
    allow_private = db.Column(db.Boolean, nullable=False, default=False)
    created_by_id = db.Column(db.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    consecutive_failures = db.Column(db.Integer, nullable=False, default=0)
    version = db.Column(db.Integer, nullable=False)

    created_by = db.relationship("User")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self):
        return f"<Webhook {self.id} {self.url}>"


class WebhookDelivery(db.Model):
    """One event to POST to one endpoint, written in the transaction of the change it tells
    about (the outbox pattern). ``payload`` is the exact body sent, so "send again" sends the
    same bytes (with a fresh signature); ``event_key`` (unique per endpoint) queues one domain
    event once. Leased like the mail outbox (``locked_until``, ``locked_by``)."""

    __tablename__ = "webhook_deliveries"

    id = db.Column(db.Integer, primary_key=True)
    webhook_id = db.Column(db.ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False)
    event = db.Column(db.String(40), nullable=False)
    event_key = db.Column(db.String(100), nullable=False)
    request_id = db.Column(db.ForeignKey("requests.id", ondelete="SET NULL"), index=True)
    payload = db.Column(db.Text, nullable=False)
    status = db.Column(db.String(10), nullable=False, default="pending")
    attempts = db.Column(db.Integer, nullable=False, default=0)
    next_attempt_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    locked_until = db.Column(UTCDateTime)
    locked_by = db.Column(db.String(120))
    last_status_code = db.Column(db.Integer)
    last_error = db.Column(db.Text)
    last_attempt_at = db.Column(UTCDateTime)
    duration_ms = db.Column(db.Integer)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    delivered_at = db.Column(UTCDateTime)

    webhook = db.relationship("Webhook")

    __table_args__ = (
        db.CheckConstraint("status IN ('pending', 'succeeded', 'failed')",
                           name="delivery_status"),
        db.UniqueConstraint("webhook_id", "event_key", name="uq_webhook_deliveries_event_key"),
        # What is due: the senders' lease picks pending rows by next attempt.
        db.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        # One endpoint's log, newest first.
        db.Index("ix_webhook_deliveries_log", "webhook_id", "created_at", "id"),
    )

    def __repr__(self):
        return f"<WebhookDelivery {self.id} {self.event} to {self.webhook_id} {self.status}>"

"""The REST API's documents, as pydantic models: what each operation takes and gives, and the
source of the OpenAPI document (spectree writes it from these and the routes).

Request bodies only check types here; the rules (lengths, choices, dates, budgets) are the
pages' forms and the domain's, so a field's error says the same in the API as on the page.
"""
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..catalogue import LIST_SORTS as ASSET_SORTS
from ..catalogue import LIST_STATUSES as ASSET_LIST_STATUSES
from ..models import (ASSET_KINDS, ASSET_STATUSES, COMMITTED_STATES, FORMATS, IMPACTS, KINDS,
                      STATES, TOKEN_SCOPES)
from ..queues import SLA_FILTERS
from ..request_lists import SCOPES, SORTS

State = Literal[tuple(STATES)]
Kind = Literal[tuple(KINDS)]
Format = Literal[tuple(FORMATS)]
Impact = Literal[tuple(IMPACTS)]


class Closed(BaseModel):
    """A body with no field but those it names: a misspelt field is an error, not ignored."""

    model_config = ConfigDict(extra="forbid")


class FieldError(BaseModel):
    """What is wrong with one field of the body (or of the query)."""

    field: str = Field(description="The field's name, as in the body.")
    detail: str = Field(description="What is wrong, in words for a person.")


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (``application/problem+json``)."""

    type: str = Field("about:blank", description="A URI naming the kind of problem.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str | None = Field(None, description="What happened this time, for a person.")
    errors: list[FieldError] | None = Field(
        None, description="Field by field, what to correct (400 only).")


class TeamRef(BaseModel):
    id: int
    name: str


class PersonRef(BaseModel):
    id: int
    name: str


class Me(BaseModel):
    """The owner of the token, and what the token may do."""

    id: int
    name: str
    email: str
    role: Literal["requester", "analyst", "lead", "admin"]
    teams: list[TeamRef]
    token_scope: Literal[tuple(TOKEN_SCOPES)]
    token_expires_at: datetime | None


class RequestSummary(BaseModel):
    """A request as the lists show it."""

    id: int
    title: str
    state: State
    kind: Kind
    team: TeamRef
    requester: PersonRef
    assignee: PersonRef | None
    business_impact: Impact = Field(description="1 (minimal) to 5 (critical).")
    deadline: date | None
    is_short_notice: bool
    is_confidential: bool
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="Raised by every change: send it back as If-Match.")
    url: str = Field(description="The request's page.")


class EventOut(BaseModel):
    """One step of a request's history."""

    id: int
    kind: str = Field(description="created, transition, comment, edit, attached, ...")
    action: str | None = Field(description="The transition's name, for transitions.")
    from_state: State | None
    to_state: State | None
    actor: PersonRef | None = Field(description="None: Datadesk itself.")
    text: str
    created_at: datetime


class RequestDetail(RequestSummary):
    """A request whole: its intake fields, where it stands, its history and what the token's
    owner may do with it now."""

    data_needed: str
    format: Format
    usage: str
    lever_result: str
    lever_expected_shape: str
    lever_extraction: str
    lever_decision: str
    is_exec_sponsored: bool
    exec_sponsor: str
    size: str | None
    delivered_url: str | None
    watchers: list[str] = Field(description="The e-mail addresses kept informed.")
    actions: list[str] = Field(description="The transitions the token's owner may take now "
                                           "(POST /requests/{id}/transitions/{name}).")
    events: list[EventOut] = Field(description="The history, oldest first.")


class RequestPage(BaseModel):
    """One page of a list, and the cursor of the next (None: this was the last)."""

    items: list[RequestSummary]
    next_cursor: str | None


class RequestListQuery(Closed):
    """A list's scope, filters and sort, as on the list pages."""

    scope: Literal[tuple(SCOPES)] = Field(
        "team", description="mine: yours (asked or assigned); team: your teams'; all: every "
                            "request (leads and admins).")
    state: Literal[("open", "closed", *STATES, "any")] = "open"
    team: int | None = Field(None, ge=1, le=2**31 - 1)
    kind: Kind | None = None
    assignee: int | Literal["none"] | None = Field(None, description="A person's id, or none.")
    q: str = Field("", max_length=200, description="Words in the title.")
    sort: Literal[tuple(SORTS)] = "newest"
    limit: int = Field(25, ge=1, le=100)
    cursor: str | None = Field(None, max_length=500,
                               description="next_cursor of the page before.")


class RequestIn(Closed):
    """A new request: the intake form's fields."""

    title: str
    team_id: int
    data_needed: str
    format: str = Field(description="One of: " + ", ".join(FORMATS) + ".")
    usage: str
    lever_result: str = Field(description="Which result are you trying to influence?")
    lever_expected_shape: str = Field(description="What do you expect the data to look like?")
    lever_extraction: str = Field(description="How will you read the answer from it?")
    lever_decision: str = Field(description="Which decision or action will it drive?")
    deadline: date | None = Field(description="The date the decision is taken; null: no hard "
                                              "deadline.")
    kind: str = Field("ad_hoc", description="One of: " + ", ".join(KINDS) + ".")
    business_impact: int = Field(3, description="1 (minimal) to 5 (critical).")
    is_exec_sponsored: bool = False
    exec_sponsor: str = ""
    is_confidential: bool = False
    watchers: list[str] = Field(default_factory=list, description="E-mail addresses to keep "
                                                                  "informed (at most 20).")


class RequestPatch(Closed):
    """Changes to a request's intake fields: only the fields sent change."""

    title: str | None = None
    team_id: int | None = None
    data_needed: str | None = None
    format: str | None = None
    usage: str | None = None
    lever_result: str | None = None
    lever_expected_shape: str | None = None
    lever_extraction: str | None = None
    lever_decision: str | None = None
    deadline: date | None = None
    kind: str | None = None
    business_impact: int | None = None
    is_exec_sponsored: bool | None = None
    exec_sponsor: str | None = None
    is_confidential: bool | None = None
    watchers: list[str] | None = None


class CommentIn(Closed):
    """A comment; ``@[Name]`` mentions a person who may see the request."""

    text: str


class TransitionIn(Closed):
    """A transition's inputs: each transition takes the ones its form on the page asks for
    (the others are refused as unknown)."""

    note: str | None = None
    size: str | None = Field(None, description="accept, approve: S, M, L or XL.")
    business_impact: int | None = None
    is_exec_sponsored: bool | None = None
    exec_sponsor: str | None = None
    url: str | None = Field(None, description="deliver: the link to the deliverable.")
    catalogue: Literal["new", "existing", "none"] | None = Field(
        None, description="deliver: add it to the catalogue (new), it is an existing asset, "
                          "or leave it out (none).")
    asset_title: str | None = None
    asset_kind: str | None = None
    asset_description: str | None = None
    asset_tags: str | None = None
    existing_asset: str | None = Field(None, description="deliver: the asset, as asset:ID.")
    reason: str | None = Field(None, description="decline: why.")
    answer: str | None = Field(None, description="decline as self-serve: what answers it, as "
                                                 "asset:ID or request:ID.")
    original: str | None = Field(None, description="mark_duplicate: the original, as "
                                                   "request:ID or its number.")
    assignee: int | None = Field(None, description="assign: the analyst's id.")
    rating: int | None = Field(None, description="confirm: 1 to 5.")
    know_by: date | None = Field(None, description="confirm: when you will know whether it "
                                                   "was used.")


# --- The catalogue --------------------------------------------------------------------------

class AssetOut(BaseModel):
    """An asset of the catalogue: something delivered that others can reuse."""

    id: int
    title: str
    url: str = Field(description="Where the asset lives.")
    kind: Literal[tuple(ASSET_KINDS)]
    team: TeamRef = Field(description="The owning team.")
    description: str
    tags: list[str]
    status: Literal[tuple(ASSET_STATUSES)]
    last_verified_on: date | None
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="Raised by every change: send it back as If-Match.")
    page: str = Field(description="The asset's page.")


class AssetPage(BaseModel):
    """One page of the catalogue, and the cursor of the next (None: this was the last)."""

    items: list[AssetOut]
    next_cursor: str | None


class AssetListQuery(Closed):
    """The catalogue page's search and filters."""

    q: str = Field("", max_length=1000, description="Words to search for (best first).")
    kind: Literal[tuple(ASSET_KINDS)] | None = None
    team: int | None = Field(None, ge=1, le=2**31 - 1)
    status: Literal[tuple(ASSET_LIST_STATUSES)] = "active"
    tag: str = Field("", max_length=200)
    sort: Literal[tuple(ASSET_SORTS)] = Field("verified", description="Without q only.")
    limit: int = Field(25, ge=1, le=100)
    cursor: str | None = Field(None, max_length=500,
                               description="next_cursor of the page before.")


class AssetIn(Closed):
    """A new asset (analysts and leads)."""

    title: str
    url: str
    kind: str = Field(description="One of: " + ", ".join(ASSET_KINDS) + ".")
    team_id: int
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    status: str = Field("active", description="active or deprecated.")
    last_verified_on: date | None = None


class AssetPatch(Closed):
    """Changes to an asset: only the fields sent change."""

    title: str | None = None
    url: str | None = None
    kind: str | None = None
    team_id: int | None = None
    description: str | None = None
    tags: list[str] | None = None
    status: str | None = None
    last_verified_on: date | None = None


# --- Queues, backlog and reports -------------------------------------------------------------

class ScoreOut(BaseModel):
    """A request's priority score and its parts, as the queues explain it."""

    total: float
    text: str = Field(description="The score's sum in one line.")
    impact: float
    urgency: float
    urgency_reason: str
    sponsor: float
    size: str
    is_size_assumed: bool
    ageing: float
    days_waited: int
    days_left: int | None
    is_oldest_first: bool = Field(description="Waited past the oldest-first limit: it goes "
                                              "before every scored request.")


class QueueEntryOut(BaseModel):
    """A request in a queue: its place in its team's queue, its score and why."""

    request: RequestSummary
    position: int | None = Field(description="Its place in its team's queue; None: being "
                                             "worked on.")
    queue_length: int | None
    sla_status: str | None
    score: ScoreOut


class QueueOut(BaseModel):
    """Your queue: what you work on, then what comes next in priority order."""

    working: list[QueueEntryOut]
    up_next: list[QueueEntryOut]
    next_cursor: str | None = Field(description="For the rest of up_next.")


class QueueQuery(Closed):
    team: int | None = Field(None, ge=1, le=2**31 - 1)
    sla: Literal[tuple(SLA_FILTERS)] | None = None
    limit: int = Field(25, ge=1, le=100)
    cursor: str | None = Field(None, max_length=500)


class BacklogQuery(QueueQuery):
    analyst: int | Literal["none"] | None = None
    kind: Kind | None = None
    state: Literal[tuple(COMMITTED_STATES)] | None = None


class BacklogOut(BaseModel):
    """The whole backlog: requests being worked on, then the accepted queue, in order."""

    items: list[QueueEntryOut]
    total: int
    next_cursor: str | None


class ChartRef(BaseModel):
    key: str
    title: str
    how_to_read: str
    url: str


class ChartIndex(BaseModel):
    charts: list[ChartRef]


class ReportQuery(Closed):
    """The reports page's filters (defaults: the last weeks, every team you may see)."""

    start: date | None = None
    end: date | None = None
    team: int | None = Field(None, ge=1, le=2**31 - 1)
    analyst: int | None = Field(None, ge=1, le=2**31 - 1)
    kind: Kind | None = None


class SeriesOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    data: list


class ChartOut(BaseModel):
    """A chart's figures: its series for drawing, and its table."""

    key: str
    title: str
    how_to_read: str
    type: str
    labels: list
    series: list[SeriesOut]
    columns: list[str]
    rows: list[list]
    x_label: str
    y_label: str
    notes: dict
    as_of: datetime | None


class GapReportQuery(ReportQuery):
    """The platform-gaps report's filters: the reports' and what the gap was met in."""

    context: str = Field("", max_length=40, description="delivery or decline; empty: both.")


class ImpactQuery(Closed):
    """The impact ledger's filters."""

    start: date | None = None
    end: date | None = None
    team: int | None = Field(None, ge=1, le=2**31 - 1)
    kind: Kind | None = None
    format: Format | None = None
    group: Literal["team", "kind", "format"] = "team"


class ImpactOut(BaseModel):
    """The impact ledger's figures, as its page's JSON export has them."""

    model_config = ConfigDict(extra="allow")


class ForecastQuery(Closed):
    """The forecast page's what-if: a team (empty: every team you may see, and together), and
    throughput as a percentage of the recent one."""

    team: int | None = Field(None, ge=1, le=2**31 - 1)
    throughput: int = Field(100, description="100 is the recent pace; 125 a quarter more.")


class ForecastDates(BaseModel):
    """When the open requests are delivered at 50, 85 and 95% confidence (None: more than two
    years away), in words, and how it was computed."""

    p50_date: date | None
    p85_date: date | None
    p95_date: date | None
    text: str
    explanation: str


class ClearanceOut(BaseModel):
    """How long one team's (or the teams together: team_id None) open requests take."""

    team_id: int | None
    name: str
    open_requests: int
    work_days: float
    weekly_effort: list[float] = Field(description="Days of work delivered each recent week, "
                                                   "oldest first (scaled by the what-if).")
    forecast: ForecastDates | None
    note: str = Field(description="Why there is no forecast, when there is none.")


class ForecastOut(BaseModel):
    """The backlog forecast: a row per team, and the teams together."""

    teams: list[ClearanceOut]
    overall: ClearanceOut | None
    multiplier: float
    weeks: int = Field(description="The weeks of history it reads.")

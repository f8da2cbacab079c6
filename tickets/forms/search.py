"""The search page's form: the words and the filters, sent by GET so a search can be shared.

It never fails: a value in the URL that is not one of a filter's choices is not used (the
filter shows "all") and the field says so; the words are cleaned of control characters and
cut to a length the search takes (``search.search`` says when it cut them).
"""
from dataclasses import dataclass

from werkzeug.datastructures import MultiDict
from wtforms import Form, SearchField, SelectField

from .. import search
from ..models import KINDS
from ..queries import MAX_ID
from .base import options

# What the type filter shows: (search.search types, label).
TYPES = {"": (("request", "asset"), "Everything"),
         "requests": (("request",), "Requests"),
         "assets": (("asset",), "Catalogue assets")}
# The most a query argument is read: search.search takes MAX_QUERY_CHARS and says it cut.
MAX_QUERY_ARG = search.MAX_QUERY_CHARS * 20


@dataclass(frozen=True)
class SearchFilters:
    """What the search page searches: the words, and the filters in use (None: any)."""

    q: str
    type: str
    kind: str | None
    state: str | None
    team_id: int | None

    @property
    def types(self):
        return TYPES[self.type][0]

    @property
    def narrows(self):
        """Whether a filter leaves out some of what the words match."""
        return bool(self.type or self.kind or self.state or self.team_id)


class SearchForm(Form):
    """The words and filters of /search, read from the URL's arguments."""

    q = SearchField("Search requests and the catalogue")
    type = SelectField("Show", default="")
    kind = SelectField("Request kind", default="")
    state = SelectField("Request state", default="")
    team = SelectField("Team", default="")

    def __init__(self, args, *, teams):
        super().__init__(MultiDict({name: args.get(name, "") for name in
                                    ("q", "type", "kind", "state", "team")}))
        self.q.data = (self.q.data or "")[:MAX_QUERY_ARG].replace("\x00", " ").strip()
        self.type.choices = options([(key, label) for key, (_, label) in TYPES.items()])
        self.kind.choices = options([("", "Any kind")] + [(key, label) for key, (label, _)
                                                           in KINDS.items()])
        self.state.choices = options([("", "Any state")] + [
            (key, label) for key, (label, _) in search.STATE_GROUPS.items()])
        self.team.choices = options([("", "All teams")] + [(str(team.id), team.name)
                                                           for team in teams])
        self._check_choices()

    def _check_choices(self):
        """Keep each filter to one of its choices; note on the field what was not used."""
        for field in (self.type, self.kind, self.state, self.team):
            field.errors = []
            field.data = (field.data or "").strip()
            if field.data not in {choice.value for choice in field.choices}:
                field.errors.append(f"“{field.data[:40]}” is not one of the choices: "
                                    f"showing {field.choices[0].label.lower()}.")
                field.data = ""

    @property
    def filters(self):
        """The SearchFilters the page applies."""
        team_id = int(self.team.data) if self.team.data else None
        return SearchFilters(
            q=self.q.data, type=self.type.data, kind=self.kind.data or None,
            state=self.state.data or None,
            team_id=team_id if team_id is not None and 0 < team_id <= MAX_ID else None)

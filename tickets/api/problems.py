"""The REST API's errors as RFC 9457 problem details (``application/problem+json``): one
shape for every refusal, with field errors for a body to correct."""
from flask import request
from werkzeug.exceptions import HTTPException

from .schemas import Problem

MEDIA_TYPE = "application/problem+json"
PREFIX = "/api/"

# The title of each status the API answers with.
TITLES = {
    400: "The request is not valid",
    401: "A valid access token is needed",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "The request changed since you read it",
    413: "Too large",
    415: "Send JSON",
    428: "Say which version you change",
    429: "Too many requests",
    500: "Something went wrong on our side",
    503: "Datadesk is unavailable",
}


class ApiProblem(Exception):
    """A refusal of the API, answered as a problem document."""

    def __init__(self, status, detail=None, errors=None, headers=None):
        super().__init__(detail or TITLES.get(status, ""))
        self.status, self.detail, self.errors = status, detail, errors
        self.headers = headers or {}


def is_api_request():
    """Whether the request being answered is one of the API's (its errors are problems)."""
    return request.path.startswith(PREFIX)


def problem_response(status, detail=None, errors=None, headers=None):
    """The problem document of ``status``: (body, status, headers) for Flask."""
    body = Problem(title=TITLES.get(status, "Error"), status=status, detail=detail,
                   errors=[{"field": field, "detail": message}
                           for field, message in (errors or {}).items()] or None)
    return (body.model_dump_json(exclude_none=True), status,
            {"Content-Type": MEDIA_TYPE, "Cache-Control": "no-store", **(headers or {})})


def from_exception(error):
    """The problem document of an ApiProblem or an HTTP error raised while answering."""
    if isinstance(error, ApiProblem):
        return problem_response(error.status, error.detail, error.errors, error.headers)
    status = error.code if isinstance(error, HTTPException) and error.code else 500
    detail = error.description if isinstance(error, HTTPException) and status != 500 else None
    headers = {}
    if isinstance(error, HTTPException) and status == 405:
        allowed = error.get_headers()
        headers = {key: value for key, value in allowed if key == "Allow"}
    return problem_response(status, detail, headers=headers)

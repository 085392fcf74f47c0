import json

import pytest
from api_edge import TITLES, Problem, negotiate

from netzone import errors
from netzone.paging import InvalidPageToken

OFFERS = ["application/marcxml+xml", "application/json"]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/marcxml+xml"),
        ("*/*", "application/marcxml+xml"),
        ("application/json", "application/json"),
        ("application/json;q=0.5, application/marcxml+xml", "application/marcxml+xml"),
        ("application/*;q=0.2, application/json", "application/json"),
        ("text/csv", None),
        ("application/json;q=0", None),
    ],
)
def test_negotiate(accept, expected):
    assert negotiate(accept, OFFERS) == expected


def test_problem_body_is_rfc9457_with_a_stable_code():
    body = json.loads(Problem(404, "bib-not-found", "no record x").to_json())
    assert body == {
        "type": "https://netzone.dev/problems/bib-not-found",
        "title": "Not Found",
        "status": 404,
        "code": "bib-not-found",
        "detail": "no record x",
    }


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (errors.Unauthenticated, 401),
        (errors.Denied, 403),
        (errors.NotFound, 404),
        (errors.Conflict, 409),
        (errors.Gone, 410),
        (errors.Invalid, 422),
    ],
)
def test_each_kind_of_domain_error_answers_with_its_status_code_detail_and_errors(kind, status):
    found = [{"position": 1, "reason": "no 245"}]
    body = Problem.of(kind("some-code", "fix this", errors=found)).body()
    assert body["status"] == status and body["title"] == TITLES[status]
    assert body["code"] == "some-code" and body["detail"] == "fix this" and body["errors"] == found
    assert body["type"] == "https://netzone.dev/problems/some-code"


def test_a_refined_kind_answers_as_its_kind():
    assert Problem.of(InvalidPageToken("next is damaged")).body() | {"type": None} == {
        "type": None,
        "title": "Unprocessable Content",
        "status": 422,
        "code": "invalid-next-token",
        "detail": "next is damaged",
    }

import json

import pytest

from netzone.problems import Problem, negotiate

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

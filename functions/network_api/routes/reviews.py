"""The review queue: uncertain matches a network cataloger accepts (merge) or rejects (keep apart)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from network_api.routing import Limit, NetworkRouter, Next, Reason, View, ok
from netzone import network as nw
from netzone.models import StrictModel

router = NetworkRouter()
CATALOGERS = "Network catalogers."


class AcceptBody(StrictModel):
    multiline = frozenset({"reason"})
    cluster_id: str = Field(max_length=100, description="the candidate cluster the record belongs to")
    reason: Reason


class DecisionBody(StrictModel):
    multiline = frozenset({"reason"})
    reason: Reason


class ReviewTaskView(View):
    """A review task: the record that raised the question, where it sits, and the candidates."""

    task_id: str
    source: str = Field(description='"<provider>|<source id>"')
    cluster_id: str
    candidates: list[dict[str, Any]] = Field(description="cluster_id, title, score, decision, evidence")
    status: str
    created_at: str | None = None
    decided_at: str | None = None
    decided_by: str | None = None
    decision: dict[str, Any] | None = None


@router.lists(
    "/reviews",
    "The review queue: uncertain matches with their evidence",
    "Network catalogers. Oldest first.",
    ReviewTaskView,
    problems=(403,),  # the queue is the network's: there is no parent to miss
)
def list_reviews(
    status: Annotated[str, Query(pattern="^(open|accepted|rejected)$")] = "open",
    limit: Limit = 50,
    next_token: Next = None,
):
    curator, principal = router.services.curator, router.caller()
    curator.authorize(principal)  # refused before the token is read

    def page(after: str | None) -> nw.Page:
        tasks, last = curator.tasks(principal, status, limit, after)
        return nw.Page(items=[ReviewTaskView.of(t) for t in tasks], next=last)

    return router.paged(page, next_token, status)


@router.reads("/reviews/<task_id>", "A review task", CATALOGERS, ReviewTaskView)
def get_review(task_id: str):
    return ok(ReviewTaskView.of(router.services.curator.task(router.caller(), task_id)))


@router.acts(
    "/reviews/<task_id>/accept", "Merge the record into the chosen candidate", CATALOGERS, ReviewTaskView
)
def accept_review(task_id: str, body: AcceptBody):
    task = router.services.curator.accept(router.caller(), task_id, body.cluster_id, body.reason)
    return ok(ReviewTaskView.of(task))


@router.acts(
    "/reviews/<task_id>/reject", "Keep the record apart from the candidates", CATALOGERS, ReviewTaskView
)
def reject_review(task_id: str, body: DecisionBody):
    return ok(ReviewTaskView.of(router.services.curator.reject(router.caller(), task_id, body.reason)))

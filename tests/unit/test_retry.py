import pytest

from netzone.errors import Conflict, VersionConflict
from netzone.retry import retry_on_conflict


class Flaky:
    """Raises VersionConflict `conflicts` times, then answers."""

    def __init__(self, conflicts: int):
        self.conflicts = conflicts
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.conflicts:
            raise VersionConflict(f"moved ({self.calls})")
        return "done"


def test_a_conflict_is_retried_with_doubling_waits_and_a_reread_before_each_retry():
    waits, rereads = [], []
    attempt = Flaky(conflicts=3)
    result = retry_on_conflict(
        attempt, 6, before_retry=lambda: rereads.append(attempt.calls), sleep=waits.append
    )
    assert result == "done" and attempt.calls == 4
    assert waits == pytest.approx([0.01, 0.02, 0.04])
    assert rereads == [1, 2, 3]  # after each failed try, before the next


def test_the_last_conflict_propagates_after_every_attempt():
    waits, rereads = [], []
    attempt = Flaky(conflicts=10)
    with pytest.raises(VersionConflict, match=r"moved \(6\)"):
        retry_on_conflict(attempt, 6, before_retry=lambda: rereads.append(1), sleep=waits.append)
    assert attempt.calls == 6 and len(waits) == 5 and len(rereads) == 5
    assert waits[-1] == pytest.approx(0.16)


def test_a_first_try_that_succeeds_neither_waits_nor_rereads():
    waits = []
    assert retry_on_conflict(lambda: 7, 1, before_retry=pytest.fail, sleep=waits.append) == 7
    assert waits == []


def test_other_errors_are_not_retried():
    calls = []

    def refuse():
        calls.append(1)
        raise Conflict("already-exists", "member lku already exists")

    with pytest.raises(Conflict):
        retry_on_conflict(refuse, 6, sleep=pytest.fail)
    assert calls == [1]


def test_at_least_one_attempt():
    with pytest.raises(ValueError, match="at least 1"):
        retry_on_conflict(lambda: None, 0)

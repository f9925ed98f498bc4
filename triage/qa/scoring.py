"""The Calibre quality score of one reviewed decision (ICIBI 2026, 003 Annex D).

A reviewer checks a number of points of a decision and records each error
found as minor, significant or fail, saying whether it relates to a special
policy (safeguarding, security, modern slavery), and assesses the outcome as
"probably correct" or "probably wrong". The score follows the annex's rules,
the most serious first:

- QS5: one or more fail errors and the outcome "probably wrong", or one or
  more fail errors relating to a special policy;
- QS4: one or more fail errors and the outcome "probably correct";
- QS3: one or more significant errors;
- QS2: minor errors on 20% or more of the points checked;
- QS1: minor errors on less than 20% of them (none at all included).

QS1 and QS2 are satisfactory; QS3 to QS5 are not. The annex's "less than 20%
minor errors" is read as a share of the points checked, which the reviewer
records with the errors, so that the score can be derived again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SEVERITIES = ("minor", "significant", "fail")
SPECIAL_POLICIES = ("safeguarding", "security", "modern_slavery")
OUTCOMES = ("probably_correct", "probably_wrong")
SCORES = (1, 2, 3, 4, 5)
SATISFACTORY = frozenset({1, 2})
TARGET_PCT = 75  # at least 75% of decisions QS1 or QS2 (003 para 4.4, 8.1)
MINOR_SHARE_PCT = 20  # QS2 from 20% minor errors


class ScoreError(ValueError):
    """A review that cannot be scored as given; the message says why."""


@dataclass(frozen=True)
class Finding:
    """One error the reviewer found."""

    severity: str
    special_policy: str | None = None
    note: str | None = None


def quality_score(points_checked: int, errors: Iterable[Finding], outcome: str) -> int:
    """The QS score (1-5) of a review, by 003 Annex D's rules."""
    found = list(errors)
    check_review(points_checked, found, outcome)
    fails = [e for e in found if e.severity == "fail"]
    if fails and (outcome == "probably_wrong" or any(e.special_policy for e in fails)):
        return 5
    if fails:
        return 4
    if any(e.severity == "significant" for e in found):
        return 3
    minors = sum(1 for e in found if e.severity == "minor")
    # minors / points >= 20%, in integers.
    return 2 if 100 * minors >= MINOR_SHARE_PCT * points_checked else 1


def check_review(points_checked: int, errors: list[Finding], outcome: str) -> None:
    if outcome not in OUTCOMES:
        raise ScoreError(f"the outcome is assessed as one of {', '.join(OUTCOMES)}")
    if points_checked < 1:
        raise ScoreError("a review checks at least one point")
    for error in errors:
        if error.severity not in SEVERITIES:
            raise ScoreError(f"an error is {', '.join(SEVERITIES)}, not {error.severity!r}")
        if error.special_policy is not None and error.special_policy not in SPECIAL_POLICIES:
            raise ScoreError(
                f"a special policy is one of {', '.join(SPECIAL_POLICIES)}, "
                f"not {error.special_policy!r}"
            )
    minors = sum(1 for e in errors if e.severity == "minor")
    if minors > points_checked:
        raise ScoreError(
            f"{minors} minor errors on {points_checked} point(s) checked: "
            "at most one minor error a point"
        )
    if outcome == "probably_wrong" and not any(e.severity == "fail" for e in errors):
        # A wrong outcome is what a fail (critical) error is: the annex scores
        # it only through one, so a review saying so must record it.
        raise ScoreError(
            "an outcome assessed 'probably wrong' needs the fail error that makes it so"
        )


def satisfactory(score: int) -> bool:
    return score in SATISFACTORY


def score_label(score: int) -> str:
    return f"QS{score}"

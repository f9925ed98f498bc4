"""003 Annex D's scoring rules, one test each, and the checks on a review."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage.qa.scoring import (
    OUTCOMES,
    SEVERITIES,
    SPECIAL_POLICIES,
    Finding,
    ScoreError,
    quality_score,
    satisfactory,
)

MINOR, SIGNIFICANT, FAIL = (Finding(s) for s in SEVERITIES)
CORRECT, WRONG = OUTCOMES


def test_qs1_less_than_20_percent_minor_errors():
    assert quality_score(10, [], CORRECT) == 1
    assert quality_score(10, [MINOR], CORRECT) == 1  # 10%
    assert quality_score(11, [MINOR, MINOR], CORRECT) == 1  # 18%


def test_qs2_20_percent_or_more_minor_errors():
    assert quality_score(10, [MINOR, MINOR], CORRECT) == 2  # exactly 20%
    assert quality_score(5, [MINOR, MINOR, MINOR], CORRECT) == 2


def test_qs3_one_or_more_significant_errors():
    assert quality_score(10, [SIGNIFICANT], CORRECT) == 3
    assert quality_score(10, [SIGNIFICANT, SIGNIFICANT, MINOR, MINOR, MINOR], CORRECT) == 3


def test_qs4_fail_errors_with_the_outcome_probably_correct():
    assert quality_score(10, [FAIL], CORRECT) == 4
    assert quality_score(10, [FAIL, FAIL, SIGNIFICANT], CORRECT) == 4


def test_qs5_fail_errors_with_the_outcome_probably_wrong():
    assert quality_score(10, [FAIL], WRONG) == 5


@pytest.mark.parametrize("policy", SPECIAL_POLICIES)
def test_qs5_fail_errors_relating_to_special_policies_even_with_a_correct_outcome(policy):
    assert quality_score(10, [FAIL, Finding("fail", policy)], CORRECT) == 5


def test_a_special_policy_on_a_lesser_error_does_not_make_qs5():
    # The annex's QS5 names *fail* errors relating to special policies.
    assert quality_score(10, [Finding("significant", "safeguarding")], CORRECT) == 3
    assert quality_score(10, [Finding("minor", "security")], CORRECT) == 1


def test_qs1_and_qs2_are_satisfactory_qs3_to_qs5_are_not():
    assert [satisfactory(s) for s in (1, 2, 3, 4, 5)] == [True, True, False, False, False]


@pytest.mark.parametrize(
    ("points", "errors", "outcome", "problem"),
    [
        (0, [], CORRECT, "at least one point"),
        (5, [], "maybe", "outcome is assessed"),
        (5, [Finding("critical")], CORRECT, "an error is"),
        (5, [Finding("fail", "immigration")], CORRECT, "special policy"),
        (2, [MINOR, MINOR, MINOR], CORRECT, "at most one minor error a point"),
        (5, [SIGNIFICANT], WRONG, "needs the fail error"),
    ],
)
def test_a_review_that_cannot_be_scored_is_refused(points, errors, outcome, problem):
    with pytest.raises(ScoreError, match=problem):
        quality_score(points, errors, outcome)


findings = st.lists(
    st.builds(Finding, st.sampled_from(SEVERITIES), st.sampled_from((None, *SPECIAL_POLICIES))),
    max_size=8,
)


@given(findings, st.integers(8, 40), st.sampled_from(OUTCOMES))
def test_the_score_is_the_most_serious_rule_that_applies(errors, points, outcome):
    if outcome == WRONG and not any(e.severity == "fail" for e in errors):
        outcome = CORRECT
    score = quality_score(points, errors, outcome)
    fails = [e for e in errors if e.severity == "fail"]
    if fails:
        assert score == (5 if outcome == WRONG or any(e.special_policy for e in fails) else 4)
    elif any(e.severity == "significant" for e in errors):
        assert score == 3
    else:
        assert score in (1, 2)
        # Adding an error never improves a score.
        assert quality_score(points, [*errors, MINOR], outcome) >= score

"""Lead-settable weights and the oldest-first rule of priority.py (the wait guarantee).

Pure tests on request-shaped objects and a fixed clock, plus hypothesis properties on random
queues for the two facts the wait bound rests on (see priority's module docstring).
"""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tickets import priority
from tickets.priority import DEFAULT_WEIGHTS, Weights, explain, is_oldest_first, rank, score

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc)  # a Monday


def make_request(id, *, impact=3, due_in=None, sponsored=False, size="M", waited=timedelta(0)):
    return SimpleNamespace(
        id=id, business_impact=impact, is_exec_sponsored=sponsored, size=size,
        deadline=None if due_in is None else NOW.date() + timedelta(days=due_in),
        created_at=NOW - waited)


def test_default_weights_are_todays_constants():
    assert DEFAULT_WEIGHTS == Weights(impact=1.0, urgency=1.0, sponsor=priority.SPONSOR_POINTS,
                                      ageing_per_day=priority.AGEING_PER_DAY,
                                      ageing_cap=priority.AGEING_CAP, oldest_first_after=15)
    assert (DEFAULT_WEIGHTS.sponsor, DEFAULT_WEIGHTS.ageing_per_day, DEFAULT_WEIGHTS.ageing_cap) \
        == (2, 0.1, 5)


def test_default_weights_keep_the_explanation_text_exactly():
    request = make_request(1, impact=5, due_in=3, sponsored=True, waited=timedelta(days=12))
    assert explain(request, NOW).text == explain(request, NOW, weights=DEFAULT_WEIGHTS).text == (
        "impact 8 + urgency 5 (due in 3 days) + sponsor 2, / size M (3) + ageing 1.2 = 6.2")


def test_a_weight_other_than_one_shows_next_to_its_part():
    request = make_request(1, impact=5, due_in=3, sponsored=True, waited=timedelta(days=12))
    weights = Weights(impact=1.5, urgency=2, sponsor=3, ageing_per_day=0.2, ageing_cap=2)
    explanation = explain(request, NOW, weights=weights)
    # (8 x 1.5 + 5 x 2 + 3) / 3 + min(2, 0.2 x 12)
    assert explanation.total == pytest.approx(25 / 3 + 2)
    assert explanation.text == ("impact 8 (\u00d7 1.5) + urgency 5 (due in 3 days, \u00d7 2) "
                                "+ sponsor 3, / size M (3) + ageing 2.0 = 10.3")


def test_weights_reorder_the_queue():
    high_impact = make_request(1, impact=5)  # 8 / 3
    due_soon = make_request(2, impact=2, due_in=5)  # (2 + 5) / 3
    assert rank([high_impact, due_soon], NOW) == [high_impact, due_soon]
    assert rank([high_impact, due_soon], NOW, weights=Weights(urgency=2)) == [due_soon, high_impact]


def test_sla_cost_of_delay_stays_unweighted_with_default_weights():
    request = make_request(1, impact=4, due_in=1, sponsored=True)
    assert explain(request, NOW).cost_of_delay == 6 + 7 + 2


def test_an_aged_request_says_it_goes_first_and_still_shows_its_score():
    request = make_request(1, impact=1, waited=timedelta(days=30))
    aged_before = NOW - timedelta(days=21)
    assert is_oldest_first(request, aged_before)
    assert explain(request, NOW, aged_before=aged_before).text == (
        "waiting 15+ working days: goes first, oldest first (score impact 1 + urgency 0 "
        "(no hard deadline), / size M (3) + ageing 3.0 = 3.3)")
    assert not is_oldest_first(request, None)
    assert not explain(request, NOW).is_oldest_first


def test_aged_requests_go_ahead_of_any_score_oldest_first():
    critical = make_request(1, impact=5, due_in=-1, sponsored=True, size="S")
    old_low = make_request(2, impact=1, size="XL", waited=timedelta(days=40))
    older_low = make_request(3, impact=1, size="XL", waited=timedelta(days=50))
    aged_before = NOW - timedelta(days=21)
    assert rank([critical, old_low, older_low], NOW) == [critical, older_low, old_low]
    assert rank([critical, old_low, older_low], NOW, aged_before=aged_before) == [
        older_low, old_low, critical]


def test_overrides_still_apply_over_the_oldest_first_rule():
    critical = make_request(1, impact=5)
    aged = make_request(2, impact=1, waited=timedelta(days=40))
    assert rank([critical, aged], NOW, {critical.id: 1},
                aged_before=NOW - timedelta(days=21)) == [critical, aged]


def test_given_scores_are_used_and_aged_ones_need_none():
    a, b = make_request(1), make_request(2, waited=timedelta(days=40))
    assert rank([a, b], NOW, scores={a.id: 100.0}, aged_before=NOW - timedelta(days=21)) == [b, a]
    assert rank([a, b], NOW, scores={a.id: 100.0}) == [a, b]


requests_strategy = st.lists(
    st.builds(
        lambda impact, due_in, sponsored, size, minutes: (impact, due_in, sponsored, size, minutes),
        st.integers(1, 5), st.one_of(st.none(), st.integers(-10, 60)), st.booleans(),
        st.sampled_from([None, "S", "M", "L", "XL"]), st.integers(0, 60 * 24 * 80)),
    max_size=40)
weights_strategy = st.builds(
    Weights, impact=st.floats(0, 5), urgency=st.floats(0, 5), sponsor=st.floats(0, 10),
    ageing_per_day=st.floats(0, 5), ageing_cap=st.floats(0, 20),
    oldest_first_after=st.sampled_from([0, 5, 15, 60]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests_strategy, weights_strategy, st.integers(0, 60 * 24 * 80))
def test_rank_never_puts_a_scored_request_ahead_of_an_aged_one(raw, weights, aged_minutes):
    requests = [make_request(i + 1, impact=impact, due_in=due_in, sponsored=sponsored,
                             size=size, waited=timedelta(minutes=minutes))
                for i, (impact, due_in, sponsored, size, minutes) in enumerate(raw)]
    aged_before = NOW - timedelta(minutes=aged_minutes)
    ordered = rank(requests, NOW, weights=weights, aged_before=aged_before)
    assert sorted(r.id for r in ordered) == sorted(r.id for r in requests)
    flags = [is_oldest_first(r, aged_before) for r in ordered]
    # Every aged request comes before every scored one ...
    assert flags == sorted(flags, reverse=True)
    # ... and aged ones are in created order (then id).
    aged = [r for r in ordered if is_oldest_first(r, aged_before)]
    assert [(r.created_at, r.id) for r in aged] == sorted((r.created_at, r.id) for r in aged)
    # The scored ones are by score, as without the rule.
    scored = [r for r in ordered if not is_oldest_first(r, aged_before)]
    assert scored == rank(scored, NOW, weights=weights)


@settings(max_examples=300, deadline=None)
@given(requests_strategy, weights_strategy)
def test_the_fast_score_is_the_explanations_total(raw, weights):
    for i, (impact, due_in, sponsored, size, minutes) in enumerate(raw):
        request = make_request(i + 1, impact=impact, due_in=due_in, sponsored=sponsored,
                               size=size, waited=timedelta(minutes=minutes))
        record = priority.TrackRecord(used=i % 4, answered=3 + i % 3)
        assert score(request, NOW, record, weights) == pytest.approx(
            explain(request, NOW, record, weights).total)


def test_deterministic_tie_with_the_rule_whatever_the_input_order():
    same_time = NOW - timedelta(days=30)
    a, b = make_request(2, waited=NOW - same_time), make_request(1, waited=NOW - same_time)
    assert rank([a, b], NOW, aged_before=NOW - timedelta(days=1)) == [b, a]
    assert rank([b, a], NOW, aged_before=NOW - timedelta(days=1)) == [b, a]

"""The priority score of DESIGN.md: ordering, ageing, explanation and a lead's overrides.

Pure unit tests: requests are plain objects with the attributes of ``Request`` that the score
reads, and the clock is fixed, so no test touches a database or the app.
"""
import dataclasses
import itertools
import random
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from tests.purity import imported_top_level_modules
from tickets import priority
from tickets.models import IMPACTS, SIZES
from tickets.priority import explain, priority_score, rank

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc)  # a Monday

_ids = itertools.count(1)


def make_request(*, impact=3, due_in=None, deadline=None, sponsored=False, size="M",
                 waited=timedelta(0), id=None, now=NOW):
    """A request-shaped object: ``due_in`` days from now's date, created ``waited`` before now."""
    if due_in is not None:
        deadline = now.date() + timedelta(days=due_in)
    return SimpleNamespace(
        id=next(_ids) if id is None else id,
        business_impact=impact,
        deadline=deadline,
        is_exec_sponsored=sponsored,
        size=size,
        created_at=(now - waited).astimezone(timezone.utc),
        kind="ad_hoc",
    )


def days(n):
    return timedelta(days=n)


# --- The module stays pure and speaks the vocabulary --------------------------------------

def test_module_imports_nothing_but_the_standard_library():
    imported = imported_top_level_modules(priority.__file__)
    assert imported <= {"math", "collections", "dataclasses", "datetime"}


def test_scales_cover_the_vocabulary_of_impacts_and_sizes():
    assert set(priority.IMPACT_POINTS) == set(IMPACTS)
    assert set(priority.SIZE_WEIGHTS) == set(SIZES)
    assert priority.UNSIZED_AS in SIZES


def test_scales_rise_with_impact_and_size_and_urgency_never_falls_as_the_deadline_nears():
    points = [priority.IMPACT_POINTS[i] for i in sorted(priority.IMPACT_POINTS)]
    assert points == sorted(points) and len(set(points)) == len(points)
    weights = [priority.SIZE_WEIGHTS[s] for s in SIZES]
    assert weights == sorted(weights)
    urgencies = [explain(make_request(due_in=d), NOW).urgency for d in range(-40, 60)]
    assert urgencies == sorted(urgencies, reverse=True)
    assert all(u > explain(make_request(), NOW).urgency for u in urgencies)


# --- Ordering -----------------------------------------------------------------------------

def test_higher_impact_ranks_first_at_equal_everything_else():
    requests = [make_request(impact=i, due_in=10) for i in (1, 3, 5, 2, 4)]
    ordered = rank(requests, NOW)
    assert [r.business_impact for r in ordered] == [5, 4, 3, 2, 1]


def test_a_closer_deadline_wins():
    far, near, overdue, none = (make_request(due_in=40), make_request(due_in=5),
                                make_request(due_in=-1), make_request())
    assert rank([none, far, near, overdue], NOW) == [overdue, near, far, none]


def test_exec_sponsor_wins_a_tie():
    plain = make_request(id=1, waited=days(3))
    sponsored = make_request(id=2, sponsored=True)
    assert priority_score(sponsored, NOW) > priority_score(plain, NOW)
    assert rank([plain, sponsored], NOW) == [sponsored, plain]


def test_smaller_size_wins_at_equal_cost_of_delay():
    by_size = {size: make_request(impact=4, due_in=6, size=size) for size in ("XL", "M", "S", "L")}
    ordered = rank(list(by_size.values()), NOW)
    assert [r.size for r in ordered] == ["S", "M", "L", "XL"]


def test_cost_of_delay_is_divided_by_size_but_ageing_is_not():
    small = explain(make_request(impact=5, due_in=3, size="S", waited=days(10)), NOW)
    large = explain(make_request(impact=5, due_in=3, size="L", waited=days(10)), NOW)
    assert small.total == pytest.approx((8 + 5) / 1 + 1.0)
    assert large.total == pytest.approx((8 + 5) / 8 + 1.0)


def test_ageing_lifts_an_old_low_request_above_a_new_medium_one_after_14_days():
    # New, Medium impact, M, due in two weeks: (4 + 3) / 3 = 2.33.
    # Old, Minimal impact, S, no deadline: 1 / 1 + 0.1 per day, so it passes after 14 days.
    new_medium = make_request(impact=3, due_in=14, size="M")
    assert priority_score(new_medium, NOW) == pytest.approx(7 / 3)
    crossing = next(d for d in range(100)
                    if priority_score(make_request(impact=1, size="S", waited=days(d)), NOW)
                    > priority_score(new_medium, NOW))
    assert crossing == 14
    old_low_13 = make_request(impact=1, size="S", waited=days(13))
    old_low_14 = make_request(impact=1, size="S", waited=days(14))
    assert rank([old_low_13, new_medium], NOW) == [new_medium, old_low_13]
    assert rank([old_low_14, new_medium], NOW) == [old_low_14, new_medium]


def test_ageing_counts_full_days_and_is_capped():
    assert explain(make_request(waited=timedelta(hours=23, minutes=59)), NOW).ageing == 0
    assert explain(make_request(waited=timedelta(days=1)), NOW).ageing == pytest.approx(0.1)
    assert explain(make_request(waited=days(49)), NOW).ageing == pytest.approx(4.9)
    assert explain(make_request(waited=days(50)), NOW).ageing == priority.AGEING_CAP
    assert explain(make_request(waited=days(3650)), NOW).ageing == priority.AGEING_CAP
    assert priority_score(make_request(waited=days(50)), NOW) == priority_score(
        make_request(waited=days(500)), NOW)


def test_the_ageing_cap_does_not_let_a_wait_beat_small_urgent_high_impact_work():
    forgotten = make_request(impact=1, size="XL", waited=days(1000))
    urgent = make_request(impact=4, due_in=7, size="S")
    assert rank([forgotten, urgent], NOW) == [urgent, forgotten]
    # ... but a wait does beat any new M request due in more than 30 days.
    new_critical_m = make_request(impact=5, due_in=31, sponsored=True, size="M")
    assert rank([new_critical_m, forgotten], NOW) == [forgotten, new_critical_m]


def test_a_request_created_after_now_does_not_age_negatively():
    assert explain(make_request(waited=-days(2)), NOW).ageing == 0


# --- Urgency, overdue and the calendar ----------------------------------------------------

@pytest.mark.parametrize("due_in, urgency, reason", [
    (None, 0, "no hard deadline"),
    (90, 1, "due in 90 days"),
    (31, 1, "due in 31 days"),
    (30, 2, "due in 30 days"),
    (15, 2, "due in 15 days"),
    (14, 3, "due in 14 days"),
    (8, 3, "due in 8 days"),
    (7, 5, "due in 7 days"),
    (3, 5, "due in 3 days"),
    (2, 7, "due in 2 days"),
    (1, 7, "due in 1 day"),
    (0, 7, "due today"),
    (-1, 8, "overdue by 1 day"),
    (-2, 8, "overdue by 2 days"),
    (-400, 8, "overdue by 400 days"),
])
def test_urgency_steps(due_in, urgency, reason):
    explanation = explain(make_request(due_in=due_in), NOW)
    assert (explanation.urgency, explanation.urgency_reason) == (urgency, reason)
    assert explanation.days_left == due_in


def test_an_overdue_request_outranks_the_same_request_due_today():
    overdue = make_request(impact=2, due_in=-3, id=1)
    due_today = make_request(impact=2, due_in=0, id=2)
    assert rank([due_today, overdue], NOW) == [overdue, due_today]
    assert explain(overdue, NOW).text == (
        "impact 2 + urgency 8 (overdue by 3 days), / size M (3) + ageing 0.0 = 3.3")


def test_days_left_are_calendar_days_from_nows_date_not_24_hour_periods():
    deadline = date(2026, 11, 24)
    just_before_midnight = datetime(2026, 11, 23, 23, 59, tzinfo=timezone.utc)
    just_after_midnight = datetime(2026, 11, 24, 0, 1, tzinfo=timezone.utc)
    assert explain(make_request(deadline=deadline), just_before_midnight).urgency_reason == (
        "due in 1 day")
    assert explain(make_request(deadline=deadline), just_after_midnight).urgency_reason == (
        "due today")


def test_days_left_count_from_the_date_in_nows_own_timezone():
    # 23:30 on Monday in New York is already 04:30 on Tuesday in UTC.
    new_york = datetime(2026, 11, 23, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    same_instant_utc = new_york.astimezone(timezone.utc)
    assert same_instant_utc.date() == date(2026, 11, 24)
    request = make_request(deadline=date(2026, 11, 24), now=same_instant_utc)
    assert explain(request, new_york).urgency_reason == "due in 1 day"
    assert explain(request, same_instant_utc).urgency_reason == "due today"
    # A deadline of Monday is overdue in Berlin (already Tuesday 00:30) but not in UTC.
    berlin = datetime(2026, 11, 24, 0, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    monday = make_request(deadline=date(2026, 11, 23), now=berlin)
    assert explain(monday, berlin).urgency_reason == "overdue by 1 day"
    assert explain(monday, berlin.astimezone(timezone.utc)).urgency_reason == "due today"


def test_ageing_depends_on_the_instant_not_on_nows_timezone():
    request = make_request(waited=days(12) + timedelta(hours=1))
    tokyo = NOW.astimezone(ZoneInfo("Asia/Tokyo"))
    assert explain(request, tokyo).ageing == explain(request, NOW).ageing == pytest.approx(1.2)


def test_a_naive_now_is_refused():
    with pytest.raises(ValueError, match="aware"):
        priority_score(make_request(), NOW.replace(tzinfo=None))


# --- Untriaged size and unknown inputs ----------------------------------------------------

def test_an_unsized_request_counts_as_m_and_says_so():
    unsized = make_request(impact=4, due_in=5, size=None)
    sized_m = make_request(impact=4, due_in=5, size="M")
    explanation = explain(unsized, NOW)
    assert priority_score(unsized, NOW) == priority_score(sized_m, NOW)
    assert (explanation.size_label, explanation.size_weight, explanation.is_size_assumed) == (
        "M", 3, True)
    assert explain(sized_m, NOW).is_size_assumed is False
    assert explanation.text == (
        "impact 6 + urgency 5 (due in 5 days), / size not set, counted as M (3) "
        "+ ageing 0.0 = 3.7")


@pytest.mark.parametrize("field, value", [("size", "XXL"), ("business_impact", 0),
                                          ("business_impact", 6)])
def test_unknown_size_or_impact_is_refused(field, value):
    request = make_request()
    setattr(request, field, value)
    with pytest.raises(ValueError, match="unknown"):
        explain(request, NOW)


# --- The explanation ----------------------------------------------------------------------

def test_explanation_of_the_example_in_the_issue():
    request = make_request(impact=5, due_in=3, sponsored=True, size="M", waited=days(12))
    explanation = explain(request, NOW)
    assert explanation.text == (
        "impact 8 + urgency 5 (due in 3 days) + sponsor 2, / size M (3) + ageing 1.2 = 6.2")
    assert (explanation.impact, explanation.urgency, explanation.sponsor) == (8, 5, 2)
    assert explanation.cost_of_delay == 15
    assert (explanation.days_left, explanation.days_waited) == (3, 12)


@pytest.mark.parametrize("kwargs, text", [
    ({"impact": 1, "size": "S"},
     "impact 1 + urgency 0 (no hard deadline), / size S (1) + ageing 0.0 = 1.0"),
    ({"impact": 3, "due_in": 10, "size": "L", "waited": days(7)},
     "impact 4 + urgency 3 (due in 10 days), / size L (8) + ageing 0.7 = 1.6"),
    ({"impact": 1, "due_in": 0, "size": "M", "waited": days(2)},
     "impact 1 + urgency 7 (due today), / size M (3) + ageing 0.2 = 2.9"),
    ({"impact": 4, "due_in": -4, "sponsored": True, "size": "XL", "waited": days(80)},
     "impact 6 + urgency 8 (overdue by 4 days) + sponsor 2, / size XL (20) + ageing 5.0 = 5.8"),
    ({"impact": 2, "due_in": -1, "size": "S", "waited": days(1)},
     "impact 2 + urgency 8 (overdue by 1 day), / size S (1) + ageing 0.1 = 10.1"),
])
def test_explanation_text(kwargs, text):
    assert explain(make_request(**kwargs), NOW).text == text


def test_the_score_is_the_explanations_total():
    rng = random.Random(3)
    for _ in range(500):
        request = make_request(
            impact=rng.randint(1, 5), due_in=rng.choice([None, *range(-10, 60)]),
            sponsored=rng.random() < 0.2, size=rng.choice([None, *SIZES]),
            waited=timedelta(minutes=rng.randint(0, 90 * 24 * 60)))
        explanation = explain(request, NOW)
        assert priority_score(request, NOW) == explanation.total
        assert explanation.total == pytest.approx(
            explanation.cost_of_delay / explanation.size_weight + explanation.ageing)


def test_the_explanation_is_frozen():
    explanation = explain(make_request(), NOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        explanation.total = 99


def test_settings_can_replace_the_constants(monkeypatch):
    # Sponsor points and the ageing cap are lead-settable weights now (priority.Weights);
    # the size scale is still a constant of the module.
    request = make_request(impact=5, sponsored=True, size="S", waited=days(100))
    weights = priority.Weights(sponsor=5, ageing_cap=2)
    monkeypatch.setattr(priority, "SIZE_WEIGHTS", {**priority.SIZE_WEIGHTS, "S": 2})
    assert explain(request, NOW, weights=weights).text == (
        "impact 8 + urgency 0 (no hard deadline) + sponsor 5, / size S (2) + ageing 2.0 = 8.5")


# --- Ties, determinism and overrides ------------------------------------------------------

def test_equal_scores_put_the_older_request_first_then_the_lower_id():
    # All younger than a day, so their ageing is equal (0) and so are their scores.
    older = make_request(id=30, waited=timedelta(hours=7))
    low_id = make_request(id=10, waited=timedelta(hours=5))
    high_id = make_request(id=20, waited=timedelta(hours=5))
    assert priority_score(older, NOW) == priority_score(low_id, NOW) == priority_score(high_id, NOW)
    for permutation in itertools.permutations([high_id, older, low_id]):
        assert rank(list(permutation), NOW) == [older, low_id, high_id]


def test_ranking_is_deterministic_whatever_the_input_order():
    rng = random.Random(11)
    requests = [make_request(id=i, impact=rng.randint(1, 5), due_in=rng.choice([None, 2, 10, 40]),
                             size=rng.choice(list(SIZES)), waited=days(rng.randint(0, 3)))
                for i in range(1, 41)]
    expected = rank(requests, NOW)
    for _ in range(20):
        shuffled = requests[:]
        rng.shuffle(shuffled)
        assert rank(shuffled, NOW) == expected
    scores = [priority_score(r, NOW) for r in expected]
    assert scores == sorted(scores, reverse=True)


def test_rank_returns_a_new_list_and_accepts_any_iterable():
    requests = [make_request(impact=1), make_request(impact=5)]
    assert rank(iter(requests), NOW) == [requests[1], requests[0]]
    assert rank([], NOW) == []
    assert [r.business_impact for r in requests] == [1, 5]


def _queue():
    """Five requests whose score order is a, b, c, d, e."""
    return {name: make_request(id=i, impact=impact)
            for i, (name, impact) in enumerate(zip("abcde", (5, 4, 3, 2, 1)), start=1)}


def names(ordered, queue):
    by_id = {r.id: name for name, r in queue.items()}
    return "".join(by_id[r.id] for r in ordered)


def test_overrides_place_requests_at_their_position_and_the_rest_follow_the_score():
    q = _queue()
    assert names(rank(q.values(), NOW), q) == "abcde"
    assert names(rank(q.values(), NOW, {q["e"].id: 1}), q) == "eabcd"
    assert names(rank(q.values(), NOW, {q["a"].id: 5}), q) == "bcdea"
    assert names(rank(q.values(), NOW, {q["d"].id: 2, q["b"].id: 4}), q) == "adcbe"


def test_two_overrides_on_one_position_keep_their_score_order():
    q = _queue()
    ordered = rank(q.values(), NOW, {q["e"].id: 1, q["c"].id: 1})
    assert names(ordered, q) == "ceabd"


def test_an_override_past_the_end_puts_the_request_last():
    q = _queue()
    assert names(rank(q.values(), NOW, {q["a"].id: 99, q["b"].id: 50}), q) == "cdeba"


def test_overrides_of_requests_not_in_the_list_are_ignored():
    q = _queue()
    assert names(rank(q.values(), NOW, {999: 1, q["c"].id: 1}), q) == "cabde"


@pytest.mark.parametrize("position", [0, -1, 1.5, "1", True])
def test_an_override_position_must_be_a_whole_number_from_one(position):
    q = _queue()
    with pytest.raises(ValueError, match="1 or more"):
        rank(q.values(), NOW, {q["a"].id: position})


def test_overrides_win_over_any_score():
    q = _queue()
    q["urgent"] = make_request(id=100, impact=5, due_in=-5, size="S", sponsored=True)
    ordered = rank(q.values(), NOW, {q["e"].id: 1})
    assert ordered[0] is q["e"] and ordered[1] is q["urgent"]


def test_urgency_table_names_every_step_in_words():
    rows = priority.urgency_table()
    assert rows[0] == ("No hard deadline", priority.NO_DEADLINE_URGENCY)
    assert ("Overdue", 8) in rows
    assert ("Due today or within 2 days", 7) in rows
    assert rows[-1] == ("Due in more than 30 days", 1)
    assert len(rows) == len(priority.URGENCY_STEPS) + 1

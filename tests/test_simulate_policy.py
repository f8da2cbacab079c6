"""bench/simulate_policy.py: deterministic per seed, the JSON the issue asks for, and policies
that do what their names say (the oracle knows the effort; the limit is priority's rule)."""
import json

import pytest

from bench import simulate_policy as sim
from tickets import priority

KEYS = {"waiting_cost_vs_fifo", "waiting_cost_vs_oracle", "hi_impact_on_time",
        "longest_wait_bdays", "longest_wait_bdays_worst", "adhoc_over_budget"}


def last_json(capsys, *argv):
    sim.main(list(argv))
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_the_last_line_has_every_figure_per_policy_and_is_the_same_for_the_same_seed(capsys):
    first = last_json(capsys, "--seeds", "2", "--weeks", "6")
    assert set(sim.POLICIES) <= set(first)
    for name in sim.POLICIES:
        assert KEYS <= set(first[name])
    assert first["fifo"]["waiting_cost_vs_fifo"] == 1.0
    assert first["oracle"]["waiting_cost_vs_oracle"] == 1.0
    assert 0 <= first["hi_impact_meetable"] <= 100
    assert last_json(capsys, "--seeds", "2", "--weeks", "6") == first


def test_the_matrix_has_a_cell_per_team_size_and_load(capsys):
    out = last_json(capsys, "--matrix", "--seeds", "1", "--weeks", "3",
                    "--policies", "datadesk,datadesk+waitlist")
    assert set(out["cells"]) == {f"{a}x{load}" for a in (4, 8, 20) for load in (0.9, 1.1, 1.3)}
    assert {"fifo", "oracle", "datadesk", "datadesk+waitlist"} <= set(out["cells"]["8x1.1"])


def test_unknown_policies_are_refused(capsys):
    with pytest.raises(SystemExit):
        sim.main(["--policies", "lifo"])


def test_the_oracle_beats_fifo_on_waiting_cost():
    for seed in (1, 2, 3):
        requests = sim.demand(seed, 13, 4, 1.1)
        budgets = sim.budgets_for(4, 1.1)
        fifo = sim.measure(requests, *sim.simulate(requests, sim.Fifo(), 4, 13), 13, budgets)
        oracle = sim.measure(requests, *sim.simulate(requests, sim.Oracle(), 4, 13), 13, budgets)
        assert oracle["waiting"] < fifo["waiting"]


def reqs(*specs):
    """Req objects: (arrival, impact, size, effort)."""
    return [sim.Req(id=i + 1, team="Sales", kind="project", business_impact=impact,
                    is_exec_sponsored=False, size=size, effort=effort, arrival=arrival,
                    created_at=sim.clock(arrival), deadline=None)
            for i, (arrival, impact, size, effort) in enumerate(specs)]


def test_the_oracle_ranks_by_weight_per_true_effort_and_the_limit_puts_aged_first():
    old_low, new_small_high = reqs((0.0, 1, "XL", 10.0), (19.0, 5, "XL", 0.5))
    # Both are sized XL: the oracle goes by the true effort, not the estimate.
    oracle, limited = sim.Oracle(), sim.Oracle(15)
    for policy in (oracle, limited):
        for r in (old_low, new_small_high):
            policy.admit(r, r.arrival)
    assert oracle.pick(19.5) is new_small_high
    assert limited.pick(19.5) is old_low  # waited 19.5 business days: goes first


def test_datadesk_picks_the_head_of_priority_rank_with_the_rule():
    old_low, new_high, newer_high = reqs((0.0, 1, "M", 1.0), (18.0, 5, "S", 1.0),
                                         (19.0, 5, "S", 1.0))
    budgets = {team: 1 for team in sim.TEAMS}
    for weights, expected in ((priority.DEFAULT_WEIGHTS, old_low),
                              (priority.Weights(oldest_first_after=0), new_high)):
        policy = sim.Datadesk(budgets, weights)
        for r in (old_low, new_high, newer_high):
            policy.admit(r, r.arrival)
        now = sim.clock(19.5)
        assert policy.pick(19.5) is expected
        assert expected is priority.rank([old_low, new_high, newer_high], now, weights=weights,
                                         aged_before=sim.Datadesk(budgets, weights)
                                         .aged_before(19.5))[0]


def test_an_aged_waitlisted_request_joins_the_queue_only_in_the_waitlist_variant():
    first, second = [sim.Req(id=i, team="Sales", kind="ad_hoc", business_impact=1,
                             is_exec_sponsored=False, size="S", effort=1.0, arrival=0.1 * i,
                             created_at=sim.clock(0.1 * i), deadline=None) for i in (1, 2)]
    [blocker] = [sim.Req(id=3, team="Sales", kind="project", business_impact=5,
                         is_exec_sponsored=False, size="S", effort=1.0, arrival=10.0,
                         created_at=sim.clock(10.0), deadline=None)]
    for variant, expected in ((False, blocker), (True, second)):
        policy = sim.Datadesk({team: 1 for team in sim.TEAMS}, aged_leave_waitlist=variant)
        policy.budgets["Sales"] = 1
        for r in (first, second, blocker):
            policy.admit(r, r.arrival)
        policy.backlog.remove(first)  # the budget's one place is taken and started
        assert second in policy.waitlist
        assert policy.pick(16.0) is expected

"""Signals (tickets/signals.py): importing the package connects every rule that reacts."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_importing_the_package_connects_every_receiver():
    # A fresh interpreter: what a command or a script gets from ``import tickets`` alone.
    code = ("import tickets.signals as s; "
            "print(sorted(f'{r.__module__}.{r.__name__}' for r in s.request_transitioned"
            ".receivers_for(None)), "
            "sorted(f'{r.__module__}.{r.__name__}' for r in s.settings_changed"
            ".receivers_for(None)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == str(
        ["tickets.budget._give_place_back", "tickets.notifications.on_transition",
         "tickets.outcomes.on_transition", "tickets.sla_clocks._refresh_after_transition",
         "tickets.webhooks.on_transition"]) + " " + str(
        ["tickets.sla_clocks._refresh_after_settings"])


def test_importing_the_package_connects_the_receivers_of_comments():
    code = ("import tickets.signals as s; "
            "print(sorted(f'{r.__module__}.{r.__name__}' for r in s.comment_added"
            ".receivers_for(None)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == str(["tickets.notifications.on_comment", "tickets.webhooks.on_comment"])


def test_importing_the_package_connects_the_receivers_of_creations_and_answers():
    code = ("import tickets.signals as s; "
            "print([sorted(f'{r.__module__}.{r.__name__}' for r in signal.receivers_for(None))"
            " for signal in (s.request_created, s.follow_up_answered)])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == str([["tickets.webhooks.on_created"],
                               ["tickets.webhooks.on_follow_up_answered"]])

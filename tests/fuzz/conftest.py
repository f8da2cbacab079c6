"""Hypothesis profiles for the fuzz suite.

``ci`` (the default) keeps the suite bounded: FUZZ_CI_EXAMPLES (default 15) examples per form and
role, no shrinking (a failure is reported as found). ``long`` runs FUZZ_EXAMPLES (default 2000)
per form and role and shrinks failures to a minimal input; choose it with HYPOTHESIS_PROFILE=long
or by setting FUZZ_EXAMPLES. No example database is kept (nothing is written into the repo).
"""
import os

from hypothesis import HealthCheck, Phase, settings

SLOW_OR_LARGE = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example,
                 HealthCheck.filter_too_much]

settings.register_profile(
    "ci", max_examples=int(os.environ.get("FUZZ_CI_EXAMPLES", "15")), deadline=None,
    database=None, phases=(Phase.explicit, Phase.generate),
    suppress_health_check=SLOW_OR_LARGE, print_blob=True)
settings.register_profile(
    "long", parent=settings.get_profile("ci"),
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "2000")),
    phases=(Phase.explicit, Phase.generate, Phase.shrink))

settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                      or ("long" if os.environ.get("FUZZ_EXAMPLES") else "ci"))

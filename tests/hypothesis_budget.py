"""Hypothesis settings for the property tests: a fixed, repeatable budget by default, a deep random run on demand."""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# HYPOTHESIS_DEEP=1 (say, nightly) explores 10x the examples, randomly, and keeps failures in the example database.
DEEP = os.environ.get("HYPOTHESIS_DEEP", "") not in ("", "0")


def budget(examples: int, *extra_checks: HealthCheck) -> settings:
    """Settings for `examples` examples: derandomized and database-free (same cost every run) unless DEEP."""
    return settings(
        max_examples=examples * 10 if DEEP else examples,
        derandomize=not DEEP,  # the same examples every run: a bounded, non-flaky cost in `make test`
        database=settings.default.database if DEEP else None,
        deadline=None,  # shared 2-core machines make per-example timing meaningless
        suppress_health_check=[HealthCheck.too_slow, *extra_checks],
    )

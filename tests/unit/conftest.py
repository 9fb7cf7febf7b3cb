"""Hypothesis settings for the property tests (``test_properties_*``): derandomized, so a run in CI
finds the same examples every time, and without deadlines (a slow first call is no failure).
``HYPOTHESIS_PROFILE=dev`` explores with fresh random examples instead."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=200, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=500, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

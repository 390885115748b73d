"""Shared test configuration: hypothesis profiles (CI-sized by default, `fuzz` for long runs)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "fuzz", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("CAUDAL_HYPOTHESIS_PROFILE", "default"))

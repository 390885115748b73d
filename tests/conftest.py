"""Shared test configuration: hypothesis profiles (CI-sized by default, `fuzz` for long runs)."""

import os

from hypothesis import HealthCheck, settings

from caudal.model import verify_trusted

# Mappers build canonical records with `trusted()` (no second validation of raw values); in the
# test suite every such record is also built the validated way and must come out identical.
verify_trusted(True)

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "fuzz", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("CAUDAL_HYPOTHESIS_PROFILE", "default"))

"""Fixtures of the acceptance tests (shared with tests/security): see ``acceptance_fixtures``."""

from __future__ import annotations

from acceptance_fixtures import start_qorus

__all__ = ["start_qorus"]

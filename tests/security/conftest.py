"""Hostile-input tests: every finding of an attacker or a careless operator becomes a test here.

The real-server fixtures of the acceptance tests are shared: ``qorus_proc`` is importable and
``start_qorus`` is the same fixture.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "acceptance"))

from acceptance_fixtures import start_qorus

__all__ = ["start_qorus"]

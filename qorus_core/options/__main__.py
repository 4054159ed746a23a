"""``python -m qorus_core.options > etc/options.example`` regenerates the example file."""

from __future__ import annotations

import sys

from qorus_core.options.render import render_options_example

sys.stdout.write(render_options_example())

"""Movie Minter for A1111: a tab, a settings section and the app process.
A1111 runs every .py in scripts/, so this stays a thin entry point; the logic
is in movieminter/host/ (standard library + what A1111 ships)."""

import os
import sys

_EXT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _EXT not in sys.path:
    sys.path.insert(0, _EXT)

from movieminter.host.extension import register  # noqa: E402

register()

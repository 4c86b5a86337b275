"""A1111 runs this when the extension is installed or A1111 starts: it builds
or updates Movie Minter's OWN venv (<extension>/.venv, or MOVIEMINTER_VENV)
from requirements.lock. It never installs anything into A1111's venv (A1111
1.10 pins pydantic 1; the app needs pydantic 2). A stamp makes it a no-op when
the venv is current; `--skip-install` is honoured."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from movieminter.host.installer import main  # noqa: E402

_rc = main()
if _rc and __name__ == "__main__":
    sys.exit(_rc)

"""pytest root: every tests/fixtures_*.py is a fixture plugin, so each
subsystem keeps its fixtures in its own file."""

from pathlib import Path

pytest_plugins = sorted(f"tests.{p.stem}" for p in (Path(__file__).parent / "tests").glob("fixtures_*.py"))

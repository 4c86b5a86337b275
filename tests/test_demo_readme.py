"""The README's two commands stay exactly `./mm demo` and `./mm test`, CI runs the latter, and
`./mm demo` runs the demo command this project tests (`movieminter demo`)."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def test_readme_two_commands_and_ci():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## The two commands.*?```bash\n(.*?)```", readme, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["./mm demo", "./mm test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^exec \./mm test\s*$", ci, re.M)
    mm = (ROOT / "mm").read_text()
    assert re.search(r'demo\)\s+setup; exec "\$VENV/bin/movieminter" demo "\$@"', mm)


def test_demo_command_is_registered():
    from movieminter.cli import build_parser

    args = build_parser().parse_args(
        ["demo", "--no-serve", "--data-dir", "x", "--a1111-url", "http://h:1", "--port", "0"]
    )
    assert args.no_serve and args.data_dir == "x" and args.a1111_url == "http://h:1" and args.port == 0
    assert args.func.__module__ == "movieminter.app.demo"


def test_guides_link_their_screenshots():
    for guide, shots in {
        "director-guide.md": ["studio-1-create.png", "studio-2-lottery-drawn.png", "studio-3-revenue.png"]
        + ["theme-studio-dark.png", "narrow-studio-dark.png"],
        "viewer-guide.md": ["watch-1-buy-ticket.png", "watch-2-playing.png", "watch-1080-dark-420.png"],
        # each mint mode (open, allowlist, lottery), dark mode, a narrow width and the live render preview
        "minter-guide.md": ["03-timeline.png", "modes-allowlist-yours.png", "modes-lottery-leftover.png"]
        + ["tab-draw-recorded-dark.png", "narrow-tab-dark.png", "live-preview.png", "live-preview-dark-420.png"],
    }.items():
        text = (ROOT / "docs" / guide).read_text()
        for name in shots:
            assert f"screenshots/{name}" in text
            assert (ROOT / "docs" / "screenshots" / name).is_file()
    assert "IPFS content is public" in (ROOT / "docs" / "viewer-guide.md").read_text()


def test_demo_refuses_a_folder_with_an_earlier_run(tmp_path, capsys):
    from movieminter.cli import main

    (tmp_path / "demo-summary.json").write_text("{}")
    assert main(["demo", "--no-serve", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "earlier demo run" in err and "--data-dir" in err

"""The Colab notebook is valid nbformat 4, installs what the real-A1111 harness tests (the same
repositories at the same commits, the same packages in the same order, the same API flags), and the
README's "Run on Colab or a GPU box" recipe is the notebook's commands, word for word.

The harness (`movieminter.testing.real_a1111`) is the one source of those facts: these tests import its
constants, so the notebook, the README and the harness cannot drift apart."""

from __future__ import annotations

import re
import shlex
import tarfile

import nbformat
import pytest

from movieminter.testing.real_a1111 import (
    A1111_INSTALL_STEPS,
    A1111_PINS,
    COMMIT_ENV,
    PINNED,
    START_FLAGS,
    HarnessError,
    source_location,
)
from tests.conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "movieminter_colab.ipynb"
WEBUI = "stable-diffusion-webui"  # where `git clone <A1111>` puts A1111 (PINNED's ".")
STABLE_DIFFUSION = "repositories/stable-diffusion-stability-ai"
# The harness pins commits; the clones start from the branch (or tag) that carries them, then check them out.
BRANCHES = {".": "v1.10.1", "extensions/sd-webui-deforum": "automatic1111-webui"}
# START_FLAGS the harness needs only because it runs on CPU (flag -> how many values follow it).
CPU_ONLY_FLAGS = {"--use-cpu": 1, "--no-half": 0, "--skip-torch-cuda-test": 0}
# Notebook commands with no place in the README recipe: Colab's GPU check, and getting uv (the README says how).
COLAB_ONLY = ("nvidia-smi ", "pip install ")
# The environment variable A1111 1.10.1's launcher reads for each repository's URL (COMMIT_ENV: its commit).
REPO_ENV = {
    STABLE_DIFFUSION: "STABLE_DIFFUSION_REPO",
    "repositories/generative-models": "STABLE_DIFFUSION_XL_REPO",
    "repositories/k-diffusion": "K_DIFFUSION_REPO",
    "repositories/BLIP": "BLIP_REPO",
    "repositories/stable-diffusion-webui-assets": "ASSETS_REPO",
}


@pytest.fixture(scope="module")
def notebook():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)  # raises ValidationError on any schema problem
    return nb


def code_lines(nb) -> list[str]:
    return [line.strip() for cell in nb.cells if cell.cell_type == "code" for line in cell.source.splitlines()]


def shell_commands(nb) -> list[str]:
    """Every `!command` line of the code cells, without the leading `!`."""
    return [line[1:].strip() for line in code_lines(nb) if line.startswith("!")]


def notebook_env(nb) -> dict[str, str]:
    """What the notebook's `%env NAME=value` lines set."""
    return dict(line[len("%env ") :].split("=", 1) for line in code_lines(nb) if line.startswith("%env "))


def recipe(nb) -> list[str]:
    """The notebook's install-and-start commands as a shell would run them: `!cmd` -> cmd,
    `%env K=V` -> `export K=V`; Colab-only commands and `%cd` left out."""
    out = []
    for line in code_lines(nb):
        if line.startswith("!") and not line[1:].strip().startswith(COLAB_ONLY):
            out.append(line[1:].strip())
        elif line.startswith("%env "):
            out.append("export " + line[len("%env ") :])
    return out


def readme_section() -> str:
    readme = (ROOT / "README.md").read_text()
    return re.search(r"^## Run on Colab or a GPU box\n(.*?)(?=^## )", readme, re.S | re.M).group(1)


def readme_recipe() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", readme_section(), re.S).group(1)
    return [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]


def clones(cmds: list[str]) -> dict[str, tuple[str, str | None]]:
    """`git clone` commands as {destination folder: (repository, branch)}; A1111's own clone is "."."""
    out = {}
    for cmd in cmds:
        argv = shlex.split(cmd)
        if argv[:2] != ["git", "clone"]:
            continue
        branch, positional, args = None, [], iter(argv[2:])
        for arg in args:
            if arg in ("--depth", "--branch", "-b"):
                value = next(args)
                branch = value if arg != "--depth" else branch
            elif not arg.startswith("-"):
                positional.append(arg)
        url, dest = positional[0], positional[1] if len(positional) > 1 else positional[0].rstrip("/").split("/")[-1]
        out["." if dest == WEBUI else dest] = (url, branch)
    return out


def checkouts(cmds: list[str]) -> dict[str, str]:
    """`git checkout` / `git -C DIR checkout` commands (run in A1111's folder) as {folder: commit}."""
    out = {}
    for cmd in cmds:
        argv = [a for a in shlex.split(cmd) if a != "-q"]
        if argv[:2] == ["git", "checkout"]:
            out["."] = argv[2]
        elif argv[:2] == ["git", "-C"] and argv[3] == "checkout":
            out[argv[2]] = argv[4]
    return out


def gpu_flags(flags: list[str]) -> list[str]:
    """The harness's START_FLAGS without those for its CPU run."""
    out, args = [], iter(flags)
    for flag in args:
        if flag in CPU_ONLY_FLAGS:
            for _ in range(CPU_ONLY_FLAGS[flag]):
                next(args)
        else:
            out.append(flag)
    return out


def test_notebook_is_valid_nbformat4(notebook):
    assert notebook.nbformat == 4
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    assert any(c.cell_type == "markdown" for c in notebook.cells)


def test_clones_the_harness_repositories_at_its_commits(notebook):
    cmds = shell_commands(notebook)
    got, at = clones(cmds), checkouts(cmds)
    # A1111 itself and its extensions; A1111's launcher clones repositories/* (next tests).
    wanted = {folder: (url, commit) for folder, url, commit in PINNED if not folder.startswith("repositories/")}
    assert {".", "extensions/sd-webui-deforum", "extensions/sd-webui-controlnet"} <= set(wanted)
    for folder, (url, commit) in wanted.items():
        assert folder in got, f"the notebook does not clone {url} into {folder}"
        assert got[folder][0] == url
        assert got[folder][1] == BRANCHES.get(folder)
        assert at.get(folder) == commit, f"{folder} is not checked out at the harness's commit {commit}"
    # ... and Movie Minter as extensions/movieminter, as the harness installs it (test_real_host.py); nothing else.
    assert got.pop("extensions/movieminter") == ("$MOVIEMINTER_REPO", None)
    assert set(got) == set(wanted)
    assert set(at) == set(wanted)


def test_stable_diffusion_comes_from_the_harness_fork(notebook):
    fork = dict((folder, url) for folder, url, _ in PINNED)[STABLE_DIFFUSION]
    assert fork == "https://github.com/w-e-w/stablediffusion"
    # Only the deleted repository is redirected: every other repository and commit is A1111's own default.
    assert notebook_env(notebook) == {"STABLE_DIFFUSION_REPO": fork}
    start = recipe(notebook).index(f"export STABLE_DIFFUSION_REPO={fork}")
    assert "launch.py" in recipe(notebook)[start + 1]  # set for the launch that clones it


def launcher_defaults() -> dict[str, str]:
    """The defaults A1111 1.10.1's launcher takes for each `os.environ.get(NAME, default)`,
    read from the harness's A1111 sources (tarball or folder)."""
    try:
        src = source_location()
    except HarnessError as exc:
        pytest.skip(str(exc))
    if src is None:
        pytest.skip("no A1111 sources here (the harness would clone them)")
    if src.is_dir():
        text = (src / "modules" / "launch_utils.py").read_text()
    else:
        with tarfile.open(src) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith("modules/launch_utils.py"))
            text = tar.extractfile(member).read().decode()
    return dict(re.findall(r"""os\.environ\.get\(['"](\w+)['"],\s*f?['"]([^'"]+)['"]\)""", text))


def test_a1111_launcher_clones_the_harness_repositories():
    """The notebook lets A1111's launcher clone repositories/*: its defaults are the harness's commits and
    repositories, except the deleted Stability-AI/stablediffusion, which STABLE_DIFFUSION_REPO replaces."""
    defaults = launcher_defaults()
    for folder, url, commit in PINNED:
        if not folder.startswith("repositories/"):
            continue
        assert defaults[COMMIT_ENV[folder]] == commit, folder
        default_url = defaults[REPO_ENV[folder]].removesuffix(".git")
        if folder == STABLE_DIFFUSION:
            assert default_url == "https://github.com/Stability-AI/stablediffusion" != url
        else:
            assert default_url == url, folder


def test_installs_the_harness_packages_in_its_order(notebook):
    cmds = recipe(notebook)
    venv = '"$(uv python find 3.10)" -m venv venv'
    assert "uv python install 3.10" in cmds and venv in cmds
    pins = [c for c in cmds if c.startswith("printf ")]
    assert len(pins) == 1
    argv = shlex.split(pins[0])
    assert argv[:2] == ["printf", "%s\\n"] and argv[-2] == ">"
    assert argv[2:-2] == A1111_PINS
    pins_file = argv[-1]
    steps = [
        [a for a in shlex.split(c)[4:] if a != "-q"] for c in cmds if c.startswith("venv/bin/python -m pip install ")
    ]
    assert steps == [[a.format(constraints=pins_file) for a in step] for step in A1111_INSTALL_STEPS]
    first_pip = next(i for i, c in enumerate(cmds) if c.startswith("venv/bin/python -m pip"))
    assert cmds.index(venv) < cmds.index(pins[0]) < first_pip
    assert cmds.index("uv python install 3.10") < cmds.index(venv)


def test_python_310_works_on_ubuntu_2404(notebook):
    """Colab is Ubuntu 24.04 with Python 3.13: apt has no python3.10, and the app venv uses A1111's Python."""
    text = "\n".join(c.source for c in notebook.cells)
    assert "uv python install 3.10" in shell_commands(notebook)
    assert "apt-get" not in text and "python3.11" not in text
    assert "MOVIEMINTER_PYTHON" not in text


def test_starts_a1111_with_the_harness_flags_on_a_gpu(notebook):
    launch = [c for c in shell_commands(notebook) if "launch.py" in c]
    assert len(launch) == 1
    argv = shlex.split(launch[0])
    assert argv[:2] == ["venv/bin/python", "launch.py"]
    assert argv[2:] == [*gpu_flags(START_FLAGS), "--share"]
    assert argv[2:4] == ["--api", "--deforum-api"]
    assert not set(argv) & set(CPU_ONLY_FLAGS)


def test_first_cell_states_the_runtime_requirement(notebook):
    first = notebook.cells[0]
    assert first.cell_type == "markdown"
    assert "free tier does not allow stable-diffusion-webui" in first.source
    assert "paid" in first.source and "Colab Pro" in first.source and "Pay As You Go" in first.source
    text = "\n".join(c.source for c in notebook.cells)
    assert "T4 is enough" not in text
    assert "--gradio-auth" in text
    assert any("--gradio-auth-path" in line for line in code_lines(notebook))


def test_readme_recipe_is_the_notebooks(notebook):
    readme = readme_recipe()
    assert readme[readme.index(next(c for c in readme if c.startswith("git clone"))) + 1] == f"cd {WEBUI}"
    assert [c for c in readme if not c.startswith("cd ")] == recipe(notebook)
    assert len(readme) >= 15


def test_readme_recipe_carries_the_fixes():
    section = readme_section()
    urls = dict((folder, url) for folder, url, _ in PINNED)
    assert f"STABLE_DIFFUSION_REPO={urls[STABLE_DIFFUSION]}" in section
    assert "ControlNet" in section and urls["extensions/sd-webui-controlnet"] in section
    assert "Python 3.10" in section and "uv python install 3.10" in section and "deadsnakes" in section
    assert "--api --deforum-api" in section and "--share" in section and "--gradio-auth" in section
    assert "free tier does not allow stable-diffusion-webui" in section and "paid" in section
    assert "python3.11" not in section and "MOVIEMINTER_PYTHON" not in section


def test_notebook_is_clean_and_uses_a_gpu_runtime(notebook):
    assert notebook.metadata["accelerator"] == "GPU"
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    text = "\n".join(c.source for c in notebook.cells)
    assert "IPFS" in text and "public" in text  # says honestly what is public
    assert "private key" in text  # and that keys stay in the wallet

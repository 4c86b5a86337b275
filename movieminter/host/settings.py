"""The "Movie Minter" section of A1111's Settings tab, and how its values
reach the app: as MOVIEMINTER_* environment variables of the child process
(see movieminter/config.py), never on its command line (visible in `ps`)."""

from __future__ import annotations

SECTION = ("movieminter", "Movie Minter")

# (A1111 option key, Settings field, default, label, secret)
OPTIONS = [
    (
        "movieminter_chain",
        "chain",
        "local",
        "Chain: preset name (local, sepolia, base-sepolia, base, ...) or an RPC URL",
        False,
    ),
    ("movieminter_contract", "contract_address", "", "MovieMinter contract address (0x...)", False),
    (
        "movieminter_community",
        "community_address",
        "",
        "Community contract address (0x...; collectives, season passes, votes, credits; empty: none)",
        False,
    ),
    (
        "movieminter_contract_deploy_block",
        "contract_deploy_block",
        "",
        "Block the MovieMinter contract was deployed in (`movieminter chain deploy` prints it; event logs are "
        "read from there: empty reads from block 0, which public RPC providers refuse or serve slowly)",
        False,
    ),
    (
        "movieminter_community_deploy_block",
        "community_deploy_block",
        "",
        "Block the Community contract was deployed in (as above)",
        False,
    ),
    ("movieminter_ipfs_backend", "ipfs_backend", "local", "IPFS backend (local, kubo, pinata, psa)", False),
    ("movieminter_ipfs_endpoint", "ipfs_endpoint", "", "IPFS endpoint (Kubo RPC or pinning service URL)", False),
    ("movieminter_ipfs_token", "ipfs_token", "", "IPFS pinning token", True),
    ("movieminter_civitai_token", "civitai_token", "", "Civitai API token (for downloads that need one)", True),
    ("movieminter_data_dir", "data_dir", "", "Data folder (empty: ~/.movieminter)", False),
    (
        "movieminter_a1111_url",
        "a1111_url",
        "",
        "A1111 API the app renders with (empty: this WebUI; needs --api --deforum-api)",
        False,
    ),
    (
        "movieminter_public_urls",
        "public_urls",
        "",
        "Other addresses A1111 is reached at, comma-separated (e.g. https://sd.example.org behind your own "
        "reverse proxy, or an --ngrok URL). localhost, A1111's own address and its --share link always work; "
        "the tab refuses any other address (DNS rebinding, sign-in domain)",
        False,
    ),
]
CHOICES = {"movieminter_ipfs_backend": ["local", "kubo", "pinata", "psa"]}


def add_settings(shared, on_change) -> None:
    """Register the options; `on_change()` runs when the user changes one."""
    import gradio as gr  # only inside A1111 (its gradio); the host glue imports nothing heavy at load

    for key, _field, default, label, secret in OPTIONS:
        component: type[gr.components.Component]
        args: dict[str, object] | None
        if key in CHOICES:
            component, args = gr.Dropdown, {"choices": CHOICES[key]}
        else:
            # Tokens as password boxes: A1111 still stores them in config.json.
            component, args = gr.Textbox, ({"type": "password"} if secret else None)
        info = shared.OptionInfo(default, label, component, args, onchange=on_change, section=SECTION)
        if secret:
            info.restrict_api = True  # A1111 then leaves it out of GET /sdapi/v1/options
        shared.opts.add_option(key, info)


def app_env(opts) -> dict[str, str]:
    """MOVIEMINTER_* variables for the child process from A1111's options
    (empty values are left out so the app's own defaults apply)."""
    env = {}
    for key, field, default, _label, _secret in OPTIONS:
        value = getattr(opts, key, default) if opts is not None else default
        value = "" if value is None else str(value).strip()
        if not value:
            continue
        if field == "chain" and value.startswith(("http://", "https://")):
            env["MOVIEMINTER_RPC_URL"] = value
        env["MOVIEMINTER_" + field.upper()] = value
    return env

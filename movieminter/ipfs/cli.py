"""`movieminter ipfs add | car | get`."""

from __future__ import annotations

import sys
from pathlib import Path

from movieminter.errors import MovieMinterError

# Each action imports what it needs when it runs: `movieminter --help` stays fast (movieminter/cli.py).


def _settings(args):
    from movieminter.config import Settings

    return Settings.from_env(ipfs_backend=getattr(args, "store", None), data_dir=getattr(args, "data_dir", None))


def cmd_add(args) -> int:
    from movieminter.ipfs import unixfs
    from movieminter.ipfs.car import folder_entries

    path = Path(args.path)
    if not path.exists():
        raise MovieMinterError(f"{path} does not exist", hint="give the path of a file or folder")
    if args.only_hash:
        cid = unixfs.import_directory(folder_entries(path)) if path.is_dir() else unixfs.import_file(path)
    else:
        from movieminter.ipfs.stores import open_store

        store = open_store(_settings(args))
        try:
            cid = store.add_directory(folder_entries(path)) if path.is_dir() else store.add_file(path)
        finally:
            store.close()
    print(cid)
    return 0


def cmd_car(args) -> int:
    from movieminter.ipfs.car import file_to_car

    path = Path(args.path)
    if not path.exists():
        raise MovieMinterError(f"{path} does not exist", hint="give the path of a file or folder")
    print(file_to_car(path, args.output))
    return 0


def cmd_get(args) -> int:
    from movieminter.ipfs.cid import parse_cid

    parse_cid(args.cid)
    settings = _settings(args)
    gateway = args.gateway or settings.gateway_url
    if gateway:
        from movieminter.ipfs.trustless import verified_download

        n = verified_download(args.cid, gateway, args.output)
    else:
        from movieminter.ipfs.stores import open_store

        store = open_store(settings)
        if not store.has(args.cid):
            raise MovieMinterError(
                f"{args.cid} is not in the {store.name} store",
                hint="pass --gateway URL (a trustless gateway such as https://ipfs.io)",
            )
        data = store.cat(args.cid)
        Path(args.output).write_bytes(data)
        n = len(data)
    print(f"{n} bytes verified -> {args.output}", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("ipfs", help="IPFS: CIDs identical to Kubo, CAR export, verified downloads")
    sub = p.add_subparsers(dest="ipfs_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    add = sub.add_parser("add", help="add a file (or folder) and print its CIDv1, like `ipfs add`")
    add.add_argument("path", metavar="PATH")
    add.add_argument("-n", "--only-hash", action="store_true", help="only compute the CID, store nothing")
    add.add_argument(
        "--store",
        choices=["local", "kubo", "pinata", "psa"],
        default=None,
        help="content store (default: setting ipfs_backend, else local)",
    )
    add.add_argument("--data-dir", default=None, help="data folder of the local store")
    add.set_defaults(func=cmd_add)

    car = sub.add_parser("car", help="export a file or folder as a CAR v1 (for `ipfs dag import`, Pinata)")
    car.add_argument("path", metavar="PATH")
    car.add_argument("-o", "--output", required=True, metavar="OUT.car")
    car.set_defaults(func=cmd_car)

    get = sub.add_parser("get", help="download a file by CID, verifying every block")
    get.add_argument("cid", metavar="CID")
    get.add_argument("-o", "--output", required=True, metavar="OUT")
    get.add_argument("--gateway", default=None, help="trustless gateway URL (default: setting gateway_url)")
    get.add_argument("--data-dir", default=None)
    get.add_argument("--store", default=None, help=argparse_suppress())
    get.set_defaults(func=cmd_get)


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS

"""A1111's command-line parser: the flags the host glue reads."""

import argparse

parser = argparse.ArgumentParser()
parser.add_argument("--skip-install", action="store_true")
parser.add_argument("--port", type=int, default=None)
parser.add_argument("--listen", action="store_true")
parser.add_argument("--share", action="store_true")
parser.add_argument("--server-name", type=str, default=None)
parser.add_argument("--api", action="store_true")
parser.add_argument("--api-auth", type=str, default=None)
parser.add_argument("--gradio-auth", type=str, default=None)
parser.add_argument("--subpath", type=str, default=None)
parser.add_argument("--tls-keyfile", type=str, default=None)
parser.add_argument("--tls-certfile", type=str, default=None)
parser.add_argument("--deforum-api", action="store_true")

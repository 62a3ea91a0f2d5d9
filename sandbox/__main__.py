"""``python -m sandbox serve [--host 127.0.0.1] [--port 8765] [--invoices N] [--seed S]``."""

from __future__ import annotations

import argparse

from sandbox.server import Sandbox, SandboxConfig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve both emulators on one port")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--invoices", type=int, default=200)
    serve.add_argument("--seed", type=int, default=42)
    serve.add_argument("--focus-rate-limit", type=int, default=200, help="requests per sliding minute")
    serve.add_argument("--twinfield-credits", type=int, default=500, help="credits per minute")
    serve.add_argument("--public-url", help="URL Airflow reaches the sandbox at (default http://HOST:PORT)")
    serve.add_argument("--focus-refresh-token", help="fixed first Focus refresh token (default: random)")
    serve.add_argument("--twinfield-refresh-token", help="fixed first Twinfield refresh token (default: random)")
    args = parser.parse_args(argv)

    sandbox = Sandbox(
        SandboxConfig(
            seed=args.seed,
            invoices=args.invoices,
            focus_rate_limit=args.focus_rate_limit,
            twinfield_credits_per_minute=args.twinfield_credits,
            focus_refresh_token=args.focus_refresh_token,
            twinfield_refresh_token=args.twinfield_refresh_token,
        )
    )
    url = args.public_url or f"http://{args.host}:{args.port}"
    print(f"Sandbox on {url}: Teamleader Focus under /focus, Twinfield under /twinfield")
    print("Point Airflow at it with:")
    for name, value in sandbox.connections(url).items():
        print(f"export {name}='{value}'")
    sandbox.serve_forever(args.host, args.port)


if __name__ == "__main__":
    main()

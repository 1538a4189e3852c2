"""The `billops` command: one entry point for everything a clerk or an operator scripts.

Errors go to stderr as `error: <message>` with a non-zero exit; long commands show progress and end
with a one-screen summary.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

EXIT_ERROR = 1
EXIT_VIOLATION = 3


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billops.settings")
    import django

    django.setup()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="billops", description="billops: billing and receivables operations"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("migrate", help="create or upgrade the database schema")

    demo = commands.add_parser("demo", help="build the demo company (deterministic for a seed)")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--customers", type=int, default=1000)
    demo.add_argument(
        "--months", type=int, default=0, help="months of billing up to today (default: since January 2026)"
    )

    serve = commands.add_parser("serve", help="serve the web app, API and portal on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--threads", type=int, default=8)

    jobs = commands.add_parser("jobs", help="render pending PDFs and send due e-mails, until interrupted")
    jobs.add_argument("--once", action="store_true", help="one pass, then exit")
    jobs.add_argument("--interval", type=float, default=10.0, metavar="SECONDS", help="pause between passes")

    check = commands.add_parser("check", help="verify the invariants over the whole database")
    check.add_argument("--json", action="store_true", help="print one JSON object")

    importer = commands.add_parser("import", help="import a file")
    importer.add_argument("kind", choices=["customers", "tax-rates", "usage", "bank-statement"])
    importer.add_argument("file", type=Path)
    importer.add_argument(
        "--format", default="", help="bank statements: camt, bai2, mt940, ofx or csv (default: recognised)"
    )
    importer.add_argument(
        "--bank-account", default="", help="bank statements: the account's code (CSV: its layout)"
    )
    importer.add_argument(
        "--user", default=os.environ.get("BILLOPS_USER", ""), help="who imports (or BILLOPS_USER)"
    )
    remittance = commands.add_parser(
        "apply-remittance", help="apply a remittance advice (CSV, XLSX, X12 820) to a receipt"
    )
    remittance.add_argument("receipt_id", type=int, metavar="RECEIPT_ID")
    remittance.add_argument("file", type=Path)
    remittance.add_argument(
        "--user", default=os.environ.get("BILLOPS_USER", ""), help="who applies (or BILLOPS_USER)"
    )
    tolerance = commands.add_parser(
        "write-off-tolerance", help="what a payment may leave of an invoice, written off (show, or set one)"
    )
    tolerance.add_argument("currency", nargs="?", default="", help="the currency to set, e.g. EUR")
    tolerance.add_argument("--max-amount", default="", help="at most this amount per invoice, e.g. 5.00")
    tolerance.add_argument("--max-percent", default="", help="and at most this percent of its total, e.g. 1")
    tolerance.add_argument(
        "--user", default=os.environ.get("BILLOPS_USER", ""), help="a supervisor (or BILLOPS_USER)"
    )
    cash = commands.add_parser(
        "cash-report", help="cash received by day, its tie to the bank, unapplied cash"
    )
    cash.add_argument("--from", dest="date_from", required=True, help="first day, YYYY-MM-DD")
    cash.add_argument("--to", dest="date_to", required=True, help="last day, YYYY-MM-DD")
    cash.add_argument("--json", action="store_true", help="print one JSON object")
    catalog = commands.add_parser("catalog", help="seed: the usual tax codes and the shipped rate tables")
    catalog.add_argument("action", choices=["seed"])
    catalog.add_argument(
        "--user", default=os.environ.get("BILLOPS_USER", ""), help="who seeds (default: the operator)"
    )

    billrun = commands.add_parser("billrun", help="bill a month: pending charges of the customers due")
    billing_month = billrun.add_mutually_exclusive_group(required=True)
    billing_month.add_argument("--period", help="the month, YYYY-MM")
    billing_month.add_argument("--resume", type=int, metavar="RUN_ID", help="finish a run that crashed")
    billrun.add_argument("--preview", action="store_true", help="show what it would issue; write nothing")
    billrun.add_argument("--invoice-date", default="", help="YYYY-MM-DD (default: the business date)")
    billrun.add_argument(
        "--user", default=os.environ.get("BILLOPS_USER", ""), help="who issues the invoices (or BILLOPS_USER)"
    )

    worker = commands.add_parser(
        "worker", help="a Celery worker for bill-run partitions (BILLOPS_BROKER_URL)"
    )
    worker.add_argument("--concurrency", type=int, default=2, help="partitions billed at once (processes)")
    worker.add_argument("--name", default="billops@%h", help="the worker's name (%%h: this host)")

    clock = commands.add_parser("clock", help="show, set or reset the business date (test and demo systems)")
    clock.add_argument("action", choices=["show", "set", "reset"])
    clock.add_argument("date", nargs="?", default="", help="YYYY-MM-DD, for set")
    clock.add_argument(
        "--user", default=os.environ.get("BILLOPS_USER", ""), help="an admin (default: the operator)"
    )

    createuser = commands.add_parser("createuser", help="add a staff user")
    createuser.add_argument("username")
    createuser.add_argument(
        "--role", required=True, choices=["clerk", "collector", "supervisor", "auditor", "admin"]
    )
    createuser.add_argument("--email", default="")
    createuser.add_argument("--name", default="", help="full name")
    createuser.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    token = commands.add_parser("token", help="issue an API token for a user (the secret is shown once)")
    token.add_argument("username")
    token.add_argument("--name", required=True, help="what the token is for, e.g. 'ERP sync'")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _setup_django()
    from billops.core.errors import DomainError

    try:
        return int(_dispatch(args) or 0)
    except DomainError as error:
        where = f" ({error.field})" if error.field else ""
        print(f"error: {error.message}{where}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "migrate":
        return _migrate()
    if args.command == "demo":
        from billops.cli.demo import build_demo

        _migrate(quiet=True)
        return build_demo(seed=args.seed, customers=args.customers, months=args.months)
    if args.command == "serve":
        return _serve(host=args.host, port=args.port, threads=args.threads)
    if args.command == "jobs":
        return _jobs(once=args.once, interval=args.interval)
    if args.command == "check":
        return _check(as_json=args.json)
    if args.command == "import" and args.kind == "bank-statement":
        from billops.payments.cli import import_bank_statement

        return import_bank_statement(
            path=args.file, username=args.user, format=args.format, bank_account=args.bank_account
        )
    if args.command == "cash-report":
        from billops.payments.cli import print_cash_report

        return print_cash_report(date_from=args.date_from, date_to=args.date_to, as_json=args.json)
    if args.command == "write-off-tolerance":
        from billops.payments.cli import write_off_tolerance

        return write_off_tolerance(
            currency=args.currency, max_amount=args.max_amount, max_percent=args.max_percent,
            username=args.user,
        )  # fmt: skip
    if args.command == "apply-remittance":
        from billops.payments.cli import apply_remittance_file

        return apply_remittance_file(receipt_id=args.receipt_id, path=args.file, username=args.user)
    if args.command == "import" and args.kind == "usage":
        from billops.usage.cli import import_usage_file

        return import_usage_file(path=args.file, username=args.user)
    if args.command == "import":
        from billops.cli.imports import import_file

        return import_file(kind=args.kind, path=args.file, username=args.user)
    if args.command == "catalog":
        from billops.catalog.cli import seed_catalog

        return seed_catalog(username=args.user)
    if args.command == "billrun":
        from billops.billing.cli import run_billrun

        if args.resume and (args.preview or args.invoice_date):
            print(
                "error: --resume finishes a run as it was started: no --preview, no --invoice-date",
                file=sys.stderr,
            )
            return EXIT_ERROR
        return run_billrun(
            period=args.period or "",
            preview=args.preview,
            invoice_date=args.invoice_date,
            username=args.user,
            resume=args.resume or 0,
        )
    if args.command == "worker":
        return _worker(concurrency=args.concurrency, name=args.name)
    if args.command == "clock":
        from billops.access.cli import run_clock

        if (args.action == "set") != bool(args.date):
            print(
                "error: `billops clock set` takes a date (YYYY-MM-DD); show and reset take none",
                file=sys.stderr,
            )
            return EXIT_ERROR
        return run_clock(action=args.action, value=args.date, username=args.user)
    if args.command == "token":
        return _token(username=args.username, name=args.name)
    return _createuser(args)


def _migrate(*, quiet: bool = False) -> int:
    from django.conf import settings
    from django.core.management import call_command

    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        Path(settings.DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0 if quiet else 1)
    return 0


def _serve(*, host: str, port: int, threads: int) -> int:
    from waitress import serve

    from billops.wsgi import application

    print(f"billops is serving on http://{host}:{port}/  (API: http://{host}:{port}/api/v1/docs)")
    logins = Path(os.environ.get("BILLOPS_VAR_DIR", "var")) / "demo-logins.txt"
    if logins.exists():
        print(logins.read_text().rstrip())
    print("Press Ctrl+C to stop.")
    if _jobs_in_serve():
        from billops.delivery.jobs import start_job_thread

        start_job_thread()  # a daemon thread: it ends with the server
    serve(application, host=host, port=port, threads=threads, ident="billops")
    return 0


def _jobs_in_serve() -> bool:
    """BILLOPS_JOBS_IN_SERVE=1 or 0; by default on in the embedded mode (SQLite), where no worker runs."""
    from django.conf import settings

    setting = os.environ.get("BILLOPS_JOBS_IN_SERVE", "")
    if setting in ("0", "1"):
        return setting == "1"
    return bool(settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"))


def _jobs(*, once: bool, interval: float) -> int:
    import signal
    import threading

    from billops.delivery.jobs import run_jobs_forever, run_pending_jobs

    def report(done: dict[str, int]) -> None:
        if once or any(done.values()):
            print(", ".join(f"{name.replace('_', ' ')}: {count}" for name, count in done.items()), flush=True)

    if once:
        report(run_pending_jobs())
        return 0
    if interval <= 0:
        print("error: --interval must be more than 0 seconds", file=sys.stderr)
        return EXIT_ERROR
    stop = threading.Event()

    def interrupt(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        # stopping mid-send would leave that delivery `unknown`: finish it first
        print("stopping after the current delivery (Ctrl+C again to stop at once)", file=sys.stderr)
        stop.set()

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    print(f"running jobs every {interval:g} s; press Ctrl+C to stop", flush=True)
    run_jobs_forever(interval=interval, stop=stop, report=report)
    return 0


def _worker(*, concurrency: int, name: str) -> int:
    from django.conf import settings

    if not settings.CELERY_BROKER_URL:
        print("error: set BILLOPS_BROKER_URL (e.g. redis://127.0.0.1:6379/0) for a worker", file=sys.stderr)
        return EXIT_ERROR
    if concurrency < 1:
        print("error: --concurrency must be at least 1", file=sys.stderr)
        return EXIT_ERROR
    from billops.workers import app

    app.worker_main(["worker", "--loglevel=INFO", f"--concurrency={concurrency}", f"--hostname={name}"])
    return 0


def _check(*, as_json: bool) -> int:
    from billops.cli.invariants import check_all, print_report

    report = check_all()
    if as_json:
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        print_report(report)
    return 0 if all(item["ok"] for item in report["invariants"].values()) else EXIT_VIOLATION


def _token(*, username: str, name: str) -> int:
    from billops.access.selectors import get_user
    from billops.access.services import issue_api_token

    token, secret = issue_api_token(user=get_user(username), name=name, actor=None)
    print(f"API token {token.name!r} for {username} (id {token.pk}); it is shown only this once:")
    print(secret)
    return 0


def _createuser(args: argparse.Namespace) -> int:
    from billops.access.services import create_user

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")  # a file saved on Windows ends its line with CRLF
    else:
        password = getpass.getpass(f"Password for {args.username}: ")
        if getpass.getpass("Again: ") != password:
            print("error: the passwords do not match", file=sys.stderr)
            return EXIT_ERROR
    user = create_user(
        username=args.username,
        password=password,
        role=args.role,
        actor=None,
        email=args.email,
        full_name=args.name,
    )
    print(f"created {user.username} ({user.get_role_display()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

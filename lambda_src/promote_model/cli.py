"""`promote-model`: the same promotion, from a shell, for manual promotions and rollbacks.

Settings come from the same environment variables as the function's. Exit codes:
0 promoted, 10 already promoted, 20 not promoted (the reason is printed), 30 error, 2 bad usage;
with --dry-run, 0 and 10 say what would happen.
"""

from __future__ import annotations

import argparse
import getpass
import json
import socket
import sys
from collections.abc import Sequence
from typing import Any

from promote_model.approval import ApprovalDecisionError, Decision, send_decision
from promote_model.deadline import Deadline
from promote_model.errors import PromotionError
from promote_model.request import InvalidRequest, parse_request
from promote_model.results import DryRun, NotPromoted, Promoted, PromotionResult
from promote_model.runtime import Runtime

EXIT_PROMOTED = 0
EXIT_ALREADY_PROMOTED = 10
EXIT_NOT_PROMOTED = 20
EXIT_ERROR = 30


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] in (["approve"], ["reject"]) and len(arguments) > 1:
        return _decide(arguments)
    parser = _parser()
    args = parser.parse_args(arguments)
    event: dict[str, Any] = {"model_name": args.model_name, "new_version": args.version}
    if args.confidence is not None:
        event["confidence"] = args.confidence
    if args.dry_run:
        event["dry_run"] = True
    if args.rollback:
        event["rollback"] = True
    request = parse_request(event)
    if isinstance(request, InvalidRequest):
        parser.error(request.reason)  # bad usage: exit 2, before any setting is read
    try:
        runtime = Runtime.from_environ()
        deadline = Deadline.for_invocation(None)
        result: PromotionResult = runtime.announce(
            runtime.promote(request, actor=_cli_user(), deadline=deadline), None, deadline
        )
    except PromotionError as error:
        _print_error(error, as_json=args.json)
        return EXIT_ERROR
    print(json.dumps(result.to_dict(), indent=2) if args.json else describe(result))
    if isinstance(result, NotPromoted):
        return EXIT_NOT_PROMOTED
    if isinstance(result, DryRun):
        return EXIT_ALREADY_PROMOTED if result.already_promoted else EXIT_PROMOTED
    return EXIT_ALREADY_PROMOTED if result.already_promoted else EXIT_PROMOTED


def describe(result: PromotionResult) -> str:
    if isinstance(result, DryRun):
        if result.already_promoted:
            return f"Dry run: {result.model_name} version {result.new_version} is already in Production."
        archived = f"archive version {result.archived_version}" if result.archived_version else "archive nothing"
        return f"Dry run: would promote {result.model_name} version {result.new_version} to Production and {archived}."
    if isinstance(result, NotPromoted):
        return f"Not promoted ({result.reason_code.value}): {result.reason}"
    assert isinstance(result, Promoted)
    if result.already_promoted:
        return f"{result.model_name} version {result.new_version} is already in Production: nothing changed."
    archived = f"version {result.archived_version} archived" if result.archived_version else "no previous champion"
    sent = "notification sent" if result.notification_sent else "no notification sent"
    if result.rolled_back_from:
        return f"Rolled back {result.model_name} to version {result.new_version} ({archived}; {sent})."
    return f"Promoted {result.model_name} version {result.new_version} to Production ({archived}; {sent})."


def _decide(arguments: list[str]) -> int:
    """``approve TOKEN`` / ``reject TOKEN --reason ...``: the decision on a held promotion."""
    parser = argparse.ArgumentParser(prog=f"promote-model {arguments[0]}")
    parser.add_argument("token", help="the task token from the approval request")
    parser.add_argument("--reason", required=arguments[0] == "reject", help="why (required to reject)")
    args = parser.parse_args(arguments[1:])
    decision = Decision(approved=arguments[0] == "approve", decided_by=_cli_user(), reason=args.reason)
    try:
        send_decision(args.token, decision)
    except ApprovalDecisionError as error:
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_ERROR
    print(
        "Approved: the waiting promotion goes on." if decision.approved else "Rejected: the promotion will not happen."
    )
    return EXIT_PROMOTED


def _cli_user() -> str:
    return f"{getpass.getuser()}@{socket.gethostname()} (promote-model CLI)"


def _print_error(error: PromotionError, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"error": type(error).__name__, "message": str(error)}, indent=2))
    else:
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promote-model",
        description="Promote an MLflow model version to Production, archiving the current champion.",
        epilog="Exit codes: 0 promoted, 10 already promoted, 20 not promoted, 30 error, 2 bad usage. "
        "'promote-model approve TOKEN' / 'promote-model reject TOKEN --reason ...' decide a held promotion. "
        "Settings: MLFLOW_TRACKING_URI and the other variables of the function (see docs/function.md).",
    )
    parser.add_argument("model_name", help="registered model name")
    parser.add_argument("--version", help="version to promote (default: the latest Staging version)")
    parser.add_argument("--confidence", type=float, help="comparison confidence in [0, 1] (default 0.0)")
    parser.add_argument(
        "--rollback",
        action="store_true",
        help="restore the version the current champion replaced (never one a rollback abandoned)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--dry-run", action="store_true", help="show what would happen; change and send nothing")
    return parser


if __name__ == "__main__":
    sys.exit(main())

"""`promote-model`: the same promotion, from a shell, for manual promotions and rollbacks.

Settings come from the same environment variables as the function's. Exit codes:
0 promoted, 10 already promoted, 20 not promoted (the reason is printed), 30 error, 2 bad usage;
with --dry-run, 0 and 10 say what would happen. ``history MODEL`` lists the champions the audit
tags record: 0 listed, 20 no such model, 30 error.
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
from promote_model.history import DEFAULT_LIMIT, format_table, read_history
from promote_model.request import InvalidRequest, parse_request
from promote_model.results import DryRun, NotPromoted, PromotionResult
from promote_model.runtime import Runtime

EXIT_PROMOTED = 0
EXIT_ALREADY_PROMOTED = 10
EXIT_NOT_PROMOTED = 20
EXIT_ERROR = 30


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] in (["approve"], ["reject"]) and len(arguments) > 1:
        return _decide(arguments)
    if arguments[:1] == ["history"] and len(arguments) > 1:
        return _history(arguments[1:])
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
    if isinstance(result, NotPromoted):
        return f"Not promoted ({result.reason_code.value}): {result.reason}"
    at = result.new_stage  # "Production", or "alias:<name>" in alias and copy mode
    copied = f" (a copy of {result.source.model_name} version {result.source.version})" if result.source else ""
    if isinstance(result, DryRun):
        if result.already_promoted:
            return f"Dry run: {result.model_name} version {result.new_version}{copied} is already in {at}."
        archived = f"archive version {result.archived_version}" if result.archived_version else "archive nothing"
        if result.new_version is None and result.source is not None:
            source = result.source
            return (
                f"Dry run: would copy {source.model_name} version {source.version} into {result.model_name}, "
                f"promote the copy to {at} and {archived}."
            )
        return (
            f"Dry run: would promote {result.model_name} version {result.new_version}{copied} to {at} and {archived}."
        )
    if result.already_promoted:
        return f"{result.model_name} version {result.new_version}{copied} is already in {at}: nothing changed."
    archived = f"version {result.archived_version} archived" if result.archived_version else "no previous champion"
    sent = "notification sent" if result.notification_sent else "no notification sent"
    if result.rolled_back_from:
        return f"Rolled back {result.model_name} to version {result.new_version}{copied} ({archived}; {sent})."
    return f"Promoted {result.model_name} version {result.new_version}{copied} to {at} ({archived}; {sent})."


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


def _history(arguments: list[str]) -> int:
    """``history MODEL [--json] [--limit N]``: the champions newest first, from the audit tags."""
    parser = argparse.ArgumentParser(
        prog="promote-model history", description="The champions of a model, newest first, from its audit tags."
    )
    parser.add_argument("model_name", help="registered model name (in copy mode: the source model)")
    parser.add_argument("--json", action="store_true", help="print the champions as a JSON list")
    parser.add_argument("--limit", type=_positive, default=DEFAULT_LIMIT, help=f"at most N (default {DEFAULT_LIMIT})")
    args = parser.parse_args(arguments)
    try:
        runtime = Runtime.from_environ()
        settings = runtime.settings
        name = settings.champions_model(args.model_name)
        records = read_history(
            runtime.registry(Deadline.for_invocation(None)),
            name,
            alias=settings.promotion_alias,
            stage_mode=settings.promotion_mode == "stage",
            limit=args.limit,
        )
    except PromotionError as error:
        _print_error(error, as_json=args.json)
        return EXIT_ERROR
    if records is None:
        print(f"No registered model named '{name}'", file=sys.stderr)
        return EXIT_NOT_PROMOTED
    print(json.dumps([r.to_dict() for r in records], indent=2) if args.json else format_table(name, records))
    return EXIT_PROMOTED


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {value[:20]!r}")
    return number


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
        "'promote-model approve TOKEN' / 'promote-model reject TOKEN --reason ...' decide a held promotion; "
        "'promote-model history MODEL [--json] [--limit N]' lists its champions. "
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

"""The child process of `make bench`: one fresh interpreter, one measurement.

Run as ``<bench venv>/bin/python -I devtools/bench/worker.py MODE --path DIR ... [options]``. The
interpreter's own site-packages are dropped from ``sys.path`` and the ``--path`` directories put in
their place, so each variant sees exactly its bundle (ours: code asset, layer, boto3 as Lambda
provides it; the baseline: its file and its environment). Modes:

- ``time --code CODE``: execute CODE (e.g. ``import boto3``) and report how long it took. Nothing
  but ``sys`` and ``time`` is imported before the clock starts.
- ``cold --module M --event JSON``: import M and call ``M.lambda_handler`` once; report the time
  from before the import to the answer, and the peak RSS of this process: ``VmHWM``, the high-water
  mark of this process image. (``getrusage(RUSAGE_SELF).ru_maxrss`` is reported too, but Linux
  carries it over from the parent across fork and exec, so it shows the benchmark's own size.)
- ``serve --module M``: import M, then answer one JSON line per event on stdin with the time the
  handler took (warm invocations, and the request counts of the counting proxy).

Replies are JSON lines on the original stdout; what the handler prints (logs, EMF metrics) goes to
stderr, as in lambda_worker.
"""

import sys
import time


def _options(argv: list[str]) -> tuple[str, list[str], dict[str, str]]:
    mode, rest = argv[0], argv[1:]
    paths: list[str] = []
    options: dict[str, str] = {}
    for flag, value in zip(rest[::2], rest[1::2], strict=True):
        if flag == "--path":
            paths.append(value)
        else:
            options[flag.removeprefix("--")] = value
    return mode, paths, options


def main() -> None:
    mode, paths, options = _options(sys.argv[1:])
    sys.path[:] = paths + [p for p in sys.path if not p.endswith("site-packages")]

    if mode == "time":
        started = time.perf_counter()
        exec(options["code"], {})  # the snippet under measurement  # noqa: S102
        elapsed_ms = (time.perf_counter() - started) * 1000
        import json

        print(json.dumps({"ms": elapsed_ms}))
        return

    # What the Lambda runtime has loaded before the function's init: its own modules, the context.
    import json
    import os
    import resource

    sys.path.append(options["root"])
    from devtools.local.handler_probe import peak_rss_kb
    from devtools.local.lambda_worker import LambdaContext

    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)

    if mode == "cold":
        event = json.loads(options["event"])
        started = time.perf_counter()
        module = __import__(options["module"], fromlist=["lambda_handler"])
        imported = time.perf_counter()
        result = module.lambda_handler(event, LambdaContext("promote-model"))
        answered = time.perf_counter()
        replies.write(
            json.dumps(
                {
                    "total_ms": (answered - started) * 1000,
                    "import_ms": (imported - started) * 1000,
                    "invoke_ms": (answered - imported) * 1000,
                    "peak_rss_kb": peak_rss_kb(),
                    "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                    "result": result,
                }
            )
            + "\n"
        )
        return

    if mode == "serve":
        module = __import__(options["module"], fromlist=["lambda_handler"])
        for line in sys.stdin:
            event = json.loads(line)
            started = time.perf_counter()
            try:
                result = module.lambda_handler(event, LambdaContext("promote-model"))
            except Exception as error:  # reported, so the bench can say which call failed
                replies.write(json.dumps({"error": f"{type(error).__name__}: {error}"}) + "\n")
                continue
            elapsed_ms = (time.perf_counter() - started) * 1000
            replies.write(json.dumps({"ms": elapsed_ms, "result": result}) + "\n")
        return

    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()

"""Keeps the AWS SDK's wire logging away from secret reads, at any log level.

At DEBUG, botocore logs whole response bodies (``Response body: ...``), and a Secrets Manager
answer's body is the secret. Raising the log level is what an operator does to debug a function, so
while a secret is read, the ``botocore`` and ``urllib3`` loggers are held at INFO or above
(docs/design.md §5).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_WIRE_LOGGERS = ("botocore", "urllib3", "boto3", "aws_lambda_powertools")
_lock = threading.Lock()


@contextmanager
def sdk_wire_logging_off() -> Iterator[None]:
    with _lock:
        saved: list[tuple[logging.Logger, int]] = []
        for name in _WIRE_LOGGERS:
            parent = logging.getLogger(name)
            family = [parent] + [
                logger
                for key, logger in logging.Logger.manager.loggerDict.items()
                if key.startswith(f"{name}.") and isinstance(logger, logging.Logger)
            ]
            for logger in family:
                if logger.getEffectiveLevel() < logging.INFO or logger.level < logging.INFO:
                    saved.append((logger, logger.level))
                    logger.setLevel(logging.INFO)
        try:
            yield
        finally:
            for logger, level in saved:
                logger.setLevel(level)

"""Every error the function raises on purpose: Step Functions sees each class name as the error type.

The stack's Retry and Catch lists name these classes (a test ties the two together, so a rename
cannot silently break a retry). Messages are written for an operator and never carry a credential.
"""


class PromotionError(Exception):
    """Base class of every error the function raises on purpose."""


class RegistryUnavailableError(PromotionError):
    """MLflow was unreachable, timed out or answered 5xx/429 after the bounded retries: retryable."""


class RegistryAuthError(PromotionError):
    """MLflow answered 401 (bad credentials) or 403 (missing permission)."""


class ConfigurationError(PromotionError):
    """A setting is missing or invalid, the credentials cannot be read, or a certificate does not verify."""


class CredentialsUnavailableError(PromotionError):
    """The MLflow credentials secret could not be read just now: Secrets Manager throttled, answered
    5xx, timed out or could not be reached. Retryable (a missing, forbidden or malformed secret is a
    ``ConfigurationError``)."""


class PromotionIncompleteError(PromotionError):
    """The version is the champion, but a promised step is not done yet (the champion alias, the audit
    tags, the notification or the ``promoted`` event could not be completed in the time budget).
    Retryable: a retry of the same execution completes what is missing (docs/delivery-guarantees.md)."""


class RegistryResponseError(PromotionError):
    """MLflow answered something the function cannot interpret: an unexpected 4xx, a missing field,
    an oversized body, a redirect, or a page token that repeats."""


RETRYABLE_ERRORS: tuple[type[PromotionError], ...] = (
    RegistryUnavailableError,
    CredentialsUnavailableError,
    PromotionIncompleteError,
)
TERMINAL_ERRORS: tuple[type[PromotionError], ...] = (RegistryAuthError, ConfigurationError, RegistryResponseError)

"""The errors the function raises: Step Functions sees each class name as the error type.

Their messages are written for an operator and never carry a credential.
"""


class PromotionError(Exception):
    """Base class of every error the function raises on purpose."""


class RegistryUnavailableError(PromotionError):
    """MLflow was unreachable, timed out or answered 5xx after the bounded retries."""


class RegistryAuthError(PromotionError):
    """MLflow answered 401 (bad credentials) or 403 (missing permission)."""


class ConfigurationError(PromotionError):
    """A setting is missing or invalid, or the credentials secret cannot be read."""

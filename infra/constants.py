"""Names and defaults of the deployed resources, in one place."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_SOURCE_DIR = PROJECT_ROOT / "lambda_src"
LAYER_REQUIREMENTS_DIR = PROJECT_ROOT / "requirements"
LAYER_REQUIREMENTS_FILE = "lambda.txt"

STACK_NAME_PREFIX = "PromoteModel"
HANDLER = "promote_model.handler.lambda_handler"
SERVICE_NAME = "promote-model"
METRICS_NAMESPACE = "PromoteModel"
FUNCTION_TIMEOUT_SECONDS = 60
FUNCTION_MEMORY_MB = 256
SECRET_USERNAME = "promote-model"  # noqa: S105 - a user name, not a password
SECRET_PASSWORD_LENGTH = 32

# The Lambda's error types, as Step Functions sees them (docs/design.md §2).
RETRYABLE_ERRORS = ["RegistryUnavailableError"]
LAMBDA_SERVICE_ERRORS = [
    "Lambda.TooManyRequestsException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.ClientExecutionTimeoutException",
]
TERMINAL_ERRORS = ["RegistryAuthError", "ConfigurationError", "RegistryResponseError"]

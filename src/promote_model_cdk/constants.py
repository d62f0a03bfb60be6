"""Names, defaults and limits of what the constructs deploy, in one place."""

from __future__ import annotations

HANDLER = "promote_model.handler.lambda_handler"
SERVICE_NAME = "promote-model"
METRICS_NAMESPACE = "PromoteModel"
FUNCTION_TIMEOUT_SECONDS = 60
FUNCTION_MEMORY_MB = 256
# The function's runtimes and architectures (docs/platform.md): the specification's python3.11 on
# x86_64 by default, whatever Python synthesizes. Names as Lambda and cdk.json spell them.
DEFAULT_RUNTIME = "python3.11"
DEFAULT_ARCHITECTURE = "x86_64"
PYTHON_VERSION_OF_RUNTIME = {"python3.11": "3.11", "python3.12": "3.12", "python3.13": "3.13"}
PIP_PLATFORM_OF_ARCHITECTURE = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}

DEFAULT_REGISTRY_NAME = "tradai-models"
DEFAULT_PROMOTION_ALIAS = "champion"
DEFAULT_SUBJECT_PREFIX = "[TradAI]"  # the specification's notification subject

SECRET_USERNAME = "promote-model"  # noqa: S105 - a user name, not a password
SECRET_PASSWORD_LENGTH = 32

# The Lambda's error types, as Step Functions sees them (docs/design.md §2).
RETRYABLE_ERRORS = ["RegistryUnavailableError", "CredentialsUnavailableError", "PromotionIncompleteError"]
LAMBDA_SERVICE_ERRORS = [
    "Lambda.TooManyRequestsException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.ClientExecutionTimeoutException",
]
TERMINAL_ERRORS = ["RegistryAuthError", "ConfigurationError", "RegistryResponseError"]

# The IAM actions of the MLflow REST routes the function calls, on a SageMaker managed tracking
# server (service prefix sagemaker-mlflow, AWS Service Authorization Reference):
#   registered-models/get -> GetRegisteredModel          model-versions/get -> GetModelVersion
#   model-versions/search -> SearchModelVersions         model-versions/transition-stage -> TransitionModelVersionStage
#   registered-models/alias GET -> GetModelVersionByAlias, POST -> SetRegisteredModelAlias
#   model-versions/set-tag -> SetModelVersionTag
# sagemaker-mlflow:AccessUI is the web UI's (presigned URLs), not the REST API's: not granted.
SAGEMAKER_MLFLOW_ACTIONS = [
    "sagemaker-mlflow:GetModelVersion",
    "sagemaker-mlflow:GetModelVersionByAlias",
    "sagemaker-mlflow:GetRegisteredModel",
    "sagemaker-mlflow:SearchModelVersions",
    "sagemaker-mlflow:SetModelVersionTag",
    "sagemaker-mlflow:SetRegisteredModelAlias",
    "sagemaker-mlflow:TransitionModelVersionStage",
]

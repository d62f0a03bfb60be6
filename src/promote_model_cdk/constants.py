"""Names, defaults and limits of what the constructs deploy, in one place."""

from __future__ import annotations

HANDLER = "promote_model.handler.lambda_handler"
SERVICE_NAME = "promote-model"
METRICS_NAMESPACE = "PromoteModel"
FUNCTION_TIMEOUT_SECONDS = 60
FUNCTION_MEMORY_MB = 256
FUNCTION_PYTHON_VERSION = "3.11"  # the specification's runtime, whatever Python synthesizes

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

"""promote_model_cdk: the promote-model Lambda as AWS CDK constructs for your own CDK app.

- ``PromoteModel``: the function (Python 3.11) with its layer, log group, alarm, key, alert topic,
  credentials, and exactly the grants it needs.
- ``PromoteModelFragment`` (or ``PromoteModel.fragment``): the Step Functions task with its retries,
  catches and a Choice on the result, to compose into your retraining workflow.
- ``MlflowAuth``: ``basic``, ``token``, ``sagemaker`` or ``none``.
- ``ApprovalGate``: hold each promotion of a fragment for a person (approve/reject by task token).
- ``PromotionDashboard``: a CloudWatch dashboard of promotions, not-promoted answers, errors,
  durations and a workflow's executions.

The constructs are imported on first use, so that the ``promote-model`` command, which lives in
this package too, starts without loading the CDK (and its Node.js process).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from promote_model_cdk.auth import MlflowAuth
    from promote_model_cdk.dashboard import PromotionDashboard
    from promote_model_cdk.fragment import ApprovalGate, PromoteModelFragment
    from promote_model_cdk.function import PromoteModel

__version__ = "1.0.0"
"""The library's version (semantic versioning: a breaking change to the constructs, the event or the
settings bumps the major); CHANGELOG.md records each release."""
__all__ = [
    "ApprovalGate",
    "MlflowAuth",
    "PromoteModel",
    "PromoteModelFragment",
    "PromotionDashboard",
    "__version__",
]

_MODULE_OF = {
    "MlflowAuth": "promote_model_cdk.auth",
    "PromoteModel": "promote_model_cdk.function",
    "PromoteModelFragment": "promote_model_cdk.fragment",
    "ApprovalGate": "promote_model_cdk.fragment",
    "PromotionDashboard": "promote_model_cdk.dashboard",
}


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_MODULE_OF[name]), name)

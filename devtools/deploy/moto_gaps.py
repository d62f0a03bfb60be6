"""What moto's CloudFormation lacks to deploy this stack, filled in for `make deploy-local` (test support,
never bundled).

moto 5.2.5 (pinned in constraints.txt; `apply` refuses any other version) deploys a CDK template
through change sets, but silently skips or drops parts of it. Each gap below is filled here, in the
moto server process only: run this module as the server (`python -m devtools.deploy.moto_gaps -H 127.0.0.1 -p
PORT`, which is what ``moto_server_with_gaps_filled`` does). Importing the module
changes nothing; ``apply`` does. The new resource models are in ``moto_models``, the patches to moto's
own in ``moto_patches``. ``tests/deploy/test_moto_gaps.py`` proves, per gap, that plain moto
still has it, so an upgrade that closes one is noticed and its fill-in removed.

| gap | plain moto 5.2.5 | filled in |
|---|---|---|
| ``secret`` | skips ``AWS::SecretsManager::Secret``; a ``Ref`` to it vanishes, leaving an IAM statement without a resource | creates the secret, ``GenerateSecretString`` honoured; ``Ref`` is its ARN |
| ``topic_policy`` | skips ``AWS::SNS::TopicPolicy`` | sets the policy on each topic |
| ``alarm`` | skips ``AWS::CloudWatch::Alarm`` | ``PutMetricAlarm`` with the template's properties |
| ``cdk_metadata`` | skips ``AWS::CDK::Metadata`` (CDK's version analytics, nothing in any service) | a resource that creates nothing, as in AWS |
| ``bucket_policy`` | skips ``AWS::S3::BucketPolicy`` (the bootstrap stack's) | recorded in the stack, **not** applied: its statement denies requests without TLS, and the local endpoint is plain http, so it would deny every asset upload |
| ``unsupported_type`` | skips any type it has no model for, silently | the resource fails, naming the type |
| ``failed_resource`` | an error while executing a change set answers HTTP 500; the SDK retries, moto finds nothing left to do, and ``cdk deploy`` reports success with resources missing | the resource gets ``CREATE_FAILED`` with the error, the resources created are deleted (not what a failed one made half-way: moto never recorded it), the stack ends ``ROLLBACK_COMPLETE`` (an update ends ``UPDATE_ROLLBACK_FAILED``: nothing is rolled back) |
| ``change_set_outputs`` | a stack created by a change set has no outputs | outputs evaluated after the change set |
| ``kms_key_policy`` | stores ``KeyPolicy`` as an object: ``GetKeyPolicy`` returns an object, ``DescribeKey`` answers 500 | stored as the JSON document |
| ``function_properties`` | drops ``Layers``, ``TracingConfig``, ``Architectures`` and ``LoggingConfig`` of ``AWS::Lambda::Function`` (and its API never returns ``LoggingConfig``) | kept, and returned by ``GetFunctionConfiguration`` |
| ``layer_version`` | drops ``CompatibleArchitectures`` of ``AWS::Lambda::LayerVersion``, its ``Ref`` is not the version's ARN, and deleting the stack leaves the version | kept; ``Ref`` is the ARN; deleted with the stack |
| ``state_machine_configuration`` | drops ``LoggingConfiguration`` and ``TracingConfiguration`` of ``AWS::StepFunctions::StateMachine`` | kept, as ``DescribeStateMachine`` shapes them |

Not filled, because the local deploy does not need it: ``ListStackResources`` and
``DescribeStackResource`` create a missing resource on the fly, so `make deploy-local` verifies through
each service's own API instead; IAM and KMS policies are stored, never enforced.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devtools.deploy.moto_models import register_models
from devtools.deploy.moto_patches import (
    fail_failed_resources,
    keep_function_properties,
    keep_kms_key_policy_as_json,
    keep_layer_version,
    keep_state_machine_configuration,
)
from devtools.local.servers import RunningServer, moto_server

MOTO_VERSION = "5.2.5"
GAPS = (
    "secret",
    "topic_policy",
    "alarm",
    "cdk_metadata",
    "bucket_policy",
    "unsupported_type",
    "failed_resource",
    "change_set_outputs",
    "kms_key_policy",
    "function_properties",
    "layer_version",
    "state_machine_configuration",
)


def apply() -> None:
    """Fill every gap in this process's moto; refuses a moto other than the one the gaps were measured on."""
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"devtools/deploy/moto_gaps.py fills the gaps of moto {MOTO_VERSION}, not {moto.__version__}: "
            "run tests/deploy/test_moto_gaps.py against the new moto and update the fill-ins"
        )
    from moto.cloudformation import parsing

    register_models()
    for cache in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cache.cache_clear()  # the model registry is built once from CloudFormationModel's subclasses
    fail_failed_resources(parsing)
    keep_kms_key_policy_as_json()
    keep_function_properties()
    keep_layer_version()
    keep_state_machine_configuration()


@contextmanager
def moto_server_with_gaps_filled(workdir: Path) -> Iterator[RunningServer]:
    """A moto server on loopback with every gap filled, so that `cdk deploy` of this stack can be
    verified against it."""
    with moto_server(workdir, module="devtools.deploy.moto_gaps") as server:
        yield server


def main(argv: list[str]) -> None:
    apply()
    from moto.server import main as moto_server_main

    moto_server_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])

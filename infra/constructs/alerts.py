"""The alert topic: KMS-encrypted SNS, SSL enforced, e-mail subscribers from the configuration."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

# What e-mail subscribers receive: the promotion itself, failures, and alarms (which carry no
# attributes), not the standalone workflow's success echo of the same promotion. Subscribers that
# want everything, such as a queue, subscribe without a filter.
EMAIL_EVENTS = ["model_promoted", "promotion_failed"]


class AlertTopic(Construct):
    def __init__(self, scope: Construct, id: str, *, environment: str, emails: tuple[str, ...]) -> None:
        super().__init__(scope, id)
        self.key = self._key(environment)
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name=f"promote-model alerts ({environment})",
            master_key=self.key,
            enforce_ssl=True,
        )
        for email in emails:
            self.topic.add_subscription(
                subscriptions.EmailSubscription(
                    email,
                    filter_policy={"event": sns.SubscriptionFilter([*EMAIL_EVENTS, {"exists": False}])},
                )
            )

    def _key(self, environment: str) -> kms.Key:
        key = kms.Key(
            self,
            "Key",
            description=f"Encrypts the promote-model alert topic ({environment})",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # CloudWatch alarms publish to an encrypted topic only if the key lets them.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" means this key
            )
        )
        return key

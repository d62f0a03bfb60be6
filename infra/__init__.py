"""The promote-model CDK app: the stack, its constructs and the per-environment configuration."""

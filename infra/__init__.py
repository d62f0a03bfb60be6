"""This repository's CDK app: the per-environment configuration, the stack and the standalone state
machine, built on the public API of the ``promote_model_cdk`` library (``src/``)."""

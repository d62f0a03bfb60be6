"""Deploying the stack: `make deploy-local` (``local``) and the preflight of `make deploy` (``aws_preflight``).

`make deploy-local` runs the real `cdk bootstrap`/`deploy`/`destroy` against a moto server whose
CloudFormation gaps are filled in (``moto_gaps``, with ``moto_models`` and ``moto_patches``), verifies
every resource through its own service's API (``checks``, ``property_checks``, on the vocabulary of
``aws``) and runs the deployed state machine on this machine (``workflow``).
"""

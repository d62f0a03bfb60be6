"""Development tools, never bundled: what `make demo`, `make bench`, `make deploy-local` and the tests run.

- ``devtools.local``: the project run on this machine: real MLflow and moto servers on loopback, a
  fault proxy in front of MLflow, the synthesized state machine run by a local ASL interpreter with
  the bundled handler as its task, the task-token endpoint and approver of its approval gate, and
  `make demo` on top of them.
- ``devtools.bench``: `make bench`, the bundled handler measured against an mlflow-skinny
  baseline, and docs/performance.md written from the run.
- ``devtools.deploy``: `make deploy-local` (cdk bootstrap, deploy, verify, run, destroy on moto, with
  what moto's CloudFormation lacks filled in) and the preflight of `make deploy`.
- ``devtools.docs``: `make docs`, the constructs' API reference generated from their docstrings.
- ``devtools.paths``: where the checkout is, for all of them.

``bench`` and ``deploy`` build on ``local``; ``local`` imports neither.
"""

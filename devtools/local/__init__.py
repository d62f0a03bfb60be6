"""The project run on this machine (`make demo`, and the tests' servers).

Real servers on loopback (``servers``: MLflow and moto, health-checked; ``server_venvs``: the older
MLflow servers of the compatibility tests), a fault injector in front of MLflow (``fault_proxy``), the
synthesized state machine run in a real ASL interpreter (``workflow``, with ``lambda_worker`` serving
its Task states from the bundle and ``task_tokens`` + ``approver`` answering its approval gate), one
handler invocation in a fresh interpreter (``handler_probe``), and `make demo` (``demo``).
"""

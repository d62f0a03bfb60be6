"""`make bench`: the bundled handler measured against the obvious mlflow-skinny handler (``run``).

Each measurement runs in a fresh child interpreter (``children``, ``worker``); the baseline is
``baseline_handler``; MLflow's requests are counted at a proxy (``counts``), timed one by one
(``routes``) and as models grow (``growth``), on models arranged by ``registry``. ``report`` holds
the tables, ``performance_doc`` writes docs/performance.md from them.
"""

"""End-to-end NAT scenarios per vendor (issue 20 §3): ``fw test``, ``check`` and ``reach`` against hand verdicts."""

"""The local stack: the real services and the DSO sandboxes (tests/sandboxes) as processes, and the clients that
drive them. Shared by ``make run`` (scripts/run_local.py), the benches and the tests; never a dependency of a
service."""

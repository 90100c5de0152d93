"""What the throughput benchmarks share: the machine's description, the production stack
they start (PostgreSQL database, Redis, an SMTP sink, gunicorn, nginx), the data they
seed, wrk and locust runners, and the tables they print.

The benchmarks themselves are the scripts in ``bench/`` (``make bench`` runs each).
"""

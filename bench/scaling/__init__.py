"""The parts of ``bench/scale.py``: a PostgreSQL database of its own, a data generator that
writes a city's worth of citizens and applications with SQL, and a browser that signs in
through the real forms and times pages over HTTP.

A package rather than modules beside ``scale.py``: ``make bench`` runs every ``bench/*.py``
as a benchmark of its own.
"""

"""Telecom subscribers: carriers, subscriptions, the junk-SIM rules and their lock timeline.

Decree 163/2024/ND-CP and Circular 08/2026/TT-BKHCN (POLICY.md, "SIM subscriptions"): every
subscription must match its owner in the population registry; the rest are found, explained
(``rules``), reconciled in bulk on DuckDB (``reconcile``) and walked through the lock timeline.
"""

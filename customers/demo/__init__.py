"""Synthetic, reproducible e-commerce data for demos, tests and benchmarks.

The simulation (``catalogue``, ``people``, ``behaviour``, ``reviews_text``) is pure NumPy and
pandas and knows nothing about Django; ``writer`` turns its DataFrames into rows with COPY
or executemany, and ``generator`` runs both chunk by chunk. docs/demo-data.md explains it.
"""

"""Fitted scikit-learn pipelines stored in database rows (sentiment and churn model
versions): every web and worker machine reads the same database, so no shared file
storage is needed, and a backup keeps a model with its figures.

Unpickling runs code: only Precis itself writes these columns, never an upload or the API.
"""

import pickle
import zlib
from typing import Any


def pipeline_dump(pipeline: Any) -> bytes:
    return zlib.compress(pickle.dumps(pipeline, protocol=pickle.HIGHEST_PROTOCOL), 6)


def pipeline_load(blob: bytes) -> Any:
    return pickle.loads(zlib.decompress(bytes(blob)))  # noqa: S301 — written only by Precis's own training

"""The batch engine that telecom, social and internet rules run on (DuckDB, offline).

Rules read and write columnar data through DuckDB and never loop over rows in Python
(DESIGN.md, "Persistence and scale").
"""

from dinhdanh.analytics.duck import (
    EXTENSIONS,
    connect,
    extension_path,
    load_extension,
    quote_identifier,
    stage,
)

__all__ = ["EXTENSIONS", "connect", "extension_path", "load_extension", "quote_identifier", "stage"]

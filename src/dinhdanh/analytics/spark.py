"""Spark sessions for the batch rules when the data outgrows one machine (ADR 0019).

PySpark is imported here only, and only when a command asks for ``--engine spark``: the CLI's
start-up never pays for it. A session:

- runs on ``DINHDANH_SPARK_MASTER`` (``local[*]`` by default: every core of this machine; a
  cluster's ``spark://host:7077`` or ``yarn`` otherwise);
- never downloads anything: no ``spark.jars.packages`` or repositories are honoured (a
  configuration that names one is refused), the jars are the PyPI wheel's own;
- opens no web UI, and in local mode binds the driver to the loopback address only;
- reads and writes timestamps in UTC, so that Spark and DuckDB agree on every date.

Spark runs on a Java runtime from the distribution's packages (Debian:
``default-jre-headless``); without one, :func:`session` says so in one line.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["LOCAL", "SparkUnavailable", "java_binary", "running", "session"]

LOCAL = "local[*]"
_DOWNLOADS = ("spark.jars.packages", "spark.jars.repositories")


class SparkUnavailable(RuntimeError):
    """No Java runtime, no PySpark, or a configuration that would download code."""


def java_binary() -> str | None:
    """The ``java`` Spark would start: ``$JAVA_HOME/bin/java``, else the one on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def session(master: str = LOCAL, *, app: str = "dinhdanh") -> SparkSession:
    """The process's Spark session on ``master`` (created once, then shared)."""
    if java_binary() is None:
        raise SparkUnavailable(
            "--engine spark needs a Java runtime (17 or later): "
            "apt-get install default-jre-headless, or set JAVA_HOME"
        )
    if "--packages" in os.environ.get("PYSPARK_SUBMIT_ARGS", ""):
        raise SparkUnavailable("PYSPARK_SUBMIT_ARGS asks for --packages: Spark never downloads")
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - pyspark is a dependency of make setup
        raise SparkUnavailable("--engine spark needs pyspark: pip install -e '.[spark]'") from exc

    local = master.startswith("local")
    builder = (
        SparkSession.builder.master(master)
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    )
    for key in _DOWNLOADS:  # passed as --conf at launch: wins over spark-defaults.conf
        builder = builder.config(key, "")
    if local:
        cores = os.cpu_count() or 1
        builder = (
            builder.config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
            # A few partitions per core: Spark's 200 are for clusters.
            .config("spark.sql.shuffle.partitions", str(max(2, 2 * cores)))
        )
    # PySpark 4 warns about pandas 3 on its first use of Arrow; we hand it no pandas objects.
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas")
    spark = builder.getOrCreate()
    conf = spark.sparkContext.getConf()
    asked = [key for key in _DOWNLOADS if conf.get(key)]
    if asked:
        spark.stop()
        raise SparkUnavailable(f"Spark never downloads: unset {', '.join(asked)}")
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@contextmanager
def running(master: str) -> Iterator[SparkSession]:
    """A session for one command: stopped at the end unless it was already running."""
    from pyspark.sql import SparkSession

    before = SparkSession.getActiveSession()
    spark = session(master)
    try:
        yield spark
    finally:
        if before is None:
            spark.stop()

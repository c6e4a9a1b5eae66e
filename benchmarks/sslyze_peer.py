"""The peer of benchmarks/posture.py: sslyze's own concurrent scanner (``sslyze.Scanner``)
over every endpoint at once, with a chosen number of concurrent server scans, so that it
opens as many connections at a time as our scanner's sslyze processes together.

    .venv-sslyze/bin/python benchmarks/sslyze_peer.py SCANS OUT.json [sslyze options] HOST:PORT...

The options and servers are sslyze's command line (its own parser reads them); the JSON
written to OUT.json is the one ``python -m sslyze --json_out`` writes; its peak RSS in MiB
is printed. Runs in the
sslyze environment (ADR 0013), never imported by our code.
"""

from __future__ import annotations

import resource
import sys
from datetime import UTC, datetime

from sslyze import (
    Scanner,
    ServerScanRequest,
    ServerScanResultAsJson,
    SslyzeOutputAsJson,
)
from sslyze.__version__ import __version__
from sslyze.cli.command_line_parser import CommandLineParser


def main() -> None:
    scans, out = int(sys.argv[1]), sys.argv[2]
    sys.argv = [sys.argv[0], *sys.argv[3:]]
    started = datetime.now(UTC)
    parsed = CommandLineParser(__version__).parse_command_line()
    scanner = Scanner(
        per_server_concurrent_connections_limit=parsed.per_server_concurrent_connections_limit,
        concurrent_server_scans_limit=scans,
    )
    scanner.queue_scans(
        [
            ServerScanRequest(
                server_location=location,
                network_configuration=network,
                scan_commands=parsed.scan_commands,
                scan_commands_extra_arguments=parsed.scan_commands_extra_arguments,
            )
            for location, network in parsed.servers_to_scans
        ]
    )
    results = [ServerScanResultAsJson.model_validate(r) for r in scanner.get_results()]
    doc = SslyzeOutputAsJson(
        server_scan_results=results,
        invalid_server_strings=[],
        date_scans_started=started,
        date_scans_completed=datetime.now(UTC),
    )
    with open(out, "w", encoding="utf-8") as fh:
        fh.write(doc.model_dump_json())
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # peak RSS, MiB


if __name__ == "__main__":
    main()

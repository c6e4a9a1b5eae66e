"""Seeded generators of synthetic data: populations now, subscribers and accounts later."""

from dinhdanh.synth.population import (
    CITIZEN_FIELDS,
    SynthCitizen,
    generate_population,
    write_citizens_csv,
    write_citizens_jsonl,
)

__all__ = [
    "CITIZEN_FIELDS",
    "SynthCitizen",
    "generate_population",
    "write_citizens_csv",
    "write_citizens_jsonl",
]

"""The review primitive: an artifact type's verification surface for its pull request.

`build_surface(ReviewInput) -> Surface` is the entry point (the runner's publish step calls it);
`parse_provenance(body)` reads the machine-readable provenance back from a pull request body.
Pure and deterministic: no I/O, no clock, no randomness.
"""

from atomesh.review.builder import build_surface
from atomesh.review.provenance import parse_provenance
from atomesh.review.surface import (
    ChangedFile,
    CheckOutcome,
    Provenance,
    ReviewInput,
    RevisionEntry,
    Surface,
    Validation,
)

__all__ = [
    "ChangedFile",
    "CheckOutcome",
    "Provenance",
    "ReviewInput",
    "RevisionEntry",
    "Surface",
    "Validation",
    "build_surface",
    "parse_provenance",
]

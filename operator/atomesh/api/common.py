"""Building blocks shared by the atomesh kinds: base models, metadata, conditions, durations."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

# Names of Kubernetes objects (RFC 1123 subdomain, as the API server checks metadata.name).
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
# A reference we turn into labels and child names must also be a DNS label.
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DURATION_PATTERN = r"^([0-9]+h)?([0-9]+m)?([0-9]+s)?$"
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")
_DURATION = re.compile(r"^(?:(?P<h>[0-9]+)h)?(?:(?P<m>[0-9]+)m)?(?:(?P<s>[0-9]+)s)?$")


def redact_userinfo(text: str) -> str:
    """`text` with the user:password part of every URL in it masked: a git URL with a token in it
    must not reach a condition, an Event or a log line."""
    return _URL_USERINFO.sub(r"\g<scheme>***@", text)


def parse_duration(text: str) -> int:
    """Seconds in a duration such as ``15m``, ``1h30m`` or ``90s``; ValueError otherwise."""
    match = _DURATION.match(text)
    if not text or match is None:
        raise ValueError(f"invalid duration {text!r}: use hours, minutes and seconds such as 15m, 1h30m or 90s")
    seconds = int(match["h"] or 0) * 3600 + int(match["m"] or 0) * 60 + int(match["s"] or 0)
    if seconds <= 0:
        raise ValueError(f"invalid duration {text!r}: must be longer than zero")
    return seconds


class SpecModel(BaseModel):
    """Strict: an unknown field is an error, like `kubectl apply --validate=strict`."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        validate_default=True,
        serialize_by_alias=True,
    )


class StatusModel(BaseModel):
    """Lenient on read: a status written by another version of atomesh still loads."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        serialize_by_alias=True,
    )


class ObjectMeta(BaseModel):
    """The part of Kubernetes object metadata atomesh reads."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow", serialize_by_alias=True)

    name: Annotated[str, Field(max_length=253, pattern=DNS_SUBDOMAIN_PATTERN)] = Field(
        default="", description="Name of the object, unique in its namespace."
    )
    namespace: str | None = Field(default=None, description="Namespace of the object.")
    uid: str | None = Field(default=None, description="Unique id set by the API server.")
    generation: int | None = Field(default=None, description="Sequence number of the desired state.")
    resource_version: str | None = Field(default=None, description="Version of the object for optimistic concurrency.")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels of the object.")
    annotations: dict[str, str] = Field(default_factory=dict, description="Annotations of the object.")
    creation_timestamp: str | None = Field(default=None, description="When the object was created (RFC 3339).")
    deletion_timestamp: str | None = Field(default=None, description="When deletion was requested (RFC 3339).")


ConditionStatus = Literal["True", "False", "Unknown"]


class Condition(StatusModel):
    """One aspect of the object's state, as Kubernetes API conventions define it."""

    type: str = Field(description="Type of the condition in CamelCase, for example Ready.")
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str = Field(default="", description="Machine-readable CamelCase reason for the last transition.")
    message: str = Field(default="", description="Human-readable details of the last transition.")
    observed_generation: int | None = Field(
        default=None, description="metadata.generation that the condition was set from."
    )
    last_transition_time: str = Field(
        default="", description="When the status last changed from one value to another (RFC 3339)."
    )


class LocalObjectReference(SpecModel):
    """A reference to an object in the same namespace."""

    name: str = Field(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN_PATTERN, description="Name of the object.")


class SecretKeyRef(SpecModel):
    """A key of a Secret in the same namespace."""

    name: str = Field(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN_PATTERN, description="Name of the Secret.")
    key: str = Field(min_length=1, description="Key in the Secret's data.")


def dump(model: BaseModel) -> dict[str, Any]:
    """The wire form of a model: camelCase, JSON types, unset optional fields left out."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)

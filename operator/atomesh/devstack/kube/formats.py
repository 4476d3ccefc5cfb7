"""The `format`s kube-apiserver checks in custom resources, with kube-openapi's messages.

Which formats count: apiextensions-apiserver `pkg/apiserver/validation/formats.go` keeps, for
strings, only its supported list (names compared without dashes, `date-time` = `datetime`), for
integers `int32`/`int64`, for numbers `float`/`double`; any other format is stripped and never
checked. String checks port kube-openapi `pkg/validation/strfmt` (`default.go`, `date.go`,
`time.go`, `kubernetes-extensions.go`, govalidator's patterns); number ranges port
`validate/values.go` (`IsValueValidAgainstRange`).

Supported formats the emulator does not check (uri, email, hostname, mac, isbn*, creditcard,
rgbcolor, duration) refuse a value, naming the format, rather than accept it unchecked.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from collections.abc import Callable

_SHORT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_LONG = _SHORT + "(\\." + _SHORT + ")*"
_UUID = "[0-9a-f]{8}-?[0-9a-f]{4}-?%s[0-9a-f]{3}-?%s[0-9a-f]{3}-?[0-9a-f]{12}"
_DATE_TIME = re.compile(r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$")
_BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$")


def _date(value: str) -> bool:
    # Go's time.Parse("2006-01-02"): exactly four, two and two digits, a real calendar day
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _date_time(value: str) -> bool:
    """`strfmt.IsDateTime`: a full date, a `t`, then hh:mm:ss[.frac] and `z` or an offset (case-insensitive)."""
    if len(value) < 4:
        return False
    parts = value.lower().split("t")
    if len(parts) < 2 or not _date(parts[0]):
        return False
    match = _DATE_TIME.search(parts[1])
    return match is not None and match.group(1) <= "23" and match.group(2) <= "59" and match.group(3) <= "59"


def _matches(pattern: str, flags: int = 0) -> Callable[[str], bool]:
    compiled = re.compile(pattern, flags)
    return lambda value: bool(compiled.fullmatch(value))


def _ip(version: int) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        try:
            return ipaddress.ip_address(value).version == version or (
                version == 6 and ":" in value  # Go's IsIPv6: any address parsed from text with a colon
            )
        except ValueError:
            return False

    return check


def _cidr(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return "/" in value


STRING_CHECKS: dict[str, Callable[[str], bool] | None] = {
    "datetime": _date_time,
    "date": _date,
    "byte": lambda value: bool(_BASE64.match(value)),
    "password": lambda value: True,
    "uuid": _matches(_UUID % ("[0-9a-f]", "[0-9a-f]"), re.IGNORECASE),
    "uuid3": _matches(_UUID % ("3", "[0-9a-f]"), re.IGNORECASE),
    "uuid4": _matches(_UUID % ("4", "[89ab]"), re.IGNORECASE),
    "uuid5": _matches(_UUID % ("5", "[89ab]"), re.IGNORECASE),
    "k8sshortname": lambda value: len(value) <= 63 and bool(re.fullmatch(_SHORT, value)),
    "k8slongname": lambda value: len(value) <= 253 and bool(re.fullmatch(_LONG, value)),
    "ipv4": lambda value: _ip(4)(value) and "." in value,
    "ipv6": _ip(6),
    "cidr": _cidr,
    "hexcolor": _matches(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})"),
    "ssn": _matches(r"\d{3}[- ]?\d{2}[- ]?\d{4}"),
    "bsonobjectid": _matches(r"[0-9a-fA-F]{24}"),
    # supported by kube-apiserver, not emulated
    **dict.fromkeys(
        ("uri", "email", "hostname", "mac", "isbn", "isbn10", "isbn13", "creditcard", "rgbcolor", "duration"),
        None,
    ),
}


def normalized(format_: str) -> str:
    """go-openapi compares format names without dashes (`date-time` is `datetime`)."""
    return format_.replace("-", "")


def recognized(type_: str, format_: str) -> bool:
    """`GetUnrecognizedFormats`: whether kube-apiserver keeps (and checks) this format for this type."""
    if type_ in ("", "string"):
        return normalized(format_) in STRING_CHECKS
    if type_ == "integer":
        return format_ in ("int32", "int64")
    if type_ == "number":
        return format_ in ("float", "double")
    return False


def string_error(format_: str, value: str, where: str) -> str | None:
    """The message of a string that does not have its format, or None (also for unchecked formats)."""
    name = normalized(format_)
    if name not in STRING_CHECKS:
        return None  # stripped by kube-apiserver: never checked
    check = STRING_CHECKS[name]
    if check is None:
        return f"the {format_} format is not emulated, so this value cannot be checked"
    if check(value):
        return None
    return f"{where} in body must be of type {format_}: {_go_quote(value)}"


def _go_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_FLOAT32_MAX = 3.4028234663852886e38


def range_error(value: float, type_: str, format_: str, where: str) -> str | None:
    """`IsValueValidAgainstRange` for the value itself ("Checked …"), or None.

    Go prints the value (a float without exponent or needless fraction) and parses it back as the
    format's Go type: a fraction, or a value out of range, fails."""
    if type_ == "integer":
        kept = format_ if format_ in ("int32", "int64") else ""
        low, high = _INT32 if kept == "int32" else _INT64
        whole = isinstance(value, int) or value.is_integer()
        if whole and low <= value <= high:
            return None
    elif type_ == "number":
        kept = "float" if format_ == "float" else ""
        if not kept or abs(value) <= _FLOAT32_MAX:
            return None
    else:
        return None
    named = f"with format {kept}" if kept else "(default format)"
    return f"Checked value must be of type {type_} {named} in {where}"

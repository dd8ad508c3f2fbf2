"""Value kinds for stack config keys: how a raw config string is parsed and what is allowed.

Each kind knows its Pulumi project-config type (`string`, `integer`, `boolean`), parses
the raw text into a Python value or raises ValueError, and describes what it accepts
in words that go straight into the error message ("an integer from 1 to 65535").
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any


@dataclass(frozen=True)
class Integer:
    minimum: int
    maximum: int
    excluded: tuple[int, ...] = ()
    type: str = "integer"

    @property
    def allowed(self) -> str:
        text = f"an integer from {self.minimum} to {self.maximum}"
        return text + "".join(f" other than {value}" for value in self.excluded)

    def parse(self, raw: Any) -> int:
        if isinstance(raw, bool):
            raise ValueError(raw)
        if isinstance(raw, int):
            value = raw
        elif isinstance(raw, str) and re.fullmatch(r"\s*-?[0-9]+\s*", raw):
            value = int(raw)
        else:
            raise ValueError(raw)
        if not self.minimum <= value <= self.maximum or value in self.excluded:
            raise ValueError(raw)
        return value


@dataclass(frozen=True)
class Boolean:
    type: str = "boolean"
    allowed: str = "true or false"

    def parse(self, raw: Any) -> bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "false"):
            return text == "true"
        raise ValueError(raw)


@dataclass(frozen=True)
class Choice:
    values: tuple[str, ...]
    type: str = "string"

    @property
    def allowed(self) -> str:
        return "one of " + ", ".join(self.values)

    def parse(self, raw: Any) -> str:
        if raw not in self.values:
            raise ValueError(raw)
        return raw


@dataclass(frozen=True)
class Text:
    pattern: str
    description: str
    allow_empty: bool = False
    forbidden: tuple[str, ...] = ()
    forbidden_suffixes: tuple[str, ...] = ()
    require_tag: bool = False
    type: str = "string"

    @property
    def allowed(self) -> str:
        return self.description + (" (or empty)" if self.allow_empty else "")

    def parse(self, raw: Any) -> str:
        if not isinstance(raw, str):
            raise ValueError(raw)
        if raw == "" and self.allow_empty:
            return raw
        if not re.fullmatch(self.pattern, raw) or raw in self.forbidden:
            raise ValueError(raw)
        if any(raw.endswith(suffix) for suffix in self.forbidden_suffixes):
            raise ValueError(raw)
        if self.require_tag and ":" not in raw.rsplit("/", 1)[-1]:
            raise ValueError(raw)
        return raw


_QUANTITY = {
    "cpu": (r"[0-9]+(\.[0-9]+)?m?", "a CPU quantity such as 500m or 2"),
    "memory": (r"[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?", "a memory quantity such as 512Mi or 2Gi"),
    "storage": (r"[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?", "a storage size such as 10Gi"),
}
_MEMORY_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
                 "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def parse_quantity(text: str, resource: str) -> Decimal:
    """A Kubernetes quantity as a number (cores or bytes), for comparing requests with limits."""
    if resource == "cpu":
        return Decimal(text[:-1]) / 1000 if text.endswith("m") else Decimal(text)
    # memory and storage share the byte units
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", text).groups()
    return Decimal(number) * _MEMORY_UNITS[unit]


@dataclass(frozen=True)
class IpAddress:
    """A literal IPv4 or IPv6 address. Docker publishes on every interface when it cannot parse the
    address it is given, so a typo meant to restrict access would open it: nothing else passes."""

    type: str = "string"
    allowed: str = "an IPv4 or IPv6 address such as 127.0.0.1, 0.0.0.0 or ::1"

    def parse(self, raw: Any) -> str:
        if not isinstance(raw, str):
            raise ValueError(raw)
        try:
            return str(ipaddress.ip_address(raw))
        except ValueError as error:
            raise ValueError(raw) from error


@dataclass(frozen=True)
class Quantity:
    resource: str  # "cpu", "memory" or "storage"
    allow_empty: bool = False  # empty: computed from other keys
    type: str = "string"

    @property
    def allowed(self) -> str:
        return _QUANTITY[self.resource][1] + (" (or empty)" if self.allow_empty else "")

    def parse(self, raw: Any) -> str:
        if raw == "" and self.allow_empty:
            return raw
        if not isinstance(raw, str) or not re.fullmatch(_QUANTITY[self.resource][0], raw):
            raise ValueError(raw)
        try:
            if parse_quantity(raw, self.resource) <= 0:
                raise ValueError(raw)
        except InvalidOperation as error:
            raise ValueError(raw) from error
        return raw


@dataclass(frozen=True)
class ResourceSpec:
    """Requests and limits in one value: cpu/memory/cpu/memory, e.g. 250m/512Mi/2/2Gi."""

    type: str = "string"
    allowed: str = ("requests and limits as cpu/memory/cpu/memory, such as 250m/512Mi/2/2Gi, "
                    "with limits at least the requests")

    def parse(self, raw: Any):
        from pulumi_geostack.workload import Resources

        parts = raw.split("/") if isinstance(raw, str) else []
        if len(parts) != 4:
            raise ValueError(raw)
        cpu_request, memory_request, cpu_limit, memory_limit = parts
        for value, resource in ((cpu_request, "cpu"), (cpu_limit, "cpu"),
                                (memory_request, "memory"), (memory_limit, "memory")):
            Quantity(resource).parse(value)
        if (parse_quantity(cpu_limit, "cpu") < parse_quantity(cpu_request, "cpu")
                or parse_quantity(memory_limit, "memory") < parse_quantity(memory_request, "memory")):
            raise ValueError(raw)
        return Resources(cpu_request, cpu_limit, memory_request, memory_limit)


@dataclass(frozen=True)
class PythonCode:
    """Python statements, compiled here so a syntax error stops the program before anything is deployed."""

    type: str = "string"
    allowed: str = "Python statements that compile (or empty)"

    def parse(self, raw: Any) -> str:
        if not isinstance(raw, str):
            raise ValueError(raw)
        try:
            compile(raw, "<config>", "exec")
        except (SyntaxError, ValueError) as error:  # ValueError: a NUL byte
            raise ValueError(raw) from error
        return raw


@dataclass(frozen=True)
class Secret:
    """A credential: read with `get_secret`, so it stays an encrypted Output end to end.

    Unset means generated once (pulumi_random) and kept in the stack's state, unless
    `generated` is false: then unset means none (an optional login's password).
    """

    generated: bool = True
    type: str = "string"
    allowed: str = "a secret set with `pulumi config set --secret`"

    def parse(self, raw: Any) -> Any:
        return raw


@dataclass(frozen=True)
class Setting:
    """One `geostack:<key>` config key."""

    key: str
    kind: Integer | Boolean | Choice | Text | IpAddress | Quantity | ResourceSpec | PythonCode | Secret
    default: Any
    description: str = field(default="")

    @property
    def secret(self) -> bool:
        return isinstance(self.kind, Secret)

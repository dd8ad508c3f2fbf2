"""What the pulumi-docker provider stores for a container after `up`, and where that differs
from what the program declared: such a difference is a diff on every later preview.

Modelled on the provider's Read (terraform-provider-docker at the submodule commit pulumi-docker
5.x builds, internal/provider/resource_docker_container_funcs.go, resourceDockerContainerRead):
it writes back the engine's values for the attributes below, durations through Go's
time.Duration.String(). Attributes it never reads back (envs, labels, uploads, volumes, ports)
cannot drift this way and are left out. A declared attribute of the schema's "Computed" kind
(command, entrypoint, securityOpts) diffs only when declared and different, which is how it is
compared here; an undeclared one is the engine's to fill.
"""
from __future__ import annotations

import re

# Schema defaults: an undeclared value stands for these, and the engine's value is compared to them.
HEALTHCHECK_DEFAULTS = {"interval": "0s", "timeout": "0s", "startPeriod": "0s", "startInterval": "0s", "retries": 0}
CONTAINER_DEFAULTS = {"restart": "no", "readOnly": False}

_UNITS_NS = {"ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


def parse_go_duration(text: str) -> int:
    """Nanoseconds of a duration as Go's time.ParseDuration reads it ('90s', '1m30s', '1.5s')."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", text)
    if text == "0":
        return 0
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a Go duration: {text!r}")
    return round(sum(float(n) * _UNITS_NS[u] for n, u in parts))


def _fraction(value: int, digits: int) -> str:
    whole, part = divmod(value, 10**digits)
    decimals = f"{part:0{digits}d}".rstrip("0")
    return f"{whole}.{decimals}" if decimals else str(whole)


def go_duration_string(ns: int) -> str:
    """Go's time.Duration.String(): 0s, 500ms, 1.5s, 1m0s, 1h0m0s."""
    if ns == 0:
        return "0s"
    sign, ns = ("-", -ns) if ns < 0 else ("", ns)
    if ns < 10**9:
        for unit, digits in (("ms", 6), ("µs", 3)):
            if ns >= 10**digits:
                return f"{sign}{_fraction(ns, digits)}{unit}"
        return f"{sign}{ns}ns"
    hours, rest = divmod(ns, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    seconds = _fraction(rest, 9) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return sign + seconds


def stored_healthcheck(declared: dict) -> dict:
    """A declared healthcheck as the provider stores it after Read: durations re-printed by Go."""
    full = {**HEALTHCHECK_DEFAULTS, **declared}
    return {key: go_duration_string(parse_go_duration(value)) if key in HEALTHCHECK_DEFAULTS and key != "retries"
            else value for key, value in full.items()}


def provider_state(inspect: dict) -> dict:
    """The attributes the provider's Read sets from `docker inspect`, in Pulumi's input names."""
    config, host = inspect["Config"], inspect["HostConfig"]
    state = {
        "name": inspect["Name"].lstrip("/"),
        "image": config["Image"],
        "command": config.get("Cmd") or [],
        "entrypoints": config.get("Entrypoint") or [],
        "user": config.get("User") or "",
        "restart": host["RestartPolicy"]["Name"] or "no",
        "readOnly": bool(host.get("ReadonlyRootfs")),
        "tmpfs": host.get("Tmpfs") or {},
        "shmSize": (host.get("ShmSize") or 0) // 2**20,
        "securityOpts": host.get("SecurityOpt") or [],
    }
    if host.get("CapAdd") or host.get("CapDrop"):
        state["capabilities"] = {"adds": sorted(host.get("CapAdd") or []), "drops": sorted(host.get("CapDrop") or [])}
    check = config.get("Healthcheck")
    if check:
        state["healthcheck"] = {
            "tests": check.get("Test") or [],
            "interval": go_duration_string(check.get("Interval", 0)),
            "timeout": go_duration_string(check.get("Timeout", 0)),
            "startPeriod": go_duration_string(check.get("StartPeriod", 0)),
            "startInterval": go_duration_string(check.get("StartInterval", 0)),
            "retries": check.get("Retries", 0),
        }
    return state


def _declared_form(key: str, value):
    if key == "capabilities":
        return {"adds": sorted(value.get("adds") or []), "drops": sorted(value.get("drops") or [])}
    if key == "healthcheck":
        return {**HEALTHCHECK_DEFAULTS, **value}
    if key == "user":
        return value or ""
    return value


def perpetual_diffs(declared: dict, state: dict) -> dict[str, tuple]:
    """attribute -> (stored, declared) for every attribute a preview would propose to change."""
    declared = {**CONTAINER_DEFAULTS, **{k: v for k, v in declared.items() if v is not None}}
    diffs = {}
    for key, stored in state.items():
        if key not in declared:
            continue  # undeclared: Computed (the engine's value is kept) or absent from this container
        wanted = _declared_form(key, declared[key])
        if key == "shmSize" and wanted is None:
            continue
        if stored != wanted:
            diffs[key] = (stored, wanted)
    return diffs

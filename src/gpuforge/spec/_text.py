"""Rules for spec text that later reaches other languages (HCL, YAML/Jinja, INI, APT sources).

Spec values are untrusted data. Every string of a spec is single-line text without control
characters; values with a known shape (URLs, host names, identifiers, SSH keys) must have it.
A failed rule raises ValueError as "what is wrong; how to fix it" (the loader splits the two).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator

# Cc: C0/C1 controls (NUL, newline, tab, DEL...); Cs: lone surrogates (not UTF-8);
# Zl/Zp: Unicode line and paragraph separators.
_CONTROL_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
# Bidirectional overrides and isolates make text read differently from what it holds.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_IDENTIFIER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+~-]{0,254}$")
_HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)
_USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
# RFC 3986 characters, less the query and fragment marks an APT source has no use for.
_URL_RE = re.compile(r"^[A-Za-z0-9._~:/\[\]@!$&'()*+,;=%-]+$")
_URL_SCHEMES = ("http", "https", "file")
_SSH_KEY_RE = re.compile(
    r"^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9@.-]+)"
    r" [A-Za-z0-9+/]+={0,3}( [^\s].*)?$"
)


def control_character(value: str) -> str | None:
    """The first control, line-separator or bidi character in `value` as U+XXXX, else None."""
    for char in value:
        if unicodedata.category(char) in _CONTROL_CATEGORIES or char in _BIDI_CONTROLS:
            return f"U+{ord(char):04X}"
    return None


def plain_text(value: str) -> str:
    """Accept single-line text; refuse NUL, newlines, tabs and other control characters."""
    found = control_character(value)
    if found is not None:
        raise ValueError(
            f"contains the control character {found}; "
            "write the value on one line without control characters (newline, tab, NUL)"
        )
    return value


def identifier(value: str) -> str:
    """Accept a cloud identifier (region, zone, instance type, profile, code): no spaces."""
    plain_text(value)
    if not _IDENTIFIER_RE.match(value):
        raise ValueError(
            f"{value!r} is not an identifier; "
            "use letters, digits and . _ : + ~ - only (e.g. p5.48xlarge, us-west-2a)"
        )
    return value


def host_address(value: str) -> str:
    """Accept an IPv4/IPv6 address or a DNS host name."""
    plain_text(value)
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not _HOSTNAME_RE.match(value):
            raise ValueError(
                f"{value!r} is neither an IP address nor a host name; "
                "write an address such as 10.0.0.5 or a name such as gpu-01.example.com"
            ) from None
    return value


def login_name(value: str) -> str:
    """Accept a POSIX login name (lowercase, digits, `_` and `-`, at most 32 characters)."""
    if not _USER_RE.match(value):
        raise ValueError(
            f"{value!r} is not a login name; "
            "use lowercase letters, digits, _ and -, starting with a letter (e.g. ubuntu)"
        )
    return value


def repository_url(value: str) -> str:
    """Accept an http(s) or file URL usable as one APT source: no spaces, query or password."""
    plain_text(value)
    if not _URL_RE.match(value):
        raise ValueError(
            f"{value!r} is not a plain URL (spaces, quotes, braces and ?/# are not allowed); "
            "write the repository root, e.g. https://mirror.example.com/cuda, "
            "percent-encoding any other character"
        )
    try:
        parts = urlsplit(value)
        if parts.port == 0:
            raise ValueError("port 0")
    except ValueError as error:
        raise ValueError(f"{value!r} is not a valid URL ({error}); fix the URL") from None
    if parts.scheme not in _URL_SCHEMES:
        raise ValueError(
            f"URL scheme {parts.scheme or '(none)'!r} is not allowed; "
            f"use one of {', '.join(_URL_SCHEMES)} (e.g. https://mirror.example.com/cuda)"
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "the URL carries credentials, which would be written to every node's APT sources; "
            "remove user:password@ from the URL and give them to APT in /etc/apt/auth.conf.d"
        )
    if parts.scheme != "file" and not parts.hostname:
        raise ValueError(f"{value!r} has no host; write it as {parts.scheme}://host/path")
    if parts.scheme == "file" and not parts.path.startswith("/"):
        raise ValueError(f"{value!r} has no absolute path; write it as file:/srv/repository")
    return value


def ssh_public_key(value: str) -> str:
    """Accept one OpenSSH public key line: type, base64 body, optional comment."""
    plain_text(value)
    if not _SSH_KEY_RE.match(value):
        raise ValueError(
            "not an OpenSSH public key; "
            "paste one line such as `ssh-ed25519 AAAAC3... user@host` (the .pub file)"
        )
    return value


Text = Annotated[str, AfterValidator(plain_text)]
Identifier = Annotated[str, AfterValidator(identifier)]
HostAddress = Annotated[str, AfterValidator(host_address)]
LoginName = Annotated[str, AfterValidator(login_name)]
RepositoryUrl = Annotated[str, AfterValidator(repository_url)]
SshPublicKey = Annotated[str, AfterValidator(ssh_public_key)]

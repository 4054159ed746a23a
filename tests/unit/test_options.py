"""The options table, the options file parser, overrides and the Options object."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from qorus_core.model.errors import OptionError
from qorus_core.omqdir import OmqDir
from qorus_core.options import (
    OPTIONS,
    Options,
    format_value,
    load_options,
    lookup,
    parse_value,
    render_options_example,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def omq(tmp_path: Path) -> OmqDir:
    return OmqDir(tmp_path).ensure()


def write(omq: OmqDir, text: str) -> Path:
    omq.options_file.write_text(text, encoding="utf-8")
    return omq.options_file


def load_error(omq: OmqDir, text: str) -> str:
    write(omq, text)
    with pytest.raises(OptionError) as info:
        load_options(omq)
    assert info.value.code == "OPTION-ERROR"
    return info.value.desc


# --- the table -----------------------------------------------------------------------------


REQUIRED: dict[str, Any] = {
    "qorus.instance-key": "qorus-test-instance",
    "qorus.systemdb": None,
    "qorus.auto-recover": True,
    "qorus.logdir": None,
    "qorus.http-server": ["8001"],
    "qorus.http-secure-server": [],
    "qorus.daemon-mode": True,
    "qorus.max-log-files": 10,
    "qorus.system-pool-minimum": 3,
    "qorus.system-pool-maximum": 40,
    "qorus.max-retries": 5,
    "qorus.max-async-retries": 20,
    "qorus.recover_delay": 300,
    "qorus.async_delay": 1200,
    "qorus.detach-delay": 3600,
    "qorus.cache-max": 50000,
    "qorus.max-events": 10000,
    "qorus.db-max-threads": 30,
    "qorus.max-service-threads": 200,
    "qorus.audit": [],
    "qorus.logfile-template": "OMQ-$instance-$name.log",
    "qorus.wf-logfile-template": "OMQ-$instance-WF-$name.log",
    "qorus.svc-logfile-template": "OMQ-$instance-SVC-$name.log",
    "qorus.job-logfile-template": "OMQ-$instance-JOB-$name.log",
    "qorus.autostart-interfaces": True,
    "qorus.node": None,
    "qorus.cors-enable": False,
    "qorus.cors-allow-origin": ["*"],
    "qorus.rbac-security": False,
    "qorus.workflow-workers": 2,
    "qorus.heartbeat-interval": 10,
    "ldap.ubase": "ou=people",
    "ldap.uentry": "uid",
    "qorus-client.client-url": "http://localhost:8001",
}


def test_required_defaults() -> None:
    for name, default in REQUIRED.items():
        assert OPTIONS[name].default == default, name


def test_table_is_consistent() -> None:
    for name, spec in OPTIONS.items():
        assert name == spec.full_name
        assert spec.desc and len(spec.desc.splitlines()) == 1
        # every default survives a trip through its own text form
        assert parse_value(spec, format_value(spec, spec.default)) == spec.default, name
    for name in ("qorus.instance-key", "qorus.systemdb", "qorus.http-server", "qorus.node"):
        assert OPTIONS[name].startup_only


def test_options_example_is_generated_from_the_table() -> None:
    committed = (REPO / "etc" / "options.example").read_text(encoding="utf-8")
    # to refresh: python -m qorus_core.options > etc/options.example
    assert committed == render_options_example()
    for name in OPTIONS:
        assert f"#{name}:" in committed


def test_rendered_example_parses_when_uncommented(omq: OmqDir) -> None:
    lines = [
        line[1:] if line.startswith("#qorus") or line.startswith("#ldap") else line
        for line in render_options_example().splitlines()
    ]
    write(omq, "\n".join(lines))
    options = load_options(omq)
    assert options.as_dict() == Options().as_dict()


# --- the file ------------------------------------------------------------------------------


def test_missing_file_means_defaults(omq: OmqDir) -> None:
    options = load_options(omq)
    assert options.path is None
    assert options.get("max-retries") == 5
    assert options.source("max-retries") == "default"


def test_both_separators_comments_and_blank_lines(omq: OmqDir) -> None:
    path = write(
        omq,
        "# a comment\n"
        "\n"
        "qorus.max-retries = 7   # trailing comment\n"
        "qorus.systemdb: pgsql:omq/omq@omq%localhost:5432\n"
        "   qorus.instance-key:prod-1\n"
        "ldap.password = 'pa#ss word'  # quoted keeps #\n"
        "ldap.bind-dn = cn=admin#1,dc=x\n"
        "qorus-client.client-url: http://h:8002\n",
    )
    options = load_options(omq)
    assert options.path == path
    assert options.get("max-retries") == 7
    assert options.source("qorus.max-retries") == "file"
    assert options.systemdb == "pgsql:omq/omq@omq%localhost:5432"
    assert options.get("instance-key") == "prod-1"
    assert options.get("ldap.password") == "pa#ss word"
    assert options.get("ldap.bind-dn") == "cn=admin#1,dc=x"
    assert options.get("qorus-client.client-url") == "http://h:8002"


def test_aliases(omq: OmqDir) -> None:
    write(omq, "qorus.recover-delay: 10\nqorus.async-delay = 20\n")
    options = load_options(omq)
    assert options.get("recover_delay") == 10
    assert options.get("recover-delay") == 10
    assert options.get("qorus.async_delay") == 20


def test_alias_and_name_together_is_a_duplicate(omq: OmqDir) -> None:
    msg = load_error(omq, "qorus.recover_delay: 10\n\nqorus.recover-delay: 20\n")
    assert msg == (
        f"{omq.options_file}:3: option 'qorus.recover_delay' is set twice (first on line 1)"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("Yes", True),
        ("on", True),
        ("1", True),
        ("false", False),
        ("NO", False),
        ("off", False),
        ("0", False),
    ],
)
def test_bool_values(raw: str, expected: bool) -> None:
    assert parse_value(OPTIONS["qorus.auto-recover"], raw) is expected


def test_int_string_list_hash_values() -> None:
    assert parse_value(OPTIONS["qorus.max-retries"], " +12 ") == 12
    assert parse_value(OPTIONS["qorus.instance-key"], '"a b"') == "a b"
    assert parse_value(OPTIONS["qorus.systemdb"], "") is None
    http = OPTIONS["qorus.http-server"]
    assert parse_value(http, "8001") == ["8001"]
    assert parse_value(http, "8001, localhost:8002,/tmp/q.sock") == [
        "8001",
        "localhost:8002",
        "/tmp/q.sock",
    ]
    assert parse_value(http, "[8001, 'localhost:8002']") == ["8001", "localhost:8002"]
    assert parse_value(http, "") == []
    secure = OPTIONS["qorus.http-secure-server"]
    assert parse_value(secure, "8011{cert=/a/c.pem;key=/a/k.pem}, 8012") == [
        "8011{cert=/a/c.pem;key=/a/k.pem}",
        "8012",
    ]
    audit = OPTIONS["qorus.audit"]
    assert parse_value(audit, "workflows, jobs,*") == ["workflows", "jobs", "*"]
    params = OPTIONS["qorus.workflow-params"]
    assert parse_value(params, "{a:1:max-retries: 3, b: x}") == {"a:1:max-retries": 3, "b": "x"}
    assert parse_value(params, "{cert=/x/c.pem;key=/x/k.pem}") == {
        "cert": "/x/c.pem",
        "key": "/x/k.pem",
    }
    assert parse_value(OPTIONS["qorus.defines"], "DEBUG=1") == {"DEBUG": "1"}
    assert parse_value(params, "{}") == {}


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("qorus.max-retries", "abc", "qorus.max-retries: 'abc' is not an integer"),
        ("qorus.max-retries", "-1", "qorus.max-retries: -1 is out of range (at least 0)"),
        ("qorus.alert-fs-full", "101", "qorus.alert-fs-full: 101 is out of range (at most 100)"),
        ("qorus.auto-recover", "maybe", "'maybe' is not a boolean"),
        ("qorus.auto-recover", "", "a value is required"),
        ("qorus.audit", "workflows, bogus", "'bogus' is not one of system, workflows"),
        ("qorus.http-server", "[8001", "is not a valid list"),
        ("qorus.http-server", "[[1], 2]", "list items must be plain values"),
        ("qorus.workflow-params", "{a: [1", "is not a valid hash"),
        ("qorus.workflow-params", "{a", "missing '}'"),
        ("qorus.workflow-params", "novalue", "'novalue' is not key=value"),
        ("qorus.workflow-params", "{[1, 2]}", "is not a valid hash"),
    ],
)
def test_bad_values(name: str, raw: str, message: str) -> None:
    with pytest.raises(OptionError) as info:
        parse_value(OPTIONS[name], raw)
    assert message in info.value.desc


def test_file_errors_name_file_and_line(omq: OmqDir) -> None:
    path = omq.options_file
    cases = {
        "# c\n\nqorus.max-retrys: 3\n": (
            f"{path}:3: unknown option 'qorus.max-retrys' (did you mean 'qorus.max-retries'?)"
        ),
        "qorus.recover-dlay: 3\n": (
            f"{path}:1: unknown option 'qorus.recover-dlay' (did you mean 'qorus.recover_delay'?)"
        ),
        "qorus.zzzzzz = 1\n": f"{path}:1: unknown option 'qorus.zzzzzz'",
        "qorsu.max-retries = 1\n": (
            f"{path}:1: unknown option domain 'qorsu' in 'qorsu.max-retries' "
            "(known: qorus, qorus-client, ldap)"
        ),
        "max-retries = 1\n": (
            f"{path}:1: option 'max-retries' lacks a domain such as 'qorus.' "
            "(did you mean 'qorus.max-retries'?)"
        ),
        "\nqorus.max-retries = abc\n": f"{path}:2: qorus.max-retries: 'abc' is not an integer",
        "qorus.workflow-workers = 0\n": (
            f"{path}:1: qorus.workflow-workers: 0 is out of range (at least 1)"
        ),
        "qorus.max-retries 5\n": (
            f"{path}:1: expected 'domain.NAME = value' or 'domain.NAME: value', "
            "got 'qorus.max-retries 5'"
        ),
        "qorus.max-retries = 1\nqorus.cache-max = 9\nqorus.max-retries: 2\n": (
            f"{path}:3: option 'qorus.max-retries' is set twice (first on line 1)"
        ),
    }
    for text, expected in cases.items():
        assert load_error(omq, text) == expected


def test_unreadable_file(omq: OmqDir) -> None:
    omq.options_file.mkdir()
    with pytest.raises(OptionError, match="cannot read the options file"):
        load_options(omq)


def test_explicit_path(omq: OmqDir, tmp_path: Path) -> None:
    other = tmp_path / "other-options"
    other.write_text("qorus.max-retries: 1\n", encoding="utf-8")
    assert load_options(omq, path=other).get("max-retries") == 1


# --- overrides -----------------------------------------------------------------------------


def test_overrides_win_over_the_file(omq: OmqDir) -> None:
    write(omq, "qorus.max-retries = 7\nqorus.cache-max = 9\n")
    options = load_options(
        omq, ["max-retries=3", "qorus-client.client-url=http://x:1", "ldap.timeout=4"]
    )
    assert options.get("max-retries") == 3
    assert options.source("max-retries") == "command line"
    assert options.get("cache-max") == 9
    assert options.source("cache-max") == "file"
    assert options.get("qorus-client.client-url") == "http://x:1"
    assert options.get("ldap.timeout") == 4
    assert options.source("detach-delay") == "default"


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("max-retries=abc", "command line: qorus.max-retries: 'abc' is not an integer"),
        (
            "max-retrys=1",
            "command line: unknown option 'qorus.max-retrys' (did you mean 'qorus.max-retries'?)",
        ),
        ("max-retries", "command line: expected NAME=value, got 'max-retries'"),
        ("=3", "command line: expected NAME=value, got '=3'"),
    ],
)
def test_bad_overrides(omq: OmqDir, arg: str, message: str) -> None:
    with pytest.raises(OptionError) as info:
        load_options(omq, [arg])
    assert info.value.desc == message


def test_override_twice(omq: OmqDir) -> None:
    with pytest.raises(OptionError, match=r"'qorus\.recover_delay' is given twice"):
        load_options(omq, ["recover_delay=1", "recover-delay=2"])


# --- the Options object --------------------------------------------------------------------


def test_get_names_and_unknown() -> None:
    options = Options()
    assert options.get("max-retries") == options.get("qorus.max-retries") == 5
    assert options["cache-max"] == 50000
    assert options.spec("recover-delay") is OPTIONS["qorus.recover_delay"]
    assert lookup("ldap.uri").full_name == "ldap.uri"
    with pytest.raises(OptionError, match=r"unknown option 'qorus\.nope'"):
        options.get("nope")
    with pytest.raises(OptionError, match="unknown option domain 'x'"):
        options.get("x.y")


def test_set_at_runtime() -> None:
    options = Options()
    assert options.set("max-retries", 9) == 9
    assert options.get("max-retries") == 9
    assert options.source("max-retries") == "runtime"
    assert options.set("audit", "workflows,jobs") == ["workflows", "jobs"]
    assert options.set("qorus.audit", ("api",)) == ["api"]
    assert options.set("auto-recover", "off") is False
    assert options.set("cors-enable", True) is True
    assert options.set("ldap.uri", "ldap://h") == "ldap://h"
    assert options.set("ldap.uri", None) is None
    assert options.set("defines", {"A": 1}) == {"A": 1}
    for name, bad, msg in [
        ("max-retries", "x", "not an integer"),
        ("max-retries", True, "not an integer"),
        ("max-retries", -3, "out of range"),
        ("auto-recover", 2, "not a boolean"),
        ("ldap.uri", 5, "not a string"),
        ("audit", 5, "not a list"),
        ("audit", ["nope"], "not one of"),
        ("defines", [1], "not a hash"),
    ]:
        with pytest.raises(OptionError, match=msg):
            options.set(name, bad)
    assert options.get("max-retries") == 9


def test_set_refuses_startup_only() -> None:
    options = Options()
    with pytest.raises(OptionError) as info:
        options.set("instance-key", "other")
    assert info.value.code == "OPTION-ERROR"
    assert info.value.http_status == 409
    assert "can only be set at startup" in info.value.desc
    assert options.get("instance-key") == "qorus-test-instance"
    assert options.source("instance-key") == "default"


def test_items_and_as_dict_are_copies() -> None:
    options = Options()
    names = [name for name, _ in options.items()]
    assert names == list(OPTIONS)
    assert all(n.startswith("ldap.") for n, _ in options.items("ldap"))
    data = options.as_dict()
    data["qorus.http-server"].append("9999")
    assert options.get("http-server") == ["8001"]
    assert OPTIONS["qorus.http-server"].default == ["8001"]


def test_resolved_helpers(omq: OmqDir) -> None:
    options = Options()
    assert options.systemdb is None
    assert options.logdir(omq) == omq.log
    assert options.node == socket.gethostname()
    assert options.path_option("sensitive-data-key", omq) is None
    write(
        omq, "qorus.logdir = $OMQ_DIR/logs2\nqorus.node: n1\nqorus.http-secure-certificate: c.pem\n"
    )
    options = load_options(omq)
    assert options.logdir(omq) == omq.root / "logs2"
    assert options.node == "n1"
    assert options.path_option("http-secure-certificate", omq) == omq.root / "c.pem"

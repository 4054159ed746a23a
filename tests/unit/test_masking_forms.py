"""The one secret masker over every form a secret comes in."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import make_url

from qorus_core.db.engine import mask, parse_datasource
from qorus_core.model.errors import DatasourceError
from qorus_core.options import OPTIONS, Options, parse_options_text, parse_overrides
from qorus_core.options.parser import COMMAND_LINE
from qorus_core.secrets import MASK, is_secret_key, mask_option, mask_secrets, mask_text, mask_url

SECRET = "Sup3r-S3cret"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        # Qore datasource form
        (f"pgsql:omq/{SECRET}@omq%localhost:5432", f"pgsql:omq/{MASK}@omq%localhost:5432"),
        (f"oracle:scott/{SECRET}@xe", f"oracle:scott/{MASK}@xe"),
        (
            f"mysql:root/{SECRET}@db(utf8)%h:3306{{min=1}}",
            f"mysql:root/{MASK}@db(utf8)%h:3306{{min=1}}",
        ),
        (f"pgsql:omq/p@ss/w:{SECRET}@omq%h", f"pgsql:omq/{MASK}@omq%h"),
        # SQLAlchemy URLs and other URLs with credentials
        (f"postgresql+psycopg://u:{SECRET}@h:5432/db", f"postgresql+psycopg://u:{MASK}@h:5432/db"),
        (f"postgresql://u:a/b:{SECRET}@h/db", f"postgresql://u:{MASK}@h/db"),
        (f"postgresql://u@h/db?password={SECRET}", f"postgresql://u@h/db?password={MASK}"),
        (f"http://proxyuser:{SECRET}@proxy:3128", f"http://proxyuser:{MASK}@proxy:3128"),
        (f"https://:{SECRET}@host", f"https://:{MASK}@host"),
        (f"ldap://cn=admin,dc=x:{SECRET}@ldap:389", f"ldap://cn=admin,dc=x:{MASK}@ldap:389"),
        # listener parameters, query strings, key=value
        (
            f"8443{{cert=c.pem;key=k.pem;password={SECRET}}}",
            f"8443{{cert=c.pem;key=k.pem;password={MASK}}}",
        ),
        (f'8443{{password="a;b {SECRET}";cert=c}}', f'8443{{password="{MASK}";cert=c}}'),
        (
            f"PUT /x?action=set&ldap.password={SECRET}&a=1",
            f"PUT /x?action=set&ldap.password={MASK}&a=1",
        ),
        (f"user=u pass={SECRET}", f"user=u pass={MASK}"),
        (f"sslpassword = {SECRET}", f"sslpassword = {MASK}"),
        (f"client_secret={SECRET};x=1", f"client_secret={MASK};x=1"),
        # JSON and Python reprs
        (f'{{"pass": "{SECRET}", "user": "u"}}', f'{{"pass": "{MASK}", "user": "u"}}'),
        (f"{{'ldap.password': '{SECRET}'}}", f"{{'ldap.password': '{MASK}'}}"),
        (f'{{"x-password": "a\\"{SECRET}"}}', f'{{"x-password": "{MASK}"}}'),
    ],
)
def test_secrets_are_masked(text: str, shown: str) -> None:
    assert mask_text(text) == shown
    assert SECRET not in mask_text(text)
    assert mask_text(shown) == shown  # masking twice changes nothing


@pytest.mark.parametrize(
    "text",
    [
        "sqlite:////tmp/a@b/qorus.sqlite",
        "sqlite:/tmp/a@b/qorus.sqlite",
        "pgsql:omq@omq%localhost:5432",
        "http://host:8001/api/latest/system",
        "mail alice@example.com",
        "bypass=1 compass=2 password-policy-min-length=8",
        "passwords need a digit",
        "step Step:1.0 done",
    ],
)
def test_plain_text_is_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_secret_keys() -> None:
    for key in ("pass", "password", "ldap.password", "http-secure-private-key-password",
                "sslpassword", "db_pwd", "client_secret", "Passphrase"):  # fmt: skip
        assert is_secret_key(key), key
    for key in ("bypass", "passwords", "password-policy-min-length", "user", "passport"):
        assert not is_secret_key(key), key


def test_structures_are_masked_by_key_and_value() -> None:
    value: Any = {
        "pass": SECRET,
        "user": "u",
        "nested": [{"password": SECRET}, (f"pgsql:u/{SECRET}@db",)],
        "http-secure-private-key-password": SECRET,
        "empty-password": None,
        7: "seven",
    }
    out = mask_secrets(value)
    assert SECRET not in repr(out)
    assert out["user"] == "u" and out[7] == "seven" and out["empty-password"] is None
    assert out["nested"][1] == (f"pgsql:u/{MASK}@db",)
    assert value["pass"] == SECRET  # the original is not changed


def test_sqlalchemy_url_objects() -> None:
    url = make_url(f"postgresql+psycopg://u:{SECRET.replace('-', '@')}@h:5432/db?sslpassword=x1")
    shown = mask_url(url)
    assert shown == f"postgresql+psycopg://u:{MASK}@h:5432/db?sslpassword={MASK}"
    assert mask(url) == shown and mask_secrets(url) == shown
    assert mask_url(make_url("sqlite:////tmp/x.sqlite")) == "sqlite:////tmp/x.sqlite"


def test_options_marked_secret_are_hidden_whole() -> None:
    for full, spec in OPTIONS.items():
        if spec.secret:
            assert mask_option(spec, "anything at all") == MASK, full
            assert mask_option(spec, None) is None
            assert is_secret_key(full) and is_secret_key(spec.name)
    ds = OPTIONS["qorus.systemdb"]
    assert mask_option(ds, f"pgsql:omq/{SECRET}@omq%h:5432") == f"pgsql:omq/{MASK}@omq%h:5432"
    listeners = OPTIONS["qorus.http-secure-server"]
    shown = mask_option(listeners, [f"8443{{cert=c;password={SECRET}}}", "8444"])
    assert shown == [f"8443{{cert=c;password={MASK}}}", "8444"]


def test_datasource_errors_do_not_show_the_password() -> None:
    for bad in (f"pgsql:omq/{SECRET}@", f"postgresql://u:{SECRET}@h:notaport/db"):
        with pytest.raises(DatasourceError) as err:
            parse_datasource(bad)
        assert SECRET not in err.value.desc


def test_option_errors_do_not_show_the_password() -> None:
    with pytest.raises(Exception) as err:
        parse_options_text(f"ldap.password {SECRET}\n", "/etc/options")
    assert SECRET not in str(err.value) and "/etc/options:1" in str(err.value)
    with pytest.raises(Exception) as err:
        parse_options_text(f"qorus.systemdb pgsql:omq/{SECRET}@db\n", "/etc/options")
    assert SECRET not in str(err.value)
    with pytest.raises(Exception) as err:
        parse_overrides([f"ldap.password:{SECRET}"])
    assert SECRET not in str(err.value) and COMMAND_LINE in str(err.value)
    opts = Options({"ldap.password": SECRET})
    assert opts.get("ldap.password") == SECRET  # the value itself is kept for use

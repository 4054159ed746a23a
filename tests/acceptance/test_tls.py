"""A TLS listener with a certificate the test makes, beside a plain one."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from qorus_proc import free_port, tool

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]


def make_cert(folder: Path, password: bytes | None) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    enc = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)
    )
    return cert_path, key_path


def test_tls_listener(omq_dir: Path, tmp_path: Path, start_qorus: Any) -> None:
    cert, key = make_cert(tmp_path, b"s3cret")
    plain, secure = free_port(), free_port()
    q = start_qorus(
        omq_dir,
        f"http-server=127.0.0.1:{plain}",
        f"http-secure-server=127.0.0.1:{secure}",
        f"http-secure-certificate={cert}",
        f"http-secure-private-key={key}",
        "http-secure-private-key-password=s3cret",
        port=plain,
    )
    url = f"https://127.0.0.1:{secure}"
    q.wait_ready(url=url, verify=ssl.create_default_context(cafile=str(cert)))
    r = httpx.get(
        f"{url}/api/latest/system/listeners", verify=ssl.create_default_context(cafile=str(cert))
    )
    assert [lst["ssl"] for lst in r.json()] == [False, True]
    with pytest.raises(httpx.ConnectError):  # an unknown certificate is not trusted
        httpx.get(f"{url}/api/latest/system/ping")
    res = tool("qrest", "--insecure", "-u", url, "system/ping")
    assert res.returncode == 0 and res.stdout.strip() == "OK"
    assert q.terminate()[0] == 0


def test_tls_listener_with_inline_parameters(
    omq_dir: Path, tmp_path: Path, start_qorus: Any
) -> None:
    cert, key = make_cert(tmp_path, None)
    port = free_port()
    q = start_qorus(omq_dir, f"http-server=127.0.0.1:{port}{{cert={cert};key={key}}}", ready=False)
    # http-server is plain HTTP: the parameters belong to http-secure-server only
    code, err = q.wait_exit()
    assert code == 9 and "http-secure-server" in err
    secure = free_port()
    q = start_qorus(
        omq_dir,
        f"http-server=127.0.0.1:{port}",
        f"http-secure-server=127.0.0.1:{secure}{{cert={cert};key={key}}}",
        port=port,
    )
    r = httpx.get(
        f"https://127.0.0.1:{secure}/api/latest/system/ping",
        verify=ssl.create_default_context(cafile=str(cert)),
    )
    assert r.json() == "OK"
    assert q.terminate()[0] == 0


def test_tls_bad_certificate(omq_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    res = tool(
        "qorus",
        "-d",
        str(omq_dir),
        "-f",
        f"http-server=127.0.0.1:{free_port()}",
        f"http-secure-server=127.0.0.1:{free_port()}",
        f"http-secure-certificate={bad}",
    )
    assert res.returncode == 99 and "certificate" in res.stderr

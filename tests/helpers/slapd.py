"""A real OpenLDAP server for the LDAP tests: Debian's ``slapd`` started as the current user on
free loopback ports, with its own configuration (``slapd.conf``), its own small directory
(loaded with ``slapadd``) and, for ldaps and StartTLS, a certificate signed by a throw-away CA
made with ``cryptography``.

The directory, below ``dc=example,dc=com``::

    ou=people     the users (inetOrgPerson, ``uid`` naming, SSHA passwords); each user's
                  roles are values of ``employeeType`` like ``cn=qorus-operator,ou=roles,...``
    ou=roles      where those role DNs point (organizationalRole entries)
    cn=search     a search account (for ``ldap.bind-dn``)

Anonymous clients may only bind; a bound user reads the directory but no password.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BASE = "dc=example,dc=com"
PEOPLE = f"ou=people,{BASE}"
ROLES = f"ou=roles,{BASE}"
SEARCH_DN = f"cn=search,{BASE}"
SEARCH_PW = "S3arch-Secret"
ROOT_DN = f"cn=admin,{BASE}"
ROOT_PW = "R00t-Secret"
SCHEMAS = ("core", "cosine", "inetorgperson")
MODULE_DIRS = ("/usr/lib/ldap", "/usr/lib/x86_64-linux-gnu/ldap", "/usr/lib64/openldap")


@dataclass(frozen=True)
class User:
    uid: str
    password: str
    roles: tuple[str, ...] = ()
    cn: str = ""

    @property
    def dn(self) -> str:
        return f"uid={escape_dn(self.uid)},{PEOPLE}"


#: the users of the test directory; ``roles`` are the values of employeeType
USERS: tuple[User, ...] = (
    User("ann", "Ann-Secret1", (f"cn=qorus-operator,{ROLES}",), "Ann Operator"),
    User("vic", "V1c-Secret", (f"cn=qorus-read-only,{ROLES}", f"cn=wiki-admin,{ROLES}"), "Vic"),
    User("sue", "Su3-Secret", (f"cn=qorus-superuser,{ROLES}",), "Sue Super"),
    # roles the regex takes but RBAC does not define, and one it does not take: no LOGIN
    User("nora", "N0ra-Secret", (f"cn=qorus-no-such-role,{ROLES}", f"cn=mail,{ROLES}"), "Nora"),
    # a name with DN metacharacters, bound through a correctly escaped DN
    User("lee, jr+x", "L33-Secret", (f"cn=qorus-read-only,{ROLES}",), "Lee Junior"),
)


def escape_dn(value: str) -> str:
    """An attribute value for a DN (RFC 4514), written independently of the code under test."""
    out = []
    for i, ch in enumerate(value):
        if ch in ',+"\\<>;=' or (ch == "#" and i == 0) or (ch == " " and i in (0, len(value) - 1)):
            out.append("\\" + ch)
        elif ch == "\0":
            out.append("\\00")
        else:
            out.append(ch)
    return "".join(out)


def ssha(password: str) -> str:
    """``userPassword`` as slapd checks it: ``{SSHA}`` base64(sha1(password + salt) + salt)."""
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sbin(tool: str) -> str | None:
    """A server tool's path: on PATH, else in the sbin folders a user's PATH may lack."""
    path = os.environ.get("PATH", "")
    return shutil.which(tool, path=f"{path}:/usr/sbin:/usr/local/sbin:/sbin")


def require_slapd() -> str:
    """slapd's path; skip with the reason when absent, except under CI (then it fails)."""
    path = _sbin("slapd")
    if path is None or _sbin("slapadd") is None:
        msg = "OpenLDAP's slapd and slapadd are not installed (Debian: slapd ldap-utils)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{msg} (under CI=true this is a failure)", pytrace=False)
        pytest.skip(msg)
    return path


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 and localhost: (ca, cert, key) PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("qorus-py test CA"))
        .issuer_name(name("qorus-py test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca_file.write_bytes(ca.public_bytes(pem))
    cert_file.write_bytes(cert.public_bytes(pem))
    key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_file.chmod(0o600)
    return ca_file, cert_file, key_file


def _ldif(users: tuple[User, ...]) -> str:
    entries = [
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people",
        f"dn: {ROLES}\nobjectClass: organizationalUnit\nou: roles",
        f"dn: {SEARCH_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: search\nuserPassword: {ssha(SEARCH_PW)}",
    ]
    for role in ("operator", "read-only", "superuser"):
        entries.append(
            f"dn: cn=qorus-{role},{ROLES}\nobjectClass: organizationalRole\ncn: qorus-{role}"
        )
    for u in users:
        lines = [
            f"dn: {u.dn}",
            "objectClass: inetOrgPerson",
            "uid:: " + base64.b64encode(u.uid.encode()).decode(),
            f"cn: {u.cn or u.uid}",
            f"sn: {u.cn or u.uid}",
            f"userPassword: {ssha(u.password)}",
        ]
        lines += [f"employeeType: {r}" for r in u.roles]
        entries.append("\n".join(lines))
    return "\n\n".join(entries) + "\n"


@dataclass
class Slapd:
    """One slapd: ``uri`` (ldap://, StartTLS offered) and ``ldaps_uri``; ``ca_file`` trusts it."""

    folder: Path
    binary: str
    port: int = field(default_factory=free_port)
    ldaps_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    ca_file: Path | None = None

    @property
    def uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_uri(self) -> str:
        return f"ldaps://127.0.0.1:{self.ldaps_port}"

    @property
    def log_file(self) -> Path:
        return self.folder / "slapd.log"

    def setup(self, users: tuple[User, ...] = USERS) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        db = self.folder / "db"
        db.mkdir(exist_ok=True)
        self.ca_file, cert, key = make_certificates(self.folder)
        moddir = next((d for d in MODULE_DIRS if Path(d, "back_mdb.so").exists()), None)
        modules = f"modulepath {moddir}\nmoduleload back_mdb\n" if moddir else ""
        includes = "".join(f"include /etc/ldap/schema/{s}.schema\n" for s in SCHEMAS)
        conf = self.folder / "slapd.conf"
        conf.write_text(
            f"{includes}{modules}"
            f"pidfile {self.folder}/slapd.pid\n"
            f"argsfile {self.folder}/slapd.args\n"
            f"TLSCACertificateFile {self.ca_file}\n"
            f"TLSCertificateFile {cert}\n"
            f"TLSCertificateKeyFile {key}\n"
            "loglevel stats\n"
            "database mdb\n"
            f'suffix "{BASE}"\n'
            f'rootdn "{ROOT_DN}"\n'
            f"rootpw {ssha(ROOT_PW)}\n"
            f"directory {db}\n"
            "maxsize 10485760\n"
            "access to attrs=userPassword\n  by self read\n  by anonymous auth\n  by * none\n"
            "access to *\n  by users read\n  by * none\n",
            encoding="utf-8",
        )
        data = self.folder / "data.ldif"
        data.write_text(_ldif(users), encoding="utf-8")
        slapadd = _sbin("slapadd")
        assert slapadd is not None
        res = subprocess.run(
            [slapadd, "-f", str(conf), "-l", str(data)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert res.returncode == 0, f"slapadd failed: {res.stderr}{res.stdout}"

    def start(self, timeout: float = 20.0) -> None:
        """Start slapd in the foreground of a child process and wait for both listeners."""
        assert self.proc is None or self.proc.poll() is not None
        urls = f"{self.uri}/ {self.ldaps_uri}/"
        log = self.log_file.open("ab")
        self.proc = subprocess.Popen(
            # -d: stay in the foreground (the log goes to stderr); no -u: the current user
            [self.binary, "-f", str(self.folder / "slapd.conf"), "-h", urls, "-d", "256"],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        for port in (self.port, self.ldaps_port):
            while True:
                if self.proc.poll() is not None:
                    raise AssertionError(
                        f"slapd exited {self.proc.returncode}: "
                        + self.log_file.read_text(errors="replace")[-3000:]
                    )
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise AssertionError("slapd did not listen in time") from None
                    time.sleep(0.05)

    def stop(self) -> None:
        """Stop this slapd (the one started here, by its pid) and wait for it to exit."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        # the ports must be free again before anyone relies on "down"
        for port in (self.port, self.ldaps_port):
            for _ in range(100):
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        time.sleep(0.05)
                except OSError:
                    break


def running_slapd(folder: Path) -> Iterator[Slapd]:
    """A started slapd with the test directory (for a fixture); stopped at the end."""
    server = Slapd(folder, require_slapd())
    server.setup()
    server.start()
    try:
        yield server
    finally:
        server.stop()

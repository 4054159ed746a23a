"""Options of access: security (RBAC, logins, tokens, throttling, TLS keys), the clients'
connection (``qorus-client.*``) and LDAP (``ldap.*``)."""

from __future__ import annotations

from qorus_core.options.declare import STARTUP_ONLY, client, ldap, opt

# --- security --------------------------------------------------------------------------------
opt(
    "rbac-security",
    "bool",
    False,
    "require a login and check permissions on every call",
    **STARTUP_ONLY,
)
opt(
    "rbac-force-user",
    "list",
    [],
    "host-or-ip-pattern=user pairs: requests from matching hosts act as that user "
    "(wildcards like 192.168.*)",
)
opt(
    "rbac-external",
    "list",
    [],
    "external authenticators tried after the local users, e.g. QorusLdapAuth",
    **STARTUP_ONLY,
)
opt("rbac-token-expiration", "int", 86400, "seconds a login token stays valid", min=1)
# login throttling and the password-hashing pool (see docs/operator-guide.md, Logins)
opt(
    "rbac-login-max-failures",
    "int",
    5,
    "failed logins from one client address within rbac-login-failure-window before that "
    "address is refused (HTTP 429) for rbac-login-lock-time seconds; 0: no limit",
    min=0,
)
opt(
    "rbac-login-failure-window",
    "int",
    300,
    "seconds over which failed logins are counted for rbac-login-max-failures and "
    "rbac-login-user-max-failures",
    min=1,
)
opt(
    "rbac-login-lock-time",
    "int",
    300,
    "seconds a client address is refused after rbac-login-max-failures failed logins",
    min=1,
)
opt(
    "rbac-login-user-max-failures",
    "int",
    20,
    "failed logins for one user name, from any address, within rbac-login-failure-window "
    "before the name is locked for rbac-login-user-lock-time seconds (not for addresses "
    "where that user logged in lately); 0: no limit",
    min=0,
)
opt(
    "rbac-login-user-lock-time",
    "int",
    30,
    "seconds a user name is locked after rbac-login-user-max-failures failed logins",
    min=1,
)
opt(
    "rbac-login-threads",
    "int",
    2,
    "threads that check passwords (argon2), apart from the threads serving requests",
    min=1,
    max=64,
    **STARTUP_ONLY,
)
opt(
    "rbac-login-queue",
    "int",
    32,
    "password checks that may wait for a login thread; more are refused at once (HTTP 503)",
    min=0,
    max=10000,
    **STARTUP_ONLY,
)
opt("password-policy-min-length", "int", 8, "shortest password accepted for a local user", min=0)
opt(
    "password-policy-mixed-case", "bool", False, "passwords need both upper- and lower-case letters"
)
opt("password-policy-numbers", "bool", False, "passwords need a digit")
opt(
    "password-policy-symbols",
    "bool",
    False,
    "passwords need a character that is no letter or digit",
)
opt(
    "sensitive-data-key",
    "string",
    None,
    "file of the 32-byte key that encrypts sensitive order data",
    default_text="$OMQ_DIR/etc/sensitive_data.key",
    **STARTUP_ONLY,
)
opt(
    "sensitive-value-key",
    "string",
    None,
    "file of the 4 to 56-byte key that encrypts sensitive values",
    default_text="$OMQ_DIR/etc/sensitive_value.key",
    **STARTUP_ONLY,
)
opt(
    "purge-sensitive-data-complete",
    "bool",
    True,
    "delete an order's sensitive data as soon as it is COMPLETE",
)
opt(
    "purge-sensitive-data-canceled",
    "bool",
    True,
    "delete an order's sensitive data as soon as it is CANCELED",
)

# --- clients ---------------------------------------------------------------------------------
client(
    "client-url",
    "string",
    "http://localhost:8001",
    "URL of the server for the command-line clients",
)
client("proxy-url", "string", None, "HTTP proxy the clients go through")
client("connect-timeout", "int", 30, "seconds a client waits to connect", min=1)
client("timeout", "int", 120, "seconds a client waits for an answer", min=1)
client(
    "allow-redefinition",
    "bool",
    False,
    "let oload redefine objects as if -A/--allow-redef were given",
)

# --- LDAP ------------------------------------------------------------------------------------
ldap("uri", "string", None, "LDAP server URI, e.g. ldap://ldap.example.com:389")
ldap("base", "string", None, "search base, e.g. dc=example,dc=com")
ldap(
    "bind-dn",
    "string",
    None,
    "DN of an account that finds a user's entry by uentry below ubase, then the user binds "
    "as that entry; unset: the user binds as uentry=NAME,ubase,base",
)
ldap("password", "string", None, "password of bind-dn", secret=True)
ldap(
    "directbindprefix",
    "string",
    None,
    "prefix put before the user name to bind directly, e.g. EXAMPLE\\",
)
ldap("directusername", "bool", False, "bind with the bare user name")
ldap("ubase", "string", "ou=people", "where users live, below base")
ldap("uentry", "string", "uid", "attribute holding the user name")
ldap("roleattr", "string", None, "user attribute that lists the user's roles")
ldap(
    "roleregex",
    "string",
    None,
    "regex whose first group takes the role name from each roleattr value (values it does "
    "not match are skipped); unset: the whole value",
)
ldap("timeout", "int", 10, "seconds to wait for the LDAP server", min=1)
ldap("starttls", "bool", False, "upgrade an ldap:// connection with StartTLS")
ldap(
    "ca-file",
    "string",
    None,
    "PEM file of the CAs that sign the LDAP server's certificate (ldaps, StartTLS); "
    "the system's CAs when unset",
)

"""A certificate authority of the deployment's own, and the server certificates it signs: what
`spc certificates` writes for deploy/compose.yaml (the broker's AMQPS and management listeners,
the HTTPS proxy), and what the tests make for theirs. With `cryptography` (already there for
PyJWT): no crypto of ours, only X.509 building.

Kept, not remade: a CA found in the folder (ca.crt and ca.key, EC or RSA) signs what is missing,
and a certificate with its key, naming what is asked and valid for RENEW_BEFORE more, is left as
it is, whoever issued it. So an operator may put their PKI's CA, or its certificates and keys
(with only its ca.crt), in the folder first; running the command again (each `docker compose
up`) renews only what is about to expire, and says what it cannot."""

import datetime
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
SERVER_DAYS = 397  # what browsers accept for a server certificate
RENEW_BEFORE = datetime.timedelta(days=30)


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _name(common):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _write_key(path, key, owner=None):
    """A private key, readable by its owner only (uid:gid `owner`, when root may give it away)."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(_pem_key(key))
    os.chmod(path, 0o600)
    if owner is not None:
        os.chown(path, *owner)
    return path


def _alt_names(names):
    out = []
    for name in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            out.append(x509.DNSName(name))
    return out


class Authority:
    """A certificate authority: a new one (`Authority()`, days=`days`), or the one in a folder
    (`Authority.in_folder`)."""

    def __init__(self, name="SPC test CA", days=2, key=None, cert=None):
        if cert is not None:
            self.key, self.cert = key, cert
            return
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self.key, hashes.SHA256())
        )

    @classmethod
    def in_folder(cls, folder, name="SPC deployment CA"):
        """The CA of `folder` (ca.crt, ca.key), made there if absent; (authority, made?)."""
        folder = Path(folder)
        crt, key = folder / "ca.crt", folder / "ca.key"
        if crt.exists() and key.exists():
            cert = x509.load_pem_x509_certificate(crt.read_bytes())
            return cls(key=serialization.load_pem_private_key(key.read_bytes(), None), cert=cert), False
        authority = cls(name, days=CA_DAYS)
        _write_key(key, authority.key)
        authority.write(crt)
        return authority, True

    def write(self, path):
        Path(path).write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        os.chmod(path, 0o644)
        return Path(path)

    def issue(self, cert_path, key_path, dns=("localhost",), ips=(), common_name=None, client=False, days=1, owner=None):
        """A certificate for the `dns` names and `ips` (and nothing else), with its key: a
        server's, or (`client`) a client's, named `common_name` (RabbitMQ's x509 login takes
        that name). The key is 0600, given to `owner` (uid, gid) if set."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        names = _alt_names([*dns, *ips])
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name or [*dns, *ips][0]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        _write_key(key_path, key, owner)
        Path(cert_path).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        os.chmod(cert_path, 0o644)
        return Path(cert_path), Path(key_path)


class CertificateError(ValueError):
    """What `spc certificates` cannot do, in one line."""


def _usable(cert_path, key_path, names=None, common_name=None):
    """A certificate with its key, naming exactly `names` (a server's) or called `common_name` (a
    client's), valid for RENEW_BEFORE more: whoever issued it, the deployment's CA or the
    operator's PKI."""
    try:
        cert = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
        key = serialization.load_pem_private_key(Path(key_path).read_bytes(), None)
        spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        if cert.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
            return False
        if names is not None:
            sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            if {str(n.value) for n in sans} != {str(n.value) for n in _alt_names(names)}:
                return False
        if common_name is not None:
            if [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] != [common_name]:
                return False
    except Exception:  # unreadable, without names, or a key of another kind: not usable
        return False
    return cert.not_valid_after_utc - _now() > RENEW_BEFORE


def make(folder, servers, owners=None, clients=()):
    """The CA of `folder`, a certificate per server ({file stem: [names]}) and per client (a
    broker user's x509 login: NAME.crt for common name NAME), each made only if missing, naming
    other names, without its key or near its end; [(path, 'kept' | 'written')]. A CA certificate
    put there without its key (an operator's PKI) signs nothing: what it lacks is an error."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "ca.crt").exists() and not (folder / "ca.key").exists():
        authority, made = None, False
    else:
        authority, made = Authority.in_folder(folder)
    done = [(folder / "ca.crt", "written" if made else "kept")]
    wanted = [(stem, names, None) for stem, names in servers.items()] + [(name, None, name) for name in clients]
    for stem, names, client in wanted:
        crt, key = folder / f"{stem}.crt", folder / f"{stem}.key"
        owner = (owners or {}).get(stem)
        if not made and _usable(crt, key, names, client):
            if owner is not None:
                os.chown(key, *owner)
            done.append((crt, "kept"))
            continue
        if authority is None:
            raise CertificateError(
                f"{crt.name} is missing, names other hosts, does not match {key.name} or ends within 30 days, "
                f"and there is no ca.key to sign a new one: put {crt.name} and {key.name} of your PKI in {folder}"
            )
        if client:
            authority.issue(crt, key, dns=(), common_name=client, client=True, days=SERVER_DAYS, owner=owner)
        else:
            authority.issue(crt, key, dns=tuple(names), common_name=names[0], days=SERVER_DAYS, owner=owner)
        done.append((crt, "written"))
    return done

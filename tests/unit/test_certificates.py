"""`spc certificates` (spc/cli/certificates.py): the CA and server certificates compose's TLS runs on.
What is there is kept; what is missing, foreign, misnamed or near its end is made again."""

import os
import ssl
import subprocess
import sys

from cryptography import x509

from spc.cli.certificates import Authority, make


def _names(path):
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return sorted(str(n.value) for n in cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)


def test_a_fresh_folder_gets_a_ca_and_certificates_a_tls_client_accepts(tmp_path):
    done = make(tmp_path, {"rabbitmq": ["rabbitmq", "localhost"], "proxy": ["spc.example.fr", "127.0.0.1"]})
    assert [(p.name, what) for p, what in done] == [("ca.crt", "written"), ("rabbitmq.crt", "written"), ("proxy.crt", "written")]
    assert _names(tmp_path / "rabbitmq.crt") == ["localhost", "rabbitmq"]
    assert _names(tmp_path / "proxy.crt") == ["127.0.0.1", "spc.example.fr"]
    for key in ("ca.key", "rabbitmq.key", "proxy.key"):
        assert oct((tmp_path / key).stat().st_mode & 0o777) == "0o600", key
    # a TLS client trusting ca.crt accepts the server certificate for its names, and only those
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(tmp_path / "rabbitmq.crt", tmp_path / "rabbitmq.key")
    client = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
    for name, accepted in (("rabbitmq", True), ("localhost", True), ("proxy", False)):
        c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
        c = client.wrap_bio(c_in, c_out, server_hostname=name)
        s = server.wrap_bio(s_in, s_out, server_side=True)
        error = None
        for _ in range(10):
            for side in (c, s):
                try:
                    side.do_handshake()
                except ssl.SSLWantReadError:
                    pass
                except ssl.SSLCertVerificationError as exc:
                    error = exc
                except ssl.SSLError:
                    pass
            s_in.write(c_out.read())
            c_in.write(s_out.read())
        assert (error is None) == accepted, (name, error)


def test_a_second_run_keeps_everything_and_renews_only_what_changed_or_nears_its_end(tmp_path):
    make(tmp_path, {"rabbitmq": ["rabbitmq"], "proxy": ["localhost"]})
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert {what for _, what in make(tmp_path, {"rabbitmq": ["rabbitmq"], "proxy": ["localhost"]})} == {"kept"}
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    authority, made = Authority.in_folder(tmp_path)
    assert not made
    authority.issue(tmp_path / "proxy.crt", tmp_path / "proxy.key", dns=("localhost",), days=10)  # ends soon
    done = dict(
        (p.name, what) for p, what in make(tmp_path, {"rabbitmq": ["rabbitmq", "broker.example.fr"], "proxy": ["localhost"]})
    )
    assert done == {"ca.crt": "kept", "rabbitmq.crt": "written", "proxy.crt": "written"}
    assert _names(tmp_path / "rabbitmq.crt") == ["broker.example.fr", "rabbitmq"]
    assert (tmp_path / "ca.key").read_bytes() == before["ca.key"]


def test_a_ca_of_your_own_put_there_first_signs_the_rest_rsa_included(tmp_path):
    from cryptography.hazmat.primitives.asymmetric import rsa
    from spc.cli.certificates import _write_key

    own = Authority("Ministère — PKI de test", days=30)
    own.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # an RSA CA, self-signed again
    from cryptography.hazmat.primitives import hashes

    own.cert = (
        x509.CertificateBuilder()
        .subject_name(own.cert.subject)
        .issuer_name(own.cert.subject)
        .public_key(own.key.public_key())
        .serial_number(1)
        .not_valid_before(own.cert.not_valid_before_utc)
        .not_valid_after(own.cert.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(own.key, hashes.SHA256())
    )
    own.write(tmp_path / "ca.crt")
    _write_key(tmp_path / "ca.key", own.key)
    assert dict((p.name, w) for p, w in make(tmp_path, {"proxy": ["localhost"]})) == {"ca.crt": "kept", "proxy.crt": "written"}
    cert = x509.load_pem_x509_certificate((tmp_path / "proxy.crt").read_bytes())
    cert.verify_directly_issued_by(own.cert)
    # the next run keeps it (an RSA CA's signature is checked as well as an EC one's)
    assert {w for _, w in make(tmp_path, {"proxy": ["localhost"]})} == {"kept"}


def test_your_pki_s_certificates_are_kept_and_a_missing_one_without_ca_key_is_an_error(tmp_path):
    pki = Authority("Ministère — PKI", days=400)
    pki.write(tmp_path / "ca.crt")  # its certificate only: its key stays in the PKI
    pki.issue(tmp_path / "rabbitmq.crt", tmp_path / "rabbitmq.key", dns=("rabbitmq", "mq.example.fr"), days=300)
    public = Authority("A public CA", days=400)  # the proxy's certificate, from another (public) CA
    public.issue(tmp_path / "proxy.crt", tmp_path / "proxy.key", dns=("spc.example.fr",), days=90)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    done = make(tmp_path, {"rabbitmq": ["rabbitmq", "mq.example.fr"], "proxy": ["spc.example.fr"]})
    assert {w for _, w in done} == {"kept"}
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing written, no ca.key made
    import pytest
    from spc.cli.certificates import CertificateError

    with pytest.raises(CertificateError, match="no ca.key to sign a new one: put proxy.crt and proxy.key"):
        make(tmp_path, {"rabbitmq": ["rabbitmq", "mq.example.fr"], "proxy": ["spc.example.fr", "localhost"]})
    assert (tmp_path / "ca.crt").read_bytes() == before["ca.crt"] and not (tmp_path / "ca.key").exists()


def test_a_certificate_whose_key_is_not_its_own_is_made_again(tmp_path):
    make(tmp_path, {"proxy": ["localhost"], "other": ["localhost"]})
    (tmp_path / "proxy.key").write_bytes((tmp_path / "other.key").read_bytes())
    assert dict((p.name, w) for p, w in make(tmp_path, {"proxy": ["localhost"]}))["proxy.crt"] == "written"


def test_a_client_certificate_carries_the_broker_user_as_its_common_name(tmp_path):
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    make(tmp_path, {}, clients=["ext-inspection"])
    cert = x509.load_pem_x509_certificate((tmp_path / "ext-inspection.crt").read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "ext-inspection"
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert {w for _, w in make(tmp_path, {}, clients=["ext-inspection"])} == {"kept"}


def _spc(*args):
    return subprocess.run(
        [sys.executable, "-m", "spc.cli", "certificates", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, SPC_LOG_FORMAT="text"),
    )


def test_the_command_says_what_it_wrote_and_refuses_a_malformed_option_in_one_line(tmp_path):
    done = _spc("--out", str(tmp_path / "certs"), "--server", "proxy=localhost,spc.example.fr")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"written: {tmp_path / 'certs' / 'ca.crt'}",
        f"written: {tmp_path / 'certs' / 'proxy.crt'}",
    ]
    for args, words in (
        (["--server", "proxy"], "FILE=NAME"),
        (["--server", "../x=a"], "FILE=NAME"),
        (["--server", "proxy=a", "--owner", "proxy=root"], "FILE=UID:GID"),
        (["--server", "proxy=a", "--owner", "broker=1:1"], "--owner names no --server: broker"),
        (["--client", "../etc"], "a broker user's name"),
    ):
        refused = _spc("--out", str(tmp_path / "other"), *args)
        assert refused.returncode != 0 and words in refused.stderr, (args, refused.stderr)
        assert "Traceback" not in refused.stderr
    assert not (tmp_path / "other").exists()

"""The CA bundle shipped for TLS to the database: RDS's CAs and the Amazon roots RDS Proxy chains to."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from storywink.db.tls import CA_BUNDLE, verifying_context

# The Starfield Services root (2009) has serial number 0, which RFC 5280 disallows and cryptography warns about.
pytestmark = pytest.mark.filterwarnings("ignore:Parsed a serial number which wasn't positive")


def bundle() -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(CA_BUNDLE.read_bytes())


def common_names() -> list[str]:
    return [str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value) for cert in bundle()]


def test_every_certificate_of_the_bundle_parses_and_is_a_ca():
    certificates = bundle()

    assert len(certificates) == CA_BUNDLE.read_text().count("-----BEGIN CERTIFICATE-----")
    assert all(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca for cert in certificates)


def test_the_bundle_holds_the_amazon_root_ca_1_that_rds_proxy_chains_to():
    assert "Amazon Root CA 1" in common_names()


def test_the_bundle_holds_the_amazon_rds_cas():
    assert [name for name in common_names() if name.startswith("Amazon RDS ") and "Root CA RSA2048 G1" in name]


def test_the_default_context_trusts_the_whole_bundle_and_nothing_else():
    assert verifying_context(CA_BUNDLE).cert_store_stats()["x509_ca"] == len(bundle())

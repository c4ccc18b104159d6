#!/bin/sh
# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Regenerates the crypto unit test fixtures with the openssl CLI. The
# expected facts hard-coded in test/unit/test_md_crypto.c were read from
# the generated files with the openssl CLI; rerunning this script changes
# keys and dates, so update the test afterwards (see crypto-facts.txt).
set -e
cd "$(dirname "$0")"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# a test CA
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out crypto-ca.pem \
    -subj "/CN=MD Test CA" -days 36500 -set_serial 0x1000 \
    -addext "subjectKeyIdentifier=hash" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null

# leaf 1: RSA, SAN DNS+wildcard+IP, AIA, must-staple, serial 249CC7FFC64154B5
openssl genrsa -traditional -out crypto-rsa-trad.key 2048 2>/dev/null
openssl req -new -key crypto-rsa-trad.key -subj "/CN=example.org" -out "$T/leaf1.csr"
cat > "$T/leaf1.ext" <<EXT
subjectAltName=DNS:example.org,DNS:www.example.org,DNS:*.wild.example.org,IP:192.0.2.7,IP:2001:db8::1
authorityKeyIdentifier=keyid
authorityInfoAccess=caIssuers;URI:http://ca.example.org/ca.cer,OCSP;URI:http://ocsp.example.org/
tlsfeature=status_request
basicConstraints=critical,CA:FALSE
EXT
openssl x509 -req -in "$T/leaf1.csr" -CA crypto-ca.pem -CAkey "$T/ca.key" \
    -set_serial 0x249CC7FFC64154B5 -days 36500 -extfile "$T/leaf1.ext" -out crypto-leaf1.pem 2>/dev/null

# leaf 2: EC P-256 (traditional EC PEM), serial with the high bit set, no AIA/must-staple
openssl ecparam -name prime256v1 -genkey -noout -out crypto-ec-trad.key
openssl req -new -key crypto-ec-trad.key -subj "/CN=b.example.org" -out "$T/leaf2.csr"
printf 'subjectAltName=DNS:b.example.org\nauthorityKeyIdentifier=keyid\n' > "$T/leaf2.ext"
openssl x509 -req -in "$T/leaf2.csr" -CA crypto-ca.pem -CAkey "$T/ca.key" \
    -set_serial 0x80FF0001 -days 36500 -extfile "$T/leaf2.ext" -out crypto-leaf2.pem 2>/dev/null

cat crypto-leaf1.pem crypto-ca.pem > crypto-chain.pem
# not certificates: a small and a large file
printf 'just some text\n' > crypto-small-junk.pem
head -c 1536 /dev/zero | tr '\0' 'x' > crypto-large-junk.pem

{
    for f in crypto-leaf1.pem crypto-leaf2.pem crypto-ca.pem; do
        echo "== $f"
        openssl x509 -in $f -noout -serial -issuer -dates -fingerprint -sha256 -ext authorityKeyIdentifier
    done
} > crypto-facts.txt

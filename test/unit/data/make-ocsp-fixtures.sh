#!/bin/sh
# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Regenerates the OCSP unit test fixtures in test/unit/data/ocsp with the
# openssl CLI (CA, leaves, responder certificates, requests and the
# responses `openssl ocsp` gives for them). Responses are valid for 100
# years from generation; the tests take their times from the responses.
set -e
cd "$(dirname "$0")/ocsp"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

ca() {   # name subject
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$1.key" -out "$1.pem" -subj "$2" -days 36500 \
        -addext "subjectKeyIdentifier=hash" \
        -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
}
leaf() { # name serial extensions-file
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$T/$1.key" -subj "/CN=$1.example.org" -out "$T/$1.csr" 2>/dev/null
    openssl x509 -req -in "$T/$1.csr" -CA ca.pem -CAkey ca.key -set_serial "$2" \
        -days 36500 -extfile "$3" -out "$1.pem" 2>/dev/null
}

ca ca "/CN=MD OCSP Test CA"
ca other-ca "/CN=MD Other CA"
printf 'basicConstraints=critical,CA:FALSE\nauthorityInfoAccess=OCSP;URI:http://127.0.0.1:9/ocsp\n' \
    > "$T/aia.ext"
printf 'basicConstraints=critical,CA:FALSE\n' > "$T/plain.ext"
printf 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=OCSPSigning\n' > "$T/resp.ext"
leaf leaf 0x1001 "$T/aia.ext"
leaf leaf2 0x1002 "$T/aia.ext"
leaf noocsp 0x1003 "$T/plain.ext"
leaf responder 0x1004 "$T/resp.ext"
leaf notresponder 0x1005 "$T/plain.ext"
cp "$T/responder.key" responder.key
cp "$T/notresponder.key" notresponder.key
cat leaf.pem ca.pem > leaf-chain.pem

# index files: leaf good / leaf revoked
serial_line() { printf '%s\t%s\t%s\t%s\tunknown\t%s\n' "$1" "$2" "$3" "$4" "$5"; }
subj="/CN=leaf.example.org"
serial_line V 21240101000000Z "" 1001 "$subj" > "$T/index-good.txt"
serial_line R 21240101000000Z 240101000000Z 1001 "$subj" > "$T/index-revoked.txt"

ocsp_resp() { # index signer-cert signer-key request out [extra...]
    idx=$1; sc=$2; sk=$3; rq=$4; out=$5; shift 5
    openssl ocsp -index "$idx" -CA ca.pem -rsigner "$sc" -rkey "$sk" -reqin "$rq" \
        -respout "$out" "$@" >/dev/null 2>&1
}
openssl ocsp -issuer ca.pem -cert leaf.pem -reqout req.der >/dev/null 2>&1
openssl ocsp -issuer ca.pem -cert leaf.pem -reqout req2.der >/dev/null 2>&1
openssl ocsp -issuer ca.pem -cert leaf.pem -no_nonce -reqout req-nononce.der >/dev/null 2>&1
openssl ocsp -issuer ca.pem -cert leaf2.pem -reqout req-leaf2.der >/dev/null 2>&1

ocsp_resp "$T/index-good.txt" ca.pem ca.key req.der resp-good.der -ndays 36500
ocsp_resp "$T/index-revoked.txt" ca.pem ca.key req.der resp-revoked.der -ndays 36500
ocsp_resp "$T/index-good.txt" ca.pem ca.key req.der resp-no-next.der
ocsp_resp "$T/index-good.txt" ca.pem ca.key req-nononce.der resp-no-nonce.der -ndays 36500
ocsp_resp "$T/index-good.txt" responder.pem responder.key req.der resp-delegated.der \
    -ndays 36500
ocsp_resp "$T/index-good.txt" notresponder.pem notresponder.key req.der \
    resp-not-delegated.der -ndays 36500
ocsp_resp "$T/index-good.txt" other-ca.pem other-ca.key req.der resp-other-signer.der \
    -ndays 36500
ocsp_resp "$T/index-good.txt" ca.pem ca.key req-leaf2.der resp-unknown.der -ndays 36500
rm -f other-ca.key responder.key notresponder.key
rm -f ca.key

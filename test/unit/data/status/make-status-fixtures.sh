#!/bin/sh
# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Regenerates the certificates of the md_status unit tests with the openssl
# CLI ("openssl ca" for fixed validity dates and serials). Keys change on
# every run, so the fingerprints hard-coded in test/unit/test_md_status.c
# must be updated afterwards (see status-facts.txt).
set -e
cd "$(dirname "$0")"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" \
    -subj "/CN=MD Status Test CA" -days 36500 -set_serial 0x10 \
    -addext "subjectKeyIdentifier=hash" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null

mkdir "$T/new"
touch "$T/index.txt"
cat > "$T/ca.cnf" <<CNF
[ ca ]
default_ca = testca
[ testca ]
database = $T/index.txt
serial = $T/serial
new_certs_dir = $T/new
certificate = $T/ca.pem
private_key = $T/ca.key
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[ anything ]
commonName = supplied
[ acme ]
basicConstraints = critical,CA:FALSE
authorityKeyIdentifier = keyid
authorityInfoAccess = caIssuers;URI:http://ca.mdspec.org/ca.cer
subjectAltName = \$ENV::SAN
[ static ]
basicConstraints = critical,CA:FALSE
authorityInfoAccess = caIssuers;URI:http://127.0.0.1:44091/ca.der,OCSP;URI:http://127.0.0.1:44090
subjectAltName = \$ENV::SAN
CNF

sign() {
    # sign <out> <keyalg> <cn> <serial-hex> <start> <end> <ext>
    case "$2" in
        rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/$1.key" 2>/dev/null ;;
        *) openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$2" -out "$T/$1.key" 2>/dev/null ;;
    esac
    openssl req -new -key "$T/$1.key" -subj "/CN=$3" -out "$T/$1.csr"
    echo "$4" > "$T/serial"
    SAN="DNS:$3" openssl ca -batch -config "$T/ca.cnf" -extensions "$7" -notext \
        -startdate "$5" -enddate "$6" -in "$T/$1.csr" -out "$1.pem" -preserveDN 2>"$T/err" || { cat "$T/err"; exit 1; }
}

sign status-rsa rsa test1.mdspec.org 249CC7FFC64154B5 \
    20261130115424Z 20311130115423Z acme
sign status-ec secp384r1 test2.mdspec.org 3FB14F19CAADE92C \
    20261130115424Z 20311130115423Z acme
sign status-rsa2 rsa test2.mdspec.org 68E2BD85572DDD16 \
    20261130115425Z 20311130115424Z acme
sign status-static rsa static.mdspec.org 1000 \
    20261130115700Z 20261205115700Z static

{
    for f in status-rsa.pem status-ec.pem status-rsa2.pem status-static.pem; do
        echo "== $f"
        openssl x509 -in $f -noout -serial -issuer -dates -fingerprint -sha256 \
            -ext authorityKeyIdentifier,authorityInfoAccess
    done
} > status-facts.txt

#!/bin/sh
# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Regenerates the CRL unit test fixtures in test/unit/data/crl with the
# openssl CLI: a CA, leaves with and without a CRL distribution point, and
# CRLs (good, revoking the leaf, PEM, outdated, not yet valid, by another
# issuer, forged: same issuer name, another key). Times are fixed
# (lastUpdate 2024-01-01, nextUpdate 2124-01-01 unless the case says).
set -e
cd "$(dirname "$0")/crl"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

ca() {   # name subject
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$T/$1.key" -out "$1.pem" -subj "$2" -days 36500 \
        -addext "subjectKeyIdentifier=hash" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
leaf() { # name serial extensions-file
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$T/$1.key" -subj "/CN=$1.example.org" -out "$T/$1.csr" 2>/dev/null
    openssl x509 -req -in "$T/$1.csr" -CA ca.pem -CAkey "$T/ca.key" -set_serial "$2" \
        -days 36500 -extfile "$3" -out "$1.pem" 2>/dev/null
}

ca ca "/CN=MD CRL Test CA"
ca other-ca "/CN=MD Other CA"
ca forged-ca "/CN=MD CRL Test CA"
printf 'basicConstraints=critical,CA:FALSE\ncrlDistributionPoints=URI:ldap://ldap.example.org/cn=crl,URI:http://127.0.0.1:9/ca.crl\n' \
    > "$T/dp.ext"
printf 'basicConstraints=critical,CA:FALSE\n' > "$T/plain.ext"
leaf leaf 0x2001 "$T/dp.ext"
leaf leaf2 0x2002 "$T/dp.ext"
leaf nodp 0x2003 "$T/plain.ext"

# crl signer database: leaf2 revoked, and leaf2 + leaf revoked
line() { printf 'R\t21240101000000Z\t%s\t%s\tunknown\t/CN=%s.example.org\n' "$1" "$2" "$3"; }
line 240301000000Z 2002 leaf2 > "$T/index-good.txt"
{ line 240301000000Z 2002 leaf2; line 240601000000Z 2001 leaf; } > "$T/index-revoked.txt"
gencrl() { # ca index out last next [format]
    cat > "$T/ca.cnf" <<CNF
[ ca ]
default_ca = d
[ d ]
database = $2
default_md = sha256
crlnumber = $T/crlnumber
CNF
    echo 01 > "$T/crlnumber"
    openssl ca -config "$T/ca.cnf" -gencrl -cert "$1.pem" -keyfile "$T/$1.key" \
        -crl_lastupdate "$4" -crl_nextupdate "$5" -out "$T/crl.pem" 2>/dev/null
    if [ "$6" = "pem" ]; then cp "$T/crl.pem" "$3"
    else openssl crl -in "$T/crl.pem" -outform DER -out "$3"; fi
}
gencrl ca "$T/index-good.txt" crl-good.der 20240101000000Z 21240101000000Z
gencrl ca "$T/index-revoked.txt" crl-revoked.der 20240101000000Z 21240101000000Z
gencrl ca "$T/index-revoked.txt" crl-revoked.pem 20240101000000Z 21240101000000Z pem
gencrl ca "$T/index-good.txt" crl-outdated.der 20240101000000Z 20250101000000Z
gencrl ca "$T/index-good.txt" crl-future.der 21200101000000Z 21240101000000Z
gencrl other-ca "$T/index-revoked.txt" crl-other.der 20240101000000Z 21240101000000Z
gencrl forged-ca "$T/index-revoked.txt" crl-forged.der 20240101000000Z 21240101000000Z
rm -f forged-ca.pem

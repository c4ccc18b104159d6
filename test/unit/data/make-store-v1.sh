#!/bin/sh
# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Regenerates test/unit/data/store_v1: a small store of version 1
# (docs/contract.md 1.8: top-level "version", legacy pkey.pem, cert.pem and
# chain.pem) that test_md_store.c migrates. Uses the openssl CLI.
set -e
cd "$(dirname "$0")"
D=store_v1
rm -rf "$D"
mkdir -p "$D/accounts/ACME-localhost-0000" "$D/domains/v1.example.org" \
    "$D/archive/v1.example.org.1" "$D/staging/v1.example.org"
KEY=$(openssl rand 48 | basenc --base64url | tr -d '=\n')
cat > "$D/md_store.json" <<JSON
{
  "version": "0.6.1-git",
  "store": {
    "version": 1.0
  },
  "key": "$KEY"
}
JSON
cat > "$D/accounts/ACME-localhost-0000/account.json" <<JSON
{
  "disabled": false,
  "id": "ACME-localhost-0000",
  "url": "https://localhost:4000/acme/acct/1",
  "ca-url": "https://localhost:4000/dir"
}
JSON
cat > "$D/domains/v1.example.org/md.json" <<JSON
{
  "name": "v1.example.org",
  "domains": ["v1.example.org"],
  "renew-window": 1209600,
  "cert": {"url": "https://localhost:4000/acme/cert/1"}
}
JSON
openssl req -x509 -newkey rsa:2048 -nodes -subj "/CN=v1 Test CA" -days 36500 \
    -keyout "$D/ca.key" -out "$D/domains/v1.example.org/chain.pem" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -subj "/CN=v1.example.org" \
    -keyout "$D/domains/v1.example.org/pkey.pem" -out "$D/leaf.csr" 2>/dev/null
printf 'subjectAltName=DNS:v1.example.org\n' > "$D/leaf.ext"
openssl x509 -req -in "$D/leaf.csr" -CA "$D/domains/v1.example.org/chain.pem" \
    -CAkey "$D/ca.key" -days 36500 -set_serial 7 -extfile "$D/leaf.ext" \
    -out "$D/domains/v1.example.org/cert.pem" 2>/dev/null
cp "$D/domains/v1.example.org/pkey.pem" "$D/domains/v1.example.org/cert.pem" \
    "$D/domains/v1.example.org/md.json" "$D/archive/v1.example.org.1/"
cp "$D/domains/v1.example.org/pkey.pem" "$D/accounts/ACME-localhost-0000/"
cp "$D/domains/v1.example.org/md.json" "$D/staging/v1.example.org/"
openssl genrsa -out "$D/staging/v1.example.org/pkey.pem" 2048 2>/dev/null
rm -f "$D/ca.key" "$D/leaf.csr" "$D/leaf.ext"

#!/bin/sh
# Installs the Debian packages courier builds, tests and runs with.
# Idempotent and quiet when everything is present, so `make` can call it
# on every build: apt is touched only when a package is missing.
#
# Usage: install-deps.sh [bench]   (bench adds wrk and nginx for `make bench`)
#
# kannel (bearerbox, smsbox) and kannel-extras (its fakesmsc) are for
# tests/integration/kannel_real_test.cpp, which runs its own boxes on free
# loopback ports; the package's own service (wapbox and bearerbox on 13000
# and up, when an init system starts it at all) is left alone.
#
# clang, libclang-rt-dev (the sanitizer and libFuzzer runtimes, only
# recommended by clang) and llvm (llvm-symbolizer, for readable sanitizer
# reports): `make test` runs the suite again in a clang Sanitize build and
# fuzzes (fuzz/README.md).
#
# prometheus-cpp-dev: lib/metrics' Prometheus text exposition; prometheus
# only for its promtool, with which tests/integration/metrics_test.cpp
# checks that text (the package's own server is left alone).
# openapi-specification (the OpenAPI 3.0 JSON Schema) and
# python3-jsonschema: tests/openapi_check.py validates doc/openapi.json.
# libmagic-dev (with libmagic-mgc, its database): courier-fetch reads a
# fetched attachment's type from its bytes.
# lld: both builds link with it, much faster than BFD ld
# (cmake/BuildTypes.cmake).
#
# postgresql, postgresql-client, libpq-dev: the PostgreSQL store (issue
# 19). libpq is its client library; the server's initdb and pg_ctl (in
# /usr/lib/postgresql/<version>/bin) are for tests/support/postgres_server.h,
# which runs private clusters in temp dirs on free loopback ports (as the
# postgres user when the tests run as root). The package's own cluster
# (main on 5432, when an init system starts it at all) is left alone.
# POCO Data's PostgreSQL connector needs nothing more: libpoco-dev
# depends on libpocodatapostgresql80 and ships its headers and CMake
# package (Poco::DataPostgreSQL).
set -eu

PACKAGES="
cmake g++ make pkg-config lld
clang libclang-rt-dev llvm
libpoco-dev libssl-dev
libzmq3-dev cppzmq-dev
libsqlite3-dev sqlite3
libcli11-dev
libtomlplusplus-dev
libsimdjson-dev
libgtest-dev
libphonenumber-dev
libmicrohttpd-dev
libjemalloc-dev
libmagic-dev
curl
man-db groff-base
python3 e2fsprogs supervisor jq
kannel kannel-extras
prometheus-cpp-dev prometheus
postgresql postgresql-client libpq-dev
openapi-specification python3-jsonschema
"
if [ "${1:-}" = bench ]; then
    PACKAGES="$PACKAGES wrk nginx procps"
fi

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install-deps: need root or sudo to install:$missing" >&2
    exit 69
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null

#!/usr/bin/env bash
# Prepare an isolated SoftHSM2 token for the PKCS#11 tests of the `crypto` crate.
#
#   eval "$(scripts/softhsm-setup.sh)"
#   cargo test -p crypto --test pkcs11
#
# - installs Debian's `softhsm2` if the module is missing (needs root: apt-get);
# - creates a private token directory and config file under a temporary directory
#   (or under $REMPART_SOFTHSM_DIR if set), never touching /var/lib/softhsm/tokens;
# - initialises a token labelled `rempart-test` with known TEST PINs (never use them
#   for anything real);
# - prints `export …` lines on stdout for `eval`. Everything else goes to stderr.
#
# The token's slot id is random: the tests find the slot by label, never by number.
set -euo pipefail

MODULE=/usr/lib/softhsm/libsofthsm2.so
LABEL=rempart-test
SO_PIN=rempart-test-so-pin
USER_PIN=rempart-test-user-pin

log() { printf '%s\n' "$*" >&2; }

if [ ! -e "$MODULE" ] || ! command -v softhsm2-util >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        log "softhsm2 is not installed and this is not root: run 'apt-get install softhsm2' as root"
        exit 1
    fi
    log "installing Debian package softhsm2…"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q softhsm2 >&2 \
        || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q softhsm2 >&2; }
fi

BASE=${REMPART_SOFTHSM_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/rempart-softhsm.XXXXXX")}
mkdir -p "$BASE/tokens"
chmod 0700 "$BASE" "$BASE/tokens"
CONF="$BASE/softhsm2.conf"
cat >"$CONF" <<EOF
directories.tokendir = $BASE/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
chmod 0600 "$CONF"

export SOFTHSM2_CONF="$CONF"
if softhsm2-util --show-slots 2>/dev/null | grep -q "Label:[[:space:]]*$LABEL\$"; then
    log "token '$LABEL' already exists in $BASE/tokens"
else
    softhsm2-util --init-token --free --label "$LABEL" --so-pin "$SO_PIN" --pin "$USER_PIN" >&2
fi

printf 'export SOFTHSM2_CONF=%q\n' "$CONF"
printf 'export REMPART_TEST_PKCS11_MODULE=%q\n' "$MODULE"
printf 'export REMPART_TEST_PKCS11_TOKEN=%q\n' "$LABEL"
printf 'export REMPART_TEST_PKCS11_PIN=%q\n' "$USER_PIN"

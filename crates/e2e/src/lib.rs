//! Browser tests (in `tests/`): headless Debian `chromium` driven over the DevTools protocol,
//! with Chromium's virtual WebAuthn authenticator, against the real server. Run with
//! `cargo test -p e2e`; without `/usr/bin/chromium` the test prints a SKIPPED line (and fails
//! under `CI=true`).

//! The `rempart` binary: usage, configuration errors, exit codes, migrate and serve.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn rempart(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rempart"));
    cmd.current_dir(dir).env_clear().stdin(Stdio::null());
    cmd
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = rempart(dir);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run rempart")
}

fn stderr_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Exit 2 and exactly one line on stderr, which is returned.
fn assert_config_error(output: &Output) -> String {
    let lines = stderr_lines(output);
    assert_eq!(output.status.code(), Some(2), "stderr: {lines:?}");
    assert_eq!(lines.len(), 1, "one line: {lines:?}");
    assert!(lines[0].starts_with("rempart: config: "), "{lines:?}");
    lines[0].clone()
}

fn config_file(dir: &Path, text: &str) -> String {
    let path = dir.join("rempart.toml");
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn help_works_on_every_command() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--help"][..],
        &["demo", "--help"],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["gen", "--help"],
        &["gen", "beneficiaries", "--help"],
    ] {
        let output = run(dir.path(), args, &[]);
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("Usage"),
            "{args:?}"
        );
    }
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "--help writes nothing"
    );
}

#[test]
fn bad_usage_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        run(dir.path(), &["serve", "--no-such-flag"], &[])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(dir.path(), &["no-such-command"], &[]).status.code(),
        Some(2)
    );
}

#[test]
fn an_unknown_key_in_the_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = config_file(dir.path(), "lisen = \"127.0.0.1:9000\"\n");
    let line = assert_config_error(&run(dir.path(), &["--config", &file, "serve"], &[]));
    assert!(
        line.contains("lisen") && line.contains("unknown key"),
        "{line}"
    );
}

#[test]
fn a_bad_listen_value_is_named_without_echoing_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = config_file(dir.path(), "listen = \"nope\"\n");
    let line = assert_config_error(&run(dir.path(), &["--config", &file, "serve"], &[]));
    assert!(
        line.contains("listen") && line.contains("invalid socket address"),
        "{line}"
    );
    assert!(!line.contains("nope"), "{line}");

    let line = assert_config_error(&run(dir.path(), &["serve", "--listen", "nope"], &[]));
    assert!(line.contains("listen"), "{line}");
}

#[test]
fn environment_variables_are_checked_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let line = assert_config_error(&run(dir.path(), &["serve"], &[("REMPART_LISTEN", "nope")]));
    assert!(
        line.contains("listen") && line.contains("REMPART_LISTEN"),
        "{line}"
    );

    let line = assert_config_error(&run(
        dir.path(),
        &["serve"],
        &[("REMPART_LISTN", "127.0.0.1:1")],
    ));
    assert!(
        line.contains("listn") && line.contains("unknown key"),
        "{line}"
    );
}

#[test]
fn a_secret_is_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let line = assert_config_error(&run(
        dir.path(),
        &["migrate"],
        &[("REMPART_DATABASE_URL", "mysql://admin:hunter2@db/x")],
    ));
    assert!(
        line.contains("database_url") && !line.contains("hunter2"),
        "{line}"
    );
}

#[test]
fn a_missing_config_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let line = assert_config_error(&run(dir.path(), &["--config", "absent.toml", "serve"], &[]));
    assert!(line.contains("--config"), "{line}");
}

#[test]
fn precedence_is_file_then_environment_then_flags() {
    // The environment beats the file: the file's bad value is never read.
    let dir = tempfile::tempdir().unwrap();
    let file = config_file(dir.path(), "data_dir = \"\"\n");
    let line = assert_config_error(&run(dir.path(), &["--config", &file, "migrate"], &[]));
    assert!(line.contains("data_dir"), "{line}");
    let data = dir.path().join("from-env");
    let output = run(
        dir.path(),
        &["--config", &file, "migrate"],
        &[("REMPART_DATA_DIR", data.to_str().unwrap())],
    );
    assert_eq!(output.status.code(), Some(0), "{:?}", stderr_lines(&output));
    assert!(data.join("rempart.sqlite3").exists());
    // A flag beats the environment.
    let flagged = dir.path().join("from-flag");
    let output = run(
        dir.path(),
        &[
            "--config",
            &file,
            "--data-dir",
            flagged.to_str().unwrap(),
            "migrate",
        ],
        &[("REMPART_DATA_DIR", data.to_str().unwrap())],
    );
    assert_eq!(output.status.code(), Some(0), "{:?}", stderr_lines(&output));
    assert!(flagged.join("rempart.sqlite3").exists());
}

#[test]
fn migrate_creates_a_private_data_directory_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let output = run(
        dir.path(),
        &["--data-dir", data.to_str().unwrap(), "migrate"],
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{:?}", stderr_lines(&output));
    assert!(data.join("rempart.sqlite3").exists());
    assert_eq!(
        std::fs::metadata(&data).unwrap().permissions().mode() & 0o777,
        0o700
    );
    // Migrating twice is fine.
    assert_eq!(
        run(
            dir.path(),
            &["--data-dir", data.to_str().unwrap(), "migrate"],
            &[]
        )
        .status
        .code(),
        Some(0)
    );
}

#[test]
fn serve_without_keys_refuses_and_says_to_run_keys_init() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(
        dir.path(),
        &["--data-dir", "data", "serve", "--listen", "127.0.0.1:0"],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("rempart keys init"), "{text}");
}

#[test]
fn keys_init_creates_private_kek_files_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let init = run(dir.path(), &["--data-dir", "data", "keys", "init"], &[]);
    assert_eq!(init.status.code(), Some(0), "{init:?}");
    let keys = dir.path().join("data").join("keys");
    assert_eq!(
        std::fs::metadata(&keys).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let kek = keys.join("kek-v1.key");
    assert_eq!(
        std::fs::metadata(&kek).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let again = run(dir.path(), &["--data-dir", "data", "keys", "init"], &[]);
    assert_eq!(again.status.code(), Some(1), "{again:?}");
    assert!(String::from_utf8_lossy(&again.stderr).contains("refusing to overwrite"));
}

#[test]
fn serve_refuses_a_kek_file_others_can_read() {
    let dir = tempfile::tempdir().unwrap();
    let init = run(dir.path(), &["--data-dir", "data", "keys", "init"], &[]);
    assert_eq!(init.status.code(), Some(0), "{init:?}");
    let kek = dir.path().join("data").join("keys").join("kek-v1.key");
    std::fs::set_permissions(&kek, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = run(
        dir.path(),
        &["--data-dir", "data", "serve", "--listen", "127.0.0.1:0"],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("kek-v1.key"), "{text}");
}

#[test]
fn serve_answers_then_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let init = run(dir.path(), &["--data-dir", "data", "keys", "init"], &[]);
    assert_eq!(init.status.code(), Some(0), "{init:?}");
    let mut child = rempart(dir.path())
        .args([
            "--data-dir",
            "data",
            "--log-format",
            "json",
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    let address = loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            let _ = child.kill();
            panic!("rempart serve ended before serving: {seen:?}");
        }
        if let Some(rest) = line.trim().strip_prefix("rempart: serving on http://") {
            break rest.to_string();
        }
        seen.push(line);
    };

    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.to_ascii_lowercase().contains("x-request-id:"),
        "{response}"
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert_eq!(exit.code(), Some(0), "{exit:?}: {rest}");
    // JSON logs: one access line for the request, with its route template and request id.
    let access = rest
        .lines()
        .chain(seen.iter().map(String::as_str))
        .find(|l| l.contains("\"answered\""))
        .unwrap_or_else(|| panic!("no access log: {rest}"));
    let access: serde_json::Value = serde_json::from_str(access).unwrap();
    assert_eq!(access["span"]["route"], "/healthz", "{access}");
    assert!(access["span"]["request_id"].is_string(), "{access}");
    assert!(rest.contains("SIGTERM"), "{rest}");
}

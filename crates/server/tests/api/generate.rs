//! `rempart gen beneficiaries`: the file format, NIR validity (ours and, when installed,
//! python-stdnum's), determinism.

use domain::ids::Nir;
use std::path::{Path, PathBuf};
use std::process::Command;

const HEADER: &str = "member_number,nir,birth_rank,last_name,first_name,birth_date,marital_status,quality,contract_code,valid_from,valid_to";

fn generate(dir: &Path, name: &str, seed: u64, count: u64) -> PathBuf {
    let out = dir.join(name);
    let output = Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args([
            "gen",
            "beneficiaries",
            "--count",
            &count.to_string(),
            "--seed",
            &seed.to_string(),
            "--out",
        ])
        .arg(&out)
        .env("REMPART_DATA_DIR", dir.join("data"))
        .output()
        .expect("rempart runs");
    assert!(
        output.status.success(),
        "gen failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with(&format!("wrote {count} rows in ")),
        "summary: {stdout}"
    );
    // stderr is a pipe here: no progress bar.
    assert!(!String::from_utf8_lossy(&output.stderr).contains("rows/s"));
    out
}

#[test]
fn writes_valid_consistent_deterministic_rows() {
    let dir = tempfile::tempdir().unwrap();
    let a = generate(dir.path(), "a.csv", 7, 2000);
    let text = std::fs::read_to_string(&a).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(HEADER));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2000);
    let mut reader = csv::Reader::from_path(&a).unwrap();
    let mut count = 0;
    for record in reader.records() {
        let r = record.unwrap();
        assert_eq!(r.len(), 11);
        let nir = Nir::parse(&r[1]).unwrap_or_else(|e| panic!("row {}: {e}", count + 2));
        let birth = &r[5];
        assert!(matches!(nir.sex_digit(), 1 | 2));
        assert_eq!(format!("{:02}", nir.birth_year_2()), birth[2..4]);
        assert_eq!(format!("{:02}", nir.birth_month_code()), birth[5..7]);
        assert!(["assure", "conjoint", "concubin", "enfant", "autre"].contains(&&r[7]));
        assert!(["ESSENTIEL", "CONFORT"].contains(&&r[8]));
        assert!(r[9].ends_with("-01-01"));
        assert!(r[10].is_empty() || r[10].ends_with("-12-31"));
        count += 1;
    }
    assert_eq!(count, 2000);

    let again = generate(dir.path(), "again.csv", 7, 2000);
    assert_eq!(
        std::fs::read(&a).unwrap(),
        std::fs::read(&again).unwrap(),
        "same seed, same bytes"
    );
    let other = generate(dir.path(), "other.csv", 8, 2000);
    assert_ne!(
        std::fs::read(&a).unwrap(),
        std::fs::read(&other).unwrap(),
        "another seed, another file"
    );

    check_with_stdnum(&a, 2000);
}

#[test]
fn writes_to_standard_output_with_a_json_summary() {
    let output = Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args([
            "gen",
            "beneficiaries",
            "--count",
            "25",
            "--seed",
            "3",
            "--out",
            "-",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let csv = String::from_utf8(output.stdout).unwrap();
    assert_eq!(csv.lines().count(), 26);
    let summary: serde_json::Value = serde_json::from_slice(&output.stderr).unwrap();
    assert_eq!(summary["rows"], 25);
    assert_eq!(summary["out"], "-");
}

/// Runs scripts/check_nir.py when python-stdnum is importable; in CI its absence fails.
fn check_with_stdnum(file: &Path, rows: u64) {
    let available = Command::new("python3")
        .args(["-c", "import stdnum.fr.nir"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !available {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "python-stdnum is required in CI (pip install python-stdnum)"
        );
        eprintln!("skipping the python-stdnum check: pip install python-stdnum");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/check_nir.py");
    let output = Command::new("python3")
        .arg(script)
        .arg(file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "check_nir.py: {stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.trim(), format!("{rows} rows checked, 0 invalid"));
}

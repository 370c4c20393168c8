//! The `trellis` binary: one-line errors, the admin bootstrap, audit verification.

use std::process::Command;

fn trellis() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trellis"));
    // Keep the developer's environment out of the test.
    for (key, _) in std::env::vars() {
        if key.starts_with("TRELLIS_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("trellis-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_bad_setting_is_one_line_naming_it() {
    let dir = temp_dir();
    let out =
        trellis().current_dir(&dir).env("TRELLIS_SESSION_IDLE_MINUTES", "soon").args(["migrate"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("TRELLIS_SESSION_IDLE_MINUTES"), "{stderr}");
}

#[test]
fn a_wrong_argument_is_an_error_not_a_panic() {
    let out = trellis().args(["serve", "--bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    let out = trellis().args(["user", "create", "--role", "admin", "--email", "a@b.org"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("coordinator"));
}

#[cfg(not(feature = "postgres"))]
#[test]
fn postgres_urls_need_the_feature() {
    let dir = temp_dir();
    let out = trellis()
        .current_dir(&dir)
        .args(["migrate", "--database", "postgres://u:secret@localhost/x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("--features postgres"), "{stderr}");
    assert!(!stderr.contains("secret"));
}

#[test]
fn an_unreachable_database_keeps_the_real_cause() {
    let dir = temp_dir();
    let out = trellis()
        .current_dir(&dir)
        .args(["migrate", "--database", "sqlite:///proc/no/such/dir/x.db"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("trellis: "), "{stderr}");
}

#[test]
fn admin_bootstrap_seed_and_audit_verify() {
    let dir = temp_dir();
    let db = format!("sqlite://{}", dir.join("t.db").display());
    let password_file = dir.join("pw");
    std::fs::write(&password_file, "a very long password\n").unwrap();
    let out = trellis()
        .current_dir(&dir)
        .args(["user", "create", "--role", "coordinator", "--email", "Lead@Example.org", "--database", &db])
        .arg("--password-file")
        .arg(&password_file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("lead@example.org"));
    // A second account with the same address is refused, in one line.
    let out = trellis()
        .current_dir(&dir)
        .args(["user", "create", "--role", "teacher", "--email", "lead@example.org", "--database", &db])
        .arg("--password-file")
        .arg(&password_file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    // Seeding refuses a database with data.
    let out = trellis().current_dir(&dir).args(["seed", "--demo", "--database", &db]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("demo data was not created"));
    let out = trellis().current_dir(&dir).args(["audit", "verify", "--database", &db]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("intact"));
}

#[test]
fn audit_verify_names_a_tampered_entry() {
    let dir = temp_dir();
    let db = format!("sqlite://{}", dir.join("t.db").display());
    let out = trellis().current_dir(&dir).args(["seed", "--demo", "--database", &db]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("coordinator@demo.trellis.test"));
    {
        use diesel::{Connection, RunQueryDsl};
        let mut conn = diesel::sqlite::SqliteConnection::establish(dir.join("t.db").to_str().unwrap()).unwrap();
        diesel::sql_query("UPDATE audit_log SET details = '{\"role\":\"coordinator\"}' WHERE seq = 3")
            .execute(&mut conn)
            .unwrap();
    }
    let out = trellis().current_dir(&dir).args(["audit", "verify", "--database", &db]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("entry 3"), "{stderr}");
}

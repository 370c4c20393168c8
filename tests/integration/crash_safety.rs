//! Crash safety: the real `trellis` binary is killed with SIGKILL while clients send messages,
//! and `trellis jobs run` is killed while it works through the job queue and the mail outbox.
//! After each restart, nothing acknowledged is lost, nothing is stored or sent twice, and what
//! was left half-done is finished.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use trellis::db::schema::{jobs, mail_outbox, messages};
use trellis::db::DbConnection;

use crate::helpers::{fresh_database_url, DEMO_PASSWORD};

const MARK: &str = "crash check";
const CLIENTS: usize = 8;
const KILL_AFTER_ACKS: usize = 40;
const LEASE_SECONDS: u64 = 1;

struct Env {
    dir: PathBuf,
    database_url: String,
    policies: PathBuf,
}

impl Env {
    fn new() -> Env {
        let dir = std::env::temp_dir().join(format!("trellis-crash-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let database_url = match fresh_database_url() {
            url if url.starts_with("sqlite") => format!("sqlite://{}/trellis.db", dir.display()),
            url => url,
        };
        // The shipped send limit (10 a minute) would stop a flood from four senders; the test
        // runs with a copy of the policies whose only change is a higher limit.
        let root = crate::repo::root();
        let policies = dir.join("policies");
        copy_dir(&root.join("policies"), &policies);
        let programme = std::fs::read_to_string(policies.join("programme.toml")).unwrap();
        let programme = programme
            .replace("max_per_minute = 10\n", "max_per_minute = 100000\n")
            .replace("max_per_hour = 120\n", "max_per_hour = 100000\n");
        assert!(programme.contains("max_per_minute = 100000"), "programme.toml changed shape");
        std::fs::write(policies.join("programme.toml"), programme).unwrap();
        Env { dir, database_url, policies }
    }

    fn command(&self) -> Command {
        let root = crate::repo::root();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_trellis"));
        for (key, _) in std::env::vars() {
            if key.starts_with("TRELLIS_") {
                cmd.env_remove(key);
            }
        }
        cmd.current_dir(&self.dir)
            .env("TRELLIS_DATA_DIR", &self.dir)
            .env("TRELLIS_DATABASE_URL", &self.database_url)
            .env("TRELLIS_POLICIES_DIR", &self.policies)
            .env("TRELLIS_MODELS_DIR", root.join("models"))
            .env("TRELLIS_JOB_LEASE_SECONDS", LEASE_SECONDS.to_string())
            .env("TRELLIS_LOG", "error");
        cmd
    }

    fn mail_dir(&self) -> PathBuf {
        self.dir.join("mail")
    }

    fn db(&self) -> trellis::db::PooledDb {
        let (pool, _) = trellis::db::connect(&self.database_url, 1).unwrap();
        pool.get().unwrap()
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A running `trellis serve`; its address is read from the line it prints when listening.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(env: &Env, demo: bool) -> Server {
        let mut cmd = env.command();
        cmd.args(["serve", "--bind", "127.0.0.1:0"]);
        if demo {
            cmd.arg("--demo");
        }
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Keep draining stdout so the server never blocks on a full pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("Trellis is listening on ") {
                    let address = rest.split_whitespace().next().unwrap_or_default().trim_end_matches('/').to_owned();
                    let _ = tx.send(address);
                }
            }
        });
        let base = rx.recv_timeout(Duration::from_secs(120)).expect("the server starts and says where it listens");
        Server { child, base }
    }

    fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL on Unix
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn token(client: &reqwest::Client, base: &str, email: &str) -> String {
    let response = client
        .post(format!("{base}/api/v1/tokens"))
        .json(&serde_json::json!({ "email": email, "password": DEMO_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "sign-in of {email}");
    response.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
}

async fn open_conversation(client: &reqwest::Client, base: &str, token: &str) -> String {
    let list: serde_json::Value = client
        .get(format!("{base}/api/v1/conversations"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["status"] == "open")
        .and_then(|c| c["id"].as_str())
        .expect("an open conversation")
        .to_owned()
}

/// Sends numbered messages until the server goes away; returns (message id, text) of each
/// message the server acknowledged.
async fn flood(
    client: reqwest::Client,
    base: String,
    token: String,
    conversation: String,
    number: usize,
    acks: Arc<Mutex<Vec<(String, String)>>>,
) {
    let mut failures = 0;
    for seq in 0.. {
        let text = format!("{MARK} {number}-{seq}: I finished the practice problems on vectors");
        let sent = client
            .post(format!("{base}/api/v1/conversations/{conversation}/messages"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "text": text }))
            .send()
            .await;
        match sent {
            Ok(response) if response.status() == 201 => {
                let body: Result<serde_json::Value, _> = response.json().await;
                if let Ok(body) = body {
                    acks.lock().unwrap().push((body["id"].as_str().unwrap().to_owned(), text));
                }
                failures = 0;
            }
            Ok(response) => panic!("unexpected answer {} while the server was up", response.status()),
            Err(_) => {
                failures += 1;
                if failures >= 3 {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

fn status_counts(conn: &mut DbConnection) -> HashMap<String, i64> {
    jobs::table
        .group_by(jobs::status)
        .select((jobs::status, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)
        .unwrap()
        .into_iter()
        .collect()
}

fn sent_mails(conn: &mut DbConnection) -> i64 {
    mail_outbox::table.filter(mail_outbox::status.eq("sent")).count().get_result(conn).unwrap()
}

/// Runs `trellis jobs run` and SIGKILLs it as soon as `progress` shows it has done some work.
/// Returns whether it was killed mid-way (false if it finished first).
fn kill_jobs_run_midway(env: &Env, progress: impl Fn(&mut DbConnection) -> i64) -> bool {
    let mut conn = env.db();
    let before = progress(&mut conn);
    let mut child = env.command().args(["jobs", "run"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if progress(&mut conn) > before {
            child.kill().unwrap();
            child.wait().unwrap();
            return true;
        }
        assert!(Instant::now() < deadline, "jobs run made no progress");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn jobs_run(env: &Env) {
    let out = env.command().args(["jobs", "run"]).output().unwrap();
    assert!(out.status.success(), "jobs run: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_loses_no_acknowledged_message_job_or_mail() {
    let env = Env::new();
    let server = Server::start(&env, true);
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();

    // Four senders in two conversations, two clients each.
    let mut senders = Vec::new();
    for email in [
        "student1@demo.trellis.test",
        "mentor1@demo.trellis.test",
        "student2@demo.trellis.test",
        "mentor2@demo.trellis.test",
    ] {
        let token = token(&client, &server.base, email).await;
        let conversation = open_conversation(&client, &server.base, &token).await;
        senders.push((token, conversation));
    }
    let acks = Arc::new(Mutex::new(Vec::new()));
    let mut floods = Vec::new();
    for number in 0..CLIENTS {
        let (token, conversation) = senders[number % senders.len()].clone();
        floods.push(tokio::spawn(flood(
            client.clone(),
            server.base.clone(),
            token,
            conversation,
            number,
            acks.clone(),
        )));
    }
    let deadline = Instant::now() + Duration::from_secs(180);
    while acks.lock().unwrap().len() < KILL_AFTER_ACKS {
        assert!(Instant::now() < deadline, "the flood made too little progress");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    for flood in floods {
        flood.await.unwrap();
    }
    let acknowledged = acks.lock().unwrap().clone();

    let mut conn = env.db();
    let pending_at_kill: i64 =
        messages::table.filter(messages::status.eq("pending")).count().get_result(&mut conn).unwrap();
    eprintln!("crash test: {} acknowledged, {pending_at_kill} pending at the kill", acknowledged.len());

    // Restart: pending messages are moderated at start-up.
    let server = Server::start(&env, false);
    let rows: Vec<(String, String, String)> = messages::table
        .filter(messages::original_text.like(format!("{MARK}%")))
        .select((messages::id, messages::original_text, messages::status))
        .load(&mut conn)
        .unwrap();
    let by_id: HashMap<&str, (&str, &str)> =
        rows.iter().map(|(id, text, status)| (id.as_str(), (text.as_str(), status.as_str()))).collect();
    for (id, text) in &acknowledged {
        let (stored, status) = by_id.get(id.as_str()).unwrap_or_else(|| panic!("acknowledged message {id} lost"));
        assert_eq!(stored, text);
        assert!(
            ["delivered", "redacted", "held", "blocked"].contains(status),
            "message {id} has no final status: {status}"
        );
    }
    let mut texts = HashSet::new();
    for (_, text, status) in &rows {
        assert!(texts.insert(text.as_str()), "stored twice: {text}");
        assert_ne!(status, "pending", "left pending after the restart");
    }
    let delivered: HashSet<&str> = rows
        .iter()
        .filter(|(_, _, status)| status == "delivered" || status == "redacted")
        .map(|(id, _, _)| id.as_str())
        .collect();
    assert!(!delivered.is_empty(), "benign messages are delivered");
    let notify_keys: Vec<Option<String>> =
        jobs::table.filter(jobs::kind.eq("message.notify")).select(jobs::idempotency_key).load(&mut conn).unwrap();
    for id in &delivered {
        let key = format!("notify:{id}");
        let n = notify_keys.iter().filter(|k| k.as_deref() == Some(key.as_str())).count();
        assert_eq!(n, 1, "one notification job for delivered message {id}");
    }
    server.kill();

    // Jobs: kill the worker mid-queue, then mid-outbox, then finish after the leases expire.
    let jobs_killed = kill_jobs_run_midway(&env, |c| status_counts(c).get("done").copied().unwrap_or(0));
    std::thread::sleep(Duration::from_millis(LEASE_SECONDS * 1000 + 200));
    let mails_killed = kill_jobs_run_midway(&env, sent_mails);
    std::thread::sleep(Duration::from_millis(LEASE_SECONDS * 1000 + 200));
    jobs_run(&env);
    eprintln!("crash test: jobs run killed mid-queue: {jobs_killed}, mid-outbox: {mails_killed}");

    let counts = status_counts(&mut conn);
    assert_eq!(counts.get("running"), None, "no job left claimed: {counts:?}");
    assert_eq!(counts.get("failed"), None, "no job failed: {counts:?}");
    let notify_done: Vec<Option<String>> = jobs::table
        .filter(jobs::kind.eq("message.notify"))
        .filter(jobs::status.eq("done"))
        .select(jobs::idempotency_key)
        .load(&mut conn)
        .unwrap();
    let delivered_all: HashSet<String> = messages::table
        .filter(messages::status.eq_any(["delivered", "redacted"]))
        .select(messages::id)
        .load::<String>(&mut conn)
        .unwrap()
        .into_iter()
        .collect();
    let expected_notifications = notify_done
        .iter()
        .flatten()
        .filter(|key| key.strip_prefix("notify:").is_some_and(|id| delivered_all.contains(id)))
        .count() as i64;
    assert!(expected_notifications >= delivered.len() as i64);
    let notifications: i64 = mail_outbox::table
        .filter(mail_outbox::subject.eq("You have a new message on Trellis"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(notifications, expected_notifications, "one notification mail per delivered message, no more");

    // Every sent mail is exactly one file; nothing due is still queued.
    let sent: HashSet<String> = mail_outbox::table
        .filter(mail_outbox::status.eq("sent"))
        .select(mail_outbox::id)
        .load::<String>(&mut conn)
        .unwrap()
        .into_iter()
        .collect();
    let files: HashSet<String> = std::fs::read_dir(env.mail_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let expected_files: HashSet<String> = sent.iter().map(|id| format!("{id}.eml")).collect();
    assert_eq!(files, expected_files, "one mail file per sent mail, and no partial files");
    let overdue: i64 = mail_outbox::table
        .filter(mail_outbox::status.eq("queued"))
        .filter(mail_outbox::not_before.le(trellis::db::now() - chrono::Duration::seconds(60)))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(overdue, 0, "every due mail was sent");
    let _ = std::fs::remove_dir_all(&env.dir);
}

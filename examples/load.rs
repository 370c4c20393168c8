//! Load generator for a running Trellis server seeded with `trellis seed --load-test`.
//!
//!   cargo run --release --example load -- --base http://127.0.0.1:8080 send-open --rate 100 --duration 60
//!   cargo run --release --example load -- send-closed --concurrency 50 --duration 30
//!   cargo run --release --example load -- dashboard --concurrency 10 --duration 30
//!   cargo run --release --example load -- soak --duration 600 --rate 20 --pid $(pidof trellis)
//!
//! Senders are load-test students (`student<n>@load.trellis.test`), each in their own open
//! conversation, signed in through the API; dashboard readers sign in through the login form
//! (with its CSRF token) like a browser. Open-loop latencies are measured from the moment a
//! request was due, not when it was sent, so a slow server cannot hide its queueing delay.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use tokio::sync::Mutex;

const PASSWORD: &str = "trellis-load-2026";

#[derive(Parser)]
struct Cli {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    base: String,
    /// How many load-test students sign in (and send, or read their dashboard).
    #[arg(long, default_value_t = 1000)]
    users: usize,
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand, Clone)]
enum Mode {
    /// Constant-rate sends (open loop) from many senders.
    SendOpen {
        #[arg(long, default_value_t = 100.0)]
        rate: f64,
        #[arg(long, default_value_t = 60)]
        duration: u64,
    },
    /// As many sends as `concurrency` clients can make, each waiting for its answer.
    SendClosed {
        #[arg(long, default_value_t = 10)]
        concurrency: usize,
        #[arg(long, default_value_t = 30)]
        duration: u64,
    },
    /// Dashboard page loads by signed-in users of one role.
    Dashboard {
        #[arg(long, default_value_t = 10)]
        concurrency: usize,
        /// student, mentor, guardian, teacher or coordinator.
        #[arg(long, default_value = "student")]
        role: String,
        /// How many different accounts of the role to use (the seed makes 10 teachers, 1 coordinator).
        #[arg(long, default_value_t = 10)]
        accounts: usize,
        #[arg(long, default_value_t = 30)]
        duration: u64,
    },
    /// Sends at a constant rate plus dashboard readers, reporting every interval and the
    /// server's resident memory (from /proc/PID/status) so growth is visible.
    Soak {
        #[arg(long, default_value_t = 600)]
        duration: u64,
        #[arg(long, default_value_t = 20.0)]
        rate: f64,
        #[arg(long, default_value_t = 2)]
        readers: usize,
        #[arg(long)]
        pid: Option<u32>,
        #[arg(long, default_value_t = 60)]
        every: u64,
    },
}

#[derive(Default)]
struct Stats {
    latencies: Vec<Duration>,
    errors: std::collections::BTreeMap<String, usize>,
}

impl Stats {
    fn record(&mut self, started: Instant, result: Result<u16, String>, expect: u16) {
        match result {
            Ok(status) if status == expect => self.latencies.push(started.elapsed()),
            Ok(status) => *self.errors.entry(format!("HTTP {status}")).or_default() += 1,
            Err(e) => *self.errors.entry(e).or_default() += 1,
        }
    }

    fn summary(&mut self, label: &str, seconds: f64) -> String {
        self.latencies.sort();
        let pct = |p: f64| {
            if self.latencies.is_empty() {
                return f64::NAN;
            }
            let i = ((self.latencies.len() as f64 * p).ceil() as usize).clamp(1, self.latencies.len()) - 1;
            self.latencies[i].as_secs_f64() * 1000.0
        };
        let errors: usize = self.errors.values().sum();
        format!(
            "{label}: {} ok, {errors} errors {:?}, {:.1}/s, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.latencies.len(),
            self.errors,
            self.latencies.len() as f64 / seconds,
            pct(0.50),
            pct(0.95),
            pct(0.99),
            pct(1.0)
        )
    }
}

fn short_error(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connect".into()
    } else {
        "transport".into()
    }
}

struct Sender {
    token: String,
    conversation: String,
}

async fn sign_in_api(client: &reqwest::Client, base: &str, n: usize) -> Result<Sender, String> {
    let email = format!("student{n}@load.trellis.test");
    let response = client
        .post(format!("{base}/api/v1/tokens"))
        .json(&serde_json::json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .map_err(short_error)?;
    if response.status() != 201 {
        return Err(format!("sign-in of {email}: HTTP {}", response.status()));
    }
    let token = response.json::<serde_json::Value>().await.map_err(short_error)?["token"]
        .as_str()
        .ok_or("no token")?
        .to_owned();
    let list: serde_json::Value = client
        .get(format!("{base}/api/v1/conversations"))
        .bearer_auth(&token)
        .send()
        .await
        .map_err(short_error)?
        .json()
        .await
        .map_err(short_error)?;
    let conversation = list["conversations"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["status"] == "open"))
        .and_then(|c| c["id"].as_str())
        .ok_or_else(|| format!("{email} has no open conversation"))?
        .to_owned();
    Ok(Sender { token, conversation })
}

async fn sign_in_form(base: &str, role: &str, n: usize) -> Result<reqwest::Client, String> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .pool_idle_timeout(Duration::from_secs(3))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(short_error)?;
    let page =
        client.get(format!("{base}/login")).send().await.map_err(short_error)?.text().await.map_err(short_error)?;
    let marker = "name=\"csrf_token\" value=\"";
    let start = page.find(marker).ok_or("no CSRF token on the login page")? + marker.len();
    let token = &page[start..start + page[start..].find('"').ok_or("bad CSRF field")?];
    let email = format!("{role}{n}@load.trellis.test");
    let response = client
        .post(format!("{base}/login"))
        .form(&[("email", email.as_str()), ("password", PASSWORD), ("csrf_token", token), ("next", "/dashboard")])
        .send()
        .await
        .map_err(short_error)?;
    if response.status() != 303 && response.status() != 302 {
        return Err(format!("form sign-in of {email}: HTTP {}", response.status()));
    }
    Ok(client)
}

async fn sign_in_senders(client: &reqwest::Client, base: &str, count: usize) -> Vec<Arc<Sender>> {
    let started = Instant::now();
    let mut senders = Vec::with_capacity(count);
    // Four at a time: each sign-in is a deliberate argon2id verification on the server.
    for chunk in (1..=count).collect::<Vec<_>>().chunks(4) {
        let results = futures_util::future::join_all(chunk.iter().map(|&n| sign_in_api(client, base, n))).await;
        for result in results {
            match result {
                Ok(sender) => senders.push(Arc::new(sender)),
                Err(e) => panic!("{e} (did you run `trellis seed --load-test`?)"),
            }
        }
    }
    eprintln!("signed in {} senders in {:.0} s", senders.len(), started.elapsed().as_secs_f64());
    senders
}

async fn send_one(client: &reqwest::Client, base: &str, sender: &Sender, seq: usize) -> Result<u16, String> {
    let text = format!("Load test {seq}: I checked question 4 again and got 12.5 N, same as before.");
    client
        .post(format!("{base}/api/v1/conversations/{}/messages", sender.conversation))
        .bearer_auth(&sender.token)
        .json(&serde_json::json!({ "text": text }))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(short_error)
}

async fn dashboard_one(client: &reqwest::Client, base: &str) -> Result<u16, String> {
    let response = client.get(format!("{base}/dashboard")).send().await.map_err(short_error)?;
    let status = response.status().as_u16();
    response.bytes().await.map_err(short_error)?;
    Ok(status)
}

/// Sends at `rate` per second until `until`, spreading them over the senders.
async fn open_loop(
    client: reqwest::Client,
    base: Arc<String>,
    senders: Arc<Vec<Arc<Sender>>>,
    rate: f64,
    until: Instant,
    stats: Arc<Mutex<Stats>>,
) {
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for i in 0.. {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        if due.into_std() >= until {
            break;
        }
        tokio::time::sleep_until(due).await;
        let (client, base, stats) = (client.clone(), base.clone(), stats.clone());
        let sender = senders[i % senders.len()].clone();
        tasks.push(tokio::spawn(async move {
            let result = send_one(&client, &base, &sender, i).await;
            // Measured from when the request was due.
            stats.lock().await.record(due.into_std(), result, 201);
        }));
    }
    futures_util::future::join_all(tasks).await;
}

fn rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let cli = Cli::parse();
    // Idle connections are dropped before the server's 5 s keep-alive would close them, so a
    // request never races a connection the server is closing.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_idle_timeout(Duration::from_secs(3))
        .build()
        .expect("HTTP client");
    let base = Arc::new(cli.base.trim_end_matches('/').to_owned());
    match cli.mode.clone() {
        Mode::SendOpen { rate, duration } => {
            let senders = Arc::new(sign_in_senders(&client, &base, cli.users).await);
            let stats = Arc::new(Mutex::new(Stats::default()));
            let started = Instant::now();
            open_loop(client, base, senders, rate, started + Duration::from_secs(duration), stats.clone()).await;
            let label = format!("send, open loop at {rate}/s from {} senders", cli.users);
            println!("{}", stats.lock().await.summary(&label, duration as f64));
        }
        Mode::SendClosed { concurrency, duration } => {
            let senders = Arc::new(sign_in_senders(&client, &base, cli.users).await);
            let stats = Arc::new(Mutex::new(Stats::default()));
            let started = Instant::now();
            let until = started + Duration::from_secs(duration);
            let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let workers: Vec<_> = (0..concurrency)
                .map(|_| {
                    let (client, base, senders, stats, next) =
                        (client.clone(), base.clone(), senders.clone(), stats.clone(), next.clone());
                    tokio::spawn(async move {
                        while Instant::now() < until {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let t = Instant::now();
                            let result = send_one(&client, &base, &senders[i % senders.len()], i).await;
                            stats.lock().await.record(t, result, 201);
                        }
                    })
                })
                .collect();
            futures_util::future::join_all(workers).await;
            let label = format!("send, {concurrency} clients from {} senders", cli.users);
            println!("{}", stats.lock().await.summary(&label, started.elapsed().as_secs_f64()));
        }
        Mode::Dashboard { concurrency, duration, role, accounts } => {
            let mut readers = Vec::new();
            for i in 0..concurrency {
                readers.push(sign_in_form(&base, &role, i % accounts.max(1) + 1).await.expect("form sign-in"));
            }
            let stats = Arc::new(Mutex::new(Stats::default()));
            let started = Instant::now();
            let until = started + Duration::from_secs(duration);
            let workers: Vec<_> = readers
                .into_iter()
                .map(|reader| {
                    let (base, stats) = (base.clone(), stats.clone());
                    tokio::spawn(async move {
                        while Instant::now() < until {
                            let t = Instant::now();
                            let result = dashboard_one(&reader, &base).await;
                            stats.lock().await.record(t, result, 200);
                        }
                    })
                })
                .collect();
            futures_util::future::join_all(workers).await;
            let label = format!("{role} dashboard, {concurrency} clients");
            println!("{}", stats.lock().await.summary(&label, started.elapsed().as_secs_f64()));
        }
        Mode::Soak { duration, rate, readers, pid, every } => {
            let senders = Arc::new(sign_in_senders(&client, &base, cli.users).await);
            let mut reader_clients = Vec::new();
            for n in 1..=readers {
                reader_clients.push(sign_in_form(&base, "student", n).await.expect("form sign-in"));
            }
            let started = Instant::now();
            let until = started + Duration::from_secs(duration);
            if let Some(pid) = pid {
                println!("t=0s rss {:.0} MB", rss_mb(pid).unwrap_or(f64::NAN));
            }
            let mut interval_start = Instant::now();
            while interval_start < until {
                let interval_end = (interval_start + Duration::from_secs(every)).min(until);
                let sends = Arc::new(Mutex::new(Stats::default()));
                let reads = Arc::new(Mutex::new(Stats::default()));
                let readers: Vec<_> = reader_clients
                    .iter()
                    .cloned()
                    .map(|reader| {
                        let (base, reads) = (base.clone(), reads.clone());
                        tokio::spawn(async move {
                            while Instant::now() < interval_end {
                                let t = Instant::now();
                                let result = dashboard_one(&reader, &base).await;
                                reads.lock().await.record(t, result, 200);
                                tokio::time::sleep(Duration::from_millis(100)).await;
                            }
                        })
                    })
                    .collect();
                open_loop(client.clone(), base.clone(), senders.clone(), rate, interval_end, sends.clone()).await;
                futures_util::future::join_all(readers).await;
                let seconds = interval_end.duration_since(interval_start).as_secs_f64();
                let t = interval_end.duration_since(started).as_secs();
                let rss = pid.and_then(rss_mb).map(|m| format!(" rss {m:.0} MB")).unwrap_or_default();
                println!("t={t}s{rss}");
                println!("  {}", sends.lock().await.summary("send", seconds));
                println!("  {}", reads.lock().await.summary("dashboard", seconds));
                interval_start = interval_end;
            }
        }
    }
}

//! Settings, layered: built-in defaults → optional `trellis.toml` → `TRELLIS_*` environment →
//! command-line flags. Every bad value is a one-line error that names the setting.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTransportKind {
    /// Write each message as a file into `mail_dir` (the default: nothing leaves the machine).
    File,
    /// Deliver through an SMTP relay.
    Smtp,
    /// Keep messages in memory (tests).
    Memory,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: String,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub mail_transport: MailTransportKind,
    pub mail_dir: PathBuf,
    pub mail_from: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_tls: SmtpTls,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    pub public_url: String,
    pub secure_cookies: bool,
    pub session_idle_minutes: i64,
    pub session_key_file: PathBuf,
    pub policies_dir: PathBuf,
    pub models_dir: PathBuf,
    pub database_pool_size: u32,
    /// How long a claimed job or outgoing mail is protected before another worker may retry it
    /// (a worker killed mid-task leaves its claim to expire).
    pub job_lease_seconds: i64,
    pub password_hashing: PasswordHashing,
    pub login_max_failures: i32,
    pub login_lockout_minutes: i64,
    pub api_token_days: i64,
    pub max_body_bytes: usize,
    pub log_format: LogFormat,
    /// HTTP worker threads (default: one per core, at least 2).
    pub workers: Option<usize>,
}

/// How Trellis talks to the SMTP relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection (only for a relay on the same machine or a test server).
    None,
    /// Upgrade with STARTTLS (usually port 587); refuses to send if the relay cannot.
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordHashing {
    /// OWASP-recommended argon2id parameters.
    Strong,
    /// Cheap parameters so test suites stay fast. Never for production.
    TestOnlyFast,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub setting: String,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "configuration error in `{}`: {}", self.setting, self.problem)
    }
}

impl std::error::Error for ConfigError {}

fn err(setting: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError { setting: setting.to_owned(), problem: problem.into() }
}

/// The optional `trellis.toml`. Unknown keys are refused so typos do not go unnoticed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    bind: Option<String>,
    database_url: Option<String>,
    data_dir: Option<PathBuf>,
    mail_transport: Option<String>,
    mail_dir: Option<PathBuf>,
    mail_from: Option<String>,
    smtp_host: Option<String>,
    smtp_port: Option<u16>,
    smtp_tls: Option<String>,
    smtp_username: Option<String>,
    smtp_password: Option<String>,
    public_url: Option<String>,
    secure_cookies: Option<bool>,
    session_idle_minutes: Option<i64>,
    policies_dir: Option<PathBuf>,
    models_dir: Option<PathBuf>,
    database_pool_size: Option<u32>,
    job_lease_seconds: Option<i64>,
    login_max_failures: Option<i32>,
    login_lockout_minutes: Option<i64>,
    api_token_days: Option<i64>,
    max_body_bytes: Option<usize>,
    log_format: Option<String>,
}

/// Values given on the command line; `None` leaves the lower layers alone.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub bind: Option<String>,
    pub database_url: Option<String>,
    pub config_file: Option<PathBuf>,
}

impl Settings {
    pub fn defaults() -> Settings {
        let data_dir = PathBuf::from("var");
        Settings {
            bind: "127.0.0.1:8080".into(),
            database_url: "sqlite://var/trellis.db".into(),
            mail_transport: MailTransportKind::File,
            mail_dir: data_dir.join("mail"),
            session_key_file: data_dir.join("session.key"),
            data_dir,
            mail_from: "Trellis <no-reply@trellis.test>".into(),
            smtp_host: "localhost".into(),
            smtp_port: 587,
            smtp_tls: SmtpTls::StartTls,
            smtp_username: None,
            smtp_password: None,
            public_url: "http://127.0.0.1:8080".into(),
            secure_cookies: false,
            session_idle_minutes: 60,
            policies_dir: PathBuf::from("policies"),
            models_dir: PathBuf::from("models"),
            database_pool_size: 8,
            job_lease_seconds: 300,
            password_hashing: PasswordHashing::Strong,
            login_max_failures: 10,
            login_lockout_minutes: 15,
            api_token_days: 30,
            max_body_bytes: 256 * 1024,
            log_format: LogFormat::Pretty,
            workers: None,
        }
    }

    /// Loads the layers from the real process environment.
    pub fn load(overrides: &Overrides) -> Result<Settings, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().filter(|(k, _)| k.starts_with("TRELLIS_")).collect();
        Self::load_from(overrides, &env)
    }

    /// Loads the layers from a given environment map (tests pass their own).
    pub fn load_from(overrides: &Overrides, env: &HashMap<String, String>) -> Result<Settings, ConfigError> {
        let mut settings = Settings::defaults();
        let explicit_file = overrides.config_file.clone().or_else(|| env.get("TRELLIS_CONFIG").map(PathBuf::from));
        let file = explicit_file.clone().unwrap_or_else(|| PathBuf::from("trellis.toml"));
        if file.exists() {
            settings.apply_file(&file)?;
        } else if explicit_file.is_some() {
            return Err(err("config", format!("the file {} does not exist", file.display())));
        }
        settings.apply_env(env)?;
        if let Some(bind) = &overrides.bind {
            settings.bind = bind.clone();
        }
        if let Some(url) = &overrides.database_url {
            settings.database_url = url.clone();
        }
        settings.validate()?;
        Ok(settings)
    }

    fn apply_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| err("config", format!("cannot read {}: {e}", path.display())))?;
        let file: FileSettings = toml::from_str(&text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1).unwrap_or(0);
            err("config", format!("{} line {line}: {}", path.display(), e.message()))
        })?;
        macro_rules! take {
            ($($field:ident),*) => { $( if let Some(v) = file.$field { self.$field = v; } )* };
        }
        take!(
            bind,
            models_dir,
            database_url,
            mail_from,
            smtp_host,
            smtp_port,
            public_url,
            secure_cookies,
            session_idle_minutes,
            policies_dir,
            database_pool_size,
            job_lease_seconds,
            login_max_failures,
            login_lockout_minutes,
            api_token_days,
            max_body_bytes
        );
        if let Some(dir) = file.data_dir {
            self.set_data_dir(dir);
        }
        if let Some(dir) = file.mail_dir {
            self.mail_dir = dir;
        }
        if file.smtp_username.is_some() {
            self.smtp_username = file.smtp_username;
        }
        if file.smtp_password.is_some() {
            self.smtp_password = file.smtp_password;
        }
        if let Some(tls) = file.smtp_tls {
            self.smtp_tls = parse_tls("smtp_tls", &tls)?;
        }
        if let Some(kind) = file.mail_transport {
            self.mail_transport = parse_transport("mail_transport", &kind)?;
        }
        if let Some(format) = file.log_format {
            self.log_format = parse_log_format("log_format", &format)?;
        }
        Ok(())
    }

    fn set_data_dir(&mut self, dir: PathBuf) {
        self.mail_dir = dir.join("mail");
        self.session_key_file = dir.join("session.key");
        self.data_dir = dir;
    }

    fn apply_env(&mut self, env: &HashMap<String, String>) -> Result<(), ConfigError> {
        let get = |name: &str| env.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        if let Some(v) = get("TRELLIS_DATA_DIR") {
            self.set_data_dir(PathBuf::from(v));
        }
        if let Some(v) = get("TRELLIS_BIND") {
            self.bind = v;
        }
        if let Some(v) = get("TRELLIS_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = get("TRELLIS_MAIL_TRANSPORT") {
            self.mail_transport = parse_transport("TRELLIS_MAIL_TRANSPORT", &v)?;
        }
        if let Some(v) = get("TRELLIS_MAIL_DIR") {
            self.mail_dir = PathBuf::from(v);
        }
        if let Some(v) = get("TRELLIS_MAIL_FROM") {
            self.mail_from = v;
        }
        if let Some(v) = get("TRELLIS_SMTP_HOST") {
            self.smtp_host = v;
        }
        if let Some(v) = get("TRELLIS_SMTP_PORT") {
            self.smtp_port = parse_num("TRELLIS_SMTP_PORT", &v)?;
        }
        if let Some(v) = get("TRELLIS_SMTP_TLS") {
            self.smtp_tls = parse_tls("TRELLIS_SMTP_TLS", &v)?;
        }
        if let Some(v) = get("TRELLIS_SMTP_USERNAME") {
            self.smtp_username = Some(v);
        }
        if let Some(v) = get("TRELLIS_SMTP_PASSWORD") {
            self.smtp_password = Some(v);
        }
        if let Some(v) = get("TRELLIS_PUBLIC_URL") {
            self.public_url = v;
        }
        if let Some(v) = get("TRELLIS_SECURE_COOKIES") {
            self.secure_cookies = parse_bool("TRELLIS_SECURE_COOKIES", &v)?;
        }
        if let Some(v) = get("TRELLIS_SESSION_IDLE_MINUTES") {
            self.session_idle_minutes = parse_num("TRELLIS_SESSION_IDLE_MINUTES", &v)?;
        }
        if let Some(v) = get("TRELLIS_POLICIES_DIR") {
            self.policies_dir = PathBuf::from(v);
        }
        if let Some(v) = get("TRELLIS_MODELS_DIR") {
            self.models_dir = PathBuf::from(v);
        }
        if let Some(v) = get("TRELLIS_DATABASE_POOL_SIZE") {
            self.database_pool_size = parse_num("TRELLIS_DATABASE_POOL_SIZE", &v)?;
        }
        if let Some(v) = get("TRELLIS_JOB_LEASE_SECONDS") {
            self.job_lease_seconds = parse_num("TRELLIS_JOB_LEASE_SECONDS", &v)?;
        }
        if let Some(v) = get("TRELLIS_LOGIN_MAX_FAILURES") {
            self.login_max_failures = parse_num("TRELLIS_LOGIN_MAX_FAILURES", &v)?;
        }
        if let Some(v) = get("TRELLIS_LOGIN_LOCKOUT_MINUTES") {
            self.login_lockout_minutes = parse_num("TRELLIS_LOGIN_LOCKOUT_MINUTES", &v)?;
        }
        if let Some(v) = get("TRELLIS_API_TOKEN_DAYS") {
            self.api_token_days = parse_num("TRELLIS_API_TOKEN_DAYS", &v)?;
        }
        if let Some(v) = get("TRELLIS_MAX_BODY_BYTES") {
            self.max_body_bytes = parse_num("TRELLIS_MAX_BODY_BYTES", &v)?;
        }
        if let Some(v) = get("TRELLIS_LOG_FORMAT") {
            self.log_format = parse_log_format("TRELLIS_LOG_FORMAT", &v)?;
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.bind.parse::<std::net::SocketAddr>().is_err() && !self.bind.contains(':') {
            return Err(err("bind", format!("`{}` is not HOST:PORT", self.bind)));
        }
        let scheme_ok = self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://");
        if !scheme_ok {
            return Err(err(
                "database_url",
                format!("`{}` must start with sqlite:// or postgres://", redact_url(&self.database_url)),
            ));
        }
        if !(1..=24 * 60).contains(&self.session_idle_minutes) {
            return Err(err("session_idle_minutes", "must be between 1 and 1440"));
        }
        if !(1..=24 * 3600).contains(&self.job_lease_seconds) {
            return Err(err("job_lease_seconds", "must be between 1 and 86400"));
        }
        if self.database_pool_size == 0 || self.database_pool_size > 64 {
            return Err(err("database_pool_size", "must be between 1 and 64"));
        }
        if self.login_max_failures < 1 {
            return Err(err("login_max_failures", "must be at least 1"));
        }
        if self.login_lockout_minutes < 1 {
            return Err(err("login_lockout_minutes", "must be at least 1"));
        }
        if self.api_token_days < 1 {
            return Err(err("api_token_days", "must be at least 1"));
        }
        if self.max_body_bytes < 1024 {
            return Err(err("max_body_bytes", "must be at least 1024"));
        }
        if self.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(err("mail_from", format!("`{}` is not an e-mail address", self.mail_from)));
        }
        Ok(())
    }
}

/// Hides the password of a database URL for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

fn parse_num<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, ConfigError> {
    value.parse().map_err(|_| err(name, format!("`{value}` is not a valid number")))
}

fn parse_bool(name: &str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(err(name, format!("`{value}` is not true or false"))),
    }
}

fn parse_transport(name: &str, value: &str) -> Result<MailTransportKind, ConfigError> {
    match value {
        "file" => Ok(MailTransportKind::File),
        "smtp" => Ok(MailTransportKind::Smtp),
        "memory" => Ok(MailTransportKind::Memory),
        _ => Err(err(name, format!("`{value}` is not one of file, smtp, memory"))),
    }
}

fn parse_tls(name: &str, value: &str) -> Result<SmtpTls, ConfigError> {
    match value {
        "none" => Ok(SmtpTls::None),
        "starttls" => Ok(SmtpTls::StartTls),
        "tls" => Ok(SmtpTls::Tls),
        _ => Err(err(name, format!("`{value}` is not one of none, starttls, tls"))),
    }
}

fn parse_log_format(name: &str, value: &str) -> Result<LogFormat, ConfigError> {
    match value {
        "pretty" => Ok(LogFormat::Pretty),
        "json" => Ok(LogFormat::Json),
        _ => Err(err(name, format!("`{value}` is not one of pretty, json"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_need_no_setup() {
        let s = Settings::load_from(&Overrides::default(), &env(&[])).unwrap();
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert_eq!(s.database_url, "sqlite://var/trellis.db");
        assert_eq!(s.mail_dir, PathBuf::from("var/mail"));
    }

    #[test]
    fn environment_beats_defaults_and_flags_beat_environment() {
        let e = env(&[("TRELLIS_BIND", "0.0.0.0:9000"), ("TRELLIS_DATABASE_URL", "sqlite://x.db")]);
        let s = Settings::load_from(&Overrides::default(), &e).unwrap();
        assert_eq!(s.bind, "0.0.0.0:9000");
        let flags = Overrides { bind: Some("127.0.0.1:7000".into()), ..Default::default() };
        let s = Settings::load_from(&flags, &e).unwrap();
        assert_eq!(s.bind, "127.0.0.1:7000");
        assert_eq!(s.database_url, "sqlite://x.db");
    }

    #[test]
    fn bad_values_name_the_setting() {
        let e = env(&[("TRELLIS_SESSION_IDLE_MINUTES", "soon")]);
        let error = Settings::load_from(&Overrides::default(), &e).unwrap_err();
        assert_eq!(error.setting, "TRELLIS_SESSION_IDLE_MINUTES");
        let e = env(&[("TRELLIS_DATABASE_URL", "mysql://x")]);
        assert_eq!(Settings::load_from(&Overrides::default(), &e).unwrap_err().setting, "database_url");
    }

    #[test]
    fn file_layer_rejects_unknown_keys_with_line() {
        let dir = std::env::temp_dir().join(format!("trellis-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("trellis.toml");
        std::fs::write(&file, "bind = \"127.0.0.1:1\"\nbnid = 3\n").unwrap();
        let o = Overrides { config_file: Some(file.clone()), ..Default::default() };
        let error = Settings::load_from(&o, &env(&[])).unwrap_err();
        assert!(error.problem.contains("line 2"), "{error}");
        std::fs::write(&file, "bind = \"127.0.0.1:1\"\n").unwrap();
        assert_eq!(Settings::load_from(&o, &env(&[])).unwrap().bind, "127.0.0.1:1");
    }

    #[test]
    fn passwords_are_hidden_in_urls() {
        assert_eq!(redact_url("postgres://app:secret@db/x"), "postgres://app:***@db/x");
    }
}

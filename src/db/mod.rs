//! Database access: one connection type over SQLite and PostgreSQL, a pool, embedded
//! migrations per backend, and the pragmas SQLite needs on every connection.

pub mod enums;
pub mod models;
pub mod schema;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::configuration::redact_url;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
#[cfg(feature = "postgres")]
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

// The derive cannot see `cfg` on variants, so the enum is spelled once per feature set.
#[cfg(feature = "postgres")]
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::pg::PgConnection),
    Sqlite(SqliteConnection),
}

#[cfg(not(feature = "postgres"))]
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
}

pub type DbPool = Pool<ConnectionManager<DbConnection>>;
pub type PooledDb = PooledConnection<ConnectionManager<DbConnection>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error("database URL `{0}` is not sqlite://… or postgres://…")]
    UnknownScheme(String),
    #[error("PostgreSQL URLs need a build with `--features postgres` (this binary supports SQLite only)")]
    PostgresNotBuilt,
    #[error("cannot create the folder {path} for the SQLite database: {source}")]
    Folder { path: String, source: std::io::Error },
    #[error("cannot connect to the database at {url}: {cause}")]
    Connect { url: String, cause: String },
    #[error("database migrations failed: {0}")]
    Migrate(String),
}

/// Where a URL points, after checking the backend is built in.
#[derive(Debug, Clone)]
pub struct DatabaseTarget {
    pub backend: Backend,
    /// What diesel's connection takes: a file path (or `:memory:`) for SQLite, the URL for PostgreSQL.
    pub connection_string: String,
    pub in_memory: bool,
}

impl DatabaseTarget {
    pub fn parse(url: &str) -> Result<DatabaseTarget, DbSetupError> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let in_memory = path == ":memory:" || path.is_empty();
            let connection_string = if in_memory { ":memory:".to_owned() } else { path.to_owned() };
            return Ok(DatabaseTarget { backend: Backend::Sqlite, connection_string, in_memory });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            if cfg!(feature = "postgres") {
                return Ok(DatabaseTarget {
                    backend: Backend::Postgres,
                    connection_string: url.to_owned(),
                    in_memory: false,
                });
            }
            return Err(DbSetupError::PostgresNotBuilt);
        }
        Err(DbSetupError::UnknownScheme(redact_url(url)))
    }
}

/// Connection manager that picks the backend from the target instead of trial and error.
#[derive(Debug, Clone)]
struct SqlitePragmas;

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        #[allow(irrefutable_let_patterns)]
        if let DbConnection::Sqlite(sqlite) = conn {
            // WAL lets readers run beside the writer; busy_timeout waits instead of failing
            // at once when another connection holds the write lock.
            sqlite
                .batch_execute(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; \
                     PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
                )
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// Builds the pool and runs pending migrations.
pub fn connect(url: &str, pool_size: u32) -> Result<(DbPool, Backend), DbSetupError> {
    let target = DatabaseTarget::parse(url)?;
    if target.backend == Backend::Sqlite && !target.in_memory {
        if let Some(parent) = std::path::Path::new(&target.connection_string).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent)
                    .map_err(|source| DbSetupError::Folder { path: parent.display().to_string(), source })?;
            }
        }
    }
    // Establish one connection first so that a refused server gives its real reason.
    let mut probe = establish(&target).map_err(|cause| DbSetupError::Connect { url: redact_url(url), cause })?;
    run_migrations(&mut probe)?;
    drop(probe);
    // An in-memory SQLite database exists per connection, so the pool keeps exactly one.
    let size = if target.in_memory { 1 } else { pool_size };
    let manager = ConnectionManager::<DbConnection>::new(target.connection_string.clone());
    let pool = Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        // Recycling the only connection of an in-memory database would drop the database.
        .max_lifetime(if target.in_memory { None } else { Some(Duration::from_secs(30 * 60)) })
        .idle_timeout(if target.in_memory { None } else { Some(Duration::from_secs(10 * 60)) })
        .connection_customizer(Box::new(SqlitePragmas))
        .build(manager)
        .map_err(|e| DbSetupError::Connect { url: redact_url(url), cause: e.to_string() })?;
    if target.in_memory {
        let mut conn = pool.get().map_err(|e| DbSetupError::Connect { url: redact_url(url), cause: e.to_string() })?;
        run_migrations(&mut conn)?;
    }
    Ok((pool, target.backend))
}

fn establish(target: &DatabaseTarget) -> Result<DbConnection, String> {
    match target.backend {
        Backend::Sqlite => {
            SqliteConnection::establish(&target.connection_string).map(DbConnection::Sqlite).map_err(|e| e.to_string())
        }
        #[cfg(feature = "postgres")]
        Backend::Postgres => diesel::pg::PgConnection::establish(&target.connection_string)
            .map(DbConnection::Postgresql)
            .map_err(|e| e.to_string()),
        #[cfg(not(feature = "postgres"))]
        Backend::Postgres => Err(DbSetupError::PostgresNotBuilt.to_string()),
    }
}

pub fn run_migrations(conn: &mut DbConnection) -> Result<(), DbSetupError> {
    match conn {
        DbConnection::Sqlite(c) => {
            c.batch_execute("PRAGMA foreign_keys = ON;").map_err(|e| DbSetupError::Migrate(e.to_string()))?;
            c.run_pending_migrations(SQLITE_MIGRATIONS).map_err(|e| DbSetupError::Migrate(e.to_string()))?;
        }
        #[cfg(feature = "postgres")]
        DbConnection::Postgresql(c) => {
            c.run_pending_migrations(POSTGRES_MIGRATIONS).map_err(|e| DbSetupError::Migrate(e.to_string()))?;
        }
    }
    Ok(())
}

pub fn backend_of(conn: &DbConnection) -> Backend {
    match conn {
        DbConnection::Sqlite(_) => Backend::Sqlite,
        #[cfg(feature = "postgres")]
        DbConnection::Postgresql(_) => Backend::Postgres,
    }
}

/// Runs blocking database work on actix's thread pool with a pooled connection.
pub async fn run<T, F>(pool: &DbPool, work: F) -> Result<T, crate::error::AppError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, crate::error::AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool.get()?;
        work(&mut conn)
    })
    .await?
}

/// The current UTC time at microsecond precision: what both backends store exactly, so a
/// value read back equals the value written (the audit hash chain depends on it).
pub fn now() -> chrono::NaiveDateTime {
    use chrono::Timelike;
    let t = chrono::Utc::now().naive_utc();
    t.with_nanosecond(t.nanosecond() / 1_000 * 1_000).unwrap_or(t)
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A transaction for work that writes. On SQLite it starts with `BEGIN IMMEDIATE`, taking the
/// write lock first (waiting up to the busy timeout): a deferred transaction that reads and
/// then writes fails at once with "database is locked" when another connection wrote in the
/// meantime, which under concurrent use turned ordinary requests into 500s. Inside an outer
/// transaction it is a savepoint; on PostgreSQL an ordinary transaction.
// Without the `postgres` feature the enum has one variant, so the `let … else` always matches.
#[allow(irrefutable_let_patterns)]
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let DbConnection::Sqlite(sqlite) = conn else {
        return conn.transaction(work);
    };
    let depth = AnsiTransactionManager::transaction_manager_status_mut(sqlite).transaction_depth()?;
    if depth.is_some() {
        return conn.transaction(work);
    }
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    let result = work(conn);
    let DbConnection::Sqlite(sqlite) = conn else { unreachable!("the connection's backend does not change") };
    match result {
        Ok(value) => match AnsiTransactionManager::commit_transaction(sqlite) {
            Ok(()) => Ok(value),
            Err(error) => {
                let _ = AnsiTransactionManager::rollback_transaction(sqlite);
                Err(error.into())
            }
        },
        Err(error) => {
            let _ = AnsiTransactionManager::rollback_transaction(sqlite);
            Err(error)
        }
    }
}

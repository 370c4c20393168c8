//! Server-side sessions in the database. The cookie carries only a random key (encrypted by
//! actix-session's private cookie); the table stores its SHA-256, so a database reader cannot
//! sign in as anyone. Signing out deletes the row; idle sessions expire by `expires_at`.

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::models::WebSession;
use crate::db::schema::web_sessions;
use crate::db::{now, DbPool};

#[derive(Clone)]
pub struct DbSessionStore {
    pool: DbPool,
}

impl DbSessionStore {
    pub fn new(pool: DbPool) -> Self {
        DbSessionStore { pool }
    }
}

fn key_hash(key: &SessionKey) -> String {
    hex::encode(Sha256::digest(key.as_ref().as_bytes()))
}

fn expiry(ttl: &Duration) -> chrono::NaiveDateTime {
    now() + chrono::Duration::seconds(ttl.whole_seconds().max(1))
}

async fn blocking<T: Send + 'static>(
    pool: &DbPool,
    work: impl FnOnce(&mut crate::db::DbConnection) -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool.get()?;
        work(&mut conn)
    })
    .await
    .map_err(|e| anyhow::anyhow!("session store task failed: {e}"))?
}

impl SessionStore for DbSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        let hash = key_hash(session_key);
        let row = blocking(&self.pool, move |conn| {
            let row: Option<WebSession> =
                web_sessions::table.find(&hash).select(WebSession::as_select()).first(conn).optional()?;
            match row {
                Some(r) if r.expires_at > now() => Ok(Some(r.state)),
                Some(_) => {
                    diesel::delete(web_sessions::table.find(&hash)).execute(conn)?;
                    Ok(None)
                }
                None => Ok(None),
            }
        })
        .await
        .map_err(LoadError::Other)?;
        match row {
            Some(state) => serde_json::from_str(&state).map(Some).map_err(|e| LoadError::Deserialization(e.into())),
            None => Ok(None),
        }
    }

    async fn save(&self, session_state: HashMap<String, String>, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let state = serde_json::to_string(&session_state).map_err(|e| SaveError::Serialization(e.into()))?;
        // 64 random alphanumeric characters from a CSPRNG.
        let key = actix_session::storage::generate_session_key();
        let row = WebSession { key_hash: key_hash(&key), state, expires_at: expiry(ttl), created_at: now() };
        blocking(&self.pool, move |conn| {
            diesel::insert_into(web_sessions::table).values(&row).execute(conn)?;
            Ok(())
        })
        .await
        .map_err(SaveError::Other)?;
        Ok(key)
    }

    async fn update(
        &self,
        session_key: SessionKey,
        session_state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let state = serde_json::to_string(&session_state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let hash = key_hash(&session_key);
        let expires_at = expiry(ttl);
        let updated = blocking(&self.pool, move |conn| {
            Ok(diesel::update(web_sessions::table.find(&hash))
                .set((web_sessions::state.eq(state), web_sessions::expires_at.eq(expires_at)))
                .execute(conn)?)
        })
        .await
        .map_err(UpdateError::Other)?;
        if updated == 0 {
            // The row expired or was deleted meanwhile: start a fresh session.
            return self.save(session_state, ttl).await.map_err(|e| UpdateError::Other(anyhow::anyhow!("{e}")));
        }
        Ok(session_key)
    }

    async fn update_ttl(&self, session_key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        let hash = key_hash(session_key);
        let expires_at = expiry(ttl);
        blocking(&self.pool, move |conn| {
            diesel::update(web_sessions::table.find(&hash))
                .set(web_sessions::expires_at.eq(expires_at))
                .execute(conn)?;
            Ok(())
        })
        .await
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), anyhow::Error> {
        let hash = key_hash(session_key);
        blocking(&self.pool, move |conn| {
            diesel::delete(web_sessions::table.find(&hash)).execute(conn)?;
            Ok(())
        })
        .await
    }
}

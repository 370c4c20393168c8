//! Accounts: password hashing (argon2id), sign-in with throttling, user creation, API tokens.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::access::{may_sign_in, Actor};
use crate::audit::{self, AuditEntry};
use crate::configuration::PasswordHashing;
use crate::db::enums::{Role, UserStatus};
use crate::db::models::{ApiToken, LoginThrottle, User};
use crate::db::schema::{api_tokens, login_throttles, users};
use crate::db::{new_id, now, DbConnection};
use crate::error::{AppError, AppResult, ErrorKind};

pub const MIN_PASSWORD_CHARS: usize = 12;

#[derive(Clone)]
pub struct PasswordPolicy {
    hashing: PasswordHashing,
    /// A real hash of a random password, verified when the e-mail is unknown so that both
    /// answers take the same time.
    dummy_hash: String,
}

impl PasswordPolicy {
    pub fn new(hashing: PasswordHashing) -> PasswordPolicy {
        let mut random = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut random);
        let mut policy = PasswordPolicy { hashing, dummy_hash: String::new() };
        policy.dummy_hash = policy.hash(&hex::encode(random)).expect("hashing a random password");
        policy
    }

    fn argon2(&self) -> Argon2<'static> {
        let params = match self.hashing {
            // OWASP: argon2id, m=19 MiB, t=2, p=1.
            PasswordHashing::Strong => Params::new(19 * 1024, 2, 1, None),
            PasswordHashing::TestOnlyFast => Params::new(256, 1, 1, None),
        }
        .expect("valid argon2 parameters");
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    pub fn hash(&self, password: &str) -> AppResult<String> {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        self.argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal(anyhow::anyhow!("password hashing failed: {e}")))
    }

    pub fn verify(&self, password: &str, hash: &str) -> bool {
        match PasswordHash::new(hash) {
            // The parameters stored in the hash are used, so strong hashes verify in tests too.
            Ok(parsed) => self.argon2().verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(_) => false,
        }
    }
}

pub fn validate_new_password(password: &str) -> AppResult<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::bad_request(format!(
            "Please choose a password of at least {MIN_PASSWORD_CHARS} characters."
        )));
    }
    if password.len() > 1024 {
        return Err(AppError::bad_request("That password is too long (1024 bytes at most)."));
    }
    Ok(())
}

pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub fn validate_email(email: &str) -> AppResult<String> {
    let email = normalize_email(email);
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(email)
    } else {
        Err(AppError::bad_request("Please enter a valid e-mail address, like name@example.org."))
    }
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub password: Option<&'a str>,
    pub programme_id: Option<&'a str>,
}

/// Creates an active user (with its audit row) inside the caller's transaction.
pub fn create_user(
    conn: &mut DbConnection,
    passwords: &PasswordPolicy,
    new: NewUser<'_>,
    actor_id: Option<&str>,
) -> AppResult<User> {
    let email = validate_email(new.email)?;
    let display_name = new.display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > 100 {
        return Err(AppError::bad_request("Please give a display name of 1 to 100 characters."));
    }
    let password_hash = match new.password {
        Some(p) => {
            validate_new_password(p)?;
            Some(passwords.hash(p)?)
        }
        None => None,
    };
    let exists: i64 = users::table.filter(users::email.eq(&email)).count().get_result(conn)?;
    if exists > 0 {
        return Err(AppError::conflict("An account with that e-mail address already exists."));
    }
    let at = now();
    let user = User {
        id: new_id(),
        programme_id: new.programme_id.map(str::to_owned),
        email,
        display_name: display_name.to_owned(),
        role: new.role.as_str().to_owned(),
        status: UserStatus::Active.as_str().to_owned(),
        password_hash,
        created_at: at,
        updated_at: at,
        last_login_at: None,
    };
    diesel::insert_into(users::table).values(&user).execute(conn)?;
    audit::record(
        conn,
        AuditEntry {
            actor_id,
            action: "user.created",
            subject_type: "user",
            subject_id: &user.id,
            details: serde_json::json!({ "role": new.role.as_str() }),
        },
    )?;
    Ok(user)
}

pub fn actor_of(user: &User) -> AppResult<Actor> {
    let role: Role = user.role.parse().map_err(AppError::internal)?;
    Ok(Actor { user_id: user.id.clone(), role, display_name: user.display_name.clone() })
}

/// Loads the actor for a user id, if the account may still act.
pub fn load_actor(conn: &mut DbConnection, user_id: &str) -> AppResult<Option<Actor>> {
    let user: Option<User> = users::table.find(user_id).select(User::as_select()).first(conn).optional()?;
    match user {
        Some(u) if u.status.parse::<UserStatus>().is_ok_and(may_sign_in) => Ok(Some(actor_of(&u)?)),
        _ => Ok(None),
    }
}

// ---- sign-in throttling -------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub max_failures: i32,
    pub lockout: Duration,
}

fn throttle_key(kind: &str, value: &str) -> String {
    hex::encode(Sha256::digest(format!("{kind}:{value}").as_bytes()))
}

fn locked_until(conn: &mut DbConnection, key: &str, at: NaiveDateTime) -> AppResult<Option<NaiveDateTime>> {
    let row: Option<LoginThrottle> =
        login_throttles::table.find(key).select(LoginThrottle::as_select()).first(conn).optional()?;
    Ok(row.and_then(|r| r.locked_until).filter(|until| *until > at))
}

fn note_failure(conn: &mut DbConnection, key: &str, policy: ThrottlePolicy, at: NaiveDateTime) -> AppResult<()> {
    let row: Option<LoginThrottle> =
        login_throttles::table.find(key).select(LoginThrottle::as_select()).first(conn).optional()?;
    match row {
        // Failures count within one lockout-length window; an old window starts over.
        Some(r) if at - r.window_started_at < policy.lockout => {
            let failures = r.failures + 1;
            let locked = (failures >= policy.max_failures).then_some(at + policy.lockout);
            diesel::update(login_throttles::table.find(key))
                .set((login_throttles::failures.eq(failures), login_throttles::locked_until.eq(locked)))
                .execute(conn)?;
        }
        Some(_) => {
            diesel::update(login_throttles::table.find(key))
                .set((
                    login_throttles::failures.eq(1),
                    login_throttles::window_started_at.eq(at),
                    login_throttles::locked_until.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)?;
        }
        None => {
            let row =
                LoginThrottle { key_hash: key.to_owned(), failures: 1, window_started_at: at, locked_until: None };
            diesel::insert_into(login_throttles::table).values(&row).execute(conn)?;
        }
    }
    Ok(())
}

pub const WRONG_CREDENTIALS: &str = "That e-mail address and password do not match an account.";

fn lockout_message(until: NaiveDateTime, at: NaiveDateTime) -> String {
    let minutes = ((until - at).num_seconds() + 59) / 60;
    format!(
        "Too many failed sign-in attempts. Sign-in is paused for {minutes} more minute{} — please wait and try again.",
        if minutes == 1 { "" } else { "s" }
    )
}

/// Checks an e-mail and password. Unknown e-mail and wrong password give the same error and
/// do the same work (a full argon2 verification). Failures are counted per account and per
/// client address; too many lock both for the policy's lockout time.
pub fn authenticate(
    conn: &mut DbConnection,
    passwords: &PasswordPolicy,
    throttle: ThrottlePolicy,
    email: &str,
    password: &str,
    client: &str,
) -> AppResult<User> {
    let email = normalize_email(email);
    let at = now();
    let account_key = throttle_key("account", &email);
    let client_key = throttle_key("client", client);
    for key in [&account_key, &client_key] {
        if let Some(until) = locked_until(conn, key, at)? {
            return Err(AppError::new(ErrorKind::TooManyRequests, lockout_message(until, at)));
        }
    }
    let user: Option<User> =
        users::table.filter(users::email.eq(&email)).select(User::as_select()).first(conn).optional()?;
    let hash = user.as_ref().and_then(|u| u.password_hash.clone()).unwrap_or_else(|| passwords.dummy_hash.clone());
    let password_ok = passwords.verify(password, &hash);
    let user = match user {
        Some(u) if password_ok && u.password_hash.is_some() => u,
        _ => {
            crate::db::write_transaction(conn, |c| {
                note_failure(c, &account_key, throttle, at)?;
                note_failure(c, &client_key, throttle, at)
            })?;
            return Err(AppError::new(ErrorKind::Unauthenticated, WRONG_CREDENTIALS));
        }
    };
    if !user.status.parse::<UserStatus>().is_ok_and(may_sign_in) {
        return Err(AppError::new(
            ErrorKind::Forbidden,
            "This account is not active. Please contact your programme coordinator.",
        ));
    }
    crate::db::write_transaction(conn, |c| {
        diesel::delete(login_throttles::table.find(&account_key)).execute(c)?;
        diesel::update(users::table.find(&user.id)).set(users::last_login_at.eq(Some(at))).execute(c)?;
        audit::record(
            c,
            AuditEntry {
                actor_id: Some(&user.id),
                action: "user.signed_in",
                subject_type: "user",
                subject_id: &user.id,
                details: serde_json::json!({}),
            },
        )
    })?;
    Ok(user)
}

// ---- API tokens -----------------------------------------------------------------------------

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Issues a bearer token; only its hash is stored.
pub fn issue_token(conn: &mut DbConnection, user_id: &str, lifetime: Duration) -> AppResult<String> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!("trl_{}", hex::encode(bytes));
    let at = now();
    let row = ApiToken {
        id: new_id(),
        user_id: user_id.to_owned(),
        token_hash: hash_token(&token),
        created_at: at,
        expires_at: at + lifetime,
        last_used_at: None,
        revoked_at: None,
    };
    diesel::insert_into(api_tokens::table).values(&row).execute(conn)?;
    Ok(token)
}

/// Resolves a bearer token to its actor, if valid, unexpired, unrevoked and the account active.
pub fn resolve_token(conn: &mut DbConnection, token: &str) -> AppResult<Option<(String, Actor)>> {
    let at = now();
    let row: Option<ApiToken> = api_tokens::table
        .filter(api_tokens::token_hash.eq(hash_token(token)))
        .filter(api_tokens::revoked_at.is_null())
        .filter(api_tokens::expires_at.gt(at))
        .select(ApiToken::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    let Some(actor) = load_actor(conn, &row.user_id)? else { return Ok(None) };
    diesel::update(api_tokens::table.find(&row.id)).set(api_tokens::last_used_at.eq(Some(at))).execute(conn)?;
    Ok(Some((row.id, actor)))
}

pub fn revoke_token(conn: &mut DbConnection, token_id: &str) -> AppResult<()> {
    diesel::update(api_tokens::table.find(token_id)).set(api_tokens::revoked_at.eq(Some(now()))).execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_hashes_verify() {
        let p = PasswordPolicy::new(PasswordHashing::TestOnlyFast);
        let h = p.hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(p.verify("correct horse battery", &h));
        assert!(!p.verify("wrong", &h));
        assert!(!p.verify("x", "not a hash"));
    }

    #[test]
    fn emails_are_checked_and_lowercased() {
        assert_eq!(validate_email(" Ana@Example.ORG ").unwrap(), "ana@example.org");
        assert!(validate_email("nope").is_err());
        assert!(validate_email("a@b").is_err());
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(validate_new_password("short").is_err());
        assert!(validate_new_password("long enough pass").is_ok());
    }
}

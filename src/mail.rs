//! Outgoing e-mail. Everything goes through the `mail_outbox` table first (so nothing is lost
//! when a relay is down); `deliver_due` hands queued mail to the configured transport.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use diesel::prelude::*;
use lettre::message::{Mailbox, MultiPart};
use lettre::{Message, Transport};

use crate::configuration::{MailTransportKind, Settings, SmtpTls};
use crate::db::models::MailOutbox;
use crate::db::schema::mail_outbox;
use crate::db::{new_id, now, DbConnection};
use crate::error::{AppError, AppResult};

/// A mail as the in-memory transport keeps it (tests read these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMail {
    pub to: String,
    pub subject: String,
    pub body_text: String,
}

#[derive(Clone)]
pub enum MailTransport {
    File(PathBuf),
    Smtp(Arc<lettre::SmtpTransport>),
    Memory(Arc<Mutex<Vec<SentMail>>>),
}

#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: MailTransport,
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Mailer> {
        let from: Mailbox = settings.mail_from.parse()?;
        let transport = match settings.mail_transport {
            MailTransportKind::File => MailTransport::File(settings.mail_dir.clone()),
            MailTransportKind::Memory => MailTransport::Memory(Arc::default()),
            MailTransportKind::Smtp => {
                let builder = match settings.smtp_tls {
                    SmtpTls::None => lettre::SmtpTransport::builder_dangerous(&settings.smtp_host),
                    SmtpTls::StartTls => lettre::SmtpTransport::starttls_relay(&settings.smtp_host)?,
                    SmtpTls::Tls => lettre::SmtpTransport::relay(&settings.smtp_host)?,
                };
                let mut builder = builder.port(settings.smtp_port);
                if let (Some(user), Some(password)) = (&settings.smtp_username, &settings.smtp_password) {
                    builder = builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
                        user.clone(),
                        password.clone(),
                    ));
                }
                MailTransport::Smtp(Arc::new(builder.build()))
            }
        };
        Ok(Mailer { from, transport })
    }

    pub fn memory() -> Mailer {
        Mailer {
            from: "Trellis <no-reply@trellis.test>".parse().expect("static address"),
            transport: MailTransport::Memory(Arc::default()),
        }
    }

    /// The mails the in-memory transport has "sent" (empty for other transports).
    pub fn sent(&self) -> Vec<SentMail> {
        match &self.transport {
            MailTransport::Memory(store) => store.lock().map(|s| s.clone()).unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    fn send(&self, mail: &MailOutbox) -> anyhow::Result<()> {
        let to: Mailbox = mail.to_address.parse()?;
        // A Message-ID derived from the outbox row lets a relay or mail client recognise a mail
        // re-sent after a crash between handing it over and recording that it was sent.
        let domain = self.from.email.domain().to_owned();
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(format!("<{}@{domain}>", mail.id)));
        let message = match &mail.body_html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(mail.body_text.clone(), html.clone()))?,
            None => builder.body(mail.body_text.clone())?,
        };
        match &self.transport {
            MailTransport::File(dir) => write_mail_file(dir, &mail.id, &message)?,
            MailTransport::Smtp(smtp) => {
                smtp.send(&message)?;
            }
            MailTransport::Memory(store) => {
                store.lock().map_err(|_| anyhow::anyhow!("mail store poisoned"))?.push(SentMail {
                    to: mail.to_address.clone(),
                    subject: mail.subject.clone(),
                    body_text: mail.body_text.clone(),
                });
            }
        }
        Ok(())
    }
}

/// Queues a mail inside the caller's transaction.
pub fn enqueue(
    conn: &mut DbConnection,
    to: &str,
    subject: &str,
    body_text: &str,
    body_html: Option<&str>,
    not_before: chrono::NaiveDateTime,
) -> AppResult<String> {
    let row = MailOutbox {
        id: new_id(),
        to_address: to.to_owned(),
        subject: subject.to_owned(),
        body_text: body_text.to_owned(),
        body_html: body_html.map(str::to_owned),
        status: "queued".into(),
        attempts: 0,
        last_error: None,
        not_before,
        created_at: now(),
        sent_at: None,
    };
    diesel::insert_into(mail_outbox::table).values(&row).execute(conn)?;
    Ok(row.id)
}

const MAX_ATTEMPTS: i32 = 8;

/// Sends every queued mail that is due. Each mail is first claimed for `lease` (by moving its
/// `not_before` forward in one conditional update), so two workers never send the same mail and
/// a worker killed mid-send leaves the mail to be retried when the lease expires. A failure is
/// recorded and retried later with back-off; after `MAX_ATTEMPTS` the mail is marked failed for
/// a coordinator to see.
pub fn deliver_due(
    conn: &mut DbConnection,
    mailer: &Mailer,
    at: chrono::NaiveDateTime,
    lease: chrono::Duration,
) -> AppResult<usize> {
    let due: Vec<MailOutbox> = mail_outbox::table
        .filter(mail_outbox::status.eq("queued"))
        .filter(mail_outbox::not_before.le(at))
        .order(mail_outbox::created_at.asc())
        .limit(100)
        .select(MailOutbox::as_select())
        .load(conn)?;
    let mut sent = 0;
    for mail in due {
        let claimed = diesel::update(
            mail_outbox::table
                .find(&mail.id)
                .filter(mail_outbox::status.eq("queued"))
                .filter(mail_outbox::not_before.eq(mail.not_before)),
        )
        .set((mail_outbox::not_before.eq(at + lease), mail_outbox::attempts.eq(mail.attempts + 1)))
        .execute(conn)?;
        if claimed == 0 {
            continue; // another worker has it
        }
        match mailer.send(&mail) {
            Ok(()) => {
                diesel::update(mail_outbox::table.find(&mail.id))
                    .set((mail_outbox::status.eq("sent"), mail_outbox::sent_at.eq(Some(at))))
                    .execute(conn)?;
                sent += 1;
            }
            Err(error) => {
                let attempts = mail.attempts + 1;
                let status = if attempts >= MAX_ATTEMPTS { "failed" } else { "queued" };
                let backoff = chrono::Duration::seconds(30 * 2i64.pow(attempts.min(10) as u32));
                tracing::warn!(mail_id = %mail.id, attempts, error = %error, "mail delivery failed");
                diesel::update(mail_outbox::table.find(&mail.id))
                    .set((
                        mail_outbox::status.eq(status),
                        mail_outbox::last_error.eq(Some(error.to_string())),
                        mail_outbox::not_before.eq(at + backoff),
                    ))
                    .execute(conn)?;
            }
        }
    }
    Ok(sent)
}

/// Writes `message` as `DIR/<outbox id>.eml`, exactly once: the file is written under a temporary
/// name and published with a hard link, which fails if the mail was already delivered by a
/// worker that died before it could mark the row sent.
fn write_mail_file(dir: &std::path::Path, outbox_id: &str, message: &Message) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let target = dir.join(format!("{outbox_id}.eml"));
    if target.exists() {
        return Ok(());
    }
    let partial = dir.join(format!(".{outbox_id}.eml.partial"));
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&partial)?;
        file.write_all(&message.formatted())?;
        file.sync_all()?;
    }
    let published = std::fs::hard_link(&partial, &target);
    std::fs::remove_file(&partial)?;
    match published {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e.into()),
    }
}

impl From<lettre::error::Error> for AppError {
    #[track_caller]
    fn from(err: lettre::error::Error) -> Self {
        AppError::internal(err)
    }
}

/// A rendered e-mail from `templates/email/NAME.{subject.txt,txt,html}`.
pub struct RenderedMail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

macro_rules! email_templates {
    ($($name:literal),* $(,)?) => {
        &[$(
            (concat!($name, ".subject.txt"), include_str!(concat!("../templates/email/", $name, ".subject.txt"))),
            (concat!($name, ".txt"), include_str!(concat!("../templates/email/", $name, ".txt"))),
            (concat!($name, ".html"), include_str!(concat!("../templates/email/", $name, ".html"))),
        )*]
    };
}

const EMAIL_TEMPLATES: &[(&str, &str)] =
    email_templates!("consent_request", "message_notification", "weekly_digest", "alert_raised", "notice");

fn email_tera() -> &'static tera::Tera {
    static TERA: std::sync::OnceLock<tera::Tera> = std::sync::OnceLock::new();
    TERA.get_or_init(|| {
        let mut tera = tera::Tera::default();
        tera.add_raw_templates(EMAIL_TEMPLATES.iter().copied()).expect("embedded e-mail templates parse");
        // Only the HTML part is escaped; the text parts are plain text.
        tera.autoescape_on(vec![".html"]);
        tera
    })
}

pub fn render(name: &str, context: &tera::Context) -> AppResult<RenderedMail> {
    let tera = email_tera();
    let part = |suffix: &str| {
        tera.render(&format!("{name}.{suffix}"), context)
            .map_err(|e| AppError::internal(anyhow::anyhow!("e-mail {name}: {e:?}")))
    };
    Ok(RenderedMail { subject: part("subject.txt")?.trim().to_owned(), text: part("txt")?, html: part("html")? })
}

/// Renders and queues a templated mail inside the caller's transaction.
pub fn enqueue_template(
    conn: &mut DbConnection,
    to: &str,
    name: &str,
    context: &tera::Context,
    not_before: chrono::NaiveDateTime,
) -> AppResult<String> {
    let mail = render(name, context)?;
    enqueue(conn, to, &mail.subject, &mail.text, Some(&mail.html), not_before)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_render_and_escape_html_only() {
        let mut context = tera::Context::new();
        context.insert("student_name", "Sam");
        context.insert("mentor_name", "<b>Max</b>");
        context.insert("mentor_field", "");
        context.insert("days", &14);
        context.insert("link", "https://trellis.test/consent/abc");
        let mail = render("consent_request", &context).unwrap();
        assert_eq!(mail.subject, "Please give consent: <b>Max</b> would mentor Sam");
        assert!(mail.text.contains("https://trellis.test/consent/abc"));
        assert!(mail.html.contains("&lt;b&gt;Max&lt;&#x2F;b&gt;"));
        for name in ["message_notification", "weekly_digest", "alert_raised"] {
            let mut c = tera::Context::new();
            c.insert("sender_name", "A");
            c.insert("link", "l");
            c.insert("digests", &Vec::<String>::new());
            c.insert("severity", "urgent");
            c.insert("due", "2026-01-01 10:00");
            assert!(!render(name, &c).unwrap().subject.is_empty(), "{name}");
        }
    }
}

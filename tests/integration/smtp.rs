//! Mail delivery over real SMTP to a small SMTP server process on loopback, and what happens
//! when the relay is down (nothing is lost; the outbox retries).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use diesel::prelude::*;
use trellis::configuration::{MailTransportKind, Settings};
use trellis::db::schema::mail_outbox;
use trellis::mail::{self, Mailer};

/// A minimal SMTP server: answers the commands lettre sends and keeps each message's DATA.
fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut out = stream;
            let _ = out.write_all(b"220 sink.test ESMTP ready\r\n");
            let mut line = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let command = line.trim_end().to_ascii_uppercase();
                if command.starts_with("EHLO") || command.starts_with("HELO") {
                    let _ = out.write_all(b"250-sink.test\r\n250 8BITMIME\r\n");
                } else if command.starts_with("DATA") {
                    let _ = out.write_all(b"354 go ahead\r\n");
                    let mut data = String::new();
                    loop {
                        let mut l = String::new();
                        if reader.read_line(&mut l).unwrap_or(0) == 0 || l == ".\r\n" {
                            break;
                        }
                        data.push_str(&l);
                    }
                    store.lock().unwrap().push(data);
                    let _ = out.write_all(b"250 queued\r\n");
                } else if command.starts_with("QUIT") {
                    let _ = out.write_all(b"221 bye\r\n");
                    break;
                } else {
                    let _ = out.write_all(b"250 ok\r\n");
                }
            }
        }
    });
    (port, received)
}

fn smtp_settings(port: u16) -> Settings {
    let mut s = crate::helpers::test_settings();
    s.mail_transport = MailTransportKind::Smtp;
    s.smtp_host = "127.0.0.1".into();
    s.smtp_port = port;
    s.smtp_tls = trellis::configuration::SmtpTls::None;
    s
}

#[tokio::test]
async fn mail_is_delivered_over_smtp() {
    let (port, received) = smtp_sink();
    let settings = smtp_settings(port);
    let mailer = Mailer::from_settings(&settings).unwrap();
    let app = crate::helpers::TestApp::spawn_with(settings).await;
    let mut conn = app.conn();
    mail::enqueue(
        &mut conn,
        "guardian@example.org",
        "Consent needed",
        "Please follow the link.",
        None,
        trellis::db::now(),
    )
    .unwrap();
    let sent = tokio::task::spawn_blocking(move || {
        mail::deliver_due(&mut conn, &mailer, trellis::db::now(), chrono::Duration::minutes(5)).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(sent, 1);
    let data = received.lock().unwrap().clone();
    assert_eq!(data.len(), 1);
    assert!(data[0].contains("Subject: Consent needed"), "{}", data[0]);
    assert!(data[0].contains("To: guardian@example.org"));
}

#[tokio::test]
async fn a_down_relay_loses_nothing() {
    // Bind and drop a listener to get a port with nothing behind it.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let settings = smtp_settings(port);
    let mailer = Mailer::from_settings(&settings).unwrap();
    let app = crate::helpers::TestApp::spawn_with(settings).await;
    let mut conn = app.conn();
    let id = mail::enqueue(&mut conn, "lead@example.org", "Alert", "An alert.", None, trellis::db::now()).unwrap();
    let sent = tokio::task::spawn_blocking(move || {
        let n = mail::deliver_due(&mut conn, &mailer, trellis::db::now(), chrono::Duration::minutes(5)).unwrap();
        (n, conn)
    })
    .await
    .unwrap();
    assert_eq!(sent.0, 0);
    let mut conn = sent.1;
    let (status, attempts): (String, i32) =
        mail_outbox::table.find(&id).select((mail_outbox::status, mail_outbox::attempts)).first(&mut conn).unwrap();
    assert_eq!((status.as_str(), attempts), ("queued", 1), "kept for a retry");
}

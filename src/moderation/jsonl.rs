//! `trellis moderate`: JSON Lines in, JSON Lines out (see DESIGN.md, "Moderation contract").

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, Write};

use serde_json::{json, Value};

use super::{Pipeline, PriorMessage, SenderRole};

/// Upper bound on one input line; longer lines are answered with an error (the pipeline
/// would refuse the text anyway).
const MAX_LINE_BYTES: usize = 8 << 20;

/// Read JSON Lines from `input`, write one verdict (or error) line per input line, in order.
/// Lines sharing `conversation` are context for later ones.
pub fn run_jsonl(pipeline: &Pipeline, mut input: impl BufRead, mut output: impl Write) -> std::io::Result<()> {
    let keep = pipeline.policy().c.file.context.window_messages * 2 + 2;
    let mut history: HashMap<String, VecDeque<PriorMessage>> = HashMap::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = input.read_until(b'\n', &mut buf)?;
        if n == 0 {
            break;
        }
        let line_bytes = trim_newline(&buf);
        let out = if line_bytes.len() > MAX_LINE_BYTES {
            json!({"id": Value::Null, "error": "input line is too long"})
        } else {
            match std::str::from_utf8(line_bytes) {
                Err(_) => json!({"id": Value::Null, "error": "input line is not valid UTF-8"}),
                Ok(line) => process_line(pipeline, line, &mut history, keep),
            }
        };
        serde_json::to_writer(&mut output, &out)?;
        output.write_all(b"\n")?;
    }
    output.flush()
}

fn trim_newline(b: &[u8]) -> &[u8] {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    b.strip_suffix(b"\r").unwrap_or(b)
}

fn process_line(
    pipeline: &Pipeline,
    line: &str,
    history: &mut HashMap<String, VecDeque<PriorMessage>>,
    keep: usize,
) -> Value {
    let v: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return json!({"id": recover_id(line), "error": format!("invalid JSON: {e}")}),
    };
    let Some(obj) = v.as_object() else {
        return json!({"id": Value::Null, "error": "expected a JSON object"});
    };
    let id = match obj.get("id") {
        Some(Value::String(s)) => Value::String(s.clone()),
        Some(Value::Number(n)) => Value::String(n.to_string()),
        _ => return json!({"id": Value::Null, "error": "missing or invalid \"id\" (a string)"}),
    };
    let Some(text) = obj.get("text").and_then(|t| t.as_str()) else {
        return json!({"id": id, "error": "missing or invalid \"text\" (a string)"});
    };
    let role = match obj.get("sender_role").and_then(|r| r.as_str()) {
        Some("student") => SenderRole::Student,
        Some("mentor") => SenderRole::Mentor,
        _ => return json!({"id": id, "error": "missing or invalid \"sender_role\" (\"student\" or \"mentor\")"}),
    };
    let conversation = match obj.get("conversation") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return json!({"id": id, "error": "invalid \"conversation\" (a string or null)"}),
    };
    let sender = obj.get("sender").and_then(|s| s.as_str()).unwrap_or(role.as_str()).to_string();
    let empty = VecDeque::new();
    let ctx: Vec<PriorMessage> =
        conversation.as_ref().and_then(|c| history.get(c)).unwrap_or(&empty).iter().cloned().collect();
    let result = pipeline.moderate(text, &sender, role, &ctx);
    if let Some(c) = conversation {
        let h = history.entry(c).or_default();
        if result.is_ok() {
            h.push_back(PriorMessage { sender, sender_role: role, text: text.to_string(), age_seconds: None });
            while h.len() > keep {
                h.pop_front();
            }
        }
    }
    match result {
        Err(e) => json!({"id": id, "error": e.to_string()}),
        Ok(v) => json!({
            "id": id,
            "action": v.action,
            "escalate": v.escalate,
            "flags": v.flags,
            "scores": v
                .scores
                .iter()
                .map(|(c, x)| (c.as_str().to_string(), json!(((*x as f64) * 1000.0).round() / 1000.0)))
                .collect::<serde_json::Map<String, Value>>(),
            "findings": v.findings,
            "delivered_text": v.delivered_text,
            "reasons": v.reasons,
        }),
    }
}

/// Best effort: find `"id": "..."` in a line that is not valid JSON.
fn recover_id(line: &str) -> Value {
    let Some(p) = line.find("\"id\"") else {
        return Value::Null;
    };
    let rest = line[p + 4..].trim_start();
    let Some(rest) = rest.strip_prefix(':') else {
        return Value::Null;
    };
    let rest = rest.trim_start();
    if let Some(r) = rest.strip_prefix('"') {
        let mut out = String::new();
        let mut esc = false;
        for c in r.chars() {
            if esc {
                out.push(c);
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                return Value::String(out);
            } else {
                out.push(c);
            }
        }
        return Value::Null;
    }
    let num: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    if num.is_empty() {
        Value::Null
    } else {
        Value::String(num)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::moderation::Policy;

    fn run(input: &str) -> Vec<Value> {
        let p = Pipeline::new(Policy::builtin());
        let mut out = Vec::new();
        run_jsonl(&p, input.as_bytes(), &mut out).unwrap();
        String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    #[test]
    fn contract_lines() {
        let out = run(concat!(
            "{\"id\":\"1\",\"text\":\"text me at four oh three 555 0199\",\"sender_role\":\"mentor\"}\n",
            "{\"id\":\"2\",\"text\":\"broken\n",
            "not json\n",
            "{\"id\":\"3\",\"text\":\"my cell is 403\",\"sender_role\":\"mentor\",\"conversation\":\"c\"}\n",
            "{\"id\":\"4\",\"text\":\"555 0199\",\"sender_role\":\"mentor\",\"conversation\":\"c\"}\n",
            "{\"id\":\"5\",\"text\":\"\",\"sender_role\":\"mentor\"}\n",
        ));
        assert_eq!(out.len(), 6);
        assert_eq!(out[0]["action"], "hold");
        assert_eq!(out[0]["delivered_text"], Value::Null);
        assert_eq!(out[0]["scores"].as_object().unwrap().len(), 9);
        assert_eq!(out[1]["id"], "2");
        assert!(out[1]["error"].is_string());
        assert_eq!(out[2]["id"], Value::Null);
        assert_eq!(out[4]["action"], "hold", "{}", out[4]);
        assert!(out[5]["error"].is_string());
    }
}

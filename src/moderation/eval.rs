//! `trellis eval`: measure the pipeline on the labelled corpus (train/test splits) and on the
//! shared public data sets.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;

use super::{Action, Category, Finding, Pipeline, PriorMessage, SenderRole};

#[derive(Debug, Deserialize)]
struct CorpusSpan {
    kind: String,
    start: usize,
    end: usize,
}

#[derive(Debug, Deserialize)]
struct CorpusCase {
    id: String,
    text: String,
    sender_role: SenderRole,
    #[serde(default)]
    conversation: Option<String>,
    #[serde(default)]
    labels: Vec<Category>,
    #[serde(default)]
    spans: Vec<CorpusSpan>,
    #[serde(default)]
    family: String,
}

/// Precision/recall counters for spans of one kind.
#[derive(Debug, Default, Clone, Copy)]
pub struct SpanCounts {
    pub gold: usize,
    pub gold_found: usize,
    pub gold_exact: usize,
    pub predicted: usize,
    pub predicted_correct: usize,
}

impl SpanCounts {
    pub fn recall(&self) -> f64 {
        ratio(self.gold_found, self.gold)
    }
    pub fn precision(&self) -> f64 {
        ratio(self.predicted_correct, self.predicted)
    }
    pub fn exact(&self) -> f64 {
        ratio(self.gold_exact, self.gold)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        f64::NAN
    } else {
        a as f64 / b as f64
    }
}

/// Results on one corpus split.
#[derive(Debug, Default, Clone)]
pub struct SplitReport {
    pub name: String,
    pub messages: usize,
    pub benign: usize,
    pub benign_intervened: usize,
    pub contact_positive: usize,
    pub contact_intervened: usize,
    /// category -> (labelled, flagged among labelled, flagged total, flagged correctly)
    pub per_category: BTreeMap<Category, (usize, usize, usize, usize)>,
    pub spans: BTreeMap<String, SpanCounts>,
    pub redacted: usize,
    pub redaction_leaks: usize,
    /// family -> (messages, correct)
    pub families: BTreeMap<String, (usize, usize)>,
    /// Up to 200 errors, never for the test split (it must not tune rules).
    pub errors: Vec<String>,
}

/// The full evaluation report.
#[derive(Debug, Default, Clone)]
pub struct EvalReport {
    pub policy_version: String,
    pub splits: Vec<SplitReport>,
    pub presidio: Option<BTreeMap<String, SpanCounts>>,
    /// (cases, exact link found, any link found)
    pub linkify_links: Option<(usize, usize, usize)>,
    /// (cases, false links)
    pub linkify_not_links: Option<(usize, usize)>,
    /// (addresses, detected)
    pub usaddress: Option<(usize, usize)>,
    pub notes: Vec<String>,
}

/// Evaluate `pipeline` on `corpus_dir/{train,test}.jsonl` and, when given, the public data
/// sets in `datasets_dir`. Missing files are noted in the report, not errors.
pub fn evaluate(pipeline: &Pipeline, corpus_dir: &Path, datasets_dir: Option<&Path>) -> std::io::Result<EvalReport> {
    let mut rep = EvalReport { policy_version: pipeline.policy().version().to_string(), ..Default::default() };
    // train and test first, then any other *.jsonl (e.g. seed cases) as their own split.
    let mut names: Vec<String> = vec!["train".into(), "test".into()];
    if let Ok(rd) = std::fs::read_dir(corpus_dir) {
        let mut extra: Vec<String> = rd
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str().map(|s| s.to_string()))
            .filter_map(|n| n.strip_suffix(".jsonl").map(|s| s.to_string()))
            .filter(|n| n != "train" && n != "test")
            .collect();
        extra.sort();
        names.extend(extra);
    }
    for split in &names {
        let p = corpus_dir.join(format!("{split}.jsonl"));
        match std::fs::read_to_string(&p) {
            Ok(text) => rep.splits.push(eval_corpus(pipeline, split, &text, &mut rep.notes)),
            Err(e) => rep.notes.push(format!("{}: {e}", p.display())),
        }
    }
    if let Some(d) = datasets_dir {
        match std::fs::read_to_string(d.join("presidio-synth/synth_dataset_v2.json")) {
            Ok(t) => rep.presidio = Some(eval_presidio(pipeline, &t)),
            Err(e) => rep.notes.push(format!("presidio-synth: {e}")),
        }
        match std::fs::read_to_string(d.join("linkify-it/links.txt")) {
            Ok(t) => rep.linkify_links = Some(eval_links(pipeline, &t)),
            Err(e) => rep.notes.push(format!("linkify-it links: {e}")),
        }
        match std::fs::read_to_string(d.join("linkify-it/not_links.txt")) {
            Ok(t) => rep.linkify_not_links = Some(eval_not_links(pipeline, &t)),
            Err(e) => rep.notes.push(format!("linkify-it not_links: {e}")),
        }
        match std::fs::read_to_string(d.join("usaddress/training_labeled.xml")) {
            Ok(t) => rep.usaddress = Some(eval_usaddress(pipeline, &t)),
            Err(e) => rep.notes.push(format!("usaddress: {e}")),
        }
    }
    Ok(rep)
}

fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

fn span_score(counts: &mut BTreeMap<String, SpanCounts>, gold: &[(String, usize, usize)], pred: &[Finding]) {
    for k in ["phone", "email", "url", "handle", "address"] {
        let g: Vec<(usize, usize)> = gold.iter().filter(|x| x.0 == k).map(|x| (x.1, x.2)).collect();
        let p: Vec<(usize, usize)> = pred.iter().filter(|x| x.kind == k).map(|x| (x.start, x.end)).collect();
        if g.is_empty() && p.is_empty() {
            continue;
        }
        let c = counts.entry(k.to_string()).or_default();
        c.gold += g.len();
        c.predicted += p.len();
        for gs in &g {
            if p.iter().any(|ps| overlaps(*gs, *ps)) {
                c.gold_found += 1;
            }
            if p.contains(gs) {
                c.gold_exact += 1;
            }
        }
        for ps in &p {
            if g.iter().any(|gs| overlaps(*gs, *ps)) {
                c.predicted_correct += 1;
            }
        }
    }
}

fn eval_corpus(pipeline: &Pipeline, name: &str, text: &str, notes: &mut Vec<String>) -> SplitReport {
    let mut r = SplitReport { name: name.to_string(), ..Default::default() };
    let mut history: HashMap<String, Vec<PriorMessage>> = HashMap::new();
    for (ln, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let case: CorpusCase = match serde_json::from_str(line) {
            Ok(c) => c,
            Err(e) => {
                notes.push(format!("{name}.jsonl:{}: {e}", ln + 1));
                continue;
            }
        };
        let sender = case.sender_role.as_str();
        let ctx: Vec<PriorMessage> =
            case.conversation.as_ref().and_then(|c| history.get(c)).cloned().unwrap_or_default();
        let v = match pipeline.moderate(&case.text, sender, case.sender_role, &ctx) {
            Ok(v) => v,
            Err(e) => {
                notes.push(format!("{name}.jsonl:{}: refused: {e}", ln + 1));
                continue;
            }
        };
        if let Some(c) = &case.conversation {
            history.entry(c.clone()).or_default().push(PriorMessage {
                sender: sender.to_string(),
                sender_role: case.sender_role,
                text: case.text.clone(),
                age_seconds: None,
            });
        }
        r.messages += 1;
        let intervened = v.action != Action::Deliver;
        let benign = case.labels.is_empty();
        // A positive is handled when the message is intervened on, or when it is delivered
        // but flagged in a labelled category and escalated (a student's disclosure).
        let escalated_flag = v.escalate && case.labels.iter().any(|c| v.flags.contains(c));
        let mut correct = if benign { !intervened } else { intervened || escalated_flag };
        if benign {
            r.benign += 1;
            if intervened {
                r.benign_intervened += 1;
            }
        }
        if case.labels.contains(&Category::ContactInfo) {
            r.contact_positive += 1;
            if intervened {
                r.contact_intervened += 1;
            }
        }
        for c in Category::ALL {
            let labelled = case.labels.contains(&c);
            let flagged = v.flags.contains(&c);
            let e = r.per_category.entry(c).or_default();
            if labelled {
                e.0 += 1;
                if flagged {
                    e.1 += 1;
                }
            }
            if flagged {
                e.2 += 1;
                if labelled {
                    e.3 += 1;
                }
            }
        }
        let gold: Vec<(String, usize, usize)> = case.spans.iter().map(|s| (s.kind.clone(), s.start, s.end)).collect();
        span_score(&mut r.spans, &gold, &v.findings);
        if v.action == Action::Redact {
            r.redacted += 1;
            if let Some(d) = &v.delivered_text {
                if !pipeline.findings(d).is_empty() {
                    r.redaction_leaks += 1;
                    correct = false;
                }
            }
        }
        let fam = r.families.entry(case.family.clone()).or_default();
        fam.0 += 1;
        if correct {
            fam.1 += 1;
        }
        if !correct && name != "test" && r.errors.len() < 200 {
            r.errors.push(format!(
                "{} [{}] {:?} labels={:?} -> {} flags={:?}",
                case.id,
                case.family,
                case.text,
                case.labels.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                v.action.as_str(),
                v.flags.iter().map(|c| c.as_str()).collect::<Vec<_>>()
            ));
        }
    }
    r
}

#[derive(Deserialize)]
struct PresidioSpan {
    entity_type: String,
    start_position: usize,
    end_position: usize,
}

#[derive(Deserialize)]
struct PresidioCase {
    full_text: String,
    spans: Vec<PresidioSpan>,
}

fn eval_presidio(pipeline: &Pipeline, text: &str) -> BTreeMap<String, SpanCounts> {
    let mut counts = BTreeMap::new();
    let cases: Vec<PresidioCase> = serde_json::from_str(text).unwrap_or_default();
    for c in cases {
        let gold: Vec<(String, usize, usize)> = c
            .spans
            .iter()
            .filter_map(|s| {
                let k = match s.entity_type.as_str() {
                    "PHONE_NUMBER" => "phone",
                    "EMAIL_ADDRESS" => "email",
                    "DOMAIN_NAME" => "url",
                    _ => return None,
                };
                Some((k.to_string(), s.start_position, s.end_position))
            })
            .collect();
        let pred: Vec<Finding> = pipeline
            .findings(&c.full_text)
            .into_iter()
            .filter(|f| matches!(f.kind.as_str(), "phone" | "email" | "url"))
            .collect();
        span_score(&mut counts, &gold, &pred);
    }
    counts
}

fn fixture_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            if l.starts_with('%') {
                String::new()
            } else {
                match l.find(" %") {
                    Some(p) => l[..p].trim().to_string(),
                    None => l.trim().to_string(),
                }
            }
        })
        .collect()
}

fn link_texts(pipeline: &Pipeline, text: &str) -> Vec<String> {
    pipeline
        .findings(text)
        .into_iter()
        .filter(|f| f.kind == "url" || f.kind == "email")
        .map(|f| text.chars().skip(f.start).take(f.end - f.start).collect())
        .collect()
}

fn eval_links(pipeline: &Pipeline, text: &str) -> (usize, usize, usize) {
    let lines = fixture_lines(text);
    let (mut n, mut exact, mut any) = (0, 0, 0);
    let mut i = 0;
    while i < lines.len() {
        let l = &lines[i];
        if l.is_empty() {
            i += 1;
            continue;
        }
        let next = lines.get(i + 1).cloned().unwrap_or_default();
        let expected = if next.is_empty() { l.clone() } else { next };
        let found = link_texts(pipeline, l);
        n += 1;
        if !found.is_empty() {
            any += 1;
        }
        if found.iter().any(|f| f.eq_ignore_ascii_case(&expected)) {
            exact += 1;
        }
        i += if lines.get(i + 1).map(|s| s.is_empty()).unwrap_or(true) { 1 } else { 2 };
    }
    (n, exact, any)
}

fn eval_not_links(pipeline: &Pipeline, text: &str) -> (usize, usize) {
    let mut n = 0;
    let mut fp = 0;
    for l in fixture_lines(text) {
        if l.is_empty() {
            continue;
        }
        n += 1;
        if !link_texts(pipeline, &l).is_empty() {
            fp += 1;
        }
    }
    (n, fp)
}

fn eval_usaddress(pipeline: &Pipeline, text: &str) -> (usize, usize) {
    let mut n = 0;
    let mut found = 0;
    for part in text.split("<AddressString>").skip(1) {
        let body = part.split("</AddressString>").next().unwrap_or("");
        // strip tags
        let mut s = String::new();
        let mut in_tag = false;
        for c in body.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => s.push(c),
                _ => {}
            }
        }
        let s = s
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'");
        if s.trim().is_empty() {
            continue;
        }
        n += 1;
        if pipeline.findings(&s).iter().any(|f| f.kind == "address") {
            found += 1;
        }
    }
    (n, found)
}

fn pct(x: f64) -> String {
    if x.is_nan() {
        "n/a".into()
    } else {
        format!("{:.3}", x)
    }
}

impl EvalReport {
    /// The report as Markdown (what `trellis eval` prints).
    pub fn to_markdown(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "policy version `{}`\n", self.policy_version);
        for s in &self.splits {
            let _ = writeln!(o, "### Corpus split `{}` ({} messages, {} benign)\n", s.name, s.messages, s.benign);
            let _ = writeln!(
                o,
                "- contact-detail intervention recall: **{}** ({}/{})",
                pct(ratio(s.contact_intervened, s.contact_positive)),
                s.contact_intervened,
                s.contact_positive
            );
            let _ = writeln!(
                o,
                "- false interventions on benign messages: **{}** ({}/{})",
                pct(ratio(s.benign_intervened, s.benign)),
                s.benign_intervened,
                s.benign
            );
            let _ = writeln!(
                o,
                "- redacted messages: {}, still carrying a detail after redaction: **{}**\n",
                s.redacted, s.redaction_leaks
            );
            let _ = writeln!(o, "| category | labelled | recall | flagged | precision |\n|---|---|---|---|---|");
            for (c, (l, lf, f, fc)) in &s.per_category {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {} |",
                    c.as_str(),
                    l,
                    pct(ratio(*lf, *l)),
                    f,
                    pct(ratio(*fc, *f))
                );
            }
            let _ = writeln!(
                o,
                "\n| span kind | gold | recall (overlap) | exact | predicted | precision |\n|---|---|---|---|---|---|"
            );
            for (k, c) in &s.spans {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {} | {} |",
                    k,
                    c.gold,
                    pct(c.recall()),
                    pct(c.exact()),
                    c.predicted,
                    pct(c.precision())
                );
            }
            let _ = writeln!(o, "\n<details><summary>per family (messages, correct intervention decision)</summary>\n\n| family | n | correct |\n|---|---|---|");
            for (f, (n, c)) in &s.families {
                let _ = writeln!(o, "| {} | {} | {} |", f, n, pct(ratio(*c, *n)));
            }
            let _ = writeln!(o, "\n</details>\n");
        }
        if let Some(p) = &self.presidio {
            let _ = writeln!(o, "### presidio-synth (PHONE_NUMBER→phone, EMAIL_ADDRESS→email, DOMAIN_NAME→url)\n");
            let _ = writeln!(
                o,
                "| kind | gold | recall (overlap) | exact | predicted | precision |\n|---|---|---|---|---|---|"
            );
            for (k, c) in p {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {} | {} |",
                    k,
                    c.gold,
                    pct(c.recall()),
                    pct(c.exact()),
                    c.predicted,
                    pct(c.precision())
                );
            }
            let _ = writeln!(o);
        }
        if let Some((n, exact, any)) = self.linkify_links {
            let _ = writeln!(
                o,
                "### linkify-it fixtures\n\n- links.txt: {n} cases, link found {} , exact expected link {}",
                pct(ratio(any, n)),
                pct(ratio(exact, n))
            );
        }
        if let Some((n, fp)) = self.linkify_not_links {
            let _ = writeln!(o, "- not_links.txt: {n} cases, falsely reported as link {} ({fp})", pct(ratio(fp, n)));
        }
        if let Some((n, f)) = self.usaddress {
            let _ = writeln!(o, "\n### usaddress\n\n- {n} US street addresses, detected {} ({f})", pct(ratio(f, n)));
        }
        if !self.notes.is_empty() {
            let _ = writeln!(o, "\n### Notes\n");
            for n in &self.notes {
                let _ = writeln!(o, "- {n}");
            }
        }
        o
    }
}

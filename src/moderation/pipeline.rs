//! The pipeline: detect, score, decide.

use std::collections::BTreeMap;

use super::detect::{self, Kind, RawFinding};
use super::normalize::{folded_view, word_view};
use super::split;
use super::{Action, Category, Classifier, Finding, ModerationError, Policy, PriorMessage, SenderRole, Verdict};

/// The moderation pipeline. `Send + Sync`; share it behind an `Arc`.
pub struct Pipeline {
    policy: Policy,
    classifier: Option<Box<dyn Classifier>>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("policy_version", &self.policy.version())
            .field("classifier", &self.classifier.is_some())
            .finish()
    }
}

/// How far (in bytes of the word view) a suppressing phrase reaches from a hit.
const SUPPRESS_REACH: usize = 12;

/// Categories whose repeated mild signals add up to an escalation (grooming patterns).
const GROOMING: &[Category] = &[
    Category::ContactInfo,
    Category::OffPlatform,
    Category::Meeting,
    Category::PersonalInfo,
    Category::Secrecy,
    Category::Gifts,
    Category::Sexual,
];

/// Phrase signals of one message.
#[derive(Debug, Default, Clone)]
pub(crate) struct PhraseHits {
    /// per category: (strong hits, mild hits, example phrase)
    pub hits: BTreeMap<Category, (usize, usize, String)>,
}

impl PhraseHits {
    fn mild_categories(&self) -> impl Iterator<Item = Category> + '_ {
        self.hits.iter().filter(|(_, (s, m, _))| *s == 0 && *m > 0).map(|(c, _)| *c)
    }
}

impl Pipeline {
    /// Rules-only pipeline.
    pub fn new(policy: Policy) -> Pipeline {
        Pipeline { policy, classifier: None }
    }

    /// Add a classifier stage; its scores are combined with the rule scores (max).
    pub fn with_classifier(mut self, classifier: Box<dyn Classifier>) -> Pipeline {
        self.classifier = Some(classifier);
        self
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Contact-detail findings of `text` alone (no context, no decision). Allow-listed links
    /// are not reported.
    pub fn findings(&self, text: &str) -> Vec<Finding> {
        detect::detect(text, &self.policy).into_iter().map(to_finding).collect()
    }

    pub(crate) fn phrase_hits(&self, text: &str) -> PhraseHits {
        let wv = word_view(text, &self.policy.c.platform_emoji);
        let mut out = PhraseHits::default();
        for (cat, set) in &self.policy.c.phrases {
            // A suppressing phrase ("in our session", "on here") cancels only the hits near it:
            // "text me when you're done, not on here" still asks to move off the platform.
            let sups: Vec<(usize, usize)> = set
                .suppress
                .as_ref()
                .map(|r| r.find_iter(&wv).map(|m| (m.start(), m.end())).collect())
                .unwrap_or_default();
            let near_suppress = |start: usize, end: usize| {
                sups.iter().any(|(s, e)| *s <= end + SUPPRESS_REACH && start <= *e + SUPPRESS_REACH)
            };
            let mut strong = 0;
            let mut mild = 0;
            let mut example = String::new();
            // Spans of exception phrases; matches overlapping them do not count (the padding
            // spaces of both are left out of the comparison).
            let except: Vec<(usize, usize)> = match &set.except {
                Some(re) => re.find_iter(&wv).map(|m| (m.start() + 1, m.end() - 1)).collect(),
                None => Vec::new(),
            };
            let excepted = |m: &regex::Match| except.iter().any(|&(s, e)| s < m.end() - 1 && m.start() + 1 < e);
            if let Some(re) = &set.strong {
                for m in re.find_iter(&wv).filter(|m| !excepted(m) && !near_suppress(m.start(), m.end())) {
                    strong += 1;
                    if example.is_empty() {
                        example = m.as_str().trim().to_string();
                    }
                }
            }
            if let Some(re) = &set.mild {
                for m in re.find_iter(&wv).filter(|m| !excepted(m) && !near_suppress(m.start(), m.end())) {
                    mild += 1;
                    if example.is_empty() {
                        example = m.as_str().trim().to_string();
                    }
                }
            }
            if strong + mild == 0 {
                continue;
            }
            out.hits.insert(*cat, (strong, mild, example));
        }
        out
    }

    /// Moderate one message. `context` holds earlier messages of the conversation, oldest
    /// first; only those of the same `sender` within the policy window are used.
    pub fn moderate(
        &self,
        text: &str,
        sender: &str,
        role: SenderRole,
        context: &[PriorMessage],
    ) -> Result<Verdict, ModerationError> {
        let p = &self.policy;
        let cfg = &p.c.file;
        if text.trim().is_empty() {
            return Err(ModerationError::Empty);
        }
        let nchars = text.chars().count();
        if nchars > cfg.limits.max_chars {
            return Err(ModerationError::TooLong { len: nchars, max: cfg.limits.max_chars });
        }
        let mut notes: Vec<String> = Vec::new();

        // Window of earlier messages by the same sender.
        let window: Vec<&PriorMessage> = {
            let mut v: Vec<&PriorMessage> = context
                .iter()
                .rev()
                .filter(|m| m.sender == sender)
                .filter(|m| m.age_seconds.is_none_or(|a| a <= cfg.context.window_seconds))
                .take(cfg.context.window_messages.saturating_sub(1))
                .collect();
            v.reverse();
            v
        };

        // Detect in this message.
        let folded = folded_view(text);
        let mut raw = detect::detect_in(text, &folded, p, false);

        // Contact details split over several messages.
        if !window.is_empty() {
            let split = self.split_findings(text, &window, &raw);
            for (f, parts) in split {
                notes.push(format!(
                    "A {} was split over {} messages; earlier parts were sent in the previous {} message(s) and are involved too.",
                    kind_words(f.kind),
                    parts,
                    parts - 1
                ));
                raw.push(f);
            }
            raw.sort_by_key(|f| (f.start, f.end));
        }

        // Phrase rules.
        let mut hits = self.phrase_hits(text);
        // "my number 825": a mild contact phrase together with digits is a contact detail
        // being shared (often the first part of a split number).
        if let Some(h) = hits.hits.get_mut(&Category::ContactInfo) {
            let no_phone = !raw.iter().any(|r| r.kind == Kind::Phone);
            let groups = phone_like_groups(text);
            if h.0 + h.1 > 0 && no_phone && !groups.is_empty() {
                h.0 = h.0.max(1);
                for (fs, fe) in groups {
                    if !raw.iter().any(|r| r.start < fe && fs < r.end) {
                        raw.push(RawFinding {
                            kind: Kind::Phone,
                            start: fs,
                            end: fe,
                            note: Some("digits shared after a contact phrase"),
                        });
                    }
                }
                raw.sort_by_key(|f| (f.start, f.end));
            }
        }
        let mut prior_mild: BTreeMap<Category, usize> = BTreeMap::new();
        let mut prior_mild_total = 0;
        if !window.is_empty() && !hits.hits.is_empty() {
            for m in &window {
                let h = self.phrase_hits(&m.text);
                for (c, (s, mi, _)) in &h.hits {
                    if *s + *mi > 0 {
                        *prior_mild.entry(*c).or_default() += 1;
                        if GROOMING.contains(c) {
                            prior_mild_total += 1;
                        }
                    }
                }
            }
        }

        // Fragments of a contact detail sent piece by piece ("555", "at yahoo", "dot com").
        let frag = fragment_kind(text, &p.c.mail_providers);
        let mut frag_flagged = false;
        if let Some(fk) = frag {
            let standalone =
                matches!(fk, Fragment::Spelled | Fragment::EmailPiece | Fragment::PhonePrefix | Fragment::Handle);
            // A fragment continues a detail only when an earlier message of the sender was
            // itself taken as (part of) one: "412" after "408" after "results from my trials"
            // are readings, "555" after "my cell 204" is not.
            let continues = self.prior_parts(context, sender, 2);
            if standalone || continues {
                if let Some((fs, fe)) = fragment_span(text) {
                    if !raw.iter().any(|r| r.start < fe && fs < r.end) {
                        raw.push(RawFinding {
                            kind: match fk {
                                Fragment::Digits | Fragment::Spelled | Fragment::PhonePrefix => Kind::Phone,
                                Fragment::EmailPiece | Fragment::Handle => Kind::Email,
                            },
                            start: fs,
                            end: fe,
                            note: Some("part of a contact detail sent in pieces"),
                        });
                        raw.sort_by_key(|f| (f.start, f.end));
                    }
                }
                frag_flagged = true;
                let e = hits.hits.entry(Category::ContactInfo).or_insert((0, 0, String::new()));
                e.0 += 1;
                notes.push(if continues {
                    "contact_info: this message looks like the next part of a contact detail sent over several messages; the earlier parts are involved too.".to_string()
                } else {
                    "contact_info: this message looks like part of a contact detail (digits or address pieces sent on their own).".to_string()
                });
            }
        }

        // The first piece of a detail sent in parts ("my cell 204", "gmail: ros", a bare "416").
        if !frag_flagged && !raw.iter().any(|r| matches!(r.kind, Kind::Phone | Kind::Email)) {
            if let Some((kind, fs, fe)) = split::first_piece(text, context, &window) {
                raw.push(RawFinding {
                    kind,
                    start: fs,
                    end: fe,
                    note: Some("part of a contact detail sent in pieces"),
                });
                raw.sort_by_key(|f| (f.start, f.end));
                hits.hits.entry(Category::ContactInfo).or_insert((0, 0, String::new())).0 += 1;
                notes.push(
                    "contact_info: this message looks like the first part of a contact detail sent over several messages."
                        .to_string(),
                );
            }
        }

        // Scores from rules.
        let sc = &cfg.scores;
        let mut scores: BTreeMap<Category, f32> = Category::ALL.iter().map(|c| (*c, 0.0)).collect();
        let mut finding_cats: BTreeMap<Category, usize> = BTreeMap::new();
        for f in &raw {
            for c in p.c.finding_category.get(f.kind.as_str()).into_iter().flatten() {
                *finding_cats.entry(*c).or_default() += 1;
                scores.insert(*c, 1.0);
            }
        }
        for (c, (strong, mild, example)) in &hits.hits {
            let mut s: f32 = 0.0;
            if *strong > 0 {
                s = s.max(sc.strong);
            }
            if *mild > 0 {
                let prior = prior_mild.get(c).copied().unwrap_or(0);
                let v = sc.mild + sc.mild_step * (*mild as f32 - 1.0) + sc.context_step * prior as f32;
                s = s.max(v.min(1.0));
            }
            let e = scores.entry(*c).or_insert(0.0);
            *e = e.max(s);
            notes.push(format!(
                "{}: {} phrase matched (\"{}\"){}",
                c.as_str(),
                if *strong > 0 { "strong" } else { "mild" },
                example,
                match prior_mild.get(c) {
                    Some(n) if *n > 0 => format!("; {n} earlier message(s) in the window had similar signals"),
                    _ => String::new(),
                }
            ));
        }

        // Classifier.
        let mut classifier_failed = false;
        if let Some(clf) = &self.classifier {
            match clf.score(text, context) {
                Ok(cs) => {
                    for (c, v) in cs {
                        let v = if v.is_finite() { v.clamp(0.0, 1.0) } else { 1.0 };
                        let e = scores.entry(c).or_insert(0.0);
                        *e = e.max(v);
                    }
                }
                Err(e) => {
                    classifier_failed = true;
                    notes.push(format!("Classifier failed ({e}); held to fail closed."));
                }
            }
        }

        // Decide.
        let flags: Vec<Category> =
            Category::ALL.into_iter().filter(|c| scores[c] >= p.flag_threshold_for(role, *c)).collect();
        for c in &flags {
            if scores[c] < sc.flag_threshold {
                notes.push(format!(
                    "{} scored {:.2}: below the flag threshold, above the lower bar for a student's message (escalated, delivered as usual).",
                    c.as_str(),
                    scores[c]
                ));
            }
        }
        let mut action = Action::Deliver;
        let mut escalate = false;
        for c in &flags {
            let mut a = p.action_for(role, *c);
            if a == Action::Redact && finding_cats.get(c).copied().unwrap_or(0) == 0 {
                // Nothing to mask (e.g. asking for a number): hold instead.
                a = Action::Hold;
            }
            action = action.max(a);
            if p.escalates(role, *c) {
                escalate = true;
            }
        }
        let mild_now = hits.mild_categories().filter(|c| GROOMING.contains(c)).count();
        if mild_now > 0 && prior_mild_total + mild_now >= cfg.context.escalate_after_mild {
            escalate = true;
            notes.push(format!(
                "Repeated mild signals: {} in this message and {} in the sender's recent messages.",
                mild_now, prior_mild_total
            ));
            action = action.max(Action::Hold);
        }
        if classifier_failed {
            action = action.max(Action::Hold);
        }
        if role == SenderRole::Student && flags.contains(&Category::SelfHarm) {
            escalate = true;
            if action == Action::Block {
                action = Action::Hold;
                notes.push("A student's possible self-harm disclosure is never blocked; held instead.".into());
            }
        }

        // Redaction (and verification that nothing remains).
        let mut delivered_text = None;
        match action {
            Action::Deliver => delivered_text = Some(text.to_string()),
            Action::Redact => {
                let masked = mask(text, &raw);
                let leftover = detect::detect(&masked, p);
                if leftover.is_empty() {
                    delivered_text = Some(masked);
                } else {
                    action = Action::Hold;
                    notes.push("Masking left a contact detail in the text; held instead of redacted.".into());
                }
            }
            _ => {}
        }
        if !raw.is_empty() {
            let kinds: Vec<&str> = raw.iter().map(|f| f.kind.as_str()).collect();
            notes.push(format!("Findings: {}.", kinds.join(", ")));
            for f in &raw {
                if let Some(n) = f.note {
                    notes.push(format!("{} at {}..{}: {}", f.kind.as_str(), f.start, f.end, n));
                }
            }
        }

        let reasons = reasons(action, &flags, role, classifier_failed, escalate, &raw);
        let findings = raw.into_iter().map(to_finding).collect();
        Ok(Verdict {
            action,
            escalate,
            flags,
            scores,
            findings,
            delivered_text,
            reasons,
            reviewer_notes: notes,
            policy_version: p.version().to_string(),
        })
    }

    /// Indices in `context` of the sender's messages in the window before the end of `context`.
    fn window_indices(&self, context: &[PriorMessage], sender: &str) -> Vec<usize> {
        let cfg = &self.policy.c.file.context;
        let mut v: Vec<usize> = (0..context.len())
            .rev()
            .filter(|&i| context[i].sender == sender)
            .filter(|&i| context[i].age_seconds.is_none_or(|a| a <= cfg.window_seconds))
            .take(cfg.window_messages.saturating_sub(1))
            .collect();
        v.reverse();
        v
    }

    /// Whether one of the sender's last three messages in the window of `context` was taken
    /// as (part of) a contact detail.
    fn prior_parts(&self, context: &[PriorMessage], sender: &str, depth: usize) -> bool {
        let idx = self.window_indices(context, sender);
        idx.iter().rev().take(3).any(|&i| self.was_contact_part(context, i, depth))
    }

    /// Whether message `i` of `context` was taken as (part of) a contact detail when it was
    /// moderated: a finding, a contact phrase, a fragment that stands alone or continues
    /// such a message, or the first piece of a split detail.
    fn was_contact_part(&self, context: &[PriorMessage], i: usize, depth: usize) -> bool {
        let p = &self.policy;
        let m = &context[i];
        if !detect::detect(&m.text, p).is_empty()
            || self.phrase_hits(&m.text).hits.get(&Category::ContactInfo).is_some_and(|h| h.0 + h.1 > 0)
        {
            return true;
        }
        let before = &context[..i];
        if let Some(fk) = fragment_kind(&m.text, &p.c.mail_providers) {
            if !matches!(fk, Fragment::Digits) || (depth > 0 && self.prior_parts(before, &m.sender, depth - 1)) {
                return true;
            }
        }
        let win: Vec<&PriorMessage> = self.window_indices(before, &m.sender).into_iter().map(|j| &before[j]).collect();
        split::first_piece(&m.text, before, &win).is_some()
    }

    /// Phones and e-mails that only appear when the sender's recent messages are joined with
    /// this one. Returns findings clipped to the current message, with the number of parts.
    fn split_findings(&self, text: &str, window: &[&PriorMessage], already: &[RawFinding]) -> Vec<(RawFinding, usize)> {
        let mut joined = String::new();
        let mut starts = Vec::new(); // code-point start of each part
        let mut pos = 0usize;
        for m in window {
            starts.push(pos);
            joined.push_str(&m.text);
            joined.push(' ');
            pos += m.text.chars().count() + 1;
        }
        let cur_start = pos;
        joined.push_str(text);
        let f = folded_view(&joined);
        let found = detect::detect_in(&joined, &f, &self.policy, true);
        let mut out = Vec::new();
        let cur_len = text.chars().count();
        for fd in found {
            if !matches!(fd.kind, Kind::Phone | Kind::Email | Kind::Url | Kind::Handle) {
                continue;
            }
            if fd.start >= cur_start || fd.end <= cur_start {
                continue;
            }
            let s = 0;
            let e = (fd.end - cur_start).min(cur_len);
            if already.iter().any(|a| a.start < e && s < a.end && a.kind == fd.kind && a.start == s && a.end >= e) {
                continue;
            }
            // Skip if the current part is only whitespace/punctuation, or a decimal reading
            // ("0.199", "5.55"): a '.' inside a phone joins groups of three or more digits.
            let part: String = text.chars().take(e).collect();
            if !part.chars().any(|c| c.is_alphanumeric()) || part.split_whitespace().any(short_decimal) {
                continue;
            }
            let first_part = starts.iter().rposition(|&st| st <= fd.start).unwrap_or(0);
            let parts = starts.len() - first_part + 1;
            // Replace any overlapping partial finding in the current message.
            out.push((
                RawFinding { kind: fd.kind, start: s, end: e, note: Some("split over several messages") },
                parts,
            ));
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fragment {
    /// digits only (e.g. "555")
    Digits,
    /// number words only ("four one five")
    Spelled,
    /// "587-555": the first groups of a phone number
    PhonePrefix,
    /// "at yahoo", "dot com", "@gmail.com"
    EmailPiece,
    /// a lone handle-like token ("ethan.builds")
    Handle,
}

const FILLER: &[&str] = &[
    "ok",
    "okay",
    "k",
    "so",
    "then",
    "done",
    "thats",
    "that's",
    "it",
    "its",
    "it's",
    "got",
    "and",
    "the",
    "rest",
    "is",
    "next",
    "part",
    "lol",
    "haha",
    "pls",
    "here",
    "thx",
    "ty",
    "last",
    "end",
    "first",
    "now",
    "bit",
    "more",
    "cont",
    "continued",
    "again",
    "yes",
    "yeah",
    "...",
    "…",
    "-",
    "+",
    "mine",
    "my",
    "then",
    "also",
];
const TLD_WORDS: &[&str] = &["com", "ca", "net", "org", "co", "uk", "edu", "io", "us", "me", "gov"];
const NUMBER_WORDS: &[&str] = &[
    "zero", "oh", "o", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "niner", "double",
    "triple", "won", "to", "too", "for", "fore", "ate",
];

/// Whether `text` is only a piece of a contact detail (plus filler words).
fn fragment_kind(text: &str, providers: &[String]) -> Option<Fragment> {
    let lower = text.to_lowercase();
    let mut toks: Vec<&str> = Vec::new();
    for raw in lower.split_whitespace() {
        let t =
            raw.trim_matches(|c: char| matches!(c, ':' | ',' | '!' | '?' | '…' | '(' | ')' | '"' | '\'') || (c == '.'));
        if t.is_empty() || FILLER.contains(&t) {
            continue;
        }
        if !t.chars().any(|c| c.is_alphanumeric()) {
            continue;
        }
        toks.push(t);
        if toks.len() > 6 {
            return None;
        }
    }
    if toks.is_empty() {
        return None;
    }
    // A decimal ("24.0", "4.03") is a reading, not a piece of a number: a '.' only joins
    // groups of three or more digits ("403.555").
    let is_digits = |t: &str| {
        t.chars().all(|c| c.is_ascii_digit() || c == '-' || c == '.')
            && t.chars().any(|c| c.is_ascii_digit())
            && (!t.contains('.') || t.split('.').all(|g| g.trim_matches('-').len() >= 3))
    };
    let provider = |t: &str| providers.iter().any(|p| p.split('.').next() == Some(t));
    if toks.iter().all(|t| is_digits(t)) {
        let digits: usize = toks.iter().map(|t| t.chars().filter(|c| c.is_ascii_digit()).count()).sum();
        if !(2..=8).contains(&digits) {
            return None;
        }
        // "587-555": area code and exchange.
        let joined = toks.join(" ");
        let groups: Vec<usize> =
            joined.split(|c: char| !c.is_ascii_digit()).filter(|g| !g.is_empty()).map(|g| g.len()).collect();
        if groups == [3, 3] && joined.contains('-') {
            return Some(Fragment::PhonePrefix);
        }
        return Some(Fragment::Digits);
    }
    let spelled = toks.iter().filter(|t| NUMBER_WORDS.contains(t)).count();
    if toks.iter().all(|t| NUMBER_WORDS.contains(t) || is_digits(t)) {
        let strong = toks.iter().filter(|t| !matches!(**t, "to" | "too" | "for" | "won" | "ate" | "o" | "oh")).count();
        if spelled >= 2 && strong >= 2 {
            return Some(Fragment::Spelled);
        }
        if strong >= 1 && toks.len() >= 2 {
            return Some(Fragment::Digits);
        }
        return None;
    }
    // ".com" / ".kowalski": a piece that starts with a dot.
    if toks.len() <= 2 {
        if let Some(first) = lower.split_whitespace().next() {
            let body = first.trim_start_matches('.');
            if first.starts_with('.')
                && body.len() >= 2
                && body.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            {
                return Some(Fragment::EmailPiece);
            }
        }
    }
    let email_piece = |t: &str| {
        t == "at"
            || t == "dot"
            || t == "@"
            || provider(t)
            || TLD_WORDS.contains(&t)
            || t.starts_with('@')
            || t.ends_with('@')
    };
    if toks.iter().all(|t| email_piece(t) || t.contains('@'))
        && toks.iter().any(|t| *t != "at")
        && (toks.len() >= 2 || toks[0].starts_with('@'))
    {
        return Some(Fragment::EmailPiece);
    }
    if toks.len() <= 2 {
        let handleish = |t: &str| {
            let inner_sep = t.char_indices().any(|(i, c)| {
                (c == '.' || c == '_')
                    && i > 0
                    && t[..i].chars().last().is_some_and(|x| x.is_ascii_alphabetic())
                    && t[i + 1..].chars().next().is_some_and(|x| x.is_ascii_alphanumeric())
            });
            let code =
                ["self.", "np.", "os.", "sys.", "math.", "plt.", "pd.", "df.", "tf.", "torch.", "std::", "this."]
                    .iter()
                    .any(|p| t.starts_with(p))
                    || [
                        ".py", ".js", ".rs", ".md", ".txt", ".csv", ".java", ".c", ".h", ".cpp", ".html", ".css",
                        ".pdf", ".png", ".jpg",
                    ]
                    .iter()
                    .any(|x| t.ends_with(x));
            let domain_like = t.contains(['/', ':'])
                || TLD_WORDS.iter().any(|d| t.ends_with(&format!(".{d}")))
                || [".gov", ".edu", ".int", ".info", ".app", ".dev"].iter().any(|d| t.ends_with(d));
            inner_sep && !code && !domain_like && t.len() >= 5
        };
        let rest_pieces = toks.iter().all(|t| handleish(t) || email_piece(t));
        if rest_pieces && toks.iter().any(|t| handleish(t)) {
            return Some(if toks.iter().any(|t| email_piece(t)) { Fragment::EmailPiece } else { Fragment::Handle });
        }
    }
    None
}

/// Code-point spans of runs of at least `n` ASCII digits (with `-`/`.` inside).
fn digit_groups(text: &str, n: usize) -> Vec<(usize, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let st = i;
            let mut nd = 0;
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || ((chars[i] == '-' || chars[i] == '.') && i + 1 < chars.len() && chars[i + 1].is_ascii_digit()))
            {
                if chars[i].is_ascii_digit() {
                    nd += 1;
                }
                i += 1;
            }
            if nd >= n {
                out.push((st, i));
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Span (code points) of the non-filler part of a fragment message.
fn fragment_span(text: &str) -> Option<(usize, usize)> {
    let mut first: Option<usize> = None;
    let mut last = 0;
    let mut cp = 0;
    let mut tok_start: Option<usize> = None;
    let mut tok = String::new();
    let consider = |ts: usize, te: usize, tok: &str, first: &mut Option<usize>, last: &mut usize| {
        let lower = tok.to_lowercase();
        let trimmed = lower
            .trim_matches(|c: char| matches!(c, ':' | ',' | '!' | '?' | '…' | '(' | ')' | '"' | '\'') || (c == '.'));
        if trimmed.is_empty() || FILLER.contains(&trimmed) || !trimmed.chars().any(|c| c.is_alphanumeric()) {
            return;
        }
        // Shrink to the alphanumeric core (keep a leading '.' or '@').
        let chars: Vec<char> = tok.chars().collect();
        let lead = chars.iter().take_while(|c| !(c.is_alphanumeric() || **c == '@' || **c == '.')).count();
        let trail = chars.iter().rev().take_while(|c| !c.is_alphanumeric()).count();
        let s = ts + lead;
        let e = te.saturating_sub(trail).max(s + 1);
        if first.is_none() {
            *first = Some(s);
        }
        *last = e;
    };
    for c in text.chars() {
        if c.is_whitespace() {
            if let Some(ts) = tok_start.take() {
                consider(ts, cp, &tok, &mut first, &mut last);
                tok.clear();
            }
        } else {
            if tok_start.is_none() {
                tok_start = Some(cp);
            }
            tok.push(c);
        }
        cp += 1;
    }
    if let Some(ts) = tok_start {
        consider(ts, cp, &tok, &mut first, &mut last);
    }
    first.map(|f| (f, last.max(f + 1)))
}

/// A decimal number with a group of fewer than three digits on one side of the point.
fn short_decimal(w: &str) -> bool {
    let w = w.trim_matches(|c: char| !c.is_ascii_digit());
    let mut parts = w.split('.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), None) => {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
                && (a.len() < 3 || b.len() < 3)
        }
        _ => false,
    }
}

/// Runs of three or more digits that could be (part of) a phone number when a contact
/// phrase is in the message ("my number 825"): not decimals or thousands ("2,341", "4.03"),
/// prices, percentages, years, or counts and quantities ("300 pages", "250 mL").
fn phone_like_groups(text: &str) -> Vec<(usize, usize)> {
    let chars: Vec<char> = text.chars().collect();
    digit_groups(text, 3)
        .into_iter()
        .filter(|&(s, e)| {
            let g: String = chars[s..e].iter().collect();
            let before = if s > 0 { chars[s - 1] } else { ' ' };
            let before2 = if s > 1 { chars[s - 2] } else { ' ' };
            let after = chars.get(e).copied().unwrap_or(' ');
            let after2 = chars.get(e + 1).copied().unwrap_or(' ');
            let rest: String = chars[e..].iter().collect();
            let thousands = (before == ',' && before2.is_ascii_digit()) || (after == ',' && after2.is_ascii_digit());
            let year = g.len() == 4 && (g.starts_with("19") || g.starts_with("20"));
            !(short_decimal(&g)
                || thousands
                || year
                || matches!(before, '$' | '€' | '£' | '¥')
                || matches!(after, '%' | '°')
                || detect::followed_by_unit(&rest.to_lowercase()))
        })
        .collect()
}

fn to_finding(f: RawFinding) -> Finding {
    Finding { kind: f.kind.as_str().to_string(), start: f.start, end: f.end }
}

fn kind_words(k: Kind) -> &'static str {
    match k {
        Kind::Phone => "phone number",
        Kind::Email => "e-mail address",
        Kind::Url => "link",
        Kind::Handle => "social media handle",
        Kind::Address => "street address",
    }
}

/// Replace each finding (code-point span) with its marker. Overlapping findings merge.
pub(crate) fn mask(text: &str, findings: &[RawFinding]) -> String {
    let mut spans: Vec<(usize, usize, Kind)> = findings.iter().map(|f| (f.start, f.end, f.kind)).collect();
    spans.sort();
    let mut merged: Vec<(usize, usize, Kind)> = Vec::new();
    for s in spans {
        if let Some(l) = merged.last_mut() {
            if s.0 < l.1 {
                l.1 = l.1.max(s.1);
                continue;
            }
        }
        merged.push(s);
    }
    let mut out = String::with_capacity(text.len());
    let mut k = 0;
    for (i, c) in text.chars().enumerate() {
        while k < merged.len() && i >= merged[k].1 {
            k += 1;
        }
        if k < merged.len() && i >= merged[k].0 {
            if i == merged[k].0 {
                out.push_str(merged[k].2.marker());
            }
            continue;
        }
        out.push(c);
    }
    out
}

fn category_words(c: Category) -> &'static str {
    match c {
        Category::ContactInfo => {
            "it shares or asks for contact details (a phone number, e-mail, link, social media handle or address)"
        }
        Category::OffPlatform => {
            "it suggests moving the conversation to another app, a call or a video chat outside Trellis"
        }
        Category::Meeting => "it suggests meeting in person without supervision",
        Category::PersonalInfo => {
            "it shares or asks for personal details such as where someone lives, goes to school or is alone"
        }
        Category::Secrecy => "it asks to keep the conversation secret from parents or teachers",
        Category::Gifts => "it offers or asks for gifts, money or favours",
        Category::Sexual => "it contains sexual content",
        Category::Harassment => "it contains insults, threats or hateful language",
        Category::SelfHarm => "it mentions self-harm or being in distress",
    }
}

fn reasons(
    action: Action,
    flags: &[Category],
    role: SenderRole,
    classifier_failed: bool,
    escalate: bool,
    raw: &[RawFinding],
) -> Vec<String> {
    let mut r = Vec::new();
    if classifier_failed {
        r.push(
            "Automatic checking is unavailable right now, so this message is waiting for a staff member to review it."
                .to_string(),
        );
    }
    match action {
        Action::Deliver => {
            if flags.contains(&Category::SelfHarm) && role == SenderRole::Student {
                r.push("Your message was delivered. A member of staff will also check in with you, because it sounds like things might be hard right now.".into());
            }
        }
        Action::Redact => {
            let mut kinds: Vec<&str> = raw.iter().map(|f| kind_words(f.kind)).collect();
            kinds.dedup();
            r.push(format!(
                "Your message was delivered with contact details removed ({}). On Trellis, conversations stay on the platform so everyone stays safe.",
                kinds.join(", ")
            ));
        }
        Action::Hold | Action::Block => {
            for c in flags {
                let verb = if action == Action::Hold {
                    "was held for a staff member to review because"
                } else {
                    "was not sent because"
                };
                r.push(format!("This message {verb} {}.", category_words(*c)));
            }
            if flags.is_empty() && !classifier_failed {
                r.push("This message was held for a staff member to review because of patterns in the recent conversation.".into());
            }
            if flags.contains(&Category::SelfHarm) && role == SenderRole::Student {
                r.push("A member of staff will check in with you soon. If you are in danger right now, call your local emergency number or a crisis line.".into());
            }
        }
    }
    if escalate && action != Action::Deliver && !r.iter().any(|s| s.contains("staff")) {
        r.push("A staff member has been notified.".into());
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Pipeline {
        Pipeline::new(Policy::builtin())
    }

    #[test]
    fn done_when_example() {
        let v = p().moderate("text me at four oh three 555 0199", "m1", SenderRole::Mentor, &[]).unwrap();
        assert_eq!(v.action, Action::Hold);
        assert!(v.flags.contains(&Category::ContactInfo));
        assert!(!v.reasons.is_empty());
        assert_eq!(v.delivered_text, None);
    }

    #[test]
    fn student_phone_redacted() {
        let v = p().moderate("my number is 403-555-0199", "s1", SenderRole::Student, &[]).unwrap();
        assert_eq!(v.action, Action::Redact);
        assert_eq!(v.delivered_text.as_deref(), Some("my number is [phone number removed]"));
    }

    #[test]
    fn secrecy_held() {
        let v = p()
            .moderate(
                "let's keep our chats just between us, ok? your parents wouldn't get it",
                "m1",
                SenderRole::Mentor,
                &[],
            )
            .unwrap();
        assert_eq!(v.action, Action::Hold, "{v:?}");
        assert!(v.flags.contains(&Category::Secrecy));
        assert!(v.reasons.iter().any(|r| r.contains("secret")));
    }

    #[test]
    fn benign_delivered() {
        for t in [
            "my phone died",
            "oh snap it compiled",
            "email your teacher",
            "see you Tuesday 4pm in our session",
            "solve 3x + 5 = 20",
            "CHEM 101 at 10:30",
            "ISBN 978-0-13-110362-7",
            "read https://en.wikipedia.org/wiki/Photosynthesis",
        ] {
            for role in [SenderRole::Mentor, SenderRole::Student] {
                let v = p().moderate(t, "x", role, &[]).unwrap();
                assert_eq!(v.action, Action::Deliver, "{t}: {v:?}");
                assert_eq!(v.delivered_text.as_deref(), Some(t));
            }
        }
    }

    #[test]
    fn split_number() {
        let ctx = vec![
            PriorMessage {
                sender: "m1".into(),
                sender_role: SenderRole::Mentor,
                text: "my cell is 403".into(),
                age_seconds: Some(10),
            },
            PriorMessage {
                sender: "m1".into(),
                sender_role: SenderRole::Mentor,
                text: "555".into(),
                age_seconds: Some(5),
            },
        ];
        let v = p().moderate("0199", "m1", SenderRole::Mentor, &ctx).unwrap();
        assert_eq!(v.action, Action::Hold, "{v:?}");
        assert_eq!(v.findings.len(), 1);
        assert!(v.reviewer_notes.iter().any(|n| n.contains("split over 3 messages")));
    }

    #[test]
    fn self_harm_student_escalates_not_blocked() {
        let v = p().moderate("i want to kill myself", "s1", SenderRole::Student, &[]).unwrap();
        assert!(v.escalate);
        assert!(v.flags.contains(&Category::SelfHarm));
        assert!(matches!(v.action, Action::Deliver | Action::Hold));
    }

    #[test]
    fn refuses_empty_and_long() {
        assert_eq!(p().moderate("  ", "a", SenderRole::Student, &[]), Err(ModerationError::Empty));
        let long = "a".repeat(p().policy().max_chars() + 1);
        assert!(matches!(p().moderate(&long, "a", SenderRole::Student, &[]), Err(ModerationError::TooLong { .. })));
    }

    struct Failing;
    impl Classifier for Failing {
        fn score(&self, _: &str, _: &[PriorMessage]) -> Result<BTreeMap<Category, f32>, super::super::ClassifierError> {
            Err(super::super::ClassifierError("down".into()))
        }
    }

    #[test]
    fn classifier_failure_holds() {
        let pl = Pipeline::new(Policy::builtin()).with_classifier(Box::new(Failing));
        let v = pl.moderate("hello there", "a", SenderRole::Student, &[]).unwrap();
        assert_eq!(v.action, Action::Hold);
        assert!(v.reasons[0].contains("unavailable"));
    }

    struct Fixed(Category, f32);
    impl Classifier for Fixed {
        fn score(&self, _: &str, _: &[PriorMessage]) -> Result<BTreeMap<Category, f32>, super::super::ClassifierError> {
            Ok(Category::ALL.into_iter().map(|c| (c, if c == self.0 { self.1 } else { 0.0 })).collect())
        }
    }

    #[test]
    fn a_weaker_self_harm_signal_from_a_student_is_delivered_and_escalated() {
        let pl = Pipeline::new(Policy::builtin()).with_classifier(Box::new(Fixed(Category::SelfHarm, 0.45)));
        let text = "i don't really know what the point of any of this is lately";
        let v = pl.moderate(text, "a", SenderRole::Student, &[]).unwrap();
        assert_eq!(v.action, Action::Deliver);
        assert_eq!(v.delivered_text.as_deref(), Some(text));
        assert!(v.escalate && v.flags == vec![Category::SelfHarm], "{v:?}");
        assert!(v.reasons[0].contains("staff"), "{:?}", v.reasons);
        assert!(v.reviewer_notes.iter().any(|n| n.contains("lower bar")), "{:?}", v.reviewer_notes);
        // From a mentor the same score is below the (only) bar: delivered, nothing flagged.
        let v = pl.moderate(text, "m", SenderRole::Mentor, &[]).unwrap();
        assert_eq!(v.action, Action::Deliver);
        assert!(!v.escalate && v.flags.is_empty(), "{v:?}");
        // Below the lower bar nothing happens for a student either.
        let pl = Pipeline::new(Policy::builtin()).with_classifier(Box::new(Fixed(Category::SelfHarm, 0.35)));
        let v = pl.moderate(text, "a", SenderRole::Student, &[]).unwrap();
        assert!(!v.escalate && v.flags.is_empty(), "{v:?}");
    }

    #[test]
    fn a_suppressing_phrase_cancels_only_the_hits_near_it() {
        let flags = |t: &str| p().moderate(t, "m", SenderRole::Mentor, &[]).unwrap().flags;
        // Far from the suppressing "on here": still a move off the platform.
        assert!(flags("move to wechat, and don't mention it on here").contains(&Category::OffPlatform));
        // Right next to it: staying on the platform.
        assert!(!flags("you can message me here any time before friday").contains(&Category::OffPlatform));
        assert!(!flags("let's continue this discussion in our session tomorrow").contains(&Category::OffPlatform));
    }

    #[test]
    fn mask_spans() {
        let f = vec![RawFinding { kind: Kind::Email, start: 3, end: 6, note: None }];
        assert_eq!(mask("ab éxy z", &f), "ab [email removed] z");
    }
}

//! Moderation policy: `policies/moderation.toml` plus `policies/lexicons/*.txt`,
//! validated at load, compiled once, identified by a content hash.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use regex::Regex;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::normalize::norm_word;
use super::{Action, Category, SenderRole};

/// Error loading or validating a policy; the message names the file and, where known, the line.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{file}: cannot read: {message}")]
    Io { file: String, message: String },
    #[error("{file}:{line}: {message}")]
    Invalid { file: String, line: usize, message: String },
}

const BUILTIN_TOML: &str = include_str!("../../policies/moderation.toml");
const BUILTIN_LEXICONS: &[(&str, &str)] = &[
    ("allowed_domains.txt", include_str!("../../policies/lexicons/allowed_domains.txt")),
    ("contact_info.txt", include_str!("../../policies/lexicons/contact_info.txt")),
    ("gifts.txt", include_str!("../../policies/lexicons/gifts.txt")),
    ("harassment.txt", include_str!("../../policies/lexicons/harassment.txt")),
    ("mail_providers.txt", include_str!("../../policies/lexicons/mail_providers.txt")),
    ("meeting.txt", include_str!("../../policies/lexicons/meeting.txt")),
    ("off_platform.txt", include_str!("../../policies/lexicons/off_platform.txt")),
    ("personal_info.txt", include_str!("../../policies/lexicons/personal_info.txt")),
    ("platforms.txt", include_str!("../../policies/lexicons/platforms.txt")),
    ("secrecy.txt", include_str!("../../policies/lexicons/secrecy.txt")),
    ("self_harm.txt", include_str!("../../policies/lexicons/self_harm.txt")),
    ("sexual.txt", include_str!("../../policies/lexicons/sexual.txt")),
];

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyFile {
    pub limits: Limits,
    pub context: ContextCfg,
    pub phone: PhoneCfg,
    pub scores: ScoresCfg,
    pub findings: BTreeMap<String, OneOrMany>,
    pub actions: ActionsCfg,
    pub escalate: EscalateCfg,
}

/// A category name or a list of them.
#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn items(&self) -> Vec<&String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v.iter().collect(),
        }
    }
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct Limits {
    pub max_chars: usize,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContextCfg {
    pub window_messages: usize,
    pub window_seconds: u64,
    pub escalate_after_mild: usize,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct PhoneCfg {
    pub regions: Vec<String>,
    pub min_digits: usize,
    pub max_digits: usize,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScoresCfg {
    pub flag_threshold: f32,
    pub strong: f32,
    pub mild: f32,
    pub mild_step: f32,
    pub context_step: f32,
    /// Lower bar for the categories in `escalate.student_alert` on a student's message
    /// (delivered, flagged and escalated). `None`: no lower bar.
    #[serde(default)]
    pub alert_threshold: Option<f32>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActionsCfg {
    pub student: BTreeMap<String, String>,
    pub mentor: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct EscalateCfg {
    pub student: Vec<String>,
    pub mentor: Vec<String>,
    /// Categories flagged on a student's message already at `scores.alert_threshold`.
    #[serde(default)]
    pub student_alert: Vec<String>,
}

/// Compiled phrase rules of one category.
#[derive(Debug)]
pub(crate) struct PhraseSet {
    pub strong: Option<Regex>,
    pub mild: Option<Regex>,
    pub suppress: Option<Regex>,
    /// Exceptions (`-` lines): a strong or mild match overlapping one of these is not a hit
    /// ("between us and the judges", "your number one priority"), the rest of the message
    /// is still checked.
    pub except: Option<Regex>,
}

#[derive(Debug)]
pub(crate) struct Compiled {
    pub file: PolicyFile,
    pub phrases: BTreeMap<Category, PhraseSet>,
    /// alias (word-view form) -> (canonical platform, ambiguous)
    pub platform_aliases: HashMap<String, (String, bool)>,
    /// First words of the platform names of two or more words ("epic" of "epic games"), so
    /// the detector only joins two words where a name can start.
    pub platform_alias_heads: HashSet<String>,
    /// emoji -> canonical platform
    pub platform_emoji: HashMap<char, String>,
    pub allowed_domains: Vec<String>,
    pub mail_providers: Vec<String>,
    pub regions: Vec<phonenumber::country::Id>,
    pub actions_student: BTreeMap<Category, Action>,
    pub actions_mentor: BTreeMap<Category, Action>,
    pub escalate_student: Vec<Category>,
    pub escalate_mentor: Vec<Category>,
    pub alert_student: Vec<Category>,
    pub finding_category: BTreeMap<String, Vec<Category>>,
}

/// A loaded, validated and compiled moderation policy. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Policy {
    version: String,
    pub(crate) c: Arc<Compiled>,
}

impl Policy {
    /// Load `moderation.toml` and `lexicons/*.txt` from `dir`.
    pub fn load(dir: &Path) -> Result<Policy, PolicyError> {
        let toml_path = dir.join("moderation.toml");
        let toml_text = std::fs::read_to_string(&toml_path)
            .map_err(|e| PolicyError::Io { file: toml_path.display().to_string(), message: e.to_string() })?;
        let lex_dir = dir.join("lexicons");
        let mut lexicons = Vec::new();
        let rd = std::fs::read_dir(&lex_dir)
            .map_err(|e| PolicyError::Io { file: lex_dir.display().to_string(), message: e.to_string() })?;
        for entry in rd {
            let entry =
                entry.map_err(|e| PolicyError::Io { file: lex_dir.display().to_string(), message: e.to_string() })?;
            let p = entry.path();
            if p.extension().and_then(|e| e.to_str()) != Some("txt") {
                continue;
            }
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            let text = std::fs::read_to_string(&p)
                .map_err(|e| PolicyError::Io { file: p.display().to_string(), message: e.to_string() })?;
            lexicons.push((name, text));
        }
        Self::from_sources(&toml_text, &lexicons)
    }

    /// The policy files shipped with the program (embedded at build time).
    pub fn builtin() -> Policy {
        let lex: Vec<(String, String)> = BUILTIN_LEXICONS.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
        Self::from_sources(BUILTIN_TOML, &lex).expect("built-in policy is valid")
    }

    /// sha256 (hex) over the policy files, sorted by name.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Largest accepted message, in characters.
    pub fn max_chars(&self) -> usize {
        self.c.file.limits.max_chars
    }

    /// Whether `host` is on the allow-list (exact or subdomain).
    pub fn is_allowed_host(&self, host: &str) -> bool {
        let h = host.trim_end_matches('.').to_ascii_lowercase();
        self.c.allowed_domains.iter().any(|d| {
            h == *d || (h.len() > d.len() && h.ends_with(d.as_str()) && h.as_bytes()[h.len() - d.len() - 1] == b'.')
        })
    }

    /// Build from in-memory sources: the toml text and (file name, text) lexicons.
    pub fn from_sources(toml_text: &str, lexicons: &[(String, String)]) -> Result<Policy, PolicyError> {
        const TOML_NAME: &str = "moderation.toml";
        let file: PolicyFile = toml::from_str(toml_text).map_err(|e| {
            let line =
                e.span().map(|s| toml_text[..s.start.min(toml_text.len())].matches('\n').count() + 1).unwrap_or(0);
            PolicyError::Invalid { file: TOML_NAME.into(), line, message: e.message().to_string() }
        })?;
        let inv = |needle: &str, message: String| PolicyError::Invalid {
            file: TOML_NAME.into(),
            line: line_of(toml_text, needle),
            message,
        };

        // Hash: files sorted by name.
        let mut all: Vec<(&str, &str)> = vec![(TOML_NAME, toml_text)];
        for (n, t) in lexicons {
            all.push((n.as_str(), t.as_str()));
        }
        all.sort_by(|a, b| a.0.cmp(b.0));
        let mut h = Sha256::new();
        for (n, t) in &all {
            h.update(n.as_bytes());
            h.update([0u8]);
            h.update(t.as_bytes());
            h.update([0u8]);
        }
        let version = hex::encode(h.finalize());

        // Validate numbers.
        if file.limits.max_chars == 0 {
            return Err(inv("max_chars", "max_chars must be positive".into()));
        }
        if file.context.window_messages == 0 || file.context.window_messages > 20 {
            return Err(inv("window_messages", "window_messages must be between 1 and 20".into()));
        }
        if file.phone.min_digits < 5 || file.phone.max_digits > 17 || file.phone.min_digits > file.phone.max_digits {
            return Err(inv(
                "min_digits",
                "phone digit limits must satisfy 5 <= min_digits <= max_digits <= 17".into(),
            ));
        }
        let s = &file.scores;
        for (name, v) in [
            ("flag_threshold", s.flag_threshold),
            ("strong", s.strong),
            ("mild", s.mild),
            ("mild_step", s.mild_step),
            ("context_step", s.context_step),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(inv(name, format!("{name} must be within 0..1")));
            }
        }
        let mut regions = Vec::new();
        for r in &file.phone.regions {
            let id: phonenumber::country::Id = r.parse().map_err(|_| inv(r, format!("unknown phone region {r:?}")))?;
            regions.push(id);
        }
        let parse_actions = |m: &BTreeMap<String, String>,
                             who: &str|
         -> Result<BTreeMap<Category, Action>, PolicyError> {
            let mut out = BTreeMap::new();
            for (k, v) in m {
                let cat = Category::parse(k).ok_or_else(|| inv(k, format!("actions.{who}: unknown category {k:?}")))?;
                let act = Action::parse(v).ok_or_else(|| {
                    inv(k, format!("actions.{who}.{k}: unknown action {v:?} (deliver, redact, hold, block)"))
                })?;
                out.insert(cat, act);
            }
            for c in Category::ALL {
                if !out.contains_key(&c) {
                    return Err(inv(
                        &format!("[actions.{who}]"),
                        format!("actions.{who}: missing category {:?}", c.as_str()),
                    ));
                }
            }
            Ok(out)
        };
        let actions_student = parse_actions(&file.actions.student, "student")?;
        let actions_mentor = parse_actions(&file.actions.mentor, "mentor")?;
        if actions_student[&Category::SelfHarm] == Action::Block {
            return Err(inv(
                "self_harm",
                "a student's self_harm disclosure must never be blocked (use deliver or hold)".into(),
            ));
        }
        let parse_list = |v: &[String]| -> Result<Vec<Category>, PolicyError> {
            v.iter().map(|k| Category::parse(k).ok_or_else(|| inv(k, format!("unknown category {k:?}")))).collect()
        };
        let escalate_student = parse_list(&file.escalate.student)?;
        let escalate_mentor = parse_list(&file.escalate.mentor)?;
        let alert_student = parse_list(&file.escalate.student_alert)?;
        if !alert_student.is_empty() {
            let Some(t) = file.scores.alert_threshold else {
                return Err(inv("student_alert", "escalate.student_alert needs scores.alert_threshold".into()));
            };
            if !(0.0..file.scores.flag_threshold).contains(&t) {
                return Err(inv("alert_threshold", "alert_threshold must be within 0..flag_threshold".into()));
            }
        }
        for c in &alert_student {
            // The lower bar only ever alerts staff: it must not hold or mask a student's message.
            if actions_student.get(c) != Some(&Action::Deliver) || !escalate_student.contains(c) {
                return Err(inv(
                    "student_alert",
                    format!(
                        "escalate.student_alert: {} must have the student action \"deliver\" and be in escalate.student",
                        c.as_str()
                    ),
                ));
            }
        }
        let mut finding_category = BTreeMap::new();
        for (k, v) in &file.findings {
            if !["phone", "email", "url", "handle", "address"].contains(&k.as_str()) {
                return Err(inv(k, format!("findings: unknown finding kind {k:?}")));
            }
            let mut cats = Vec::new();
            for v in v.items() {
                cats.push(Category::parse(v).ok_or_else(|| inv(k, format!("findings.{k}: unknown category {v:?}")))?);
            }
            finding_category.insert(k.clone(), cats);
        }

        // Lexicons.
        let mut platform_aliases = HashMap::new();
        let mut platform_alias_heads = HashSet::new();
        let mut phrase_aliases: Vec<String> = Vec::new();
        let mut platform_emoji = HashMap::new();
        let mut allowed_domains = Vec::new();
        let mut mail_providers = Vec::new();
        let mut raw_phrases: BTreeMap<Category, &str> = BTreeMap::new();
        let mut seen = Vec::new();
        for (name, text) in lexicons {
            seen.push(name.as_str());
            match name.as_str() {
                "platforms.txt" => {
                    for (ln, line) in content_lines(text) {
                        let (canon, aliases) = line.split_once('=').ok_or_else(|| PolicyError::Invalid {
                            file: format!("lexicons/{name}"),
                            line: ln,
                            message: "expected `platform = alias | alias | ~ambiguous-alias`".into(),
                        })?;
                        let canon = canon.trim().to_lowercase();
                        for a in aliases.split('|') {
                            let a = a.trim();
                            if a.is_empty() {
                                continue;
                            }
                            let (amb, a) = match a.strip_prefix('~') {
                                Some(rest) => (true, rest.trim()),
                                None => (false, a),
                            };
                            let mut chars = a.chars();
                            if let (Some(c), None) = (chars.next(), chars.next()) {
                                if !c.is_alphanumeric() {
                                    platform_emoji.insert(c, canon.clone());
                                    continue;
                                }
                            }
                            let w: Vec<String> = a.split_whitespace().map(norm_word).collect();
                            phrase_aliases.push(w.join(" "));
                            let alias = a.to_lowercase();
                            if let Some((head, _)) = alias.split_once(' ') {
                                platform_alias_heads.insert(head.to_string());
                            }
                            platform_aliases.insert(alias, (canon.clone(), amb));
                        }
                    }
                }
                "allowed_domains.txt" | "mail_providers.txt" => {
                    for (ln, line) in content_lines(text) {
                        let d = line.trim().trim_start_matches("*.").to_ascii_lowercase();
                        if d.contains(char::is_whitespace) || d.contains('/') || d.is_empty() {
                            return Err(PolicyError::Invalid {
                                file: format!("lexicons/{name}"),
                                line: ln,
                                message: format!("not a domain name: {line:?}"),
                            });
                        }
                        if name == "allowed_domains.txt" {
                            allowed_domains.push(d);
                        } else {
                            mail_providers.push(d);
                        }
                    }
                }
                other => {
                    let stem = other.strip_suffix(".txt").unwrap_or(other);
                    let cat = Category::parse(stem).ok_or_else(|| PolicyError::Invalid {
                        file: format!("lexicons/{name}"),
                        line: 0,
                        message: "unknown lexicon file (expected a category name, platforms, allowed_domains or mail_providers)".into(),
                    })?;
                    raw_phrases.insert(cat, text.as_str());
                }
            }
        }
        for req in ["platforms.txt", "allowed_domains.txt", "mail_providers.txt"] {
            if !seen.contains(&req) {
                return Err(PolicyError::Invalid {
                    file: format!("lexicons/{req}"),
                    line: 0,
                    message: "missing lexicon file".into(),
                });
            }
        }
        // Platform alternation for `{platform}` placeholders (strong aliases + ambiguous ones:
        // in a phrase, context disambiguates).
        let mut plat_alts: Vec<String> = phrase_aliases.iter().map(|a| regex::escape(a)).collect();
        plat_alts.dedup();
        plat_alts.sort_by_key(|a| std::cmp::Reverse(a.len()));
        let plat_re = format!("(?:{})", plat_alts.join("|"));

        let mut phrases = BTreeMap::new();
        for c in Category::ALL {
            let text = raw_phrases.get(&c).copied().unwrap_or("");
            let file_name = format!("lexicons/{}.txt", c.as_str());
            let mut strong = Vec::new();
            let mut mild = Vec::new();
            let mut suppress = Vec::new();
            let mut except = Vec::new();
            for (ln, line) in content_lines(text) {
                let (bucket, body) = if let Some(b) = line.strip_prefix('~') {
                    (&mut mild, b)
                } else if let Some(b) = line.strip_prefix('!') {
                    (&mut suppress, b)
                } else if let Some(b) = line.strip_prefix('-') {
                    (&mut except, b)
                } else {
                    (&mut strong, line)
                };
                let re = phrase_to_regex(body.trim(), &plat_re).map_err(|m| PolicyError::Invalid {
                    file: file_name.clone(),
                    line: ln,
                    message: m,
                })?;
                bucket.push(re);
            }
            let build = |v: &Vec<String>| -> Result<Option<Regex>, PolicyError> {
                if v.is_empty() {
                    return Ok(None);
                }
                let pat = format!(" (?:{}) ", v.join("|"));
                regex::RegexBuilder::new(&pat).size_limit(64 << 20).dfa_size_limit(64 << 20).build().map(Some).map_err(
                    |e| PolicyError::Invalid {
                        file: file_name.clone(),
                        line: 0,
                        message: format!("phrase set does not compile: {e}"),
                    },
                )
            };
            phrases.insert(
                c,
                PhraseSet {
                    strong: build(&strong)?,
                    mild: build(&mild)?,
                    suppress: build(&suppress)?,
                    except: build(&except)?,
                },
            );
        }

        Ok(Policy {
            version,
            c: Arc::new(Compiled {
                file,
                phrases,
                platform_aliases,
                platform_alias_heads,
                platform_emoji,
                allowed_domains,
                mail_providers,
                regions,
                actions_student,
                actions_mentor,
                escalate_student,
                escalate_mentor,
                alert_student,
                finding_category,
            }),
        })
    }

    pub(crate) fn action_for(&self, role: SenderRole, c: Category) -> Action {
        match role {
            SenderRole::Student => self.c.actions_student[&c],
            SenderRole::Mentor => self.c.actions_mentor[&c],
        }
    }

    /// The score at which `c` is flagged on a message from `role`.
    pub(crate) fn flag_threshold_for(&self, role: SenderRole, c: Category) -> f32 {
        let s = &self.c.file.scores;
        match s.alert_threshold {
            Some(t) if role == SenderRole::Student && self.c.alert_student.contains(&c) => t,
            _ => s.flag_threshold,
        }
    }

    pub(crate) fn escalates(&self, role: SenderRole, c: Category) -> bool {
        match role {
            SenderRole::Student => self.c.escalate_student.contains(&c),
            SenderRole::Mentor => self.c.escalate_mentor.contains(&c),
        }
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| !l.trim_start().starts_with('#') && l.contains(needle)).map(|i| i + 1).unwrap_or(0)
}

/// Non-empty, non-comment lines with 1-based line numbers; `#` starts a comment.
fn content_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(i, l)| {
        let l = match l.find(" #") {
            Some(p) => &l[..p],
            None => l,
        };
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') {
            None
        } else {
            Some((i + 1, l))
        }
    })
}

/// Phrase syntax: words separated by spaces; `(a|b c)` alternatives, `(...)?` optional group,
/// `*` a gap of up to three words, `{platform}` any platform alias. Words are normalised
/// exactly like the word view. The result matches a space-padded word view.
pub(crate) fn phrase_to_regex(body: &str, plat_re: &str) -> Result<String, String> {
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    let alts = parse_alts(&chars, &mut i, plat_re, 0)?;
    if i < chars.len() {
        return Err(format!("unexpected `{}`", chars[i]));
    }
    if alts.len() == 1 {
        Ok(alts.into_iter().next().unwrap())
    } else {
        Ok(format!("(?:{})", alts.join("|")))
    }
}

/// Alternatives separated by `|` until `)` or the end.
fn parse_alts(chars: &[char], i: &mut usize, plat_re: &str, depth: usize) -> Result<Vec<String>, String> {
    if depth > 3 {
        return Err("groups nested too deeply".into());
    }
    let mut alts = Vec::new();
    loop {
        let items = parse_seq(chars, i, plat_re, depth)?;
        alts.push(seq_to_regex(&items)?);
        if *i < chars.len() && chars[*i] == '|' {
            *i += 1;
            continue;
        }
        break;
    }
    Ok(alts)
}

fn parse_seq(chars: &[char], i: &mut usize, plat_re: &str, depth: usize) -> Result<Vec<(String, bool)>, String> {
    let mut items: Vec<(String, bool)> = Vec::new();
    while *i < chars.len() {
        let c = chars[*i];
        if c.is_whitespace() {
            *i += 1;
            continue;
        }
        if c == '|' || c == ')' {
            break;
        }
        if c == '(' {
            *i += 1;
            let alts = parse_alts(chars, i, plat_re, depth + 1)?;
            if *i >= chars.len() || chars[*i] != ')' {
                return Err("unclosed `(`".into());
            }
            *i += 1;
            let optional = *i < chars.len() && chars[*i] == '?';
            if optional {
                *i += 1;
            }
            items.push((format!("(?:{})", alts.join("|")), optional));
            continue;
        }
        let start = *i;
        while *i < chars.len() && !chars[*i].is_whitespace() && !matches!(chars[*i], '(' | ')' | '|') {
            *i += 1;
        }
        let w: String = chars[start..*i].iter().collect();
        if w == "*" {
            items.push(("[^ ]+".into(), true));
        } else {
            items.push((word_pat(&w, plat_re)?, false));
        }
    }
    Ok(items)
}

fn seq_to_regex(items: &[(String, bool)]) -> Result<String, String> {
    if items.is_empty() {
        return Err("empty phrase or alternative".into());
    }
    if !items.iter().any(|(_, opt)| !opt) {
        return Err("phrase needs at least one required word".into());
    }
    let mut out = String::new();
    let mut seen_required = false;
    for (pat, opt) in items {
        let gap = pat == "[^ ]+";
        if !seen_required {
            if *opt {
                out.push_str(&format!("(?:{pat} ){}", if gap { "{0,3}" } else { "?" }));
            } else {
                out.push_str(pat);
                seen_required = true;
            }
        } else if *opt {
            out.push_str(&format!("(?: {pat}){}", if gap { "{0,3}" } else { "?" }));
        } else {
            out.push(' ');
            out.push_str(pat);
        }
    }
    Ok(out)
}

fn word_pat(w: &str, plat_re: &str) -> Result<String, String> {
    if w == "{platform}" {
        return Ok(plat_re.to_string());
    }
    if w.contains(['{', '}', '*', '?']) {
        // A trailing `*` inside a word is a prefix wildcard: "kill*" matches "killing".
        if let Some(stem) = w.strip_suffix('*') {
            let n = norm_word(stem);
            if n.is_empty() {
                return Err(format!("bad word {w:?}"));
            }
            return Ok(format!("{}[^ ]*", regex::escape(&n)));
        }
        return Err(format!("bad word {w:?}"));
    }
    let n = norm_word(w);
    if n.is_empty() {
        return Err(format!("word {w:?} is empty after normalisation"));
    }
    Ok(regex::escape(&n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_loads_and_hashes() {
        let p = Policy::builtin();
        assert_eq!(p.version().len(), 64);
        assert!(p.is_allowed_host("en.wikipedia.org"));
        assert!(p.is_allowed_host("wikipedia.org"));
        assert!(!p.is_allowed_host("notwikipedia.org"));
        assert!(!p.is_allowed_host("wikipedia.org.evil.com"));
    }

    #[test]
    fn unknown_field_names_file_and_line() {
        let bad = BUILTIN_TOML.replace("[limits]", "[limits]\nbogus = 1");
        let lex: Vec<(String, String)> = BUILTIN_LEXICONS.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
        let err = Policy::from_sources(&bad, &lex).unwrap_err().to_string();
        assert!(err.starts_with("moderation.toml:"), "{err}");
        assert!(err.contains("bogus"), "{err}");
    }

    #[test]
    fn bad_phrase_names_line() {
        let mut lex: Vec<(String, String)> =
            BUILTIN_LEXICONS.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
        for l in lex.iter_mut() {
            if l.0 == "gifts.txt" {
                l.1 = "# c\nbuy you (a|\n".into();
            }
        }
        let err = Policy::from_sources(BUILTIN_TOML, &lex).unwrap_err().to_string();
        assert!(err.starts_with("lexicons/gifts.txt:2: "), "{err}");
    }

    #[test]
    fn self_harm_block_refused() {
        let bad = BUILTIN_TOML.replacen("self_harm = \"deliver\"", "self_harm = \"block\"", 1);
        let lex: Vec<(String, String)> = BUILTIN_LEXICONS.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
        assert!(Policy::from_sources(&bad, &lex).is_err());
    }

    #[test]
    fn student_alert_must_deliver_and_escalate() {
        let lex: Vec<(String, String)> = BUILTIN_LEXICONS.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
        // A lower bar that could hold a student's message is refused.
        let held = BUILTIN_TOML.replacen("student_alert = [\"self_harm\"]", "student_alert = [\"secrecy\"]", 1);
        let err = Policy::from_sources(&held, &lex).unwrap_err().to_string();
        assert!(err.contains("student_alert") && err.contains("secrecy"), "{err}");
        let above = BUILTIN_TOML.replacen("alert_threshold = 0.4", "alert_threshold = 0.6", 1);
        assert!(Policy::from_sources(&above, &lex).is_err());
        let p = Policy::builtin();
        assert_eq!(p.flag_threshold_for(SenderRole::Student, Category::SelfHarm), 0.4);
        assert_eq!(p.flag_threshold_for(SenderRole::Mentor, Category::SelfHarm), 0.5);
        assert_eq!(p.flag_threshold_for(SenderRole::Student, Category::Secrecy), 0.5);
    }

    #[test]
    fn phrase_syntax() {
        let r = phrase_to_regex("keep (it|this)? between us", "x").unwrap();
        let re = Regex::new(&format!(" (?:{r}) ")).unwrap();
        assert!(re.is_match(" lets kep this betwen us "));
        assert!(re.is_match(" kep betwen us "));
    }
}

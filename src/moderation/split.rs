//! The first and middle pieces of a contact detail sent over several messages.
//!
//! `pipeline.rs` already catches a piece once an earlier piece is in the sender's window. The
//! first piece has no earlier part, so it is judged on its own: a short message whose last
//! token could start a phone number (an area code or a UK prefix) or an e-mail, together with
//! something that says "more is coming" or "this is my contact": a contact word ("my cell
//! 204", "gmail: ros"), a chunking word ("part 1:", "first 3:"), a trailing continuation mark
//! ("587-", "416 …"), or nothing at all (a bare "416" that does not answer a question).
//! Answers, readings and scores ("q3 answer is 403", "page 214", "trial 1 = 403 ms") have
//! words that say what the number is, and are left alone.

use std::sync::OnceLock;

use regex::Regex;

use super::detect::Kind;
use super::PriorMessage;

struct Res {
    phone_cue: Regex,
    chunk_cue: Regex,
    email_cue: Regex,
    not_contact: Regex,
    measure: Regex,
    question: Regex,
    contact_cue: Regex,
}

fn res() -> &'static Res {
    static R: OnceLock<Res> = OnceLock::new();
    R.get_or_init(|| Res {
        phone_cue: Regex::new(r"(?-u:\b)(?:num|numb|number|nums|#|cell|cellphone|phone|mobile|mob|digits|whatsapp|wa|txt|text|call|ring|dial|ph|tel)(?-u:\b)|#").unwrap(),
        chunk_cue: Regex::new(r"(?-u:\b)(?:part|pt|first|1st|start|starts|begins|in (?:parts|bits|pieces|chunks|halves)|(?:over|in|across) (?:a few|two|three|several|2|3|4|some|multiple) (?:messages|msgs|texts|lines)|filter|bot|mods|moderators|sending it|send it|splitting|split)(?-u:\b)|(?-u:\b)[1-4] ?/ ?[2-4](?-u:\b)").unwrap(),
        email_cue: Regex::new(r"(?-u:\b)(?:email|e-mail|emial|mail|gmail|hotmail|outlook|yahoo|icloud|proton|protonmail|addy|aol|live)(?-u:\b)").unwrap(),
        measure: Regex::new(r"(?-u:\b)(?:results?|readings?|scores?|trials?|times|measured|measurements?|measuring|weigh|weighs|weighed|weight|mass|grams?|kg|mm|cm|km|ml|temps?|temperatures?|degrees|celsius|kelvin|total|count|counts|steps|records?|updates?|answers?|sides|lengths?|height|tall|wide|width|sums?|averages?|avg|data|values?|numbers|digits of|attempts?|laps?|rounds?|final|pages?|how many|how much|how long|how far|how tall|how old|guess|poll|estimate|rank|ranked|rating|percent|points|pts|place|level|grade|marks|quiz|test|exam|sat|act|gpa)(?-u:\b)").unwrap(),
        contact_cue: Regex::new(r"(?-u:\b)(?:(?:my|your|ur|his|her|our|their|whats|what's|new|real|personal|private|home|work|contact) (?:number|num|#)|cell|cellphone|phone|mobile|digits|whatsapp|txt|text|call|ring|dial|tel)(?-u:\b)").unwrap(),
        question: Regex::new(r"^\s*(?:how|what|whats|what's|which|when|where|who|why|guess|pick|name|tell me|quick poll|can you|could you|do you|did you|is it|are there|any idea)(?-u:\b)").unwrap(),
        not_contact: Regex::new(r"(?-u:\b)(?:answer|ans|answers|page|pg|pages|q[0-9]*|question|problem|prob|room|rm|score|scores|trial|total|result|results|bus|route|chapter|ch|unit|level|grade|version|v|lab|exercise|ex|step|steps|line|lines|row|col|column|year|yr|grade|mark|marks|points|pts|temp|reading|readings|value|x|y|z|n|k|t|id|code|pin|zip|isbn|doi|room|seat|gate|flight|order|ticket|ref)(?-u:\b)|[=+*/^<>]").unwrap(),
    })
}

/// Words that carry no content in a short piece message.
const FILLER: &[&str] = &[
    "ok",
    "okay",
    "k",
    "so",
    "ok so",
    "here",
    "heres",
    "here's",
    "its",
    "it's",
    "it",
    "is",
    "my",
    "the",
    "and",
    "then",
    "lol",
    "haha",
    "pls",
    "plz",
    "thx",
    "ty",
    "btw",
    "fr",
    "ngl",
    "hey",
    "yo",
    "um",
    "uh",
    "alright",
    "right",
    "sure",
    "well",
    "also",
    "now",
    "next",
    "rest",
    "more",
    "cont",
    "continued",
    "bit",
    "piece",
    "me",
];

/// Common one-word replies that are never a piece of an e-mail address.
const NOT_PIECE: &[&str] = &[
    "ok",
    "okay",
    "yes",
    "yeah",
    "yep",
    "no",
    "nope",
    "nah",
    "sure",
    "cool",
    "nice",
    "great",
    "thanks",
    "thank",
    "sorry",
    "what",
    "why",
    "how",
    "when",
    "where",
    "who",
    "huh",
    "hmm",
    "hm",
    "lol",
    "haha",
    "lmao",
    "wait",
    "right",
    "done",
    "same",
    "true",
    "agreed",
    "perfect",
    "awesome",
    "good",
    "bad",
    "fine",
    "maybe",
    "idk",
    "ikr",
    "omg",
    "wow",
    "bye",
    "hi",
    "hello",
    "hey",
    "later",
    "soon",
    "tomorrow",
    "tonight",
    "today",
    "now",
    "got",
    "it",
    "that",
    "this",
    "again",
    "please",
    "pls",
    "thx",
    "ty",
    "np",
    "yw",
    "kk",
    "k",
    "bet",
    "fr",
    "true",
    "facts",
    "exactly",
    "correct",
    "wrong",
    "what?",
    "really",
    "seriously",
    "definitely",
    "totally",
    "absolutely",
    "interesting",
    "amazing",
    "oops",
    "ugh",
    "yay",
    "hooray",
    "congrats",
    "welcome",
    "noted",
    "understood",
    "makes",
    "sense",
    "works",
    "working",
    "sent",
    "down",
    "broken",
    "fixed",
    "blocked",
    "full",
    "updated",
    "deleted",
    "checked",
    "verified",
    "changed",
    "new",
    "old",
    "same",
    "mine",
    "yours",
    "none",
    "nothing",
    "later",
    "unknown",
    "private",
    "personal",
    "school",
    "work",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Words people trail off with ("well…", "anyway...").
const DISCOURSE: &[&str] = &[
    "well",
    "anyway",
    "anyways",
    "because",
    "actually",
    "honestly",
    "basically",
    "maybe",
    "hmmm",
    "hmmmm",
    "ummm",
    "uhhh",
    "welp",
    "so...",
    "whatever",
    "literally",
    "technically",
    "apparently",
    "obviously",
    "seriously",
    "although",
    "though",
    "unless",
    "except",
    "still",
    "meanwhile",
    "otherwise",
    "therefore",
    "however",
    "besides",
    "wait",
    "sooo",
    "soooo",
    "okayyy",
    "alright",
    "right",
    "thinking",
    "loading",
    "compiling",
    "running",
    "waiting",
    "processing",
    "uploading",
    "downloading",
    "installing",
    "building",
    "testing",
    "anyhow",
    "awkward",
    "interesting",
    "guess",
    "sorry",
    "thanks",
    "great",
    "cool",
    "nice",
    "nevermind",
    "never",
    "always",
    "sometimes",
    "probably",
    "definitely",
    "perhaps",
    "suddenly",
    "finally",
    "eventually",
    "hopefully",
    "unfortunately",
    "luckily",
    "meh",
    "yeah",
    "yeahh",
    "nooo",
    "noooo",
    "ohhh",
    "ahhh",
    "hmm",
    "umm",
    "errr",
    "drumroll",
    "aaand",
    "andd",
];

/// Words that may come before a bare first piece ("ok here 780", "its 2 0 4").
const LEAD_FILLER: &[&str] = &[
    "ok", "okay", "k", "so", "here", "heres", "here's", "its", "it's", "it", "is", "and", "then", "lol", "pls", "hey",
    "yo", "um", "uh", "alright",
];

/// Whether `text` is only numbers (digits, decimals, number words) and filler: a reading,
/// an answer or a piece of a number.
pub(crate) fn only_numbers(text: &str) -> bool {
    let toks = tokens(text);
    !toks.is_empty()
        && toks.iter().any(|t| t.2.chars().any(|c| c.is_ascii_digit()) || digit_of_word(&t.2).is_some())
        && toks.iter().all(|t| {
            t.2.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '-' | '$' | '%'))
                || digit_of_word(&t.2).is_some()
                || FILLER.contains(&t.2.as_str())
        })
}

/// Bare numbers that answer or continue something that says what they are. Walks back over
/// the conversation (anyone's messages) past messages that are only numbers, to the message
/// that led to them: a question ("how many grams did it weigh", "guess how many"), or a
/// message naming a reading, score, result or unit ("results from my pendulum trials",
/// "my quiz scores this term"). A contact word in that message ("my cell", "email") means
/// the numbers may well be a contact detail.
pub(crate) fn numbers_explained(context: &[PriorMessage]) -> bool {
    let r = res();
    let Some(lead) = context.iter().rev().take(4).find(|m| !only_numbers(&m.text)) else {
        return false;
    };
    let l = lead.text.to_lowercase();
    if r.contact_cue.is_match(&l) || r.email_cue.is_match(&l) {
        return false;
    }
    // A plain "number" does not make it a contact detail when the words around it name it
    // ("the mass number of uranium is").
    l.trim_end().ends_with('?') || r.question.is_match(&l) || r.measure.is_match(&l) || r.not_contact.is_match(&l)
}

/// Is `d` a plausible start of a phone number: a NANP area code (2-9, then not 9, not N11)
/// or a UK trunk prefix (07xxx, 01xx(x), 02x)?
fn phone_start(d: &str) -> bool {
    let b = d.as_bytes();
    match b.len() {
        3 => (b[0] >= b'2' && b[1] != b'9' && !(b[1] == b'1' && b[2] == b'1')) || (b[0] == b'0' && b[1] == b'2'),
        // 0113…0118, 0121…0191 (UK city codes)
        4 => {
            b[0] == b'0'
                && b[1] == b'1'
                && ((b[2] == b'1' && (b'3'..=b'8').contains(&b[3])) || (b[2] >= b'2' && b[3] == b'1'))
        }
        5 => b[0] == b'0' && (b[1] == b'1' || b[1] == b'7'),
        _ => false,
    }
}

fn digit_of_word(w: &str) -> Option<char> {
    Some(match w {
        "zero" | "oh" | "o" => '0',
        "one" => '1',
        "two" => '2',
        "three" => '3',
        "four" => '4',
        "five" => '5',
        "six" => '6',
        "seven" => '7',
        "eight" => '8',
        "nine" => '9',
        _ if w.len() == 1 && w.as_bytes()[0].is_ascii_digit() => w.chars().next().unwrap(),
        _ => return None,
    })
}

/// A token that could be (part of) the local part of an e-mail or a user name.
fn handle_piece(t: &str) -> bool {
    let digits = t.chars().filter(|c| c.is_ascii_digit()).count();
    t.len() >= 2
        && t.len() <= 30
        && digits <= 4
        && t.chars().any(|c| c.is_ascii_alphabetic())
        && t.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !t.starts_with(['.', '-'])
        && !NOT_PIECE.contains(&t)
        && !FILLER.contains(&t)
}

fn marked(t: &str) -> bool {
    t.chars().any(|c| c.is_ascii_digit() || c == '_' || c == '.') && t.chars().any(|c| c.is_ascii_alphabetic())
}

/// Tokens of `text` with code-point spans, trimmed of surrounding punctuation (a leading
/// '@' or '.' is kept).
fn tokens(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let st = i;
        while i < chars.len() && !chars[i].is_whitespace() {
            i += 1;
        }
        let mut s = st;
        let mut e = i;
        while s < e && !(chars[s].is_alphanumeric() || chars[s] == '@' || chars[s] == '#' || chars[s] == '.') {
            s += 1;
        }
        while e > s && !chars[e - 1].is_alphanumeric() {
            e -= 1;
        }
        if s < e {
            out.push((s, e, chars[s..e].iter().collect::<String>().to_lowercase()));
        }
    }
    out
}

/// A first (or middle) piece of a contact detail in `text`, given the whole conversation
/// so far (`context`, oldest first) and the sender's recent messages (`window`). Returns the
/// kind and the code-point span of the piece.
pub(crate) fn first_piece(
    text: &str,
    context: &[PriorMessage],
    window: &[&PriorMessage],
) -> Option<(Kind, usize, usize)> {
    // Pieces are short; most messages stop here.
    if text.len() > 160 || text.chars().count() > 80 {
        return None;
    }
    let r = res();
    let lower = text.to_lowercase();
    let trimmed = lower.trim();
    // Cheap gate before tokenising: a piece needs digits, or a colon, an ellipsis, an earlier
    // message of the sender, or a contact or chunking word.
    let gate = lower.bytes().any(|b| b.is_ascii_digit())
        || lower.contains([':', '…'])
        || lower.contains("..")
        || !window.is_empty()
        || r.email_cue.is_match(&lower)
        || r.phone_cue.is_match(&lower)
        || r.chunk_cue.is_match(&lower);
    if !gate {
        return None;
    }
    let toks = tokens(text);
    let content: Vec<&(usize, usize, String)> = toks.iter().filter(|t| !FILLER.contains(&t.2.as_str())).collect();
    if content.is_empty() || content.len() > 7 || text.chars().count() > 80 {
        return None;
    }
    let continuation =
        trimmed.ends_with(['-', '+', '…', ',', '_']) || trimmed.ends_with("..") || trimmed.ends_with(" and");
    // Everything before the piece, to read cues from.
    let lead_of = |s: usize| -> String { text.chars().take(s).collect::<String>().to_lowercase() };
    let answers_question = context.last().is_some_and(|m| m.text.trim_end().ends_with('?'));

    // Phone: the last content tokens spell three to five digits that can start a number.
    {
        let mut digits = String::new();
        let mut start = None;
        let mut end = 0;
        let chars: Vec<char> = text.chars().collect();
        for t in content.iter().rev() {
            // "part 1: 250": a colon ends the number.
            if start.is_some() && chars.get(t.1) == Some(&':') {
                break;
            }
            let w = t.2.trim_end_matches(['-', '.']);
            let piece: Option<String> =
                if w.chars().all(|c| c.is_ascii_digit() || c == '-') && w.contains(|c: char| c.is_ascii_digit()) {
                    Some(w.chars().filter(|c| c.is_ascii_digit()).collect())
                } else {
                    digit_of_word(w).map(|c| c.to_string())
                };
            match piece {
                Some(p) if digits.len() + p.len() <= 6 => {
                    digits.insert_str(0, &p);
                    start = Some(t.0);
                    if end == 0 {
                        end = t.1;
                    }
                }
                _ => break,
            }
        }
        // "587-555" (area code and exchange) is handled by the pipeline already.
        if let Some(s) = start.filter(|_| phone_start(&digits)) {
            let lead = lead_of(s);
            let lead_words = lead
                .split_whitespace()
                .filter(|w| !FILLER.contains(&w.trim_matches(|c: char| !c.is_alphanumeric())))
                .count();
            let spelled = !text[..].chars().skip(s).take(end - s).any(|c| c.is_ascii_digit());
            // Nothing but filler before the number, not answering or continuing anything
            // that names it, and not a guess ("800?").
            let bare =
                lead.split_whitespace().all(|w| LEAD_FILLER.contains(&w.trim_matches(|c: char| !c.is_alphanumeric())))
                    && !answers_question
                    && !trimmed.ends_with('?')
                    && !numbers_explained(context);
            let cue = r.phone_cue.is_match(&lead) || r.chunk_cue.is_match(&lead) || lead.trim_end().ends_with(':');
            if !r.not_contact.is_match(&lead) && (cue || continuation || bare || (spelled && lead_words == 0)) {
                return Some((Kind::Phone, s, end));
            }
        }
    }

    // E-mail or user name: "gmail: ros", "my email: liam.r", "its: noahbianchi88".
    let (ls, le, last) = content.last().map(|t| (t.0, t.1, t.2.clone()))?;
    if handle_piece(&last) && !last.chars().all(|c| c.is_ascii_digit()) {
        let lead = lead_of(ls);
        let colon = lead.trim_end().ends_with(':');
        let lead_end = lead.trim_end().trim_end_matches(':').rsplit(' ').next().unwrap_or("").to_string();
        let introduces = colon || matches!(lead_end.as_str(), "is" | "its" | "it's" | "=" | "->" | "→" | "with");
        // "my email is kind of long: mariakowal", "my email starts with jdawson": a colon or
        // "starts with" introduces the piece even after a longer lead.
        let long_intro = colon || lead.trim_end().ends_with("starts with") || lead.trim_end().ends_with("begins with");
        let email_cue = r.email_cue.is_match(&lead)
            && ((content.len() <= 4 && (introduces || marked(&last))) || (long_intro && content.len() <= 7));
        let lead_words = lead
            .split_whitespace()
            .filter(|w| !FILLER.contains(&w.trim_matches(|c: char| !c.is_alphanumeric())))
            .count();
        let colon_marked = colon && marked(&last) && content.len() <= 3 && lead_words == 0;
        // "sending it in bits: malik_codes"; "writing my email over a few messages samuelreyes".
        let chunk = r.chunk_cue.is_match(&lead)
            && ((content.len() <= 4 && (marked(&last) || continuation))
                || (r.email_cue.is_match(&lead) && content.len() <= 8));
        // "dgarciax …": one name-like token trailed by an ellipsis, the way a detail is
        // continued in the next message (not a discourse word such as "well…", "anyway...").
        let ellipsis = (trimmed.ends_with('…') || trimmed.ends_with("...") || trimmed.ends_with(". . ."))
            && content.len() == 1
            && toks.len() == 1
            && last.len() >= 5
            && !DISCOURSE.contains(&last.as_str())
            && last.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_'));
        if email_cue || colon_marked || chunk || ellipsis {
            return Some((Kind::Email, ls, le));
        }
        // A middle piece: one bare token right after a piece of an e-mail.
        if content.len() == 1 && !text.trim().contains(' ') {
            if let Some(prev) = window.last() {
                let p = first_piece(&prev.text, &[], &[]);
                let prev_email = matches!(p, Some((Kind::Email, _, _)));
                if prev_email {
                    return Some((Kind::Email, ls, le));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::moderation::SenderRole;

    fn prior(text: &str) -> PriorMessage {
        PriorMessage { sender: "a".into(), sender_role: SenderRole::Mentor, text: text.into(), age_seconds: None }
    }

    #[test]
    fn first_pieces() {
        for t in [
            "416",
            "902 …",
            "ok here 587-",
            "part 1: 250",
            "first 3: 647",
            "my num is 403",
            "my digits r 6 0 4",
            "my cell six one three",
            "ok here 780",
            "its 2 0 4",
            "text 613",
        ] {
            assert!(matches!(first_piece(t, &[], &[]), Some((Kind::Phone, _, _))), "{t}");
        }
        for t in [
            "gmail: ros",
            "my email: liam.r",
            "its: noahbianchi88",
            "sending it in bits: malik_codes",
            "dgarciax …",
            "my email starts with jdawson",
            "my email is kind of long: mariakowal",
        ] {
            assert!(matches!(first_piece(t, &[], &[]), Some((Kind::Email, _, _))), "{t}");
        }
        let p = prior("gmail: ros");
        assert!(first_piece("agar", &[], &[&p]).is_some());
    }

    #[test]
    fn not_pieces() {
        for t in [
            "q3 answer is 403",
            "page 214",
            "trial 1 = 403 ms",
            "x = 12",
            "we're up 3 to 1",
            "final 4-1!!",
            "room 214",
            "the 403",
            "score: 21",
            "ok",
            "nice",
            "see you at 4",
            "it's 403 degrees",
            "my email is down today",
            "anyway...",
            "honestly…",
            "compiling...",
            "so the answer is…",
        ] {
            assert_eq!(first_piece(t, &[], &[]), None, "{t}");
        }
        let q = prior("what page?");
        assert_eq!(first_piece("214", &[q], &[]), None);
        // Readings and answers led by a message that names them, or a guess.
        for lead in ["how many grams did the sample weigh", "results from my pendulum trials", "guess how many"] {
            assert_eq!(first_piece("416", &[prior(lead)], &[]), None, "{lead}");
        }
        assert_eq!(first_piece("412", &[prior("results from my pendulum trials"), prior("408")], &[]), None);
        assert_eq!(first_piece("800?", &[], &[]), None);
        // A contact word in the lead keeps it a piece.
        assert!(first_piece("416", &[prior("ok my cell in parts")], &[]).is_some());
        let p = prior("ok so what do you think");
        assert_eq!(first_piece("cool", &[], &[&p]), None);
    }
}

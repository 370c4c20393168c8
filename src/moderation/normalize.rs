//! Normalised views of a message. Each view keeps, per output byte, the code-point index of
//! the original character it came from, so findings map back to the original text.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

/// A derived text with a map back to original code-point offsets.
#[derive(Debug, Default, Clone)]
pub(crate) struct View {
    pub text: String,
    /// For every byte of `text`, the original code-point index it came from.
    pub map: Vec<u32>,
}

impl View {
    pub fn with_capacity(n: usize) -> Self {
        View { text: String::with_capacity(n), map: Vec::with_capacity(n) }
    }

    #[inline]
    pub fn push(&mut self, c: char, orig: u32) {
        self.text.push(c);
        for _ in 0..c.len_utf8() {
            self.map.push(orig);
        }
    }

    /// Original code-point span of the byte range `[bs, be)` of this view.
    pub fn orig_span(&self, bs: usize, be: usize) -> (usize, usize) {
        if be <= bs || be > self.map.len() {
            let p = self.map.get(bs).copied().unwrap_or(0) as usize;
            return (p, p);
        }
        let s = self.map[bs] as usize;
        let e = self.map[be - 1] as usize + 1;
        (s.min(e), e.max(s))
    }
}

/// Characters that render as nothing and are used to break up words: zero-width,
/// default-ignorable, bidi controls, variation selectors, soft hyphen, tags.
#[inline]
pub(crate) fn is_ignorable(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFF8 | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF)
}

/// Fold one character for matching: drop ignorables and controls, NFKC, confusables and
/// fullwidth forms to ASCII via `decancer` (digits are kept: NFKC already maps fullwidth,
/// mathematical and circled digits to ASCII, and ASCII is never passed to decancer),
/// lower case. Calls `out` for each resulting character.
#[inline]
pub(crate) fn fold_char(c: char, mut out: impl FnMut(char)) {
    if c.is_ascii() {
        if c.is_ascii_control() {
            if c == '\n' || c == '\t' || c == '\r' {
                out(if c == '\t' { ' ' } else { c });
            }
            return;
        }
        out(c.to_ascii_lowercase());
        return;
    }
    if is_ignorable(c) || c.is_control() {
        return;
    }
    // Enclosed and dingbat digits (③, ⓪, ❺, ⓿) that NFKC leaves alone.
    if let Some(d) = enclosed_digit(c) {
        for x in d.chars() {
            out(x);
        }
        return;
    }
    // Circled letters ("ⓛⓘⓐⓜ") are letters: NFKC below reads them.
    // Emoji and pictographs: a word break, never letters.
    if !is_circled_letter(c) && matches!(c as u32, 0x2190..=0x2BFF | 0x1F000..=0x1FAFF) {
        out(' ');
        return;
    }
    for r in std::iter::once(c).nfkc() {
        if r.is_ascii() {
            if !r.is_ascii_control() {
                out(r.to_ascii_lowercase());
            }
            continue;
        }
        if let Some(d) = unicode_digit(r) {
            out(d);
            continue;
        }
        if is_ignorable(r) {
            continue;
        }
        match decancer::cure_char(r, decancer::Options::default()) {
            decancer::Translation::Character(x) => {
                if x.is_ascii() {
                    out(x.to_ascii_lowercase())
                } else {
                    for l in x.to_lowercase() {
                        out(l)
                    }
                }
            }
            decancer::Translation::String(s) => {
                for x in s.chars() {
                    out(x.to_ascii_lowercase())
                }
            }
            decancer::Translation::None => {}
        }
    }
}

fn enclosed_digit(c: char) -> Option<String> {
    let u = c as u32;
    let v = match u {
        0x2460..=0x2473 => u - 0x2460 + 1,
        0x2474..=0x2487 => u - 0x2474 + 1,
        0x2488..=0x249B => u - 0x2488 + 1,
        0x24EA | 0x24FF | 0x1F10B | 0x1F10C => 0,
        0x24EB..=0x24F4 => u - 0x24EB + 11,
        0x24F5..=0x24FE => u - 0x24F5 + 1,
        0x2776..=0x277F => u - 0x2776 + 1,
        0x2780..=0x2789 => u - 0x2780 + 1,
        0x278A..=0x2793 => u - 0x278A + 1,
        0x3251..=0x325F => u - 0x3251 + 21,
        0x1F100 => 0,
        0x1F101..=0x1F10A => u - 0x1F101,
        _ => return None,
    };
    Some(v.to_string())
}

/// Decimal digits of other scripts (Arabic-Indic, Devanagari, …) to ASCII.
fn unicode_digit(c: char) -> Option<char> {
    const ZEROS: &[u32] = &[
        0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0E50, 0x0ED0,
        0x0F20, 0x1040, 0x17E0, 0x1810, 0xFF10, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6,
    ];
    let u = c as u32;
    for &z in ZEROS {
        if (z..z + 10).contains(&u) {
            return char::from_digit(u - z, 10);
        }
    }
    None
}

/// The folded view: `fold_char` over every character, mapped to original offsets.
pub(crate) fn folded_view(text: &str) -> View {
    let mut v = View::with_capacity(text.len() + 8);
    let mut prev = ' ';
    let mut chars = text.char_indices().peekable();
    let mut i = 0u32;
    while let Some((at, c)) = chars.next() {
        let next = chars.peek().map_or(' ', |&(_, n)| n);
        // A circled a standing alone before a domain ("isla ⓐ outlook ⓓⓞⓣ com") is an at sign;
        // inside circled text ("ⓗⓐⓟⓟⓨ") or in an answer key ("q1 ⓐ q2 ⓓ") it is a letter.
        if matches!(c, '\u{24D0}' | '\u{24B6}')
            && !is_circled_letter(prev)
            && !is_circled_letter(next)
            && at_sign_context(&text[at + c.len_utf8()..])
        {
            v.push('@', i);
        } else {
            fold_char(c, |x| v.push(x, i));
        }
        prev = c;
        i += 1;
    }
    v
}

/// What follows a lone circled a reads like the domain of an e-mail address.
fn at_sign_context(rest: &str) -> bool {
    let head: String = rest.chars().take(40).collect::<String>().to_lowercase();
    ["dot", "\u{24D3}\u{24DE}\u{24E3}", "mail", "outlook", "icloud", "yahoo", "proton"].iter().any(|w| head.contains(w))
        || head.split_whitespace().next().is_some_and(|w| w.contains('.'))
}

fn is_circled_letter(c: char) -> bool {
    ('\u{24B6}'..='\u{24E9}').contains(&c)
}

/// Contact view, built from the folded view: "at"/"[at]"/"(at)"/" @ " become `@`,
/// "dot"/"[dot]"/" . " become `.`, spaced single letters and digits are joined.
/// `obfuscated` tells whether any such rewrite happened.
pub(crate) struct ContactView {
    pub view: View,
    #[allow(dead_code)]
    pub obfuscated: bool,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum TokKind {
    Word,
    Space,
    Punct,
}

pub(crate) fn contact_view(f: &View) -> ContactView {
    // Tokenise by bytes of the folded text.
    let t = f.text.as_str();
    let mut toks: Vec<(TokKind, usize, usize)> = Vec::new();
    let mut it = t.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let kind = if c.is_alphanumeric() || c == '_' {
            TokKind::Word
        } else if c == ' ' {
            TokKind::Space
        } else {
            TokKind::Punct
        };
        let mut end = i + c.len_utf8();
        if kind != TokKind::Punct {
            while let Some(&(j, d)) = it.peek() {
                let k2 = if d.is_alphanumeric() || d == '_' {
                    TokKind::Word
                } else if d == ' ' {
                    TokKind::Space
                } else {
                    TokKind::Punct
                };
                if k2 != kind {
                    break;
                }
                end = j + d.len_utf8();
                it.next();
            }
        }
        toks.push((kind, i, end));
    }
    let word = |k: usize| -> &str { &t[toks[k].1..toks[k].2] };
    // Quotes count as brackets here: "noah 'at' icloud 'dot' com".
    let is_open = |k: usize| toks[k].0 == TokKind::Punct && matches!(word(k), "[" | "(" | "{" | "<" | "'" | "\"");
    let is_close = |k: usize| toks[k].0 == TokKind::Punct && matches!(word(k), "]" | ")" | "}" | ">" | "'" | "\"");

    let mut out = View::with_capacity(t.len());
    let mut obfuscated = false;
    let emit_range = |out: &mut View, s: usize, e: usize| {
        for (off, c) in t[s..e].char_indices() {
            out.push(c, f.map[s + off]);
        }
    };
    let n = toks.len();
    let mut k = 0;
    while k < n {
        let (kind, s, e) = toks[k];
        // Bracketed [at] / (dot)
        if kind == TokKind::Punct && is_open(k) && k + 2 < n && is_close(k + 2) {
            let w = word(k + 1);
            let rep = match w {
                "at" | "4t" | "@" => Some('@'),
                "dot" | "d0t" | "d07" | "period" | "." => Some('.'),
                "underscore" => Some('_'),
                _ => None,
            };
            if let Some(r) = rep {
                // drop spaces already emitted before
                while out.text.ends_with(' ') {
                    out.text.pop();
                    out.map.pop();
                }
                out.push(r, f.map[s]);
                obfuscated = true;
                k += 3;
                while k < n && toks[k].0 == TokKind::Space {
                    k += 1;
                }
                continue;
            }
        }
        if kind == TokKind::Word {
            let w = word(k);
            let rep = match w {
                // Spanish too: "andres.v arroba gmail punto com".
                "at" | "4t" | "arroba" => Some('@'),
                "dot" | "d0t" | "d07" | "punto" => Some('.'),
                _ => None,
            };
            let prev_word = k >= 2 && toks[k - 1].0 == TokKind::Space && toks[k - 2].0 == TokKind::Word;
            let next_word = k + 2 < n && toks[k + 1].0 == TokKind::Space && toks[k + 2].0 == TokKind::Word;
            // "jess at sign gmail period com": "at sign" is `@`; "period"/"point" is `.` only
            // before a common top-level domain ("third period math" stays words).
            let at_sign = w == "at"
                && next_word
                && word(k + 2) == "sign"
                && k + 4 < n
                && toks[k + 3].0 == TokKind::Space
                && toks[k + 4].0 == TokKind::Word;
            let spoken_dot = matches!(w, "period" | "point")
                && next_word
                && matches!(word(k + 2), "com" | "org" | "net" | "ca" | "edu" | "io" | "co" | "uk" | "us" | "gov");
            if prev_word && (at_sign || spoken_dot) {
                while out.text.ends_with(' ') {
                    out.text.pop();
                    out.map.pop();
                }
                out.push(if at_sign { '@' } else { '.' }, f.map[s]);
                obfuscated = true;
                k += if at_sign { 4 } else { 2 };
                continue;
            }
            // "noah underscore r underscore 08": the spoken underscore joins its neighbours.
            // Not "has an underscore in it": a function word on either side means the word.
            let function_word = |x: &str| {
                matches!(
                    x,
                    "a" | "an" | "the" | "or" | "and" | "in" | "at" | "with" | "no" | "one" | "of" | "is" | "to"
                )
            };
            let spoken_underscore = w == "underscore"
                && prev_word
                && next_word
                && !function_word(word(k - 2))
                && !function_word(word(k + 2));
            let rep = if spoken_underscore { Some('_') } else { rep };
            if let (Some(r), true, true) = (rep, prev_word, next_word) {
                while out.text.ends_with(' ') {
                    out.text.pop();
                    out.map.pop();
                }
                out.push(r, f.map[s]);
                obfuscated = true;
                k += 2;
                continue;
            }
            // Spaced single characters: "j o h n" -> "john" (3 or more).
            if e - s == 1 {
                let mut j = k;
                let mut count = 1;
                while j + 2 < n
                    && toks[j + 1].0 == TokKind::Space
                    && toks[j + 1].2 - toks[j + 1].1 == 1
                    && toks[j + 2].0 == TokKind::Word
                    && toks[j + 2].2 - toks[j + 2].1 == 1
                {
                    j += 2;
                    count += 1;
                }
                if count >= 3 {
                    let mut q = k;
                    while q <= j {
                        if toks[q].0 == TokKind::Word {
                            emit_range(&mut out, toks[q].1, toks[q].2);
                        }
                        q += 1;
                    }
                    obfuscated = true;
                    k = j + 1;
                    continue;
                }
            }
        }
        if kind == TokKind::Punct && (word(k) == "@" || word(k) == ".") {
            let sp_before = k >= 1 && toks[k - 1].0 == TokKind::Space;
            let sp_after = k + 1 < n && toks[k + 1].0 == TokKind::Space;
            let collapse = if word(k) == "@" { sp_before || sp_after } else { sp_before && sp_after };
            if collapse {
                while out.text.ends_with(' ') {
                    out.text.pop();
                    out.map.pop();
                }
                emit_range(&mut out, s, e);
                obfuscated = true;
                k += 1;
                while k < n && toks[k].0 == TokKind::Space {
                    k += 1;
                }
                continue;
            }
        }
        // Leetspeak in the domain of an e-mail ("r0g3rs.c0m", "@a0l"): a word right after
        // the '@', or after a '.' once an '@' was seen, that mixes letters and digits is read
        // as letters. Same length, so the byte map stays exact.
        if kind == TokKind::Word && (out.text.ends_with('@') || (out.text.ends_with('.') && out.text.contains('@'))) {
            let w = word(k);
            if w.bytes().any(|b| b.is_ascii_digit()) && w.bytes().any(|b| b.is_ascii_alphabetic()) && w.is_ascii() {
                for (off, c) in w.char_indices() {
                    let r = match c {
                        '0' => 'o',
                        '1' => 'i',
                        '3' => 'e',
                        '4' => 'a',
                        '5' => 's',
                        '7' => 't',
                        c => c,
                    };
                    out.push(r, f.map[s + off]);
                }
                obfuscated = true;
                k += 1;
                continue;
            }
        }
        emit_range(&mut out, s, e);
        k += 1;
    }
    ContactView { view: out, obfuscated }
}

/// Normalise one word for phrase matching: lower case, confusables folded, apostrophes
/// dropped, leetspeak folded when the word mixes letters and digits, repeats collapsed.
pub(crate) fn norm_word(w: &str) -> String {
    let mut folded = String::with_capacity(w.len());
    for c in w.chars() {
        fold_char(c, |x| {
            if x.is_alphanumeric() || x == '@' || x == '$' {
                folded.push(x)
            }
        });
    }
    finish_word(&folded)
}

/// A leetspeak character read as the letter it stands for.
pub(crate) fn leet(c: char) -> char {
    match c {
        '0' => 'o',
        '1' => 'i',
        '3' => 'e',
        '4' => 'a',
        '5' => 's',
        '7' => 't',
        '8' => 'b',
        '9' => 'g',
        '@' => 'a',
        '$' => 's',
        _ => c,
    }
}

fn finish_word(w: &str) -> String {
    let has_alpha = w.chars().any(|c| c.is_alphabetic());
    let has_other = w.chars().any(|c| !c.is_alphabetic());
    let mut out = String::with_capacity(w.len());
    let mut last = '\0';
    for c in w.chars() {
        let c = if has_alpha && has_other { leet(c) } else { c };
        if !c.is_alphanumeric() {
            continue;
        }
        if c == last {
            continue;
        }
        out.push(c);
        last = c;
    }
    out
}

/// Word view for phrase lexicons: " w1 w2 … " (space padded), words normalised by
/// `norm_word`; `.`, `-`, `_`, `*` between letters join ("e-mail" → "email"); runs of three
/// or more single letters join ("s e c r e t" → "secret"); platform emoji become the
/// platform name.
pub(crate) fn word_view(text: &str, emoji: &HashMap<char, String>) -> String {
    let mut words: Vec<String> = Vec::with_capacity(16);
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let mut i = 0;
    let flush = |cur: &mut String, words: &mut Vec<String>| {
        if !cur.is_empty() {
            let w = finish_word(cur);
            if !w.is_empty() {
                words.push(w);
            }
            cur.clear();
        }
    };
    while i < n {
        let c = chars[i];
        if let Some(p) = emoji.get(&c) {
            flush(&mut cur, &mut words);
            words.push(p.clone());
            i += 1;
            continue;
        }
        let mut handled = false;
        fold_char(c, |x| {
            handled = true;
            if x.is_alphanumeric() {
                cur.push(x);
            } else if x == '\'' || x == '\u{2019}' {
                // don't -> dont
            } else if matches!(x, '.' | '-' | '_' | '*' | '@' | '$')
                && !cur.is_empty()
                && i + 1 < n
                && chars[i + 1].is_alphanumeric()
            {
                if x == '@' || x == '$' {
                    cur.push(x);
                }
            } else if x == '$' && cur.is_empty() && i + 1 < n && chars[i + 1].is_alphabetic() {
                cur.push(x);
            } else if (x == '#' || x == '@') && cur.is_empty() && (i + 1 >= n || !chars[i + 1].is_alphanumeric()) {
                // A lone "#" is "number", a lone "@" is "at" ("wats ur #", "ur @ on …").
                words.push(if x == '#' { "number".into() } else { "at".into() });
            } else {
                flush(&mut cur, &mut words);
            }
        });
        let _ = handled;
        i += 1;
    }
    flush(&mut cur, &mut words);
    // Join runs of >= 3 single-letter words.
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    let mut k = 0;
    while k < words.len() {
        if words[k].chars().count() == 1 {
            let mut j = k;
            while j + 1 < words.len() && words[j + 1].chars().count() == 1 {
                j += 1;
            }
            if j - k + 1 >= 3 {
                let joined: String = words[k..=j].concat();
                out.push_str(&finish_word(&joined));
                out.push(' ');
                k = j + 1;
                continue;
            }
        }
        out.push_str(&words[k]);
        out.push(' ');
        k += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_keeps_digits_and_maps_fullwidth() {
        let v = folded_view("Ｃａｌｌ ５５５\u{200B}０１９９ 𝟒");
        assert_eq!(v.text, "call 5550199 4");
        assert_eq!(v.orig_span(5, 12), (5, 13));
    }

    #[test]
    fn contact_view_rewrites() {
        let f = folded_view("john dot smith [at] gmail (dot) com");
        let c = contact_view(&f);
        assert_eq!(c.view.text, "john.smith@gmail.com");
        assert!(c.obfuscated);
        let f = folded_view("j o h n @ gmail . com");
        assert_eq!(contact_view(&f).view.text, "john@gmail.com");
        let f = folded_view("I'm at school. It was fun");
        assert_eq!(contact_view(&f).view.text, "i'm@school. it was fun");
        let f = folded_view("jess at sign gmail period com");
        assert_eq!(contact_view(&f).view.text, "jess@gmail.com");
        let f = folded_view("third period math is at sign language club");
        // "at sign" is rewritten here too; the detector still needs a domain to call it an e-mail.
        assert_eq!(contact_view(&f).view.text, "third period math is@language club");
    }

    #[test]
    fn word_view_folds() {
        let e = HashMap::new();
        assert_eq!(word_view("Don't tell your P4RENTS!!", &e), " dont tel your parents ");
        assert_eq!(word_view("s e c r e t", &e), " secret ");
        assert_eq!(word_view("s.e.c.r.e.t e-mail", &e), " secret email ");
        assert_eq!(word_view("sooooo", &e), " so ");
        assert_eq!(norm_word("Seeeecret"), "secret");
    }
}

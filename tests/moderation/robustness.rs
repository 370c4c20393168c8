//! Property-style tests over random and adversarial strings: no panics, offsets on
//! character boundaries, redaction never leaks.

use trellis::moderation::{Action, Pipeline, Policy, PriorMessage, SafeHtml, SenderRole};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[(self.next() % v.len() as u64) as usize]
    }
}

const PIECES: &[&str] = &[
    "0",
    "1",
    "4",
    "5",
    "9",
    "555",
    "0199",
    "403",
    "+1",
    "+44 ",
    " ",
    "  ",
    "-",
    ".",
    "(",
    ")",
    "/",
    "@",
    "#",
    ":",
    "at",
    " at ",
    " dot ",
    "[at]",
    "(dot)",
    "four",
    "oh",
    "double",
    "five",
    "nine",
    "to",
    "for",
    "\u{200B}",
    "\u{200D}",
    "\u{FEFF}",
    "\u{00AD}",
    "\u{202E}",
    "５",
    "０",
    "𝟒",
    "①",
    "٣",
    "é",
    "e\u{301}",
    "👻",
    "📸",
    "🙂",
    "👩🏽‍🔬",
    "\u{0}",
    "\u{7}",
    "\n",
    "\r\n",
    "\t",
    "ｇｍａｉｌ",
    "ℊ",
    "ß",
    "İ",
    "ﬁ",
    "Ⓐ",
    "gmail",
    "com",
    "snap",
    "insta",
    "my",
    "is",
    "add me on ",
    "http://",
    "https://",
    "www.",
    "wikipedia.org",
    "x.co",
    "bit.ly/",
    "Main St",
    "12 ",
    "apt 4",
    "T2N 1N4",
    "secret",
    "dont tell",
    "meet",
    "\u{10FFFF}",
    "\u{FFFD}",
    "𐍈",
    "ᄀ",
    "ㅤ",
    "\u{1F3FB}",
    "\u{E0041}",
    "\u{FE0F}",
    "\"",
    "'",
    "\\",
    "<script>",
    "&amp;",
    "%",
    "$",
    "=",
];

fn random_text(rng: &mut Rng, max_pieces: u64) -> String {
    let n = rng.next() % max_pieces + 1;
    let mut s = String::new();
    for _ in 0..n {
        let piece: &str = rng.pick(PIECES);
        s.push_str(piece);
    }
    s
}

fn check(p: &Pipeline, text: &str, ctx: &[PriorMessage]) {
    let nchars = text.chars().count();
    for role in [SenderRole::Student, SenderRole::Mentor] {
        match p.moderate(text, "u", role, ctx) {
            Err(_) => assert!(text.trim().is_empty() || nchars > p.policy().max_chars()),
            Ok(v) => {
                for f in &v.findings {
                    assert!(f.start < f.end, "{text:?}: {f:?}");
                    assert!(f.end <= nchars, "{text:?}: {f:?} > {nchars}");
                }
                match v.action {
                    Action::Deliver => assert_eq!(v.delivered_text.as_deref(), Some(text)),
                    Action::Redact => {
                        let d = v.delivered_text.as_deref().unwrap();
                        assert!(p.findings(d).is_empty(), "leak in {d:?} from {text:?}");
                    }
                    _ => assert!(v.delivered_text.is_none()),
                }
                for s in v.scores.values() {
                    assert!((0.0..=1.0).contains(s));
                }
            }
        }
    }
    let h = SafeHtml::from_message(text, p.policy());
    assert!(!h.as_str().contains("<script"));
}

#[test]
fn random_strings_never_panic_and_offsets_are_valid() {
    let p = Pipeline::new(Policy::builtin());
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut ctx: Vec<PriorMessage> = Vec::new();
    for i in 0..1500 {
        let t = random_text(&mut rng, 24);
        check(&p, &t, &ctx);
        if i % 3 == 0 {
            ctx.push(PriorMessage {
                sender: "u".into(),
                sender_role: SenderRole::Student,
                text: t,
                age_seconds: Some(5),
            });
            if ctx.len() > 6 {
                ctx.remove(0);
            }
        }
    }
}

#[test]
fn random_unicode_scalars() {
    let p = Pipeline::new(Policy::builtin());
    let mut rng = Rng(12345);
    for _ in 0..400 {
        let n = rng.next() % 60 + 1;
        let s: String = (0..n)
            .filter_map(|_| {
                let r = rng.next();
                let cp = match r % 4 {
                    0 => (r >> 8) % 0x80,
                    1 => (r >> 8) % 0x3000,
                    2 => (r >> 8) % 0x11_0000,
                    _ => 0x1F000 + (r >> 8) % 0x1000,
                } as u32;
                char::from_u32(cp)
            })
            .collect();
        check(&p, &s, &[]);
    }
}

#[test]
fn huge_inputs_do_not_panic() {
    let p = Pipeline::new(Policy::builtin());
    let big = "call 555 0199 at snap 👻 x\u{200B}".repeat(40_000); // > 1 MB
    assert!(p.moderate(&big, "u", SenderRole::Student, &[]).is_err());
    let digits = "9".repeat(1 << 20);
    assert!(p.moderate(&digits, "u", SenderRole::Student, &[]).is_err());
    // Detection alone has no length limit; it must stay linear and valid.
    let mid = "555 0199 a.b@c.com ".repeat(5_000);
    let n = mid.chars().count();
    for f in p.findings(&mid) {
        assert!(f.end <= n);
    }
    let max = p.policy().max_chars();
    let at_limit: String = "é".repeat(max);
    check(&p, &at_limit, &[]);
}

#[test]
fn redaction_of_varied_student_messages_never_leaks() {
    let p = Pipeline::new(Policy::builtin());
    for t in [
        "my number is 403 555 0199 and email jo@x.com",
        "call me on four oh three five five five zero one nine nine",
        "its ｊｏ＠ｇｍａｉｌ．ｃｏｍ",
        "add me on snap: coolkid_22 or insta @sarah.codes",
        "I live at 42 Wallaby Way, Sydney",
        "reach me: jo dot smith at gmail dot com",
        "5\u{200B}5\u{200B}5 0\u{200B}1\u{200B}9\u{200B}9 area 403",
    ] {
        let v = p.moderate(t, "s", SenderRole::Student, &[]).unwrap();
        assert_ne!(v.action, Action::Deliver, "{t}");
        if let Some(d) = v.delivered_text {
            assert!(p.findings(&d).is_empty(), "{t} -> {d}");
        }
    }
}

//! `trellis classifier train`: fit the heads, tune thresholds by k-fold cross-validation on
//! the corpus train split (never the test split), write `models/heads.json`, the MANIFEST
//! entry, `models/TRAINING.md` and (optionally) `policies/classifier.toml`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::config::{ClassifierConfig, EncoderCfg};
use super::data::{read_corpus, read_public, EmbedCache, Example};
use super::encoder::{Embed, Encoder, DIM};
use super::heads::{fit_ensemble, Fit, Heads, Rows};
use super::manifest::Manifest;
use super::metrics::{auprc, fpr_point, rate_at, tune_threshold};
use super::{ClassifierRunError, CONFIG_FILE, ENCODER_DIR, HEADS_FILE};
use crate::moderation::Category;

/// Arguments of [`train`]. Build with [`TrainArgs::new`] and adjust fields.
#[derive(Debug, Clone)]
pub struct TrainArgs {
    pub models_dir: PathBuf,
    pub policy_dir: PathBuf,
    /// The corpus train split (`tests/corpus/train.jsonl`). Never the test split.
    pub corpus_train: PathBuf,
    /// `data/training/` (public subsets, `*.jsonl`); `None` = corpus only.
    pub public_dir: Option<PathBuf>,
    /// Embedding cache directory (e.g. `target/classifier-cache`); `None` = no cache.
    pub cache_dir: Option<PathBuf>,
    pub seed: u64,
    pub folds: usize,
    pub epochs: usize,
    /// Adam learning rate and L2 penalty of the heads.
    pub lr: f64,
    pub l2: f64,
    /// Weight of a public-data line relative to a corpus line (the corpus is the target domain).
    pub public_weight: f32,
    /// Team-written lines in the corpus format (`data/training/team-written.jsonl`): same domain
    /// as the corpus, in every training fold, never scored out-of-fold. `None` = corpus only.
    pub team_data: Option<PathBuf>,
    /// More lines in the corpus format trained on like the team-written ones: the benign
    /// development set of the rules (`tests/moderation/generalisation/benign-dev.jsonl`).
    /// Its sibling `benign-valid.jsonl` is never trained on, so it stays a check for both.
    pub team_extra: Vec<PathBuf>,
    /// Weight of a team-written line relative to a corpus line.
    pub team_weight: f32,
    /// Cross-validate the team-written lines too (each scored out-of-fold, like the corpus) and
    /// tune the thresholds on corpus + team: four times the benign lines to set a 0.3 % budget
    /// on, most of them hard look-alikes. `false` = team lines in every training fold, thresholds
    /// from the corpus alone.
    pub cross_validate_team: bool,
    /// Weight of a benign corpus or team line (the look-alike negatives), relative to 1.
    pub benign_weight: f32,
    /// Spelling-noise copies (character deletion, swap, leetspeak, spaces added or removed) of
    /// every harassment and benign corpus and team line added to training (0 = off).
    pub noise_copies: usize,
    /// Weight of a noisy copy relative to its source line.
    pub noise_weight: f32,
    /// Copies of every benign corpus and team line with a long identifier added (a timestamp,
    /// an order or ticket number): concrete numbers are the rules' job, and without these the
    /// heads learnt "long digit run = contact detail" from the positives (0 = off).
    pub identifier_copies: usize,
    /// Independently initialised hidden layers trained and averaged in logit space (stored as
    /// one wider hidden layer, so inference and the file format are unchanged).
    pub ensemble: usize,
    /// Hidden units of the shared layer (0 = logistic regression per category).
    pub hidden: usize,
    /// Earlier messages of the conversation whose mean embedding is added as features (0 = off).
    pub context_messages: usize,
    /// Hashed character n-gram features appended (0 = off).
    pub ngram_dim: usize,
    /// `data/training/`: when the public sets are not trained on, the final heads are checked on
    /// HateCheck's train part (hold-out excluded) for the spelling-variation gap. `None` = skip.
    pub hatecheck_check_dir: Option<PathBuf>,
    /// Write the out-of-fold scores (ids, labels, scores; no message text) as JSON here.
    pub oof_out: Option<PathBuf>,
    /// Benign false-positive rate allowed per category when tuning thresholds (cross-validated).
    pub max_benign_fpr: f64,
    /// Recall aimed for when tuning thresholds.
    pub target_recall: f64,
    /// Write the tuned thresholds to `policy_dir/classifier.toml`.
    pub write_policy: bool,
    /// Write heads.json, the MANIFEST and TRAINING.md (false = dry run: metrics only).
    pub write_models: bool,
    pub progress: bool,
}

impl TrainArgs {
    pub fn new(models_dir: &Path, policy_dir: &Path, corpus_train: &Path) -> TrainArgs {
        TrainArgs {
            models_dir: models_dir.to_path_buf(),
            policy_dir: policy_dir.to_path_buf(),
            corpus_train: corpus_train.to_path_buf(),
            public_dir: None,
            cache_dir: None,
            seed: 20261124,
            folds: 5,
            epochs: 300,
            lr: 0.003,
            l2: 0.1,
            hidden: 128,
            public_weight: 0.5,
            // Relative to the working directory, like the CLI's other defaults (repository root).
            team_data: Some(Path::new("data/training").join(super::data::TEAM_FILE)),
            team_extra: vec![PathBuf::from("tests/moderation/generalisation/benign-dev.jsonl")],
            team_weight: 1.0,
            cross_validate_team: true,
            benign_weight: 1.0,
            hatecheck_check_dir: Some(PathBuf::from("data/training")),
            oof_out: None,
            noise_copies: 0,
            noise_weight: 0.5,
            identifier_copies: 1,
            ensemble: 3,
            context_messages: 0,
            ngram_dim: 0,
            // One out-of-fold benign line in ~480 per category: nine heads add up, and the
            // pipeline's benign intervention rate is their union (measured: 5.4 % at 0.5 %).
            max_benign_fpr: 0.003,
            target_recall: 0.97,
            write_policy: true,
            write_models: true,
            progress: true,
        }
    }
}

/// Cross-validated metrics of one category on the corpus train split.
#[derive(Debug, Clone, Serialize)]
pub struct CvMetrics {
    pub positives: usize,
    pub auprc: Option<f64>,
    pub threshold: f32,
    pub recall: f64,
    pub benign_fpr: f64,
    /// Recall at the lowest threshold that keeps out-of-fold benign false positives <= 1 %.
    pub recall_at_1pct_fpr: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    pub corpus_examples: usize,
    pub public_examples: BTreeMap<String, usize>,
    pub benign_corpus_examples: usize,
    /// Lines scored out-of-fold (the corpus, plus the team-written lines when cross-validated).
    pub cv_examples: usize,
    pub cv_benign_examples: usize,
    pub folds: usize,
    pub seed: u64,
    pub context_messages: usize,
    pub cv: BTreeMap<Category, CvMetrics>,
    /// Out-of-fold benign corpus lines with any category at or above its threshold.
    pub cv_benign_any_flag: f64,
    /// The lower self-harm bar for a student's message (`[alert]` in classifier.toml):
    /// (raw threshold, out-of-fold recall, out-of-fold benign rate).
    pub self_harm_alert: (f32, f64, f64),
    pub team_examples: usize,
    pub noisy_examples: usize,
    /// HateCheck train part, not trained on: (plain hateful recall, spelling-variation recall,
    /// non-hateful flag rate) at the tuned harassment threshold.
    pub hatecheck_check: Option<(f64, f64, f64)>,
    pub final_loss: f32,
    pub heads_path: Option<PathBuf>,
    pub policy_path: Option<PathBuf>,
    pub markdown: String,
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn str_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

/// Deterministic fold per corpus example: groups (conversations) shuffled by the seed within
/// each family and dealt round-robin, so every fold sees every family.
fn assign_folds(ex: &[Example], folds: usize, seed: u64) -> Vec<usize> {
    // Lines with the same text (after case and spacing) share a fold whatever their group, so
    // a duplicate in a training fold never scores its twin: groups joined by a shared text
    // are merged (union-find over group names).
    let mut parent: HashMap<&str, &str> = HashMap::new();
    fn root<'a>(parent: &HashMap<&'a str, &'a str>, mut g: &'a str) -> &'a str {
        while let Some(p) = parent.get(g).filter(|p| **p != g) {
            g = p;
        }
        g
    }
    let mut by_text: HashMap<String, &str> = HashMap::new();
    for e in ex {
        parent.entry(e.group.as_str()).or_insert(e.group.as_str());
        let key = e.text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        match by_text.get(&key) {
            Some(other) => {
                let (a, b) = (root(&parent, e.group.as_str()), root(&parent, other));
                if a != b {
                    // Deterministic: the smaller name becomes the root.
                    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                    parent.insert(hi, lo);
                }
            }
            None => {
                by_text.insert(key, e.group.as_str());
            }
        }
    }
    let mut fam_groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in ex {
        let g = root(&parent, e.group.as_str());
        let v = fam_groups.entry(e.family.as_str()).or_default();
        if !v.contains(&g) {
            v.push(g);
        }
    }
    let mut group_fold: HashMap<&str, usize> = HashMap::new();
    let mut offset = 0usize;
    for (_, mut gs) in fam_groups {
        gs.sort_by_key(|g| splitmix(seed ^ str_hash(g)));
        for (i, g) in gs.iter().enumerate() {
            group_fold.entry(g).or_insert((i + offset) % folds);
        }
        offset += gs.len();
    }
    ex.iter().map(|e| group_fold[root(&parent, e.group.as_str())]).collect()
}

pub(crate) fn bar(progress: bool, len: u64, msg: &str) -> ProgressBar {
    if !progress {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(len);
    b.set_style(
        ProgressStyle::with_template("{msg:>24} [{bar:30}] {pos}/{len} {elapsed_precise} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    b.set_message(msg.to_string());
    b
}

/// Load the verified encoder only (heads may not exist yet).
pub(crate) fn load_encoder(models_dir: &Path, max_tokens: usize) -> Result<(Encoder, String), ClassifierRunError> {
    let m = Manifest::read(models_dir).map_err(ClassifierRunError)?;
    m.verify(models_dir, &format!("{ENCODER_DIR}/")).map_err(ClassifierRunError)?;
    let digest = m
        .files
        .iter()
        .find(|e| e.path == format!("{ENCODER_DIR}/model.safetensors"))
        .map(|e| e.sha256.clone())
        .ok_or_else(|| {
            ClassifierRunError(format!("{}: no encoder weights listed", models_dir.join("MANIFEST.toml").display()))
        })?;
    let enc = Encoder::load(&models_dir.join(ENCODER_DIR), max_tokens).map_err(ClassifierRunError)?;
    Ok((enc, format!("{digest}/{max_tokens}")))
}

/// Features of every example, embedding through the cache.
pub(crate) fn build_features(
    enc: &dyn Embed,
    salt: &str,
    cache_dir: Option<&Path>,
    ex: &[Example],
    context_messages: usize,
    ngram_dim: usize,
    progress: bool,
) -> Result<Vec<Vec<f32>>, ClassifierRunError> {
    let mut texts: Vec<&str> = ex.iter().map(|e| e.text.as_str()).collect();
    if context_messages > 0 {
        for e in ex {
            texts.extend(e.context.iter().rev().take(context_messages).map(|m| m.text.as_str()));
        }
    }
    let mut cache = EmbedCache::open(cache_dir.map(|d| d.join("embeddings.bin")), salt.to_string());
    let pb = bar(progress, texts.len() as u64, "embedding");
    let embs = cache.embed_all(enc, &texts, &|n| pb.inc(n)).map_err(ClassifierRunError)?;
    pb.finish_and_clear();
    let by_text: HashMap<&str, &Vec<f32>> = texts.iter().copied().zip(embs.iter()).collect();
    let mut out = Vec::with_capacity(ex.len());
    for (i, e) in ex.iter().enumerate() {
        let mut f = embs[i].clone();
        if context_messages > 0 {
            let prev: Vec<&str> = e.context.iter().rev().take(context_messages).map(|m| m.text.as_str()).collect();
            let mut acc = vec![0f32; DIM];
            for p in &prev {
                for (a, x) in acc.iter_mut().zip(by_text[p].iter()) {
                    *a += x / prev.len() as f32;
                }
            }
            f.extend(acc);
        }
        f.extend(super::encoder::char_ngrams(&e.text, ngram_dim));
        out.push(f);
    }
    Ok(out)
}

/// Training weight of one line (before class balancing).
fn row_weight(e: &Example, args: &TrainArgs) -> f32 {
    let (w, in_domain) = match e.source.as_str() {
        // The project's own corpus is the target domain: weigh it above public data.
        "corpus" => (1.0, true),
        TEAM_SOURCE => (args.team_weight, true),
        NOISE_SOURCE => (args.noise_weight, true),
        _ => (args.public_weight, false),
    };
    if in_domain && e.benign() {
        w * args.benign_weight
    } else {
        w
    }
}

fn rows_of(ex: &[&Example], feats: &[&Vec<f32>], args: &TrainArgs) -> Rows {
    let mut r = Rows::default();
    for (e, f) in ex.iter().zip(feats) {
        let mut y = [0f32; 9];
        let mut k = [0f32; 9];
        let w = row_weight(e, args);
        for (i, c) in Category::ALL.iter().enumerate() {
            y[i] = if e.has(*c) { 1.0 } else { 0.0 };
            if e.known.contains(c) {
                k[i] = w;
            }
        }
        r.x.push((*f).clone());
        r.y.push(y);
        r.known.push(k);
    }
    r
}

/// Out-of-fold benign budget of the self-harm alert bar (alerts, not interventions).
const ALERT_BENIGN_FPR: f64 = 0.02;

/// `source` of team-written lines and of noisy copies.
pub(crate) const TEAM_SOURCE: &str = "team";
pub(crate) const NOISE_SOURCE: &str = "noise";

/// `text` with one long identifier that is not a phone number added at the start or the end:
/// a millisecond timestamp, an order, ticket or student number, a tracking code. Deterministic
/// in `seed`. Thirteen digits and more, or letters mixed in, so that no copy carries a number
/// the phone rules would (rightly) treat as one.
pub(crate) fn with_identifier(text: &str, seed: u64) -> String {
    let mut rng = seed;
    let mut next = |n: u64| -> u64 {
        rng = splitmix(rng);
        rng % n.max(1)
    };
    // Digits drawn up front so that one closure owns the generator.
    let pool: Vec<u8> = (0..24).map(|_| b'0' + next(10) as u8).collect();
    let digits = |len: usize, first: u64| -> String {
        let mut d = char::from(b'0' + (first % 10) as u8).to_string();
        d.extend(pool.iter().take(len - 1).map(|b| char::from(*b)));
        d
    };
    let id = match next(6) {
        0 => digits(13, 1 + next(9)),
        1 => format!("17{}", &digits(12, 0)[1..]),
        2 => format!("#{}", digits(13 + next(4) as usize, 1 + next(9))),
        3 => {
            let d = digits(17, 1 + next(9));
            format!("{}-{}-{}", &d[..3], &d[3..10], &d[10..])
        }
        4 => format!("1Z{}", digits(16, next(10))),
        _ => digits(14 + next(6) as usize, 1 + next(9)),
    };
    if next(3) == 0 {
        format!("{id} {text}")
    } else {
        format!("{text} {id}")
    }
}

/// One spelling-noise variant of `text`, deterministic in `seed`: one or two edits of the
/// kinds people use to slip past filters (and HateCheck tests) — a letter dropped, two letters
/// swapped, leetspeak digits, a word spaced out or split, two words run together.
pub(crate) fn spelling_noise(text: &str, seed: u64) -> String {
    let mut rng = seed;
    let mut next = |n: usize| -> usize {
        rng = splitmix(rng);
        (rng % n.max(1) as u64) as usize
    };
    let mut words: Vec<Vec<char>> = text.split(' ').map(|w| w.chars().collect()).collect();
    let edits = 1 + next(2);
    for _ in 0..edits {
        // Edit a word with at least three letters (the content words carry the meaning).
        let cand: Vec<usize> =
            (0..words.len()).filter(|i| words[*i].iter().filter(|c| c.is_alphabetic()).count() >= 3).collect();
        if cand.is_empty() {
            break;
        }
        let wi = cand[next(cand.len())];
        let w = &mut words[wi];
        match next(5) {
            0 => {
                let i = 1 + next(w.len() - 1);
                w.remove(i);
            }
            1 => {
                let i = next(w.len() - 1);
                w.swap(i, i + 1);
            }
            2 => {
                for c in w.iter_mut() {
                    let l = match c.to_ascii_lowercase() {
                        'a' => '4',
                        'e' => '3',
                        'i' => '1',
                        'o' => '0',
                        's' => '5',
                        't' => '7',
                        x => x,
                    };
                    if l != *c && next(3) > 0 {
                        *c = l;
                    }
                }
            }
            3 => {
                if next(2) == 0 {
                    let spaced: Vec<char> = w.iter().flat_map(|c| [*c, ' ']).collect();
                    *w = spaced[..spaced.len() - 1].to_vec();
                } else {
                    let i = 1 + next(w.len() - 1);
                    w.insert(i, ' ');
                }
            }
            _ => {
                if wi + 1 < words.len() {
                    let tail = words.remove(wi + 1);
                    words[wi].extend(tail);
                } else if wi > 0 {
                    let tail = words.remove(wi);
                    words[wi - 1].extend(tail);
                }
            }
        }
    }
    words.iter().map(|w| w.iter().collect::<String>()).collect::<Vec<_>>().join(" ")
}

/// Train the heads. See [`TrainArgs`].
pub fn train(args: &TrainArgs) -> Result<TrainReport, ClassifierRunError> {
    if args.folds < 2 {
        return Err(ClassifierRunError("folds must be at least 2".into()));
    }
    let max_tokens = ClassifierConfig::load(&args.policy_dir).map(|c| c.encoder.max_tokens).unwrap_or(128);
    let (enc, salt) = load_encoder(&args.models_dir, max_tokens)?;
    let corpus = read_corpus(&args.corpus_train).map_err(ClassifierRunError)?;
    if corpus.iter().any(|e| e.id.starts_with("te-")) {
        return Err(ClassifierRunError(format!(
            "{}: contains test-split ids (te-…); train on the train split only",
            args.corpus_train.display()
        )));
    }
    let mut team: Vec<Example> = Vec::new();
    for p in args.team_data.iter().chain(&args.team_extra) {
        team.extend(read_corpus(p).map_err(ClassifierRunError)?.into_iter().map(|mut e| {
            e.source = TEAM_SOURCE.into();
            e
        }));
    }
    let public: Vec<Example> = match &args.public_dir {
        Some(d) => read_public(d).map_err(ClassifierRunError)?.into_iter().filter(|e| !e.holdout).collect(),
        None => Vec::new(),
    };
    // Noisy copies of corpus and team lines, each remembering its source line so that a fold
    // never trains on a copy of a line it scores.
    let mut noisy: Vec<(usize, Example)> = Vec::new();
    for (i, e) in corpus.iter().chain(team.iter()).enumerate() {
        // Harassment lines and benign ones only: the spelling gap is a harassment problem, and
        // noisy copies of the other categories lowered their cross-validated AUPRC. Benign copies
        // keep "misspelt" from becoming a harassment feature.
        if !(e.has(Category::Harassment) || e.benign()) {
            continue;
        }
        for c in 0..args.noise_copies {
            let t = spelling_noise(&e.text, args.seed ^ str_hash(&e.id) ^ splitmix(c as u64 + 1));
            if t != e.text {
                let mut n = e.clone();
                n.text = t;
                n.source = NOISE_SOURCE.into();
                noisy.push((i, n));
            }
        }
        if e.benign() {
            for c in 0..args.identifier_copies {
                let mut n = e.clone();
                n.text = with_identifier(&e.text, args.seed ^ str_hash(&e.id) ^ splitmix(c as u64 + 101));
                n.source = NOISE_SOURCE.into();
                noisy.push((i, n));
            }
        }
    }
    let mut all: Vec<Example> = corpus.clone();
    all.extend(team.iter().cloned());
    all.extend(public.iter().cloned());
    all.extend(noisy.iter().map(|(_, e)| e.clone()));
    let feats = build_features(
        &enc as &dyn Embed,
        &salt,
        args.cache_dir.as_deref(),
        &all,
        args.context_messages,
        args.ngram_dim,
        args.progress,
    )?;
    let (cf, rest) = feats.split_at(corpus.len());
    let (tf, rest) = rest.split_at(team.len());
    let (pf, nf) = rest.split_at(public.len());

    let fitp = Fit {
        epochs: args.epochs,
        lr: args.lr,
        l2: args.l2,
        max_pos_weight: 20.0,
        hidden: args.hidden,
        seed: args.seed,
    };
    let ensemble = if args.hidden > 0 { args.ensemble.max(1) } else { 1 };
    // The lines scored out-of-fold: the corpus, then (optionally) the team-written lines. Noisy
    // copies are indexed over corpus ++ team, so a copy follows its source line's fold.
    let n_scored = if args.cross_validate_team { corpus.len() + team.len() } else { corpus.len() };
    let scored: Vec<Example> = corpus.iter().chain(team.iter()).take(n_scored).cloned().collect();
    let sf: Vec<&Vec<f32>> = cf.iter().chain(tf.iter()).take(n_scored).collect();
    let folds = assign_folds(&scored, args.folds, args.seed);
    let mut oof: Vec<BTreeMap<Category, f32>> = vec![BTreeMap::new(); n_scored];
    let total = (args.folds + 1) as u64 * (args.epochs * ensemble) as u64;
    let pb = bar(args.progress, total, "fitting heads");
    let mut last_loss = 0f32;
    for k in 0..args.folds {
        let mut ex: Vec<&Example> = Vec::new();
        let mut fs: Vec<&Vec<f32>> = Vec::new();
        for (i, e) in scored.iter().enumerate() {
            if folds[i] != k {
                ex.push(e);
                fs.push(sf[i]);
            }
        }
        if !args.cross_validate_team {
            ex.extend(team.iter());
            fs.extend(tf.iter());
        }
        ex.extend(public.iter());
        fs.extend(pf.iter());
        for ((src, e), f) in noisy.iter().zip(nf) {
            if *src >= n_scored || folds[*src] != k {
                ex.push(e);
                fs.push(f);
            }
        }
        let mut done = 0usize;
        let heads = fit_ensemble(&rows_of(&ex, &fs, args), fitp, ensemble, &mut |t, loss| {
            pb.inc((t - done) as u64);
            done = t;
            pb.set_message(format!("fold {}/{} loss {loss:.4}", k + 1, args.folds));
        })
        .map_err(|e| ClassifierRunError(format!("training: {e}")))?;
        let mut heads = heads;
        heads.context_messages = args.context_messages;
        heads.ngram_dim = args.ngram_dim;
        for i in (0..n_scored).filter(|i| folds[*i] == k) {
            oof[i] = heads.predict(sf[i]);
        }
    }
    if let Some(p) = &args.oof_out {
        let rows: Vec<serde_json::Value> = scored
            .iter()
            .zip(&oof)
            .map(|(e, s)| serde_json::json!({"id": e.id, "family": e.family, "labels": e.labels, "scores": s}))
            .collect();
        let j = serde_json::to_string(&rows).map_err(|e| ClassifierRunError(format!("{}: {e}", p.display())))?;
        std::fs::write(p, j).map_err(|e| ClassifierRunError(format!("{}: {e}", p.display())))?;
    }
    // Thresholds and cross-validated metrics.
    let benign_idx: Vec<usize> = (0..scored.len()).filter(|i| scored[*i].benign()).collect();
    let mut thresholds = BTreeMap::new();
    let mut cv = BTreeMap::new();
    for c in Category::ALL {
        let pos: Vec<f32> = (0..scored.len()).filter(|i| scored[*i].has(c)).map(|i| oof[i][&c]).collect();
        let ben: Vec<f32> = benign_idx.iter().map(|i| oof[*i][&c]).collect();
        // A missed self-harm disclosure costs more than an extra check-in: allow 4x the benign
        // false-positive budget there, but still bounded.
        let max_fpr = if c == Category::SelfHarm { args.max_benign_fpr * 4.0 } else { args.max_benign_fpr };
        let t = tune_threshold(&pos, &ben, max_fpr, args.target_recall, false);
        let ranked: Vec<(f32, bool)> = (0..scored.len()).map(|i| (oof[i][&c], scored[i].has(c))).collect();
        cv.insert(
            c,
            CvMetrics {
                positives: pos.len(),
                auprc: auprc(&ranked),
                threshold: t,
                recall: rate_at(&pos, t),
                benign_fpr: rate_at(&ben, t),
                recall_at_1pct_fpr: rate_at(&pos, fpr_point(&ben, 0.01)),
            },
        );
        thresholds.insert(c, t);
    }
    // The lower bar at which a student's message is flagged for self-harm (delivered as usual,
    // the safeguarding lead alerted): a missed disclosure costs more than a false alarm, but
    // every alert is read by a person, so the out-of-fold benign budget stays bounded.
    let self_harm_alert = {
        let c = Category::SelfHarm;
        let pos: Vec<f32> = (0..scored.len()).filter(|i| scored[*i].has(c)).map(|i| oof[i][&c]).collect();
        let ben: Vec<f32> = benign_idx.iter().map(|i| oof[*i][&c]).collect();
        let a = tune_threshold(&pos, &ben, ALERT_BENIGN_FPR, 0.99, false).min(thresholds[&c]);
        (a, rate_at(&pos, a), rate_at(&ben, a))
    };
    let benign_any_flag =
        benign_idx.iter().filter(|i| Category::ALL.iter().any(|c| oof[**i][c] >= thresholds[c])).count() as f64
            / benign_idx.len().max(1) as f64;
    // Final fit on everything.
    let ex: Vec<&Example> = all.iter().collect();
    let fs: Vec<&Vec<f32>> = feats.iter().collect();
    let mut done = 0usize;
    let mut heads: Heads = fit_ensemble(&rows_of(&ex, &fs, args), fitp, ensemble, &mut |t, loss| {
        pb.inc((t - done) as u64);
        done = t;
        last_loss = loss;
        pb.set_message(format!("final loss {loss:.4}"));
    })
    .map_err(|e| ClassifierRunError(format!("training: {e}")))?;
    pb.finish_and_clear();
    heads.context_messages = args.context_messages;
    heads.ngram_dim = args.ngram_dim;
    let mut hatecheck_check = None;
    if let (Some(dir), None) =
        (args.hatecheck_check_dir.as_ref().filter(|d| d.join("hatecheck.jsonl").is_file()), &args.public_dir)
    {
        // Only meaningful when HateCheck is not trained on; the hold-out stays for `eval`.
        let hc: Vec<Example> = read_public(dir)
            .map_err(ClassifierRunError)?
            .into_iter()
            .filter(|e| e.source == "hatecheck" && !e.holdout)
            .collect();
        let hf = build_features(
            &enc as &dyn Embed,
            &salt,
            args.cache_dir.as_deref(),
            &hc,
            args.context_messages,
            args.ngram_dim,
            args.progress,
        )?;
        let t = thresholds[&Category::Harassment];
        let (mut plain, mut spell, mut non) = (Vec::new(), Vec::new(), Vec::new());
        for (e, f) in hc.iter().zip(&hf) {
            let v = heads.predict(f)[&Category::Harassment];
            if !e.has(Category::Harassment) {
                non.push(v);
            } else if e.family.starts_with("spell_") {
                spell.push(v);
            } else {
                plain.push(v);
            }
        }
        hatecheck_check = Some((rate_at(&plain, t), rate_at(&spell, t), rate_at(&non, t)));
    }
    heads.meta.insert("seed".into(), args.seed.to_string());
    heads.meta.insert("encoder".into(), salt.clone());
    heads.meta.insert("corpus".into(), format!("{} lines of the train split", corpus.len()));
    heads
        .meta
        .insert("public".into(), format!("{} lines from data/training/ (HateCheck hold-out excluded)", public.len()));
    heads.meta.insert(
        "fit".into(),
        format!(
            "{}, Adam(W) lr {} x {} epochs, l2 {}, pos weight <= {}, public weight {}",
            if fitp.hidden > 0 {
                format!("shared ReLU layer of {} units + one logistic output per category", fitp.hidden)
            } else {
                "logistic regression per category".to_string()
            },
            fitp.lr,
            fitp.epochs,
            fitp.l2,
            fitp.max_pos_weight,
            args.public_weight
        ),
    );

    let mut public_counts: BTreeMap<String, usize> = BTreeMap::new();
    for e in &public {
        *public_counts.entry(e.source.clone()).or_default() += 1;
    }
    let mut report = TrainReport {
        corpus_examples: corpus.len(),
        public_examples: public_counts,
        benign_corpus_examples: corpus.iter().filter(|e| e.benign()).count(),
        cv_examples: scored.len(),
        cv_benign_examples: benign_idx.len(),
        folds: args.folds,
        seed: args.seed,
        context_messages: args.context_messages,
        cv,
        cv_benign_any_flag: benign_any_flag,
        self_harm_alert,
        team_examples: team.len(),
        noisy_examples: noisy.len(),
        hatecheck_check,
        final_loss: last_loss,
        heads_path: None,
        policy_path: None,
        markdown: String::new(),
    };
    report.markdown = train_markdown(&report, args);

    if args.write_models {
        let hp = args.models_dir.join(HEADS_FILE);
        let json = serde_json::to_string(&heads).map_err(|e| ClassifierRunError(format!("{}: {e}", hp.display())))?;
        std::fs::write(&hp, json).map_err(|e| ClassifierRunError(format!("{}: {e}", hp.display())))?;
        let mut m = Manifest::read(&args.models_dir).map_err(ClassifierRunError)?;
        m.upsert(
            &args.models_dir,
            HEADS_FILE,
            "MIT (trained by Trellis; training data: see data/training/README.md)",
            "trellis classifier train",
        )
        .map_err(ClassifierRunError)?;
        m.write(&args.models_dir).map_err(ClassifierRunError)?;
        let tp = args.models_dir.join("TRAINING.md");
        std::fs::write(&tp, &report.markdown).map_err(|e| ClassifierRunError(format!("{}: {e}", tp.display())))?;
        report.heads_path = Some(hp);
    }
    if args.write_policy {
        let alert = BTreeMap::from([(Category::SelfHarm, report.self_harm_alert.0)]);
        let cfg = ClassifierConfig { encoder: EncoderCfg { max_tokens }, thresholds, alert };
        let pp = args.policy_dir.join(CONFIG_FILE);
        let header = format!(
            "# Trellis classifier stage (models/): loaded and validated at start-up, unknown keys are errors.\n\
             # Thresholds written by `trellis classifier train` (seed {}, {}-fold cross-validation on {}:\n\
             # the lowest score keeping benign false positives <= {:.1}%,\n\
             # moved towards the score at {:.0}% recall when there is room). Never tuned on the test split.\n\
             # Edit by hand with care.\n",
            args.seed,
            args.folds,
            if args.cross_validate_team {
                "the corpus train split and the team-written lines"
            } else {
                "the corpus train split"
            },
            args.max_benign_fpr * 100.0,
            args.target_recall * 100.0
        );
        std::fs::write(&pp, cfg.to_toml(&header)).map_err(|e| ClassifierRunError(format!("{}: {e}", pp.display())))?;
        report.policy_path = Some(pp);
    }
    Ok(report)
}

fn train_markdown(r: &TrainReport, args: &TrainArgs) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Classifier training report\n");
    let _ = writeln!(
        s,
        "Generated by `trellis classifier train` (seed {}, {} epochs, hidden units {}, context messages {}).\n",
        r.seed, args.epochs, args.hidden, r.context_messages
    );
    let _ = writeln!(s, "- corpus train split: {} lines ({} benign)", r.corpus_examples, r.benign_corpus_examples);
    if r.team_examples > 0 {
        let _ = writeln!(s, "- team-written (`data/training/{}`, plus the rules' benign dev set `tests/moderation/generalisation/benign-dev.jsonl`): {} lines", super::data::TEAM_FILE, r.team_examples);
    }
    if r.noisy_examples > 0 {
        let _ = writeln!(s, "- spelling-noise and identifier copies of corpus and team lines: {}", r.noisy_examples);
    }
    for (k, v) in &r.public_examples {
        let _ = writeln!(s, "- public `{k}`: {v} lines");
    }
    let _ = writeln!(
        s,
        "\n{}-fold cross-validation on {} ({} lines, {} benign; out-of-fold scores{}). Thresholds are\ntuned on these scores.\n",
        r.folds,
        if r.cv_examples > r.corpus_examples {
            "the corpus train split and the team-written lines"
        } else {
            "the corpus train split"
        },
        r.cv_examples,
        r.cv_benign_examples,
        if r.public_examples.is_empty() { "" } else { "; public data in every training fold" }
    );
    let _ =
        writeln!(s, "| category | positives | AUPRC | threshold | recall | benign FPR | recall at 1 % benign FPR |");
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|");
    for (c, m) in &r.cv {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.3} | {:.3} | {:.4} | {:.3} |",
            c.as_str(),
            m.positives,
            m.auprc.map(|a| format!("{a:.3}")).unwrap_or_else(|| "-".into()),
            m.threshold,
            m.recall,
            m.benign_fpr,
            m.recall_at_1pct_fpr
        );
    }
    let _ = writeln!(s, "\nOut-of-fold benign lines with any flag: {:.4}.", r.cv_benign_any_flag);
    let (a, rec, ben) = r.self_harm_alert;
    let _ = writeln!(
        s,
        "\nSelf-harm alert bar for a student's message (delivered, escalated; benign budget {:.0} %): raw {a:.4}, out-of-fold recall {rec:.3}, benign rate {ben:.4}.",
        ALERT_BENIGN_FPR * 100.0
    );
    if let Some((p, sp, non)) = r.hatecheck_check {
        let _ = writeln!(
            s,
            "\nHateCheck train part (not trained on, hold-out excluded), harassment threshold: hateful plain {p:.3}, \
             spelling variations {sp:.3} ({:+.1} points), non-hateful flagged {non:.3}.",
            (sp - p) * 100.0
        );
    }
    let _ = writeln!(s, "\nFinal training loss (mean weighted log-loss over categories): {:.4}", r.final_loss);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_texts_share_a_fold_across_groups() {
        let ex = |id: &str, group: &str, text: &str| Example {
            id: id.into(),
            text: text.into(),
            role: None,
            source: "t".into(),
            family: format!("f{}", id.len() % 3),
            group: group.into(),
            labels: Vec::new(),
            known: Vec::new(),
            context: Vec::new(),
            holdout: false,
        };
        let mut v: Vec<Example> =
            (0..40).map(|i| ex(&format!("x{i}"), &format!("g{i}"), &format!("line {i}"))).collect();
        v.push(ex("a", "ga", "Keep it  between US"));
        v.push(ex("b", "gb", "keep it between us"));
        v.push(ex("c", "ga", "another line of conversation ga"));
        for seed in 0..20 {
            let f = assign_folds(&v, 5, seed);
            assert_eq!(f[40], f[41], "seed {seed}");
            assert_eq!(f[40], f[42], "a group stays in one fold");
        }
    }

    #[test]
    fn identifier_copies_are_deterministic_and_long() {
        let a = with_identifier("see you at the fair", 9);
        assert_eq!(a, with_identifier("see you at the fair", 9));
        assert!(a.contains("see you at the fair"));
        for s in 0..50 {
            let t = with_identifier("ok", s);
            let longest = t.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0);
            assert!(longest >= 6, "{t}");
        }
    }

    #[test]
    fn spelling_noise_is_deterministic_and_edits() {
        let t = "you are such a worthless loser";
        assert_eq!(spelling_noise(t, 1), spelling_noise(t, 1));
        let variants: std::collections::BTreeSet<String> = (0..20).map(|s| spelling_noise(t, s)).collect();
        assert!(variants.iter().filter(|v| v.as_str() != t).count() > 10, "{variants:?}");
        // Nothing to edit: unchanged.
        assert_eq!(spelling_noise("ok 2 u", 3), "ok 2 u");
    }
}

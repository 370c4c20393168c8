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
use super::heads::{fit, Fit, Heads, Rows};
use super::manifest::Manifest;
use super::metrics::{auprc, rate_at, tune_threshold};
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
    /// Hidden units of the shared layer (0 = logistic regression per category).
    pub hidden: usize,
    /// Earlier messages of the conversation whose mean embedding is added as features (0 = off).
    pub context_messages: usize,
    /// Hashed character n-gram features appended (0 = off).
    pub ngram_dim: usize,
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
            context_messages: 0,
            ngram_dim: 0,
            max_benign_fpr: 0.005,
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
}

#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    pub corpus_examples: usize,
    pub public_examples: BTreeMap<String, usize>,
    pub benign_corpus_examples: usize,
    pub folds: usize,
    pub seed: u64,
    pub context_messages: usize,
    pub cv: BTreeMap<Category, CvMetrics>,
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
    let mut fam_groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in ex {
        let v = fam_groups.entry(e.family.as_str()).or_default();
        if !v.contains(&e.group.as_str()) {
            v.push(e.group.as_str());
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
    ex.iter().map(|e| group_fold[e.group.as_str()]).collect()
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

fn rows_of(ex: &[&Example], feats: &[&Vec<f32>], public_weight: f32) -> Rows {
    let mut r = Rows::default();
    for (e, f) in ex.iter().zip(feats) {
        let mut y = [0f32; 9];
        let mut k = [0f32; 9];
        for (i, c) in Category::ALL.iter().enumerate() {
            y[i] = if e.has(*c) { 1.0 } else { 0.0 };
            if e.known.contains(c) {
                // The project's own corpus is the target domain: weigh it above public data.
                k[i] = if e.source == "corpus" { 1.0 } else { public_weight };
            }
        }
        r.x.push((*f).clone());
        r.y.push(y);
        r.known.push(k);
    }
    r
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
    let public: Vec<Example> = match &args.public_dir {
        Some(d) => read_public(d).map_err(ClassifierRunError)?.into_iter().filter(|e| !e.holdout).collect(),
        None => Vec::new(),
    };
    let mut all: Vec<Example> = corpus.clone();
    all.extend(public.iter().cloned());
    let feats = build_features(
        &enc as &dyn Embed,
        &salt,
        args.cache_dir.as_deref(),
        &all,
        args.context_messages,
        args.ngram_dim,
        args.progress,
    )?;
    let (cf, pf) = feats.split_at(corpus.len());

    let fitp = Fit {
        epochs: args.epochs,
        lr: args.lr,
        l2: args.l2,
        max_pos_weight: 20.0,
        hidden: args.hidden,
        seed: args.seed,
    };
    let folds = assign_folds(&corpus, args.folds, args.seed);
    let mut oof: Vec<BTreeMap<Category, f32>> = vec![BTreeMap::new(); corpus.len()];
    let total = (args.folds + 1) as u64 * args.epochs as u64;
    let pb = bar(args.progress, total, "fitting heads");
    let mut last_loss = 0f32;
    for k in 0..args.folds {
        let mut ex: Vec<&Example> = Vec::new();
        let mut fs: Vec<&Vec<f32>> = Vec::new();
        for (i, e) in corpus.iter().enumerate() {
            if folds[i] != k {
                ex.push(e);
                fs.push(&cf[i]);
            }
        }
        ex.extend(public.iter());
        fs.extend(pf.iter());
        let mut done = 0usize;
        let heads = fit(&rows_of(&ex, &fs, args.public_weight), fitp, &mut |t, loss| {
            pb.inc((t - done) as u64);
            done = t;
            pb.set_message(format!("fold {}/{} loss {loss:.4}", k + 1, args.folds));
        })
        .map_err(|e| ClassifierRunError(format!("training: {e}")))?;
        let mut heads = heads;
        heads.context_messages = args.context_messages;
        heads.ngram_dim = args.ngram_dim;
        for (i, _) in corpus.iter().enumerate().filter(|(i, _)| folds[*i] == k) {
            oof[i] = heads.predict(&cf[i]);
        }
    }
    // Thresholds and cross-validated metrics.
    let benign_idx: Vec<usize> = (0..corpus.len()).filter(|i| corpus[*i].benign()).collect();
    let mut thresholds = BTreeMap::new();
    let mut cv = BTreeMap::new();
    for c in Category::ALL {
        let pos: Vec<f32> = (0..corpus.len()).filter(|i| corpus[*i].has(c)).map(|i| oof[i][&c]).collect();
        let ben: Vec<f32> = benign_idx.iter().map(|i| oof[*i][&c]).collect();
        // A missed self-harm disclosure costs more than an extra check-in: allow 4x the benign
        // false-positive budget there, but still bounded.
        let max_fpr = if c == Category::SelfHarm { args.max_benign_fpr * 4.0 } else { args.max_benign_fpr };
        let t = tune_threshold(&pos, &ben, max_fpr, args.target_recall, false);
        let scored: Vec<(f32, bool)> = (0..corpus.len()).map(|i| (oof[i][&c], corpus[i].has(c))).collect();
        cv.insert(
            c,
            CvMetrics {
                positives: pos.len(),
                auprc: auprc(&scored),
                threshold: t,
                recall: rate_at(&pos, t),
                benign_fpr: rate_at(&ben, t),
            },
        );
        thresholds.insert(c, t);
    }
    // Final fit on everything.
    let ex: Vec<&Example> = all.iter().collect();
    let fs: Vec<&Vec<f32>> = feats.iter().collect();
    let mut done = 0usize;
    let mut heads: Heads = fit(&rows_of(&ex, &fs, args.public_weight), fitp, &mut |t, loss| {
        pb.inc((t - done) as u64);
        done = t;
        last_loss = loss;
        pb.set_message(format!("final loss {loss:.4}"));
    })
    .map_err(|e| ClassifierRunError(format!("training: {e}")))?;
    pb.finish_and_clear();
    heads.context_messages = args.context_messages;
    heads.ngram_dim = args.ngram_dim;
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
        benign_corpus_examples: benign_idx.len(),
        folds: args.folds,
        seed: args.seed,
        context_messages: args.context_messages,
        cv,
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
        let cfg = ClassifierConfig { encoder: EncoderCfg { max_tokens }, thresholds };
        let pp = args.policy_dir.join(CONFIG_FILE);
        let header = format!(
            "# Trellis classifier stage (models/): loaded and validated at start-up, unknown keys are errors.\n\
             # Thresholds written by `trellis classifier train` (seed {}, {}-fold cross-validation on the corpus\n\
             # train split: the lowest score keeping benign false positives <= {:.1}%, moved towards the score at\n\
             # {:.0}% recall when there is room). Never tuned on the test split. Edit by hand with care.\n",
            args.seed,
            args.folds,
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
    for (k, v) in &r.public_examples {
        let _ = writeln!(s, "- public `{k}`: {v} lines");
    }
    let _ = writeln!(
        s,
        "\n{}-fold cross-validation on the corpus train split (out-of-fold scores{}). Thresholds are\ntuned on these scores.\n",
        r.folds,
        if r.public_examples.is_empty() { "" } else { "; public data in every training fold" }
    );
    let _ = writeln!(s, "| category | positives | AUPRC | threshold | recall | benign FPR |");
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|");
    for (c, m) in &r.cv {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.3} | {:.3} | {:.4} |",
            c.as_str(),
            m.positives,
            m.auprc.map(|a| format!("{a:.3}")).unwrap_or_else(|| "-".into()),
            m.threshold,
            m.recall,
            m.benign_fpr
        );
    }
    let _ = writeln!(s, "\nFinal training loss (mean weighted log-loss over categories): {:.4}", r.final_loss);
    s
}

//! `trellis classifier eval`: measure on the held-back corpus test split (classifier alone
//! and through the pipeline, rules only vs rules + classifier) and on the held-out HateCheck
//! part (spelling variations vs plain cases).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::data::{read_corpus, read_public, Example};
use super::metrics::{auprc, rate_at};
use super::train::{bar, build_features};
use super::{load_concrete, ClassifierRunError, MiniLmClassifier, ENCODER_DIR};
use crate::moderation::{Category, Classifier, ClassifierError, Pipeline, Policy, PriorMessage};

#[derive(Debug, Clone)]
pub struct EvalArgs {
    pub models_dir: PathBuf,
    pub policy_dir: PathBuf,
    /// The held-back corpus test split (`tests/corpus/test.jsonl`).
    pub corpus_test: PathBuf,
    /// `data/training/` for the HateCheck hold-out; `None` = skip.
    pub public_dir: Option<PathBuf>,
    pub cache_dir: Option<PathBuf>,
    /// Also run every test line through the pipeline (rules only and rules + classifier).
    pub pipeline: bool,
    /// Write the Markdown report here (e.g. `docs/MODERATION-classifier.md`).
    pub markdown_out: Option<PathBuf>,
    /// Write the JSON report here.
    pub json_out: Option<PathBuf>,
    pub progress: bool,
}

impl EvalArgs {
    pub fn new(models_dir: &Path, policy_dir: &Path, corpus_test: &Path) -> EvalArgs {
        EvalArgs {
            models_dir: models_dir.to_path_buf(),
            policy_dir: policy_dir.to_path_buf(),
            corpus_test: corpus_test.to_path_buf(),
            public_dir: None,
            cache_dir: None,
            pipeline: true,
            markdown_out: None,
            json_out: None,
            progress: true,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryEval {
    pub positives: usize,
    pub threshold: f32,
    /// Classifier alone (raw head probability).
    pub auprc: Option<f64>,
    pub recall: f64,
    /// Share of benign test messages (no label) the classifier flags in this category.
    pub benign_fpr: f64,
    /// Through the pipeline: recall of the flag, rules only and rules + classifier.
    pub pipeline_recall_rules: Option<f64>,
    pub pipeline_recall_combined: Option<f64>,
    /// Through the pipeline: benign messages flagged in this category, rules + classifier.
    pub pipeline_benign_fpr_combined: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub test_examples: usize,
    pub benign_examples: usize,
    pub categories: BTreeMap<Category, CategoryEval>,
    /// Benign test messages with any classifier flag.
    pub benign_any_flag: f64,
    /// Through the pipeline: benign messages not delivered unchanged (rules only / combined).
    pub pipeline_benign_intervened_rules: Option<f64>,
    pub pipeline_benign_intervened_combined: Option<f64>,
    /// Through the pipeline: self-harm lines escalated to the safeguarding lead (rules only /
    /// combined) and benign lines escalated (combined).
    pub self_harm_escalated_rules: Option<f64>,
    pub self_harm_escalated_combined: Option<f64>,
    pub benign_escalated_combined: Option<f64>,
    /// HateCheck hold-out: recall of hateful plain cases, hateful spelling variations, and the
    /// flag rate on non-hateful cases (harassment threshold).
    pub hatecheck: Option<HateCheckEval>,
    pub markdown: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HateCheckEval {
    pub plain_hateful: usize,
    pub plain_recall: f64,
    pub spelling_hateful: usize,
    pub spelling_recall: f64,
    pub spelling_by_kind: BTreeMap<String, (usize, f64)>,
    pub non_hateful: usize,
    pub non_hateful_flag_rate: f64,
}

/// Per test line: flags (rules only, rules + classifier) and whether the message was intervened on.
type PipelineRuns = (Vec<Vec<Category>>, Vec<Vec<Category>>, Vec<bool>, Vec<bool>);

struct Shared(Arc<MiniLmClassifier>);
impl Classifier for Shared {
    fn score(&self, text: &str, context: &[PriorMessage]) -> Result<BTreeMap<Category, f32>, ClassifierError> {
        self.0.score(text, context)
    }
}

fn salt_of(models_dir: &Path, clf: &MiniLmClassifier) -> Result<String, ClassifierRunError> {
    let m = super::Manifest::read(models_dir).map_err(ClassifierRunError)?;
    let d = m
        .files
        .iter()
        .find(|e| e.path == format!("{ENCODER_DIR}/model.safetensors"))
        .map(|e| e.sha256.clone())
        .unwrap_or_default();
    Ok(format!("{d}/{}", clf.config().encoder.max_tokens))
}

fn raw_scores(
    clf: &MiniLmClassifier,
    salt: &str,
    cache: Option<&Path>,
    ex: &[Example],
    progress: bool,
) -> Result<Vec<BTreeMap<Category, f32>>, ClassifierRunError> {
    let k = clf.heads().context_messages;
    let f = build_features(clf.encoder(), salt, cache, ex, k, clf.heads().ngram_dim, progress)?;
    Ok(f.iter().map(|x| clf.heads().predict(x)).collect())
}

/// Evaluate. See [`EvalArgs`].
pub fn eval(args: &EvalArgs) -> Result<EvalReport, ClassifierRunError> {
    let clf = Arc::new(load_concrete(&args.models_dir, &args.policy_dir)?);
    let salt = salt_of(&args.models_dir, &clf)?;
    let test = read_corpus(&args.corpus_test).map_err(ClassifierRunError)?;
    let raw = raw_scores(&clf, &salt, args.cache_dir.as_deref(), &test, args.progress)?;
    let benign: Vec<usize> = (0..test.len()).filter(|i| test[*i].benign()).collect();

    // Pipeline runs.
    let mut pipe_flags: Option<PipelineRuns> = None;
    // Escalated or not, per test line (rules only, rules + classifier).
    let mut escalations: Option<(Vec<bool>, Vec<bool>)> = None;
    if args.pipeline {
        let policy = Policy::load(&args.policy_dir)
            .map_err(|e| ClassifierRunError(format!("{}: {e}", args.policy_dir.display())))?;
        let rules = Pipeline::new(policy.clone());
        let combined = Pipeline::new(policy).with_classifier(Box::new(Shared(clf.clone())));
        let pb = bar(args.progress, test.len() as u64, "pipeline");
        let (mut fr, mut fc, mut ir, mut ic) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut er, mut ec) = (Vec::new(), Vec::new());
        for e in &test {
            let role = e.role.unwrap_or(crate::moderation::SenderRole::Student);
            let sender = role.as_str();
            for (p, flags, interv, esc) in [(&rules, &mut fr, &mut ir, &mut er), (&combined, &mut fc, &mut ic, &mut ec)]
            {
                match p.moderate(&e.text, sender, role, &e.context) {
                    Ok(v) => {
                        interv.push(v.action != crate::moderation::Action::Deliver);
                        esc.push(v.escalate);
                        flags.push(v.flags);
                    }
                    Err(_) => {
                        interv.push(true);
                        esc.push(false);
                        flags.push(Vec::new());
                    }
                }
            }
            pb.inc(1);
        }
        pb.finish_and_clear();
        pipe_flags = Some((fr, fc, ir, ic));
        escalations = Some((er, ec));
    }

    let mut cats = BTreeMap::new();
    let mut any = vec![false; test.len()];
    for c in Category::ALL {
        let t = clf.config().threshold(c);
        let pos_idx: Vec<usize> = (0..test.len()).filter(|i| test[*i].has(c)).collect();
        let pos: Vec<f32> = pos_idx.iter().map(|i| raw[*i][&c]).collect();
        let ben: Vec<f32> = benign.iter().map(|i| raw[*i][&c]).collect();
        for i in &benign {
            if raw[*i][&c] >= t {
                any[*i] = true;
            }
        }
        let scored: Vec<(f32, bool)> = (0..test.len()).map(|i| (raw[i][&c], test[i].has(c))).collect();
        let (mut prr, mut prc, mut pfc) = (None, None, None);
        if let Some((fr, fc, _, _)) = &pipe_flags {
            let rec = |f: &Vec<Vec<Category>>| {
                if pos_idx.is_empty() {
                    0.0
                } else {
                    pos_idx.iter().filter(|i| f[**i].contains(&c)).count() as f64 / pos_idx.len() as f64
                }
            };
            prr = Some(rec(fr));
            prc = Some(rec(fc));
            pfc = Some(benign.iter().filter(|i| fc[**i].contains(&c)).count() as f64 / benign.len().max(1) as f64);
        }
        cats.insert(
            c,
            CategoryEval {
                positives: pos.len(),
                threshold: t,
                auprc: auprc(&scored),
                recall: rate_at(&pos, t),
                benign_fpr: rate_at(&ben, t),
                pipeline_recall_rules: prr,
                pipeline_recall_combined: prc,
                pipeline_benign_fpr_combined: pfc,
            },
        );
    }
    let benign_any_flag = benign.iter().filter(|i| any[**i]).count() as f64 / benign.len().max(1) as f64;
    let (mut bir, mut bic) = (None, None);
    if let Some((_, _, ir, ic)) = &pipe_flags {
        let n = benign.len().max(1) as f64;
        bir = Some(benign.iter().filter(|i| ir[**i]).count() as f64 / n);
        bic = Some(benign.iter().filter(|i| ic[**i]).count() as f64 / n);
    }

    let (mut sher, mut shec, mut bec) = (None, None, None);
    if let Some((er, ec)) = &escalations {
        let sh: Vec<usize> = (0..test.len()).filter(|i| test[*i].has(Category::SelfHarm)).collect();
        let share =
            |idx: &[usize], v: &Vec<bool>| idx.iter().filter(|i| v[**i]).count() as f64 / idx.len().max(1) as f64;
        sher = Some(share(&sh, er));
        shec = Some(share(&sh, ec));
        bec = Some(share(&benign, ec));
    }

    // HateCheck hold-out.
    let mut hatecheck = None;
    if let Some(dir) = &args.public_dir {
        let hold: Vec<Example> = read_public(dir)
            .map_err(ClassifierRunError)?
            .into_iter()
            .filter(|e| e.holdout && e.source == "hatecheck")
            .collect();
        if !hold.is_empty() {
            let hr = raw_scores(&clf, &salt, args.cache_dir.as_deref(), &hold, args.progress)?;
            let t = clf.config().threshold(Category::Harassment);
            let mut plain = Vec::new();
            let mut spell = Vec::new();
            let mut nonh = Vec::new();
            let mut by_kind: BTreeMap<String, Vec<f32>> = BTreeMap::new();
            for (e, s) in hold.iter().zip(&hr) {
                let v = s[&Category::Harassment];
                if !e.has(Category::Harassment) {
                    nonh.push(v);
                } else if e.family.starts_with("spell_") {
                    spell.push(v);
                    by_kind.entry(e.family.clone()).or_default().push(v);
                } else {
                    plain.push(v);
                }
            }
            hatecheck = Some(HateCheckEval {
                plain_hateful: plain.len(),
                plain_recall: rate_at(&plain, t),
                spelling_hateful: spell.len(),
                spelling_recall: rate_at(&spell, t),
                spelling_by_kind: by_kind.into_iter().map(|(k, v)| (k, (v.len(), rate_at(&v, t)))).collect(),
                non_hateful: nonh.len(),
                non_hateful_flag_rate: rate_at(&nonh, t),
            });
        }
    }

    let mut r = EvalReport {
        test_examples: test.len(),
        benign_examples: benign.len(),
        categories: cats,
        benign_any_flag,
        pipeline_benign_intervened_rules: bir,
        pipeline_benign_intervened_combined: bic,
        self_harm_escalated_rules: sher,
        self_harm_escalated_combined: shec,
        benign_escalated_combined: bec,
        hatecheck,
        markdown: String::new(),
    };
    r.markdown = eval_markdown(&r, args);
    if let Some(p) = &args.markdown_out {
        std::fs::write(p, &r.markdown).map_err(|e| ClassifierRunError(format!("{}: {e}", p.display())))?;
    }
    if let Some(p) = &args.json_out {
        let j = serde_json::to_string_pretty(&r).map_err(|e| ClassifierRunError(format!("{}: {e}", p.display())))?;
        std::fs::write(p, j).map_err(|e| ClassifierRunError(format!("{}: {e}", p.display())))?;
    }
    Ok(r)
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.3}")).unwrap_or_else(|| "-".into())
}

fn eval_markdown(r: &EvalReport, args: &EvalArgs) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## Test-split results\n");
    let _ = writeln!(
        s,
        "Generated by `trellis classifier eval` on `{}`: {} messages, {} benign (no label). The test split\nnever trains a head or tunes a threshold. \"Classifier\" columns use the raw head probability and the\nthreshold in `policies/classifier.toml`; \"pipeline\" columns run every message through\n`Pipeline::moderate` (with conversation context) with rules only and with rules + classifier.\n",
        args.corpus_test.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default(),
        r.test_examples,
        r.benign_examples
    );
    let _ = writeln!(
        s,
        "| category | positives | threshold | AUPRC | recall | benign FPR | pipeline recall (rules) | pipeline recall (rules + clf) | pipeline benign flag rate (rules + clf) |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (c, m) in &r.categories {
        let _ = writeln!(
            s,
            "| {} | {} | {:.3} | {} | {:.3} | {:.4} | {} | {} | {} |",
            c.as_str(),
            m.positives,
            m.threshold,
            opt(m.auprc),
            m.recall,
            m.benign_fpr,
            opt(m.pipeline_recall_rules),
            opt(m.pipeline_recall_combined),
            opt(m.pipeline_benign_fpr_combined)
        );
    }
    let _ = writeln!(s, "\nBenign test messages with any classifier flag: {:.4}.", r.benign_any_flag);
    if let (Some(a), Some(b)) = (r.pipeline_benign_intervened_rules, r.pipeline_benign_intervened_combined) {
        let _ = writeln!(
            s,
            "Benign test messages not delivered unchanged by the pipeline: rules only {a:.4}, rules + classifier {b:.4}."
        );
    }
    if let (Some(a), Some(b), Some(c)) =
        (r.self_harm_escalated_rules, r.self_harm_escalated_combined, r.benign_escalated_combined)
    {
        let _ = writeln!(
            s,
            "Self-harm test messages escalated to the safeguarding lead: rules only {a:.3}, rules + classifier {b:.3}; benign test messages escalated (rules + classifier): {c:.4}."
        );
    }
    if let Some(h) = &r.hatecheck {
        let _ = writeln!(s, "\n### HateCheck hold-out (templates never trained on), harassment threshold\n");
        let _ = writeln!(s, "| cases | n | flagged |");
        let _ = writeln!(s, "|---|---:|---:|");
        let _ = writeln!(s, "| hateful, plain | {} | {:.3} |", h.plain_hateful, h.plain_recall);
        let _ =
            writeln!(s, "| hateful, spelling variations (all) | {} | {:.3} |", h.spelling_hateful, h.spelling_recall);
        for (k, (n, v)) in &h.spelling_by_kind {
            let _ = writeln!(s, "| &nbsp;&nbsp;{k} | {n} | {v:.3} |");
        }
        let _ = writeln!(
            s,
            "| non-hateful (contrast, counter-speech, …) | {} | {:.3} |",
            h.non_hateful, h.non_hateful_flag_rate
        );
        let _ = writeln!(
            s,
            "\nSpelling-variation recall minus plain recall: {:+.1} points.",
            (h.spelling_recall - h.plain_recall) * 100.0
        );
    }
    s
}

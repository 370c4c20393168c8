//! `policies/classifier.toml`: encoder settings and the per-category thresholds on the raw
//! head probabilities.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{ClassifierLoadError, CONFIG_FILE};
use crate::moderation::Category;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifierConfig {
    pub encoder: EncoderCfg,
    /// Raw head probability at which a category is flagged (0 < t < 1), every category.
    pub thresholds: BTreeMap<Category, f32>,
    /// Raw head probability mapped to the pipeline's `alert_threshold` (the lower bar of
    /// `escalate.student_alert`), for the categories that have one; at most the threshold.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub alert: BTreeMap<Category, f32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncoderCfg {
    /// Tokens per message (with [CLS]/[SEP]); longer messages are truncated.
    pub max_tokens: usize,
}

impl ClassifierConfig {
    pub fn load(policy_dir: &Path) -> Result<ClassifierConfig, ClassifierLoadError> {
        let p = policy_dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&p).map_err(|e| ClassifierLoadError(format!("{}: {e}", p.display())))?;
        Self::parse(&text).map_err(|e| ClassifierLoadError(format!("{}: {e}", p.display())))
    }

    pub fn parse(text: &str) -> Result<ClassifierConfig, String> {
        let c: ClassifierConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        if !(8..=512).contains(&c.encoder.max_tokens) {
            return Err(format!("encoder.max_tokens = {} is outside 8..=512", c.encoder.max_tokens));
        }
        for cat in Category::ALL {
            match c.thresholds.get(&cat) {
                None => return Err(format!("thresholds.{} is missing", cat.as_str())),
                Some(t) if !(*t > 0.0 && *t < 1.0) => {
                    return Err(format!("thresholds.{} = {t} is outside (0, 1)", cat.as_str()))
                }
                _ => {}
            }
        }
        for (cat, a) in &c.alert {
            if !(*a > 0.0 && *a <= c.threshold(*cat)) {
                return Err(format!("alert.{} = {a} is outside (0, thresholds.{0}]", cat.as_str()));
            }
        }
        Ok(c)
    }

    pub fn threshold(&self, c: Category) -> f32 {
        self.thresholds.get(&c).copied().unwrap_or(0.5)
    }

    /// The file as written by `train` (with comments).
    pub fn to_toml(&self, header: &str) -> String {
        let mut s = String::new();
        s.push_str(header);
        s.push_str("\n[encoder]\n# Tokens per message incl. [CLS]/[SEP]; chat messages are far shorter, longer ones are truncated.\n");
        s.push_str(&format!("max_tokens = {}\n\n", self.encoder.max_tokens));
        s.push_str("[thresholds]\n# Raw head probability at which the category is flagged. The classifier reports it to the\n# pipeline as moderation.toml's flag_threshold (calibrated, piecewise linear).\n");
        for (c, t) in &self.thresholds {
            s.push_str(&format!("{} = {:.4}\n", c.as_str(), t));
        }
        if !self.alert.is_empty() {
            s.push_str("\n[alert]\n# Raw head probability reported to the pipeline as moderation.toml's alert_threshold, the\n# lower bar at which a student's message is flagged (delivered) and escalated for the\n# categories in escalate.student_alert.\n");
            for (c, t) in &self.alert {
                s.push_str(&format!("{} = {:.4}\n", c.as_str(), t));
            }
        }
        s
    }
}

/// The pipeline's score scale from `moderation.toml` in the same directory: `[scores]
/// flag_threshold` and the optional `alert_threshold`.
#[derive(Debug, Clone, Copy)]
pub struct PipelineScale {
    pub flag: f32,
    pub alert: Option<f32>,
}

pub fn pipeline_scale(policy_dir: &Path) -> Result<PipelineScale, ClassifierLoadError> {
    let p = policy_dir.join("moderation.toml");
    let text = std::fs::read_to_string(&p).map_err(|e| ClassifierLoadError(format!("{}: {e}", p.display())))?;
    let v: toml::Value = toml::from_str(&text).map_err(|e| ClassifierLoadError(format!("{}: {e}", p.display())))?;
    let get = |k: &str| {
        v.get("scores").and_then(|s| s.get(k)).and_then(|x| x.as_float().or_else(|| x.as_integer().map(|i| i as f64)))
    };
    let t = get("flag_threshold")
        .ok_or_else(|| ClassifierLoadError(format!("{}: [scores] flag_threshold is missing", p.display())))?;
    if !(t > 0.0 && t < 1.0) {
        return Err(ClassifierLoadError(format!("{}: flag_threshold {t} is outside (0, 1)", p.display())));
    }
    let alert = get("alert_threshold");
    if let Some(a) = alert {
        if !(a > 0.0 && a < t) {
            return Err(ClassifierLoadError(format!(
                "{}: alert_threshold {a} is outside (0, flag_threshold)",
                p.display()
            )));
        }
    }
    Ok(PipelineScale { flag: t as f32, alert: alert.map(|a| a as f32) })
}

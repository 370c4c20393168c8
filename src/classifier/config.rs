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
        s
    }
}

/// `[scores] flag_threshold` of the pipeline's `moderation.toml` in the same directory.
pub fn pipeline_flag_threshold(policy_dir: &Path) -> Result<f32, ClassifierLoadError> {
    let p = policy_dir.join("moderation.toml");
    let text = std::fs::read_to_string(&p).map_err(|e| ClassifierLoadError(format!("{}: {e}", p.display())))?;
    let v: toml::Value = toml::from_str(&text).map_err(|e| ClassifierLoadError(format!("{}: {e}", p.display())))?;
    let t = v
        .get("scores")
        .and_then(|s| s.get("flag_threshold"))
        .and_then(|x| x.as_float().or_else(|| x.as_integer().map(|i| i as f64)))
        .ok_or_else(|| ClassifierLoadError(format!("{}: [scores] flag_threshold is missing", p.display())))?;
    if !(t > 0.0 && t < 1.0) {
        return Err(ClassifierLoadError(format!("{}: flag_threshold {t} is outside (0, 1)", p.display())));
    }
    Ok(t as f32)
}

//! Sentence encoder: all-MiniLM-L6-v2 (BERT, 6 layers, 384-d) on candle, mean pooling over
//! real tokens and L2 normalisation. Sequences are truncated to `max_tokens` and a batch is
//! padded only to its longest member (not to 512 or to the tokenizer's fixed 128).

use std::path::Path;

use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::Config;

use super::minilm::MiniLm;
use tokenizers::{Tokenizer, TruncationParams};
use unicode_normalization::UnicodeNormalization;

/// Embedding width of the encoder.
pub const DIM: usize = 384;

/// An engine that turns messages into L2-normalised sentence embeddings.
pub trait Embed: Send + Sync {
    fn embed(&self, texts: &[&str]) -> Result<Vec<[f32; DIM]>, String>;
}

impl Embed for Encoder {
    fn embed(&self, texts: &[&str]) -> Result<Vec<[f32; DIM]>, String> {
        Encoder::embed(self, texts)
    }
}

/// The loaded encoder. `Send + Sync`: forward passes share the weights read-only.
pub struct Encoder {
    model: MiniLm,
    tokenizer: Tokenizer,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder").finish_non_exhaustive()
    }
}

/// Text as the encoder sees it: NFKC (fullwidth and mathematical letters and digits become
/// plain ones), invisible format characters (zero-width spaces, joiners, BOM) removed and
/// whitespace collapsed. Everything else is left to the tokenizer (which lowercases).
pub fn prepare(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.nfkc() {
        if is_invisible(c) {
            continue;
        }
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    out
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FE00}'..='\u{FE0F}')
}

/// `dir/tokenizer.json` without its fixed padding, truncating at `max_tokens`.
pub fn load_tokenizer(dir: &Path, max_tokens: usize) -> Result<Tokenizer, String> {
    let tok_path = dir.join("tokenizer.json");
    let mut tokenizer =
        Tokenizer::from_file(&tok_path).map_err(|e| format!("{}: cannot load tokenizer: {e}", tok_path.display()))?;
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(TruncationParams { max_length: max_tokens.clamp(8, 512), ..Default::default() }))
        .map_err(|e| format!("{}: {e}", tok_path.display()))?;
    Ok(tokenizer)
}

/// Token ids of prepared texts.
pub fn encode_ids(tokenizer: &Tokenizer, texts: &[&str]) -> Result<Vec<Vec<u32>>, String> {
    texts
        .iter()
        .map(|t| {
            tokenizer.encode(prepare(t), true).map(|e| e.get_ids().to_vec()).map_err(|e| format!("tokenizer: {e}"))
        })
        .collect()
}

impl Encoder {
    /// Load `config.json`, `tokenizer.json` and `model.safetensors` (f16 or f32 on disk,
    /// computed in f32) from `dir`. Errors name the file.
    pub fn load(dir: &Path, max_tokens: usize) -> Result<Encoder, String> {
        let device = Device::Cpu;
        let cfg_path = dir.join("config.json");
        let cfg_text = std::fs::read_to_string(&cfg_path).map_err(|e| format!("{}: {e}", cfg_path.display()))?;
        let config: Config =
            serde_json::from_str(&cfg_text).map_err(|e| format!("{}: not a BERT config: {e}", cfg_path.display()))?;
        let tok_path = dir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&tok_path)
            .map_err(|e| format!("{}: cannot load tokenizer: {e}", tok_path.display()))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: max_tokens.clamp(8, 512), ..Default::default() }))
            .map_err(|e| format!("{}: {e}", tok_path.display()))?;
        let w_path = dir.join("model.safetensors");
        let bytes = std::fs::read(&w_path).map_err(|e| format!("{}: {e}", w_path.display()))?;
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &device)
            .map_err(|e| format!("{}: not a safetensors file: {e}", w_path.display()))?;
        let model = MiniLm::load(vb, &config).map_err(|e| format!("{}: missing weights: {e}", w_path.display()))?;
        Ok(Encoder { model, tokenizer })
    }

    /// Token count of `text` after preparation and truncation (with [CLS] and [SEP]).
    pub fn token_count(&self, text: &str) -> Result<usize, String> {
        let enc = self.tokenizer.encode(prepare(text), true).map_err(|e| format!("tokenizer: {e}"))?;
        Ok(enc.get_ids().len())
    }

    /// Token ids of `texts` after preparation and truncation (shared by every engine, so
    /// engines differ only in the network).
    pub fn token_ids(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>, String> {
        encode_ids(&self.tokenizer, texts)
    }

    /// L2-normalised embeddings, one per text.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<[f32; DIM]>, String> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let ids = self.token_ids(texts)?;
        let len = ids.iter().map(|v| v.len()).max().unwrap_or(2).max(2);
        let n = ids.len();
        let mut flat_ids = Vec::with_capacity(n * len);
        let mut flat_mask = Vec::with_capacity(n * len);
        for v in &ids {
            flat_ids.extend_from_slice(v);
            flat_ids.extend(std::iter::repeat_n(0u32, len - v.len()));
            flat_mask.extend(std::iter::repeat_n(1u32, v.len()));
            flat_mask.extend(std::iter::repeat_n(0u32, len - v.len()));
        }
        let rows = self
            .model
            .sentence_embeddings(&flat_ids, &flat_mask, n, len)
            .and_then(|t| t.to_vec2::<f32>())
            .map_err(|e| format!("encoder: {e}"))?;
        let mut out = Vec::with_capacity(n);
        for r in rows {
            let arr: [f32; DIM] = r.try_into().map_err(|_| "encoder: unexpected embedding width".to_string())?;
            if arr.iter().any(|x| !x.is_finite()) {
                return Err("encoder: non-finite embedding".into());
            }
            out.push(arr);
        }
        Ok(out)
    }
}

/// Hashed character 3- to 5-gram counts of the prepared, lowercased text (with word
/// boundaries marked), L2-normalised: a spelling-level signal next to the sentence embedding.
pub fn char_ngrams(text: &str, dim: usize) -> Vec<f32> {
    let mut v = vec![0f32; dim];
    if dim == 0 {
        return v;
    }
    let t: Vec<char> = format!(" {} ", prepare(text).to_lowercase()).chars().collect();
    for n in 3..=5 {
        for w in t.windows(n) {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ n as u64;
            for c in w {
                h = (h ^ *c as u64).wrapping_mul(0x100_0000_01b3);
            }
            v[(h % dim as u64) as usize] += 1.0;
        }
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

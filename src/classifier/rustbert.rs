//! Second engine (feature `rust-bert`): the same encoder on libtorch through rust-bert 0.20 /
//! tch 0.10 (Debian's libtorch-dev 1.13: build with `LIBTORCH=/usr
//! LIBTORCH_LIB=/usr/lib/x86_64-linux-gnu`). Weights in tch's `.ot` format, made from the
//! verified `models/encoder/model.safetensors` by [`convert_to_ot`]; tokenisation, pooling and
//! heads are shared with the candle engine.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use tch::{nn, Device, Kind, Tensor};
use tokenizers::Tokenizer;

use super::encoder::{encode_ids, load_tokenizer, Embed, DIM};
use super::manifest::{sha256_file, Manifest};
use super::{verified, with_engine, ClassifierLoadError, ClassifierRunError, MiniLmClassifier, ENCODER_DIR};

/// Default location of the converted weights (not committed; made by `convert_to_ot`).
pub const OT_FILE: &str = "encoder/model.ot";
/// Sidecar: sha256 of the `.ot` and of the safetensors it was made from.
pub const OT_SIDECAR: &str = "encoder/model.ot.sha256";

/// Convert the verified f16/f32 safetensors to an f32 `.ot` file (tch `save_multi`) and write
/// the sidecar binding it to the source's sha256. Returns the `.ot` path.
pub fn convert_to_ot(models_dir: &Path) -> Result<PathBuf, ClassifierRunError> {
    let m = Manifest::read(models_dir).map_err(ClassifierRunError)?;
    m.verify(models_dir, &format!("{ENCODER_DIR}/model.safetensors")).map_err(ClassifierRunError)?;
    let src = models_dir.join(ENCODER_DIR).join("model.safetensors");
    let out = models_dir.join(OT_FILE);
    let err = |p: &Path, e: &dyn std::fmt::Display| ClassifierRunError(format!("{}: {e}", p.display()));
    let tensors = candle_core::safetensors::load(&src, &candle_core::Device::Cpu).map_err(|e| err(&src, &e))?;
    let mut named: Vec<(String, Tensor)> = Vec::new();
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    for k in names {
        let t = &tensors[k];
        let shape: Vec<i64> = t.dims().iter().map(|d| *d as i64).collect();
        let data: Vec<f32> = t
            .to_dtype(candle_core::DType::F32)
            .and_then(|x| x.flatten_all())
            .and_then(|x| x.to_vec1::<f32>())
            .map_err(|e| err(&src, &e))?;
        named.push((k.clone(), Tensor::of_slice(&data).reshape(&shape)));
    }
    Tensor::save_multi(&named, &out).map_err(|e| err(&out, &e))?;
    let (src_sha, _) = sha256_file(&src).map_err(|e| err(&src, &e))?;
    let (ot_sha, ot_len) = sha256_file(&out).map_err(|e| err(&out, &e))?;
    let side = models_dir.join(OT_SIDECAR);
    std::fs::write(&side, format!("{ot_sha} {ot_len} model.ot\n{src_sha} model.safetensors\n"))
        .map_err(|e| err(&side, &e))?;
    Ok(out)
}

/// BERT on libtorch. libtorch tensors are `Send` but not `Sync`: calls are serialised by a
/// mutex (libtorch parallelises inside each call).
pub struct RustBertEncoder {
    model: Mutex<(BertModel<BertEmbeddings>, nn::VarStore)>,
    tokenizer: Tokenizer,
}

impl RustBertEncoder {
    pub fn load(models_dir: &Path, max_tokens: usize) -> Result<RustBertEncoder, String> {
        let dir = models_dir.join(ENCODER_DIR);
        let ot = models_dir.join(OT_FILE);
        let side = models_dir.join(OT_SIDECAR);
        let side_text = std::fs::read_to_string(&side)
            .map_err(|e| format!("{}: {e} (run the convert-to-ot command first)", side.display()))?;
        let mut lines = side_text.lines();
        let want_ot = lines.next().and_then(|l| l.split_whitespace().next()).unwrap_or_default().to_string();
        let want_src = lines.next().and_then(|l| l.split_whitespace().next()).unwrap_or_default().to_string();
        let (ot_sha, _) = sha256_file(&ot).map_err(|e| format!("{}: {e}", ot.display()))?;
        if ot_sha != want_ot {
            return Err(format!(
                "{}: sha256 mismatch with {}: corrupt or replaced artefact",
                ot.display(),
                side.display()
            ));
        }
        let (src_sha, _) =
            sha256_file(&dir.join("model.safetensors")).map_err(|e| format!("{}: {e}", dir.display()))?;
        if src_sha != want_src {
            return Err(format!("{}: made from other weights than model.safetensors: convert again", ot.display()));
        }
        let cfg_path = dir.join("config.json");
        let cfg_text = std::fs::read_to_string(&cfg_path).map_err(|e| format!("{}: {e}", cfg_path.display()))?;
        let config: BertConfig =
            serde_json::from_str(&cfg_text).map_err(|e| format!("{}: not a BERT config: {e}", cfg_path.display()))?;
        let mut vs = nn::VarStore::new(Device::Cpu);
        let model = BertModel::<BertEmbeddings>::new_with_optional_pooler(vs.root(), &config, false);
        vs.load(&ot).map_err(|e| format!("{}: {e}", ot.display()))?;
        let tokenizer = load_tokenizer(&dir, max_tokens)?;
        Ok(RustBertEncoder { model: Mutex::new((model, vs)), tokenizer })
    }
}

impl Embed for RustBertEncoder {
    fn embed(&self, texts: &[&str]) -> Result<Vec<[f32; DIM]>, String> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let ids = encode_ids(&self.tokenizer, texts)?;
        let len = ids.iter().map(|v| v.len()).max().unwrap_or(2).max(2);
        let n = ids.len();
        let mut flat_ids: Vec<i64> = Vec::with_capacity(n * len);
        let mut flat_mask: Vec<i64> = Vec::with_capacity(n * len);
        for v in &ids {
            flat_ids.extend(v.iter().map(|x| *x as i64));
            flat_ids.extend(std::iter::repeat_n(0i64, len - v.len()));
            flat_mask.extend(std::iter::repeat_n(1i64, v.len()));
            flat_mask.extend(std::iter::repeat_n(0i64, len - v.len()));
        }
        let guard = self.model.lock().map_err(|_| "rust-bert engine poisoned".to_string())?;
        let out = tch::no_grad(|| -> Result<Vec<f32>, String> {
            let input = Tensor::of_slice(&flat_ids).view([n as i64, len as i64]);
            let mask = Tensor::of_slice(&flat_mask).view([n as i64, len as i64]);
            let types = input.zeros_like();
            let o = guard
                .0
                .forward_t(Some(&input), Some(&mask), Some(&types), None, None, None, None, false)
                .map_err(|e| format!("rust-bert: {e}"))?;
            let m = mask.to_kind(Kind::Float).unsqueeze(2);
            let summed = (o.hidden_state * &m).sum_dim_intlist(Some([1i64].as_slice()), false, Kind::Float);
            let counts = m.sum_dim_intlist(Some([1i64].as_slice()), false, Kind::Float);
            let mean = summed / counts;
            let norm = mean.norm_scalaropt_dim(2, [1i64].as_slice(), true).clamp_min(1e-12);
            let e = (mean / norm).contiguous().view([-1]);
            // A failing conversion panics inside tch; `score` turns panics into errors.
            Ok(Vec::<f32>::from(&e))
        })?;
        let mut res = Vec::with_capacity(n);
        for row in out.chunks_exact(DIM) {
            let arr: [f32; DIM] = row.try_into().map_err(|_| "rust-bert: unexpected embedding width".to_string())?;
            if arr.iter().any(|x| !x.is_finite()) {
                return Err("rust-bert: non-finite embedding".into());
            }
            res.push(arr);
        }
        Ok(res)
    }
}

/// The classifier on the rust-bert engine (same heads, thresholds and calibration).
pub fn load_rust_bert(models_dir: &Path, policy_dir: &Path) -> Result<MiniLmClassifier, ClassifierLoadError> {
    let (config, scale) = verified(models_dir, policy_dir)?;
    let enc = RustBertEncoder::load(models_dir, config.encoder.max_tokens).map_err(ClassifierLoadError)?;
    with_engine(Box::new(enc), models_dir, config, scale)
}

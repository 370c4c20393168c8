//! Per-category heads on the sentence embedding: logistic regression on standardised
//! features, trained jointly (one weight column per category) by full-batch Adam with L2,
//! deterministic (zero initialisation, fixed order, no sampling).

use std::collections::BTreeMap;

use candle_core::{DType, Device, Tensor, D};
use serde::{Deserialize, Serialize};

use crate::moderation::Category;

pub const FORMAT: &str = "trellis-classifier-heads-v1";

/// One category's head: `p = sigmoid(w · ((x - mean) / std) + b)`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Head {
    pub w: Vec<f32>,
    pub b: f32,
}

/// A dense layer: `relu(W x + b)`, `w` row-major (`out` rows of `in` weights).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dense {
    pub w: Vec<Vec<f32>>,
    pub b: Vec<f32>,
}

/// All heads plus the feature standardisation they share.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heads {
    pub format: String,
    /// Width of the feature vector (384 = embedding of the message alone).
    pub features: usize,
    /// Earlier messages whose mean embedding is appended to the features (0 = none).
    pub context_messages: usize,
    /// Width of the hashed character n-gram block appended to the features (0 = none).
    #[serde(default)]
    pub ngram_dim: usize,
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    /// Optional shared hidden layer (ReLU) between the standardised features and the heads.
    #[serde(default)]
    pub hidden: Option<Dense>,
    pub heads: BTreeMap<Category, Head>,
    /// Free-form provenance (seed, data, date): not used at inference.
    #[serde(default)]
    pub meta: BTreeMap<String, String>,
}

impl Heads {
    pub fn validate(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!("unknown format {:?} (expected {FORMAT:?})", self.format));
        }
        if self.mean.len() != self.features || self.std.len() != self.features {
            return Err("standardisation vectors do not match the feature width".into());
        }
        let width = match &self.hidden {
            Some(d) => {
                if d.w.len() != d.b.len() || d.w.iter().any(|r| r.len() != self.features) {
                    return Err("hidden layer shape does not match the feature width".into());
                }
                if d.b.iter().chain(d.w.iter().flatten()).any(|x| !x.is_finite()) {
                    return Err("hidden layer has non-finite weights".into());
                }
                d.b.len()
            }
            None => self.features,
        };
        for c in Category::ALL {
            let h = self.heads.get(&c).ok_or_else(|| format!("no head for {}", c.as_str()))?;
            if h.w.len() != width {
                return Err(format!("head {} has {} weights, expected {width}", c.as_str(), h.w.len()));
            }
            if !h.b.is_finite() || h.w.iter().any(|x| !x.is_finite()) {
                return Err(format!("head {} has non-finite weights", c.as_str()));
            }
        }
        if self.std.iter().any(|s| !(s.is_finite() && *s > 0.0)) || self.mean.iter().any(|m| !m.is_finite()) {
            return Err("standardisation has non-finite or non-positive entries".into());
        }
        Ok(())
    }

    /// Raw probabilities per category for one feature vector.
    pub fn predict(&self, x: &[f32]) -> BTreeMap<Category, f32> {
        let mut z: Vec<f32> = x.iter().zip(&self.mean).zip(&self.std).map(|((v, m), s)| (v - m) / s).collect();
        if let Some(d) = &self.hidden {
            z = d.w.iter().zip(&d.b).map(|(row, b)| (dot(row, &z) + b).max(0.0)).collect();
        }
        self.heads.iter().map(|(c, h)| (*c, sigmoid(dot(&h.w, &z) + h.b))).collect()
    }
}

/// Dot product with eight independent partial sums: the compiler vectorises it (a plain
/// `zip().sum()` is a serial chain of f32 adds), which keeps the 384-unit ensemble layer at about
/// the cost of the former 128-unit one (per message, next to the encoder's ~10 ms).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for ((s, p), q) in acc.iter_mut().zip(x).zip(y) {
            *s += p * q;
        }
    }
    acc.iter().sum::<f32>() + tail
}

pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Training rows: features, a 0/1 label per category and a weight per category
/// (0 = this row says nothing about that category).
#[derive(Debug, Default, Clone)]
pub struct Rows {
    pub x: Vec<Vec<f32>>,
    pub y: Vec<[f32; 9]>,
    pub known: Vec<[f32; 9]>,
}

/// Hyper-parameters.
#[derive(Debug, Clone, Copy)]
pub struct Fit {
    pub epochs: usize,
    pub lr: f64,
    pub l2: f64,
    /// Cap of the positive-class weight (balanced weighting up to this ratio).
    pub max_pos_weight: f32,
    /// Width of the shared hidden layer (0 = plain logistic regression).
    pub hidden: usize,
    pub seed: u64,
}

/// Fit all heads. `on_epoch` is called once per epoch (progress bar).
pub fn fit(rows: &Rows, p: Fit, on_epoch: &mut dyn FnMut(usize, f32)) -> candle_core::Result<Heads> {
    let dev = Device::Cpu;
    let n = rows.x.len();
    let d = rows.x.first().map(|r| r.len()).unwrap_or(0);
    let k = Category::ALL.len();
    // Standardisation.
    let mut mean = vec![0f64; d];
    for r in &rows.x {
        for (m, v) in mean.iter_mut().zip(r) {
            *m += *v as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n.max(1) as f64);
    let mut var = vec![0f64; d];
    for r in &rows.x {
        for ((s, v), m) in var.iter_mut().zip(r).zip(&mean) {
            *s += (*v as f64 - m).powi(2);
        }
    }
    let std: Vec<f32> = var.iter().map(|s| ((s / n.max(1) as f64).sqrt() as f32).max(1e-4)).collect();
    let mean: Vec<f32> = mean.iter().map(|m| *m as f32).collect();
    let mut flat = Vec::with_capacity(n * d);
    for r in &rows.x {
        flat.extend(r.iter().zip(&mean).zip(&std).map(|((v, m), s)| (v - m) / s));
    }
    // Per-category class weights.
    let mut wflat = Vec::with_capacity(n * k);
    let mut pos_w = [1f32; 9];
    for (c, pw) in pos_w.iter_mut().enumerate() {
        let (mut np, mut nn) = (0f32, 0f32);
        for i in 0..n {
            if rows.known[i][c] > 0.0 {
                if rows.y[i][c] > 0.5 {
                    np += rows.known[i][c];
                } else {
                    nn += rows.known[i][c];
                }
            }
        }
        *pw = if np > 0.0 { (nn / np).clamp(1.0, p.max_pos_weight) } else { 1.0 };
    }
    let mut yflat = Vec::with_capacity(n * k);
    for (known, y) in rows.known.iter().zip(&rows.y) {
        for ((kc, yc), pw) in known.iter().zip(y).zip(&pos_w) {
            wflat.push(kc * if *yc > 0.5 { *pw } else { 1.0 });
            yflat.push(*yc);
        }
    }
    let x = Tensor::from_vec(flat, (n, d), &dev)?;
    let xt = x.t()?.contiguous()?;
    let y = Tensor::from_vec(yflat, (n, k), &dev)?;
    let sw = Tensor::from_vec(wflat, (n, k), &dev)?;
    let col_w = sw.sum(0)?.clamp(1e-6, f64::MAX)?; // (k)
    if p.hidden > 0 {
        return fit_mlp(&x, &y, &sw, &col_w, mean, std, p, on_epoch);
    }
    let mut w = Tensor::zeros((d, k), DType::F32, &dev)?;
    let mut b = Tensor::zeros(k, DType::F32, &dev)?;
    let (mut mw, mut vw) = (w.zeros_like()?, w.zeros_like()?);
    let (mut mb, mut vb) = (b.zeros_like()?, b.zeros_like()?);
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8f64);
    for t in 1..=p.epochs {
        let logits = x.matmul(&w)?.broadcast_add(&b)?;
        let prob = candle_nn::ops::sigmoid(&logits)?;
        // Weighted mean log-loss per column, for the progress line.
        let err = ((&prob - &y)? * &sw)?.broadcast_div(&col_w)?; // (n, k)
        let gw = (xt.matmul(&err)? + (&w * p.l2)?)?;
        let gb = err.sum(0)?;
        mw = ((&mw * b1)? + (&gw * (1.0 - b1))?)?;
        vw = ((&vw * b2)? + (gw.sqr()? * (1.0 - b2))?)?;
        mb = ((&mb * b1)? + (&gb * (1.0 - b1))?)?;
        vb = ((&vb * b2)? + (gb.sqr()? * (1.0 - b2))?)?;
        let c1 = 1.0 - b1.powi(t as i32);
        let c2 = 1.0 - b2.powi(t as i32);
        let step_w = ((&mw / c1)? / ((&vw / c2)?.sqrt()? + eps)?)?;
        let step_b = ((&mb / c1)? / ((&vb / c2)?.sqrt()? + eps)?)?;
        w = (&w - (step_w * p.lr)?)?;
        b = (&b - (step_b * p.lr)?)?;
        if t % 25 == 0 || t == p.epochs {
            let eps_t = 1e-6f64;
            let ll = ((&y * (prob.clamp(eps_t, 1.0)?.log()?))?
                + ((y.ones_like()? - &y)? * ((prob.ones_like()? - &prob)?.clamp(eps_t, 1.0)?.log()?))?)?;
            let loss = (ll.neg()? * &sw)?.sum(0)?.broadcast_div(&col_w)?.mean(D::Minus1)?.to_scalar::<f32>()?;
            on_epoch(t, loss);
        }
    }
    let wv = w.t()?.to_vec2::<f32>()?;
    let bv = b.to_vec1::<f32>()?;
    let heads = Category::ALL.iter().enumerate().map(|(c, cat)| (*cat, Head { w: wv[c].clone(), b: bv[c] })).collect();
    Ok(Heads {
        format: FORMAT.to_string(),
        features: d,
        context_messages: 0,
        ngram_dim: 0,
        mean,
        std,
        hidden: None,
        heads,
        meta: BTreeMap::new(),
    })
}

/// Deterministic uniform(-a, a) values from a seed (splitmix64).
fn seeded_uniform(n: usize, a: f32, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * a
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn fit_mlp(
    x: &Tensor,
    y: &Tensor,
    sw: &Tensor,
    col_w: &Tensor,
    mean: Vec<f32>,
    std: Vec<f32>,
    p: Fit,
    on_epoch: &mut dyn FnMut(usize, f32),
) -> candle_core::Result<Heads> {
    use candle_core::Var;
    use candle_nn::optim::{AdamW, Optimizer, ParamsAdamW};
    let dev = Device::Cpu;
    let (_, d) = x.dims2()?;
    let k = Category::ALL.len();
    let h = p.hidden;
    let a1 = (6.0 / (d + h) as f32).sqrt();
    let a2 = (6.0 / (h + k) as f32).sqrt();
    let w1 = Var::from_tensor(&Tensor::from_vec(seeded_uniform(d * h, a1, p.seed), (d, h), &dev)?)?;
    let b1 = Var::from_tensor(&Tensor::zeros(h, DType::F32, &dev)?)?;
    let w2 = Var::from_tensor(&Tensor::from_vec(seeded_uniform(h * k, a2, p.seed ^ 0x5555), (h, k), &dev)?)?;
    let b2 = Var::from_tensor(&Tensor::zeros(k, DType::F32, &dev)?)?;
    let mut opt = AdamW::new(
        vec![w1.clone(), b1.clone(), w2.clone(), b2.clone()],
        ParamsAdamW { lr: p.lr, weight_decay: p.l2, ..Default::default() },
    )?;
    for t in 1..=p.epochs {
        let hid = x.matmul(w1.as_tensor())?.broadcast_add(b1.as_tensor())?.relu()?;
        let logits = hid.matmul(w2.as_tensor())?.broadcast_add(b2.as_tensor())?;
        // Stable weighted BCE with logits: max(z,0) - z*y + log(1 + exp(-|z|)).
        let l = ((logits.relu()? - (&logits * y)?)? + (logits.abs()?.neg()?.exp()? + 1.0)?.log()?)?;
        let loss = (l * sw)?.sum(0)?.broadcast_div(col_w)?.mean(D::Minus1)?;
        opt.backward_step(&loss)?;
        if t % 25 == 0 || t == p.epochs {
            on_epoch(t, loss.to_scalar::<f32>()?);
        }
    }
    let w1v = w1.as_tensor().t()?.to_vec2::<f32>()?;
    let b1v = b1.as_tensor().to_vec1::<f32>()?;
    let w2v = w2.as_tensor().t()?.to_vec2::<f32>()?;
    let b2v = b2.as_tensor().to_vec1::<f32>()?;
    let heads =
        Category::ALL.iter().enumerate().map(|(c, cat)| (*cat, Head { w: w2v[c].clone(), b: b2v[c] })).collect();
    Ok(Heads {
        format: FORMAT.to_string(),
        features: d,
        context_messages: 0,
        ngram_dim: 0,
        mean,
        std,
        hidden: Some(Dense { w: w1v, b: b1v }),
        heads,
        meta: BTreeMap::new(),
    })
}

/// Initialisation seed of ensemble member `m` (member 0 keeps the training seed).
fn member_seed(seed: u64, m: usize) -> u64 {
    if m == 0 {
        seed
    } else {
        seed ^ 0xA076_1D64_78BD_642F_u64.wrapping_mul(m as u64)
    }
}

/// Fit `members` networks that differ only in their seeded initialisation and merge them into
/// one: the hidden layers side by side, each output weight divided by `members`, so the merged
/// logit is the mean of the members' logits. Averaging smooths the scores of a small training
/// set; the merged file has the same format and inference cost grows only with the (tiny)
/// hidden layer. `on_epoch` counts epochs over all members.
pub fn fit_ensemble(
    rows: &Rows,
    p: Fit,
    members: usize,
    on_epoch: &mut dyn FnMut(usize, f32),
) -> candle_core::Result<Heads> {
    let members = members.max(1);
    let mut merged: Option<Heads> = None;
    for m in 0..members {
        let offset = m * p.epochs;
        let h = fit(rows, Fit { seed: member_seed(p.seed, m), ..p }, &mut |t, loss| on_epoch(offset + t, loss))?;
        merged = Some(match merged {
            None => h,
            Some(mut acc) => {
                if let (Some(a), Some(b)) = (acc.hidden.as_mut(), h.hidden) {
                    a.w.extend(b.w);
                    a.b.extend(b.b);
                }
                for (c, head) in h.heads {
                    if let Some(t) = acc.heads.get_mut(&c) {
                        t.w.extend(head.w);
                        t.b += head.b;
                    }
                }
                acc
            }
        });
    }
    let mut out = merged.expect("at least one member");
    if members > 1 {
        let s = 1.0 / members as f32;
        for head in out.heads.values_mut() {
            head.w.iter_mut().for_each(|w| *w *= s);
            head.b *= s;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ensemble_is_the_mean_of_member_logits() {
        let mut rows = Rows::default();
        for i in 0..24 {
            let x: Vec<f32> = (0..4).map(|j| ((i * 7 + j * 3) % 11) as f32 / 11.0).collect();
            let mut y = [0f32; 9];
            y[0] = if x[0] > 0.5 { 1.0 } else { 0.0 };
            rows.x.push(x);
            rows.y.push(y);
            rows.known.push([1.0; 9]);
        }
        let p = Fit { epochs: 5, lr: 0.01, l2: 0.0, max_pos_weight: 20.0, hidden: 3, seed: 7 };
        let merged = fit_ensemble(&rows, p, 2, &mut |_, _| {}).unwrap();
        merged.validate().unwrap();
        let a = fit(&rows, p, &mut |_, _| {}).unwrap();
        let b = fit(&rows, Fit { seed: member_seed(7, 1), ..p }, &mut |_, _| {}).unwrap();
        let logit = |q: f32| (q / (1.0 - q)).ln();
        for x in &rows.x {
            let (m, pa, pb) = (merged.predict(x), a.predict(x), b.predict(x));
            for c in Category::ALL {
                let want = (logit(pa[&c]) + logit(pb[&c])) / 2.0;
                assert!((logit(m[&c]) - want).abs() < 1e-3, "{c:?}: {} vs {want}", logit(m[&c]));
            }
        }
    }
}

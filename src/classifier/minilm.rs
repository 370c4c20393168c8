//! The MiniLM (BERT) forward pass, written for short chat messages on a CPU.
//!
//! candle-transformers' generic `BertModel` spends about half of a single-message call outside
//! the matrix products: it multiplies by transposed weight views (so `gemm` re-packs them with
//! strided reads on every call), runs three separate Q/K/V products, and evaluates the exact
//! GELU through a double-precision `erf`. This module computes the same function with the
//! weights transposed once at load, Q/K/V fused into one product, and the GELU evaluated with
//! a single-precision rational `erf` (error below 1e-6, far inside the engines' parity bound).

use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{LayerNorm, VarBuilder};
use candle_transformers::models::bert::Config;

/// One transformer layer, weights laid out `(in, out)` so products read them row by row.
struct Layer {
    qkv_w: Tensor,
    qkv_b: Tensor,
    attn_out_w: Tensor,
    attn_out_b: Tensor,
    attn_norm: LayerNorm,
    ff_in_w: Tensor,
    ff_in_b: Vec<f32>,
    ff_out_w: Tensor,
    ff_out_b: Tensor,
    ff_norm: LayerNorm,
}

/// The loaded encoder network (no pooler: sentence embeddings pool the last hidden layer).
pub struct MiniLm {
    word: Tensor,
    position: Tensor,
    token_type: Tensor,
    embed_norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    head_dim: usize,
    hidden: usize,
    device: Device,
}

fn linear_in_out(vb: &VarBuilder, inp: usize, out: usize) -> candle_core::Result<(Tensor, Tensor)> {
    let w = vb.get((out, inp), "weight")?.t()?.contiguous()?;
    let b = vb.get(out, "bias")?;
    Ok((w, b))
}

fn layer_norm(vb: &VarBuilder, size: usize, eps: f64) -> candle_core::Result<LayerNorm> {
    Ok(LayerNorm::new(vb.get(size, "weight")?, vb.get(size, "bias")?, eps))
}

impl MiniLm {
    /// Load from a BERT checkpoint (with or without the `bert.` prefix), computing in `f32`.
    pub fn load(vb: VarBuilder, config: &Config) -> candle_core::Result<MiniLm> {
        let vb = if vb.contains_tensor("bert.embeddings.word_embeddings.weight") { vb.pp("bert") } else { vb };
        if config.hidden_act != candle_transformers::models::bert::HiddenAct::Gelu {
            candle_core::bail!("only the exact GELU activation of MiniLM is supported");
        }
        let h = config.hidden_size;
        let heads = config.num_attention_heads;
        if heads == 0 || !h.is_multiple_of(heads) {
            candle_core::bail!("hidden size {h} is not divisible by {heads} attention heads");
        }
        let eps = config.layer_norm_eps;
        let e = vb.pp("embeddings");
        let word = e.get((config.vocab_size, h), "word_embeddings.weight")?;
        let position = e.get((config.max_position_embeddings, h), "position_embeddings.weight")?;
        let token_type = e.get((config.type_vocab_size, h), "token_type_embeddings.weight")?;
        let embed_norm = layer_norm(&e.pp("LayerNorm"), h, eps)?;
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let l = vb.pp(format!("encoder.layer.{i}"));
            let a = l.pp("attention");
            let (q_w, q_b) = linear_in_out(&a.pp("self.query"), h, h)?;
            let (k_w, k_b) = linear_in_out(&a.pp("self.key"), h, h)?;
            let (v_w, v_b) = linear_in_out(&a.pp("self.value"), h, h)?;
            let qkv_w = Tensor::cat(&[&q_w, &k_w, &v_w], 1)?.contiguous()?;
            let qkv_b = Tensor::cat(&[&q_b, &k_b, &v_b], 0)?;
            let (attn_out_w, attn_out_b) = linear_in_out(&a.pp("output.dense"), h, h)?;
            let attn_norm = layer_norm(&a.pp("output.LayerNorm"), h, eps)?;
            let (ff_in_w, ff_in_b) = linear_in_out(&l.pp("intermediate.dense"), h, config.intermediate_size)?;
            let (ff_out_w, ff_out_b) = linear_in_out(&l.pp("output.dense"), config.intermediate_size, h)?;
            let ff_norm = layer_norm(&l.pp("output.LayerNorm"), h, eps)?;
            layers.push(Layer {
                qkv_w,
                qkv_b,
                attn_out_w,
                attn_out_b,
                attn_norm,
                ff_in_w,
                ff_in_b: ff_in_b.to_vec1::<f32>()?,
                ff_out_w,
                ff_out_b,
                ff_norm,
            });
        }
        Ok(MiniLm {
            word,
            position,
            token_type,
            embed_norm,
            layers,
            heads,
            head_dim: h / heads,
            hidden: h,
            device: vb.device().clone(),
        })
    }

    /// Last hidden layer `(n, len, hidden)` for `n` sequences of token ids padded to `len`;
    /// `mask` holds 1 for real tokens and 0 for padding, row-major `(n, len)`.
    pub fn forward(&self, ids: &[u32], mask: &[u32], n: usize, len: usize) -> candle_core::Result<Tensor> {
        if ids.len() != n * len || mask.len() != n * len {
            candle_core::bail!("token ids and mask must both hold {n}×{len} entries");
        }
        if len > self.position.dim(0)? {
            candle_core::bail!("sequence of {len} tokens is longer than the model's {}", self.position.dim(0)?);
        }
        let (h, heads, d) = (self.hidden, self.heads, self.head_dim);
        let ids_t = Tensor::from_slice(ids, n * len, &self.device)?;
        let tokens = self.word.index_select(&ids_t, 0)?.reshape((n, len, h))?;
        let positions = self.position.narrow(0, 0, len)?.unsqueeze(0)?;
        let types = self.token_type.narrow(0, 0, 1)?.unsqueeze(0)?;
        let x = tokens.broadcast_add(&positions)?.broadcast_add(&types)?;
        let mut x = self.embed_norm.forward(&x)?.reshape((n * len, h))?;

        // Padding gets a large negative attention bias; with no padding the bias is skipped.
        let bias = if mask.iter().all(|&m| m == 1) {
            None
        } else {
            let b: Vec<f32> = mask.iter().map(|&m| if m == 1 { 0.0 } else { f32::MIN }).collect();
            Some(Tensor::from_vec(b, (n, 1, 1, len), &self.device)?)
        };
        let scale = 1.0 / (d as f64).sqrt();

        for layer in &self.layers {
            let qkv = x.matmul(&layer.qkv_w)?.broadcast_add(&layer.qkv_b)?;
            let qkv = qkv.reshape((n, len, 3 * heads, d))?.transpose(1, 2)?.contiguous()?;
            let q = (qkv.narrow(1, 0, heads)?.contiguous()? * scale)?;
            let k = qkv.narrow(1, heads, heads)?.contiguous()?;
            let v = qkv.narrow(1, 2 * heads, heads)?.contiguous()?;
            let mut scores = q.matmul(&k.t()?)?;
            if let Some(b) = &bias {
                scores = scores.broadcast_add(b)?;
            }
            let probs = candle_nn::ops::softmax_last_dim(&scores)?;
            let ctx = probs.matmul(&v)?.transpose(1, 2)?.contiguous()?.reshape((n * len, h))?;
            let attn = ctx.matmul(&layer.attn_out_w)?.broadcast_add(&layer.attn_out_b)?;
            let x1 = layer.attn_norm.forward(&(attn + &x)?)?;

            let inner = x1.matmul(&layer.ff_in_w)?;
            let width = layer.ff_in_b.len();
            let mut a = inner.flatten_all()?.to_vec1::<f32>()?;
            bias_gelu(&mut a, &layer.ff_in_b);
            let inner = Tensor::from_vec(a, (n * len, width), &self.device)?;
            let out = inner.matmul(&layer.ff_out_w)?.broadcast_add(&layer.ff_out_b)?;
            x = layer.ff_norm.forward(&(out + &x1)?)?;
        }
        x.reshape((n, len, h))
    }

    /// Mean of the last hidden layer over real tokens, L2-normalised: `(n, hidden)`.
    pub fn sentence_embeddings(&self, ids: &[u32], mask: &[u32], n: usize, len: usize) -> candle_core::Result<Tensor> {
        let hidden = self.forward(ids, mask, n, len)?;
        let m = Tensor::from_slice(mask, (n, len), &self.device)?.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&m)?.sum(1)?;
        let mean = summed.broadcast_div(&m.sum(1)?)?;
        let norm = mean.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        mean.broadcast_div(&norm)
    }
}

/// `a[i] = gelu(a[i] + bias[i % bias.len()])`, the exact (erf) GELU of BERT.
fn bias_gelu(a: &mut [f32], bias: &[f32]) {
    for row in a.chunks_exact_mut(bias.len()) {
        for (v, b) in row.iter_mut().zip(bias) {
            let x = *v + b;
            *v = 0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2));
        }
    }
}

/// Single-precision `erf` as a rational function of `x` on [-4, 4] (beyond that `erf` is ±1
/// in `f32`): the approximation used by Eigen and XLA, absolute error about 1e-7, no branches
/// or `exp`, so the loop above vectorises.
fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = x2 * -2.726_142_3e-10 + 2.770_681_4e-8;
    p = x2 * p + -2.101_024e-6;
    p = x2 * p + -5.692_506_4e-5;
    p = x2 * p + -7.349_906_3e-4;
    p = x2 * p + -2.954_600_1e-3;
    p = x2 * p + -1.609_603_3e-2;
    p *= x;
    let mut q = x2 * -1.456_607_2e-5 + -2.133_740_6e-4;
    q = x2 * q + -1.682_827e-3;
    q = x2 * q + -7.373_329e-3;
    q = x2 * q + -1.426_474e-2;
    p / q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rational_erf_matches_the_double_precision_erf() {
        let mut worst = 0f64;
        for i in -80_000..=80_000 {
            let x = i as f32 / 10_000.0;
            let exact = candle_core::cpu::erf::erf_f64(x as f64);
            worst = worst.max((erf(x) as f64 - exact).abs());
        }
        assert!(worst < 1e-6, "largest erf error {worst}");
    }

    #[test]
    fn gelu_adds_the_bias_per_column() {
        let mut a = vec![0.0, 1.0, -1.0, 0.0];
        bias_gelu(&mut a, &[1.0, -1.0]);
        let gelu = |x: f64| 0.5 * x * (1.0 + candle_core::cpu::erf::erf_f64(x / std::f64::consts::SQRT_2));
        let want = [gelu(1.0), gelu(0.0), gelu(0.0), gelu(-1.0)];
        for (got, want) in a.iter().zip(want) {
            assert!((*got as f64 - want).abs() < 1e-6, "{got} vs {want}");
        }
    }
}

//! Ranking and threshold metrics.

/// Average precision (area under the precision-recall curve, step-wise), ties handled as a
/// block. `None` when there is no positive.
pub fn auprc(scores: &[(f32, bool)]) -> Option<f64> {
    let npos = scores.iter().filter(|s| s.1).count();
    if npos == 0 {
        return None;
    }
    let mut v: Vec<(f32, bool)> = scores.to_vec();
    v.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut fp, mut ap, mut prev_recall) = (0usize, 0usize, 0f64, 0f64);
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j < v.len() && v[j].0 == v[i].0 {
            if v[j].1 {
                tp += 1;
            } else {
                fp += 1;
            }
            j += 1;
        }
        let recall = tp as f64 / npos as f64;
        let precision = tp as f64 / (tp + fp) as f64;
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
        i = j;
    }
    Some(ap)
}

/// Share of `scores` at or above `t`.
pub fn rate_at(scores: &[f32], t: f32) -> f64 {
    if scores.is_empty() {
        return 0.0;
    }
    scores.iter().filter(|s| **s >= t).count() as f64 / scores.len() as f64
}

/// Lowest threshold keeping the share of `benign` at or above it within `max_fpr`.
pub fn fpr_point(benign: &[f32], max_fpr: f64) -> f32 {
    let mut b: Vec<f32> = benign.to_vec();
    b.sort_by(|x, y| y.total_cmp(x));
    let allowed = (max_fpr * b.len() as f64).floor() as usize;
    if allowed < b.len() {
        // Just above the first benign score that would exceed the budget.
        f32::from_bits(b[allowed].to_bits() + 1)
    } else {
        0.0
    }
}

fn logit(p: f32) -> f32 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Threshold from out-of-fold scores: just above the benign score that keeps the benign
/// false-positive rate within `max_fpr`, and, when the positives at `target_recall` score
/// higher, half-way (in logit space) between the two for margin. When the two conflict,
/// `prefer_recall` picks the recall point instead.
pub fn tune_threshold(pos: &[f32], benign: &[f32], max_fpr: f64, target_recall: f64, prefer_recall: bool) -> f32 {
    let mut b: Vec<f32> = benign.to_vec();
    b.sort_by(|x, y| y.total_cmp(x));
    let mut p: Vec<f32> = pos.to_vec();
    p.sort_by(|x, y| y.total_cmp(x));
    let allowed = (max_fpr * b.len() as f64).floor() as usize;
    let t_fpr = if allowed < b.len() { sigmoid(logit(b[allowed]) + 0.05) } else { 0.02 };
    let t_rec = if p.is_empty() {
        0.98
    } else {
        let idx = ((target_recall * p.len() as f64).ceil() as usize).clamp(1, p.len()) - 1;
        sigmoid(logit(p[idx]) - 0.05)
    };
    let t = if t_rec > t_fpr {
        sigmoid((logit(t_fpr) + logit(t_rec)) / 2.0)
    } else if prefer_recall {
        t_rec
    } else {
        t_fpr
    };
    // No fixed upper cap below 1: contact_info's benign look-alikes score above 0.98 and a cap
    // there let them through (0.8 % out-of-fold benign FP at the old 0.98 cap).
    t.clamp(0.02, 0.9995)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ap_perfect_and_worst() {
        assert_eq!(auprc(&[(0.9, true), (0.1, false)]), Some(1.0));
        assert_eq!(auprc(&[(0.9, false), (0.1, true)]), Some(0.5));
        assert_eq!(auprc(&[(0.9, false)]), None);
    }

    #[test]
    fn threshold_between() {
        let t = tune_threshold(&[0.9, 0.95, 0.8], &[0.1, 0.2, 0.05], 0.0, 1.0, false);
        assert!(t > 0.2 && t < 0.8, "{t}");
    }
}

//! The labelled corpus and the public data sets, through `evaluate` (what `trellis eval`
//! prints). The test split is only reported (never tuned against); the guards below are on
//! the training split and the public sets.

use trellis::moderation::{evaluate, Pipeline, Policy};

#[test]
fn corpus_and_public_sets() {
    let root = crate::repo::root();
    let datasets = root.join("../shared/datasets");
    let datasets = datasets.exists().then_some(datasets);
    let p = Pipeline::new(Policy::builtin());
    let rep = evaluate(&p, &root.join("tests/corpus"), datasets.as_deref()).unwrap();
    println!("{}", rep.to_markdown());
    for s in &rep.splits {
        assert_eq!(s.redaction_leaks, 0, "{}: a redacted message still carries a detail", s.name);
        if s.name == "train" {
            let recall = s.contact_intervened as f64 / s.contact_positive.max(1) as f64;
            let fp = s.benign_intervened as f64 / s.benign.max(1) as f64;
            assert!(recall >= 0.95, "train contact recall {recall}");
            assert!(fp <= 0.01, "train false interventions {fp}");
        }
    }
    if let Some(pr) = &rep.presidio {
        let phone = pr["phone"];
        assert!(phone.recall() >= 0.95 && phone.precision() >= 0.90, "{phone:?}");
        for k in ["email", "url"] {
            assert!(pr[k].recall() >= 0.99 && pr[k].precision() >= 0.99, "{k}: {:?}", pr[k]);
        }
    }
}

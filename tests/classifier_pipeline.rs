//! Classifier stage: loading and verification, the pipeline with the classifier attached,
//! thread safety, robustness. Needs `models/` and `policies/` of the repository.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use trellis::classifier::{self, ClassifierConfig, MiniLmClassifier};
use trellis::moderation::{Action, Category, Classifier, Pipeline, Policy, PriorMessage, SenderRole};

#[path = "support/repo.rs"]
mod repo;
use repo::root;

fn shared() -> Arc<MiniLmClassifier> {
    static C: OnceLock<Arc<MiniLmClassifier>> = OnceLock::new();
    C.get_or_init(|| {
        Arc::new(classifier::load_concrete(&root().join("models"), &root().join("policies")).expect("classifier loads"))
    })
    .clone()
}

struct Shared(Arc<MiniLmClassifier>);
impl Classifier for Shared {
    fn score(
        &self,
        t: &str,
        c: &[PriorMessage],
    ) -> Result<std::collections::BTreeMap<Category, f32>, trellis::moderation::ClassifierError> {
        self.0.score(t, c)
    }
}

fn pipeline() -> Pipeline {
    let policy = Policy::load(&root().join("policies")).expect("policy");
    Pipeline::new(policy).with_classifier(Box::new(Shared(shared())))
}

#[test]
fn done_when_secrecy_from_mentor_is_held() {
    let text = "let's keep our chats just between us, ok? your parents wouldn't get it";
    let v = pipeline().moderate(text, "m1", SenderRole::Mentor, &[]).unwrap();
    assert_eq!(v.action, Action::Hold, "{v:?}");
    assert!(v.flags.contains(&Category::Secrecy), "{v:?}");
    assert_eq!(v.delivered_text, None);
    // The classifier alone flags it too.
    let s = shared().score(text, &[]).unwrap();
    let flag = 0.5; // moderation.toml [scores] flag_threshold
    assert!(s[&Category::Secrecy] >= flag, "classifier secrecy score {}", s[&Category::Secrecy]);
}

#[test]
fn benign_mentoring_talk_is_delivered() {
    let p = pipeline();
    for t in [
        "see you Tuesday 4pm in our session",
        "solve 3x + 5 = 20",
        "great job on the lab report, your graphs are really clear",
        "read https://en.wikipedia.org/wiki/Photosynthesis",
    ] {
        let v = p.moderate(t, "m1", SenderRole::Mentor, &[]).unwrap();
        assert_eq!(v.action, Action::Deliver, "{t}: {v:?}");
    }
}

#[test]
fn scores_cover_every_category_in_range_and_are_deterministic() {
    let c = shared();
    for t in ["", "🙂", "\u{200b}\u{200b}", "ｈｅｌｌｏ", &"very long message ".repeat(600)] {
        let a = c.score(t, &[]).expect("scores");
        let b = c.score(t, &[]).expect("scores");
        assert_eq!(a.len(), Category::ALL.len());
        for (k, v) in &a {
            assert!((0.0..=1.0).contains(v), "{t:?} {k:?} {v}");
            assert!((v - b[k]).abs() < 1e-6);
        }
    }
}

#[test]
fn shared_across_threads() {
    let c: Arc<dyn Classifier> = shared();
    let texts = ["want to meet up at the mall saturday? just us", "thanks for the help with calculus", "u r so stupid"];
    let want: Vec<_> = texts.iter().map(|t| c.score(t, &[]).unwrap()).collect();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || texts.iter().map(|t| c.score(t, &[]).unwrap()).collect::<Vec<_>>())
        })
        .collect();
    for h in handles {
        let got = h.join().unwrap();
        for (g, w) in got.iter().zip(&want) {
            for (k, v) in w {
                assert!((g[k] - v).abs() < 1e-5);
            }
        }
    }
}

fn temp_models(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("trellis-clf-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("encoder")).unwrap();
    let src = root().join("models");
    for f in ["config.json", "tokenizer.json", "vocab.txt", "model.safetensors"] {
        std::os::unix::fs::symlink(src.join("encoder").join(f), d.join("encoder").join(f)).unwrap();
    }
    for f in ["MANIFEST.toml", "heads.json", "LICENSE-all-MiniLM-L6-v2.txt"] {
        std::fs::copy(src.join(f), d.join(f)).unwrap();
    }
    d
}

fn load_err(models: &Path) -> String {
    match classifier::load(models, &root().join("policies")) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn corrupt_heads_is_a_sha_mismatch_naming_the_file() {
    let d = temp_models("corrupt");
    let p = d.join("heads.json");
    let mut b = std::fs::read(&p).unwrap();
    let i = b.len() / 2;
    b[i] = if b[i] == b'1' { b'2' } else { b'1' };
    std::fs::write(&p, b).unwrap();
    let e = load_err(&d);
    assert!(e.contains("heads.json") && e.contains("sha256 mismatch"), "{e}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn missing_artefact_names_the_file() {
    let d = temp_models("missing");
    std::fs::remove_file(d.join("encoder/tokenizer.json")).unwrap();
    let e = load_err(&d);
    assert!(e.contains("tokenizer.json"), "{e}");
    std::fs::remove_file(d.join("MANIFEST.toml")).unwrap();
    let e = load_err(&d);
    assert!(e.contains("MANIFEST.toml"), "{e}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn classifier_policy_rejects_unknown_keys_and_bad_thresholds() {
    let good = std::fs::read_to_string(root().join("policies/classifier.toml")).unwrap();
    assert!(ClassifierConfig::parse(&good).is_ok());
    assert!(ClassifierConfig::parse(&format!("{good}\nsurprise = 1\n")).is_err());
    let bad = good.replace("[thresholds]", "[thresholds]\nbogus_category = 0.5");
    assert!(ClassifierConfig::parse(&bad).is_err());
    let out_of_range =
        good.lines().map(|l| if l.starts_with("gifts =") { "gifts = 1.5" } else { l }).collect::<Vec<_>>().join("\n");
    assert!(ClassifierConfig::parse(&out_of_range).unwrap_err().contains("gifts"));
}

#[test]
fn calibration_maps_threshold_to_flag() {
    for t in [0.02f32, 0.3, 0.5, 0.9, 0.98] {
        assert!((classifier::calibrate(t, t, 0.5) - 0.5).abs() < 1e-6);
        assert!(classifier::calibrate(t - 0.01, t, 0.5) < 0.5);
        assert!(classifier::calibrate((t + 0.01).min(1.0), t, 0.5) >= 0.5);
        assert_eq!(classifier::calibrate(0.0, t, 0.5), 0.0);
        assert!((classifier::calibrate(1.0, t, 0.5) - 1.0).abs() < 1e-6);
    }
}

#[test]
fn batch_and_single_embeddings_agree() {
    let c = shared();
    let texts = ["hi", "can you send me a pic of you in your uniform", "what's the integral of sin x dx from 0 to pi"];
    let batch = c.encoder().embed(&texts).unwrap();
    for (t, b) in texts.iter().zip(&batch) {
        let s = &c.encoder().embed(&[t]).unwrap()[0];
        let cos: f32 = s.iter().zip(b.iter()).map(|(a, b)| a * b).sum();
        assert!(cos > 0.9999, "{t}: {cos}");
    }
}

/// The hand-written MiniLM forward pass must compute what candle-transformers' reference BERT
/// computes (same weights, mean pooling, L2 norm), with and without padding in a batch.
#[test]
fn fast_encoder_matches_the_reference_bert_implementation() {
    use candle_core::{DType, Device, Tensor};
    use candle_nn::VarBuilder;
    use candle_transformers::models::bert::{BertModel, Config};

    let dir = root().join("models").join(classifier::ENCODER_DIR);
    let config: Config = serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &Device::Cpu).unwrap();
    let reference = BertModel::load(vb, &config).unwrap();
    let texts = [
        "hi",
        "let's keep our chats just between us, ok? your parents wouldn't get it",
        "can you explain how you got the derivative in step 3? i got 2x + 3 but the answer says 2x",
        "ｔｅｘｔ ｍｅ at four oh three 555 0199 😀",
        "i'm so tired of everything, i don't think i can do this anymore",
        "for the science fair, try measuring the pH of the soil samples before and after watering",
    ];
    let c = shared();
    let tokenizer = classifier::encoder::load_tokenizer(&dir, 128).unwrap();
    let ids = classifier::encoder::encode_ids(&tokenizer, &texts).unwrap();
    let fast = c.encoder().embed(&texts).unwrap();
    for (i, t) in texts.iter().enumerate() {
        let len = ids[i].len();
        let input = Tensor::from_vec(ids[i].clone(), (1, len), &Device::Cpu).unwrap();
        let hidden = reference.forward(&input, &input.zeros_like().unwrap(), None).unwrap();
        let mean: Vec<f32> = hidden.mean(1).unwrap().squeeze(0).unwrap().to_vec1().unwrap();
        let norm = mean.iter().map(|x| x * x).sum::<f32>().sqrt();
        let cos: f32 = mean.iter().zip(fast[i].iter()).map(|(a, b)| a / norm * b).sum();
        assert!(cos > 0.99999, "{t}: cosine {cos}");
    }
}

/// `classifier train` end to end on a small slice of the corpus plus team-written lines: with
/// `cross_validate_team` every team line is scored out-of-fold and the thresholds come from
/// corpus + team; the run is deterministic.
#[test]
fn training_cross_validates_team_lines_deterministically() {
    let dir = std::env::temp_dir().join(format!("trellis-train-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let take = |src: &str, n: usize, out: &str| -> usize {
        let text = std::fs::read_to_string(root().join(src)).unwrap();
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).step_by(7).take(n).collect();
        std::fs::write(dir.join(out), lines.join("\n") + "\n").unwrap();
        lines.len()
    };
    let n_corpus = take("tests/corpus/train.jsonl", 60, "corpus.jsonl");
    let n_team = take("data/training/team-written.jsonl", 40, "team.jsonl");
    let run = || {
        let mut args = classifier::TrainArgs::new(&root().join("models"), &dir, &dir.join("corpus.jsonl"));
        args.team_data = Some(dir.join("team.jsonl"));
        args.team_extra = Vec::new();
        args.hatecheck_check_dir = None;
        args.identifier_copies = 0;
        args.folds = 2;
        args.epochs = 15;
        args.hidden = 8;
        args.ensemble = 1;
        args.write_models = false;
        args.write_policy = false;
        args.progress = false;
        classifier::train(&args).expect("training runs")
    };
    let a = run();
    assert_eq!(a.cv_examples, n_corpus + n_team);
    assert!(a.cv.values().all(|m| m.threshold > 0.0 && m.threshold < 1.0));
    let b = run();
    let thresholds = |r: &classifier::TrainReport| r.cv.values().map(|m| m.threshold).collect::<Vec<_>>();
    assert_eq!(thresholds(&a), thresholds(&b));
    std::fs::remove_dir_all(&dir).ok();
}

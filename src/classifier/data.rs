//! Training and evaluation data: the project's corpus (JSON Lines with `labels`) and the
//! public subsets in `data/training/` (JSON Lines with `labels` and `known`).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::encoder::{prepare, Embed, DIM};
use crate::moderation::{Category, PriorMessage, SenderRole};

/// File name of the team-written training lines inside `data/training/`.
pub const TEAM_FILE: &str = "team-written.jsonl";

#[derive(Debug, Clone)]
pub struct Example {
    pub id: String,
    pub text: String,
    pub role: Option<SenderRole>,
    pub source: String,
    pub family: String,
    /// Group for cross-validation folds (conversation or id).
    pub group: String,
    pub labels: Vec<Category>,
    /// Categories the labels speak for.
    pub known: Vec<Category>,
    /// Earlier messages of the same conversation, oldest first.
    pub context: Vec<PriorMessage>,
    pub holdout: bool,
}

impl Example {
    pub fn has(&self, c: Category) -> bool {
        self.labels.contains(&c)
    }
    pub fn benign(&self) -> bool {
        self.labels.is_empty() && self.known.len() == Category::ALL.len()
    }
}

#[derive(Deserialize)]
struct CorpusLine {
    id: String,
    text: String,
    sender_role: SenderRole,
    #[serde(default)]
    conversation: Option<String>,
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default)]
    family: Option<String>,
}

#[derive(Deserialize)]
struct PublicLine {
    id: String,
    text: String,
    source: String,
    labels: Vec<String>,
    known: Vec<String>,
    split: String,
    group: String,
}

fn cats(v: &[String], file: &Path, id: &str) -> Result<Vec<Category>, String> {
    v.iter()
        .map(|s| Category::parse(s).ok_or_else(|| format!("{}: {id}: unknown category {s:?}", file.display())))
        .collect()
}

/// A corpus file (`train.jsonl` or `test.jsonl`), with conversation context.
pub fn read_corpus(path: &Path) -> Result<Vec<Example>, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    let mut convs: HashMap<String, Vec<PriorMessage>> = HashMap::new();
    for (n, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let l: CorpusLine = serde_json::from_str(&line).map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?;
        let labels = cats(&l.labels, path, &l.id)?;
        let context = match &l.conversation {
            Some(c) => {
                let prev = convs.entry(c.clone()).or_default();
                let ctx = prev.clone();
                prev.push(PriorMessage {
                    sender: l.sender_role.as_str().to_string(),
                    sender_role: l.sender_role,
                    text: l.text.clone(),
                    age_seconds: None,
                });
                ctx
            }
            None => Vec::new(),
        };
        out.push(Example {
            group: l.conversation.clone().unwrap_or_else(|| l.id.clone()),
            id: l.id,
            text: l.text,
            role: Some(l.sender_role),
            source: "corpus".into(),
            family: l.family.unwrap_or_default(),
            labels,
            known: Category::ALL.to_vec(),
            context,
            holdout: false,
        });
    }
    Ok(out)
}

/// Every `*.jsonl` in `dir` (sorted by name).
pub fn read_public(dir: &Path) -> Result<Vec<Example>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        // The team-written lines are in the corpus format and trained on as in-domain data
        // (`TrainArgs::team_data`), not as a public set.
        .filter(|p| p.file_name().is_none_or(|n| n != TEAM_FILE))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let f = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        for (n, line) in std::io::BufReader::new(f).lines().enumerate() {
            let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
            if line.trim().is_empty() {
                continue;
            }
            let l: PublicLine =
                serde_json::from_str(&line).map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?;
            if l.text.trim().is_empty() {
                continue;
            }
            out.push(Example {
                labels: cats(&l.labels, &path, &l.id)?,
                known: cats(&l.known, &path, &l.id)?,
                group: l.id.clone(),
                id: l.id,
                text: l.text,
                role: None,
                source: l.source,
                family: l.group,
                context: Vec::new(),
                holdout: l.split == "holdout",
            });
        }
    }
    Ok(out)
}

/// Embedding cache on disk (key: sha256 of the encoder weights' digest, max_tokens and the
/// prepared text), so repeated `train`/`eval` runs do not re-encode.
pub struct EmbedCache {
    path: Option<PathBuf>,
    salt: String,
    map: HashMap<[u8; 32], Vec<f32>>,
    fresh: Vec<([u8; 32], Vec<f32>)>,
}

impl EmbedCache {
    pub fn open(path: Option<PathBuf>, salt: String) -> EmbedCache {
        let mut map = HashMap::new();
        if let Some(p) = &path {
            if let Ok(mut f) = std::fs::File::open(p) {
                let mut buf = Vec::new();
                if f.read_to_end(&mut buf).is_ok() {
                    let rec = 32 + DIM * 4;
                    for chunk in buf.chunks_exact(rec) {
                        let mut k = [0u8; 32];
                        k.copy_from_slice(&chunk[..32]);
                        let v: Vec<f32> =
                            chunk[32..].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
                        map.insert(k, v);
                    }
                }
            }
        }
        EmbedCache { path, salt, map, fresh: Vec::new() }
    }

    fn key(&self, text: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.salt.as_bytes());
        h.update([0]);
        h.update(prepare(text).as_bytes());
        h.finalize().into()
    }

    /// Embeddings of `texts`, encoding the missing ones in length-sorted batches.
    pub fn embed_all(
        &mut self,
        enc: &dyn Embed,
        texts: &[&str],
        progress: &dyn Fn(u64),
    ) -> Result<Vec<Vec<f32>>, String> {
        let keys: Vec<[u8; 32]> = texts.iter().map(|t| self.key(t)).collect();
        let mut missing: BTreeMap<[u8; 32], &str> = BTreeMap::new();
        for (k, t) in keys.iter().zip(texts) {
            if !self.map.contains_key(k) {
                missing.insert(*k, t);
            }
        }
        let mut todo: Vec<([u8; 32], &str)> = missing.into_iter().collect();
        todo.sort_by_key(|(_, t)| t.len());
        for chunk in todo.chunks(32) {
            let ts: Vec<&str> = chunk.iter().map(|(_, t)| *t).collect();
            let es = enc.embed(&ts)?;
            for ((k, _), e) in chunk.iter().zip(es) {
                self.map.insert(*k, e.to_vec());
                self.fresh.push((*k, e.to_vec()));
            }
            progress(chunk.len() as u64);
        }
        self.save()?;
        Ok(keys.iter().map(|k| self.map[k].clone()).collect())
    }

    fn save(&mut self) -> Result<(), String> {
        let Some(p) = &self.path else { return Ok(()) };
        if self.fresh.is_empty() {
            return Ok(());
        }
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .map_err(|e| format!("{}: {e}", p.display()))?;
        let mut buf = Vec::new();
        for (k, v) in self.fresh.drain(..) {
            buf.extend_from_slice(&k);
            for x in v {
                buf.extend_from_slice(&x.to_le_bytes());
            }
        }
        f.write_all(&buf).map_err(|e| format!("{}: {e}", p.display()))
    }
}

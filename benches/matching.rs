//! Matching benchmark: suggestions for one student among 10,000 mentors — the pure ranking,
//! and end to end through the database (eligibility, capacity, answers, ranking).

use std::collections::BTreeMap;

use criterion::{criterion_group, criterion_main, Criterion};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use trellis::db::models::{MentorProfile, QuestionnaireAnswer, User};
use trellis::db::schema::{mentor_profiles, questionnaire_answers, users};
use trellis::programme_policy::ProgrammePolicy;
use trellis::services::matching::{self, Answers, Candidate};

const MENTORS: usize = 10_000;

fn random_answers(policy: &ProgrammePolicy, role: &str, rng: &mut StdRng) -> Answers {
    let mut answers = BTreeMap::new();
    for q in policy.questions.iter().filter(|q| q.audience.iter().any(|a| a == role)) {
        let picks: Vec<String> = q.options.iter().filter(|_| rng.gen_bool(0.3)).cloned().collect();
        let picks = if q.key == "language" && picks.is_empty() { vec!["English".to_owned()] } else { picks };
        answers.insert(q.key.clone(), picks);
    }
    answers
}

fn bench(c: &mut Criterion) {
    let policy = ProgrammePolicy::builtin();
    let mut rng = StdRng::seed_from_u64(7);
    let student = random_answers(&policy, "student", &mut rng);
    let candidates: Vec<Candidate> = (0..MENTORS)
        .map(|i| Candidate {
            mentor_id: format!("m{i}"),
            name: format!("Mentor {i}"),
            field: String::new(),
            remaining_capacity: rng.gen_range(0..3),
            answers: random_answers(&policy, "mentor", &mut rng),
        })
        .collect();
    c.bench_function("rank 10k mentors (pure)", |b| b.iter(|| matching::rank(&policy, &student, &candidates, 3)));

    // End to end over SQLite with 10,000 vetted mentors and their answers.
    let (pool, _) = trellis::db::connect("sqlite://:memory:", 1).unwrap();
    let mut conn = pool.get().unwrap();
    let at = trellis::db::now();
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        for (i, cand) in candidates.iter().enumerate() {
            let id = format!("00000000-0000-0000-0000-{i:012}");
            diesel::insert_into(users::table)
                .values(&User {
                    id: id.clone(),
                    programme_id: None,
                    email: format!("m{i}@bench.test"),
                    display_name: cand.name.clone(),
                    role: "mentor".into(),
                    status: "active".into(),
                    password_hash: None,
                    created_at: at,
                    updated_at: at,
                    last_login_at: None,
                })
                .execute(conn)?;
            diesel::insert_into(mentor_profiles::table)
                .values(&MentorProfile {
                    user_id: id.clone(),
                    field: "Engineering".into(),
                    employer: String::new(),
                    about: String::new(),
                    capacity: cand.remaining_capacity as i32 + 1,
                    background_check_status: "passed".into(),
                    background_check_expires_at: Some(at + chrono::Duration::days(300)),
                    safeguarding_training_at: Some(at),
                    code_of_conduct_signed_at: Some(at),
                    approved_by: None,
                    approved_at: Some(at),
                    created_at: at,
                    updated_at: at,
                })
                .execute(conn)?;
            for (key, values) in &cand.answers {
                diesel::insert_into(questionnaire_answers::table)
                    .values(&QuestionnaireAnswer {
                        id: format!("{id}-{key}"),
                        user_id: id.clone(),
                        question_key: key.clone(),
                        answer: serde_json::to_string(values).unwrap(),
                        updated_at: at,
                    })
                    .execute(conn)?;
            }
        }
        Ok(())
    })
    .unwrap();
    c.bench_function("suggestions among 10k mentors (SQLite, end to end)", |b| {
        b.iter(|| {
            let pool_candidates = matching::eligible_mentors(&mut conn, at).unwrap();
            matching::rank(&policy, &student, &pool_candidates, 3)
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);

-- Core data model of Trellis. Portable between SQLite and PostgreSQL:
-- TEXT UUID keys made by the application, UTC timestamps, enums as TEXT with CHECK, no triggers.

CREATE TABLE programmes (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE schools (
    id TEXT PRIMARY KEY NOT NULL,
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    programme_id TEXT REFERENCES programmes (id),
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('student', 'mentor', 'guardian', 'teacher', 'coordinator')),
    status TEXT NOT NULL CHECK (status IN ('invited', 'active', 'suspended', 'deactivated')),
    password_hash TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP
);
CREATE INDEX users_role ON users (role);

CREATE TABLE student_profiles (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    school_id TEXT NOT NULL REFERENCES schools (id),
    grade INTEGER NOT NULL CHECK (grade BETWEEN 6 AND 13),
    approval_status TEXT NOT NULL CHECK (approval_status IN ('pending', 'approved', 'withdrawn')),
    approved_at TIMESTAMP,
    activation_deadline TIMESTAMP,
    about TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX student_profiles_school ON student_profiles (school_id);

CREATE TABLE mentor_profiles (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    field TEXT NOT NULL DEFAULT '',
    employer TEXT NOT NULL DEFAULT '',
    about TEXT NOT NULL DEFAULT '',
    capacity INTEGER NOT NULL DEFAULT 1 CHECK (capacity BETWEEN 0 AND 10),
    background_check_status TEXT NOT NULL CHECK (background_check_status IN ('not_started', 'pending', 'passed', 'failed')),
    background_check_expires_at TIMESTAMP,
    safeguarding_training_at TIMESTAMP,
    code_of_conduct_signed_at TIMESTAMP,
    approved_by TEXT REFERENCES users (id),
    approved_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE guardianships (
    id TEXT PRIMARY KEY NOT NULL,
    guardian_id TEXT NOT NULL REFERENCES users (id),
    student_id TEXT NOT NULL REFERENCES users (id),
    relationship TEXT NOT NULL DEFAULT 'guardian',
    consented_at TIMESTAMP,
    view_suspended BOOLEAN NOT NULL DEFAULT FALSE,
    view_suspended_reason TEXT,
    view_suspended_by TEXT REFERENCES users (id),
    view_suspended_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (guardian_id, student_id)
);
CREATE INDEX guardianships_student ON guardianships (student_id);

CREATE TABLE teacher_schools (
    teacher_id TEXT NOT NULL REFERENCES users (id),
    school_id TEXT NOT NULL REFERENCES schools (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (teacher_id, school_id)
);
CREATE INDEX teacher_schools_school ON teacher_schools (school_id);

CREATE TABLE questionnaire_answers (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    question_key TEXT NOT NULL,
    answer TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (user_id, question_key)
);

CREATE TABLE mentorship_requests (
    id TEXT PRIMARY KEY NOT NULL,
    student_id TEXT NOT NULL REFERENCES users (id),
    mentor_id TEXT NOT NULL REFERENCES users (id),
    original_text TEXT NOT NULL,
    delivered_text TEXT,
    moderation_status TEXT NOT NULL CHECK (moderation_status IN ('pending', 'delivered', 'redacted', 'held', 'blocked', 'rejected')),
    verdict TEXT,
    policy_version TEXT,
    status TEXT NOT NULL CHECK (status IN ('awaiting_review', 'open', 'accepted', 'declined', 'expired', 'cancelled', 'withdrawn')),
    response_note TEXT,
    deadline_at TIMESTAMP,
    responded_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX mentorship_requests_student ON mentorship_requests (student_id);
CREATE INDEX mentorship_requests_mentor ON mentorship_requests (mentor_id, status);

CREATE TABLE matches (
    id TEXT PRIMARY KEY NOT NULL,
    student_id TEXT NOT NULL REFERENCES users (id),
    mentor_id TEXT NOT NULL REFERENCES users (id),
    request_id TEXT REFERENCES mentorship_requests (id),
    status TEXT NOT NULL CHECK (status IN ('awaiting_agreement', 'awaiting_consent', 'active', 'paused', 'completed', 'ended')),
    matched_by TEXT REFERENCES users (id),
    match_note TEXT,
    started_at TIMESTAMP,
    ends_at TIMESTAMP,
    closed_at TIMESTAMP,
    close_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX matches_student ON matches (student_id);
CREATE INDEX matches_mentor ON matches (mentor_id);

CREATE TABLE agreements (
    id TEXT PRIMARY KEY NOT NULL,
    match_id TEXT NOT NULL REFERENCES matches (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    agreement_version TEXT NOT NULL,
    signed_at TIMESTAMP NOT NULL,
    UNIQUE (match_id, user_id)
);

CREATE TABLE consents (
    id TEXT PRIMARY KEY NOT NULL,
    match_id TEXT NOT NULL REFERENCES matches (id),
    guardian_id TEXT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('pending', 'given', 'declined', 'expired')),
    decided_at TIMESTAMP,
    reason TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX consents_match ON consents (match_id);

CREATE TABLE goals (
    id TEXT PRIMARY KEY NOT NULL,
    match_id TEXT NOT NULL REFERENCES matches (id),
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    target_date TIMESTAMP,
    status TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'dropped')),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX goals_match ON goals (match_id);

CREATE TABLE goal_notes (
    id TEXT PRIMARY KEY NOT NULL,
    goal_id TEXT NOT NULL REFERENCES goals (id),
    author_id TEXT NOT NULL REFERENCES users (id),
    note TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE closure_surveys (
    id TEXT PRIMARY KEY NOT NULL,
    match_id TEXT NOT NULL REFERENCES matches (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    answers TEXT,
    submitted_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (match_id, user_id)
);

CREATE TABLE conversations (
    id TEXT PRIMARY KEY NOT NULL,
    match_id TEXT NOT NULL UNIQUE REFERENCES matches (id),
    status TEXT NOT NULL CHECK (status IN ('open', 'paused', 'locked')),
    status_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE messages (
    id TEXT PRIMARY KEY NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    sender_id TEXT NOT NULL REFERENCES users (id),
    original_text TEXT NOT NULL,
    delivered_text TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'redacted', 'held', 'blocked', 'rejected')),
    verdict TEXT,
    policy_version TEXT,
    flags TEXT NOT NULL DEFAULT '',
    escalate BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    moderated_at TIMESTAMP,
    delivered_at TIMESTAMP
);
CREATE INDEX messages_conversation ON messages (conversation_id, created_at);
CREATE INDEX messages_status ON messages (status);

CREATE TABLE moderation_reviews (
    id TEXT PRIMARY KEY NOT NULL,
    message_id TEXT NOT NULL REFERENCES messages (id),
    reviewer_id TEXT NOT NULL REFERENCES users (id),
    decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject', 'escalate')),
    note TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX moderation_reviews_message ON moderation_reviews (message_id);

CREATE TABLE reports (
    id TEXT PRIMARY KEY NOT NULL,
    reporter_id TEXT NOT NULL REFERENCES users (id),
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    message_id TEXT REFERENCES messages (id),
    reason TEXT NOT NULL,
    reported_text TEXT,
    status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    resolved_by TEXT REFERENCES users (id),
    resolved_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE alerts (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('self_harm', 'grooming', 'repeated_holds', 'report', 'reviewer_escalation', 'vetting', 'other')),
    severity TEXT NOT NULL CHECK (severity IN ('urgent', 'high', 'normal')),
    status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
    summary TEXT NOT NULL,
    student_id TEXT REFERENCES users (id),
    conversation_id TEXT REFERENCES conversations (id),
    message_id TEXT REFERENCES messages (id),
    report_id TEXT REFERENCES reports (id),
    due_at TIMESTAMP NOT NULL,
    acknowledged_by TEXT REFERENCES users (id),
    acknowledged_at TIMESTAMP,
    resolved_by TEXT REFERENCES users (id),
    resolved_at TIMESTAMP,
    resolution_note TEXT,
    last_notified_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX alerts_status ON alerts (status, due_at);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    run_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 8,
    locked_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX jobs_due ON jobs (status, run_at);

CREATE TABLE mail_outbox (
    id TEXT PRIMARY KEY NOT NULL,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    not_before TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, not_before);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);

CREATE TABLE web_sessions (
    key_hash TEXT PRIMARY KEY NOT NULL,
    state TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);

CREATE TABLE login_throttles (
    key_hash TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    window_started_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP
);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL UNIQUE,
    actor_id TEXT REFERENCES users (id),
    action TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    details TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE access_log (
    id TEXT PRIMARY KEY NOT NULL,
    reader_id TEXT NOT NULL REFERENCES users (id),
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    reader_relation TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX access_log_conversation ON access_log (conversation_id, created_at);

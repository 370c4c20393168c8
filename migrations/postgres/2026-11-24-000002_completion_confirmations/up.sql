-- Each participant's confirmation that a mentorship's objectives are met.
CREATE TABLE completion_confirmations (
    match_id TEXT NOT NULL REFERENCES matches (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    confirmed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (match_id, user_id)
);

-- The per-sender send limit and the repeated-holds check count a sender's recent messages.
CREATE INDEX messages_sender ON messages (sender_id, created_at);

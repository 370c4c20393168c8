DROP TABLE completion_confirmations;

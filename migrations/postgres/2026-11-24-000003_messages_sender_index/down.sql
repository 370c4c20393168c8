DROP INDEX messages_sender;

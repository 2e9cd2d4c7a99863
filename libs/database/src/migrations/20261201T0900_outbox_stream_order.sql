-- Readers of the outbox (the relay, the HTTP stream) go in (transaction_id, position)
-- order: a transaction that commits later always has a larger transaction_id than
-- every row already visible below the snapshot's xmin, so nothing is skipped.
create index outbox_stream_order on outbox (transaction_id, position);
create index outbox_unsent_stream_order on outbox (transaction_id, position) where sent_at is null;
drop index outbox_unsent;

-- The ops status reads decisions by known time: the count of the last minute
-- (throughput), those of the last hour by outcome and reason, and the latest
-- rejections. Each is a range scan of one of these indexes, never of the table.
create index decisions_by_known_at on decisions (known_at);
create index decisions_rejected_by_known_at on decisions (known_at) where outcome = 'rejected';

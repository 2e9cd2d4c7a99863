-- Every index serves a named query, and the index-inventory int test (libs/database/src/index-inventory.int.spec.ts)
-- shows each one in the plan of the query that needs it. These did not earn what they cost every write.

-- A GIN index over several columns serves a condition on any of them: text search across every timeline uses
-- the (timeline_id, search) index as well, so the one over `search` alone was a second copy of every revision's words.
drop index event_revisions_by_text;

-- The actor filter reads event_revision_actor_keys (EventQueryRepository), which holds the same keys in valid-time
-- order: the GIN index over actor_keys was written with every revision and no query needed it any more.
drop index event_revisions_by_actor;

-- The decider records an event only on a timeline that exists, and timelines are never deleted: the check cost a
-- lookup (and a key-share lock on the timeline's row) for every events row written.
alter table events drop constraint events_timeline_id_fkey;

-- Only the earliest valid day of a timeline reads it (TimelineReadRepository.listTimelines): the event id was never used.
drop index events_by_timeline_valid_time;
create index events_by_timeline_valid_lower on events (timeline_id, valid_lower) where not retracted;

-- Decisions are written in the order of their known time (the broker's append time), up to the few seconds by which
-- partitions run apart, so a block-range index finds the last minute or hour that the ops page counts, at a
-- fraction of a B-tree's size and write cost. Ordering (the latest rejections) keeps its partial B-tree.
drop index decisions_by_known_at;
create index decisions_by_known_at on decisions using brin (known_at);

-- Room on each page for the new version of a row updated in place, so that the update stays on the page (HOT) and
-- writes no index entry: a timeline's version and counts change with every batch that touches it, an event's row
-- with each revision, a revision's known_to once when the next revision replaces it. Pages written from now on.
alter table timelines set (fillfactor = 50);
alter table events set (fillfactor = 85);
alter table event_revisions set (fillfactor = 90);

-- The deferred rows of a delivery (retries waiting for their time). The
-- runner asks for those due, and for the earliest retry, at every commit
-- once a list's pending rows are done and at every retry time; without an
-- index each ask read every row of the delivery (over half a second for a
-- million rows). Partial: only deferred rows are in it, so sending, which
-- changes every row's state twice, writes to it only for a retry.
CREATE INDEX delivery_recipients_deferred ON delivery_recipients(delivery_id, next_try, id) WHERE state = 'deferred';

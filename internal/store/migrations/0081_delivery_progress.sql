-- A delivery's counts (and rate) as last stamped, JSON: by Prepare as it
-- marks the delivery ready (its first run starts from them), then by the
-- running process with its heartbeat ('' when none yet this run). Another
-- process showing the progress (the console, polling every second) reads
-- them instead of counting every row's state, which takes ~0.65 s a
-- million rows. Trusted only while the delivery has never run, runs with
-- a fresh heartbeat, or ended done or cancelled with the final counts its
-- run stamped (delivery.finalStamp).
ALTER TABLE deliveries ADD COLUMN progress TEXT NOT NULL DEFAULT '';

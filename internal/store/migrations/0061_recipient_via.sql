-- Which way each recipient's message went (smtp, graph, gmail-api), written
-- with its outcome; '' for rows never handed to a server. An account may
-- switch between runs of one delivery, so this is per row, not per delivery.
ALTER TABLE delivery_recipients ADD COLUMN via TEXT NOT NULL DEFAULT '';

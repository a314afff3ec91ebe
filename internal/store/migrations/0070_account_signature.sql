-- The account's signature (署名), appended to a delivery's message when the
-- sender asks for it (the console's message step, send --signature). Plain
-- text, kept per account because it belongs to the mailbox it signs.
ALTER TABLE accounts ADD COLUMN signature TEXT NOT NULL DEFAULT '';

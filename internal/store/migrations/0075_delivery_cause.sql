-- Why a delivery stopped short, as a code the faces word in their own
-- language (delivery.Cause…); reason keeps the English for the CLI. ''
-- for deliveries stopped before this column existed: their cause is read
-- from the reason's text.
ALTER TABLE deliveries ADD COLUMN cause TEXT NOT NULL DEFAULT '';

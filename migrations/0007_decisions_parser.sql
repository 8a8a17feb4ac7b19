-- The version of the ADR parser that read each record. A record parsed by an older parser is
-- read again at the next index even though its blob did not change (new constraint kinds,
-- line numbers of cairn: blocks, ...).
ALTER TABLE decisions ADD COLUMN parser integer NOT NULL DEFAULT 0;

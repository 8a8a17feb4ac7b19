-- A `/cairn ignore` reply silences one finding of one pull request, not that fingerprint in
-- every pull request of the repository: the pull request it was said on (NULL: the whole
-- repository, for suppressions recorded before this or by a rule).
ALTER TABLE suppressions ADD COLUMN pr_number bigint;

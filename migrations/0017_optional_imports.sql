-- Whether an import is optional: guarded by a try/except ImportError, an `if TYPE_CHECKING:` or
-- a Python version check, a JavaScript try block. The file works without it, so it is no
-- evidence that its module wraps the package (mined wrapped-dependency conventions).
ALTER TABLE blob_imports ADD COLUMN optional boolean NOT NULL DEFAULT false;
ALTER TABLE imports ADD COLUMN optional boolean NOT NULL DEFAULT false;

-- Blobs extracted before the flag existed say no import is optional: forget those of the
-- languages that have guards (their units, extracted imports and tree rows cascade) so that
-- the next index parses them again.
DELETE FROM blobs
WHERE skipped IS NULL AND language IN ('python', 'javascript', 'typescript', 'tsx');

"""The root of Cairn's exception hierarchy.

```
* CairnError
  + ConfigError         bad settings or .cairn.yml: report, never retry   (checks.config)
  + EnvironmentProblem  no git, no database, no vector extension: exit 2  (app.errors)
  + GitError            not a repository, unknown ref                     (app.errors)
  + GitHubError         translated from githubkit                         (app.errors)
```
A finding is never an exception: violations are data (``checks.finding``).
"""

from __future__ import annotations


class CairnError(Exception):
    """Base class of every error Cairn raises on purpose."""

"""Publishing a review on GitHub: check runs, one review per push, replies, summaries.

- ``model``: the pull request under review, the policy's constants, what publishing did
- ``planning``: pure decisions (conclusions, what to comment, what is fixed), no I/O
- ``render``: the one Markdown renderer, for comments, summaries and the Action's job summary
- ``publisher``: the ``Publisher``, which reads GitHub and the ledger and does the plan
"""

from app.publish.model import (
    CHECKS,
    DEFAULT_FAIL_ON,
    FINDING_MARKER,
    GITHUB_WEB,
    MAX_COMMENTS,
    MAX_OUTPUT,
    PublishReport,
    PullRequestRef,
)
from app.publish.publisher import Publisher
from app.publish.render import Renderer

__all__ = [
    "CHECKS",
    "DEFAULT_FAIL_ON",
    "FINDING_MARKER",
    "GITHUB_WEB",
    "MAX_COMMENTS",
    "MAX_OUTPUT",
    "PublishReport",
    "Publisher",
    "PullRequestRef",
    "Renderer",
]

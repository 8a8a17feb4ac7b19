"""GitHub, at the edge: the only package that imports githubkit.

- ``errors``: githubkit's errors translated into Cairn's (drawn in ``app.errors``)
- ``models``: Cairn's view of GitHub's objects, parsed leniently
- ``auth``: the App, its JWT and its installations' tokens (``GitHubApp``)
- ``client``: the verbs on one installation or a workflow's token (``Installation``)
- ``manifest``: registering the App from a manifest (``cairn setup``)
"""

from app.github.auth import GitHubApp
from app.github.client import GITHUB_API, MAX_ANNOTATIONS, MAX_PULL_FILES, Installation
from app.github.errors import (
    Conflict,
    Forbidden,
    GitHubError,
    GitHubUnavailable,
    NotFound,
    RateLimited,
    Unauthorized,
    Unprocessable,
)
from app.github.manifest import RegisteredApp, app_from_manifest
from app.github.models import (
    Annotation,
    CheckConclusion,
    CheckRun,
    CheckStatus,
    CommentDraft,
    HookDelivery,
    PullFile,
    PullRequest,
    Repository,
    ReviewComment,
    ReviewThread,
    TreeItem,
)

__all__ = [
    "GITHUB_API",
    "MAX_ANNOTATIONS",
    "MAX_PULL_FILES",
    "Annotation",
    "CheckConclusion",
    "CheckRun",
    "CheckStatus",
    "CommentDraft",
    "Conflict",
    "Forbidden",
    "GitHubApp",
    "GitHubError",
    "GitHubUnavailable",
    "HookDelivery",
    "Installation",
    "NotFound",
    "PullFile",
    "PullRequest",
    "RateLimited",
    "RegisteredApp",
    "Repository",
    "ReviewComment",
    "ReviewThread",
    "TreeItem",
    "Unauthorized",
    "Unprocessable",
    "app_from_manifest",
]

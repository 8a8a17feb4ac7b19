"""arq keeps a failed job's exception as its result, pickled: every error a job can end with
must come back whole, or reading the job's result (``arq``'s ``Job.result_info``) raises."""

from __future__ import annotations

import pickle

import pytest

from app.github import (
    Forbidden,
    GitHubError,
    GitHubUnavailable,
    NotFound,
    RateLimited,
    Unauthorized,
    Unprocessable,
)


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(GitHubError("refused", 400), id="github-error"),
        pytest.param(RateLimited("secondary rate limit", 60.0, 403), id="rate-limited"),
        pytest.param(Unauthorized("Bad credentials", 401), id="unauthorized"),
        pytest.param(Forbidden("Resource not accessible", 403), id="forbidden"),
        pytest.param(NotFound("Not Found", 404), id="not-found"),
        pytest.param(Unprocessable("Invalid request.", ["line is required"]), id="unprocessable"),
        pytest.param(GitHubUnavailable("502 Server Error", 502), id="unavailable"),
    ],
)
def test_a_job_error_survives_pickling(error: GitHubError) -> None:
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert str(back) == str(error)
    assert back.__dict__ == error.__dict__

"""The MCP server: five tools and the decision log and configuration as resources.

One server definition serves both transports; what differs is how a call finds its
repository (``Resolver``): over stdio the one checkout ``cairn mcp`` was started on, over HTTP
a repository of the installation the caller's token belongs to (``app.mcp.http``).
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any, Protocol

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field
from typing_extensions import TypedDict

from analyzers.adr import Adr
from app.errors import AnalysisError, CairnError
from app.mcp import tools
from app.mcp.workspace import ToolFailure, Workspace
from app.why import decisions_document
from checks.config import CONFIG_FILE

logger = logging.getLogger(__name__)

INSTRUCTIONS = (
    "Cairn answers from the repository's own index, conventions and decision log, with the "
    "verdicts of the pull-request checks. Before writing a function, ask similar_code whether "
    "the repository already has it; before adding a dependency or an import, ask "
    "decisions_for and conventions_for; before proposing the change, run review_change on "
    "the draft: its findings are exactly those the required `cairn` check will report."
)
MAX_PATH = 1_000  # characters of a path argument
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)


class Resolver(Protocol):
    """How a call finds its repository."""

    async def workspace(self, ctx: Context, repo: str | None) -> Workspace:
        """The workspace of ``repo`` (OWNER/NAME; None: the default one), or ToolFailure."""
        ...


class DraftFileInput(TypedDict):
    path: Annotated[
        str, Field(description="path relative to the repository's root", max_length=MAX_PATH)
    ]
    content: Annotated[
        str | None, Field(description="the file's whole new text; null deletes the file")
    ]


RepoArg = Annotated[
    str | None,
    Field(
        description="OWNER/NAME of the repository (over HTTP: one of the token's installation; "
        "by default the one the token was created for). Over stdio: leave it out.",
        max_length=200,
    ),
]


class LocalResolver:
    """Over stdio: every call reads the one checkout the server was started on."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    async def workspace(self, ctx: Context, repo: str | None) -> Workspace:
        if repo and repo not in (self.ws.name, self.ws.name.removeprefix("local:")):
            assert self.ws.git is not None
            if repo.rstrip("/").rsplit("/", 1)[-1] != self.ws.git.root.name:
                raise ToolFailure(
                    f"this server answers for {self.ws.git.root} only; leave `repo` out"
                )
        return self.ws


def _result(answer: tools.Answer) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=answer.text)], structured_content=answer.doc
    )


async def _call(resolver: Resolver, ctx: Context, repo: str | None, run: Any) -> CallToolResult:
    try:
        ws = await resolver.workspace(ctx, repo)
        await ws.refresh()
        return _result(await run(ws))
    except ToolFailure as exc:
        raise ToolError(str(exc)) from exc
    except AnalysisError as exc:
        raise ToolError(f"the analysis could not finish: {exc}") from exc
    except CairnError as exc:  # git, configuration, the environment: said, not a crash
        raise ToolError(str(exc)) from exc


def build_server(resolver: Resolver, *, http: bool = False) -> MCPServer:
    """The server with its tools and resources; ``http``: resources named by repository."""
    server: MCPServer = MCPServer(
        name="cairn",
        title="Cairn",
        instructions=INSTRUCTIONS,
        log_level="WARNING",
    )

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def similar_code(
        ctx: Context,
        code: Annotated[
            str | None, Field(description="a snippet: a function, a class or a few statements")
        ] = None,
        query: Annotated[
            str | None,
            Field(
                description="instead of code: words to search names, identifiers, "
                'docstrings and comments for ("parse ISO dates")'
            ),
        ] = None,
        language: Annotated[
            str | None, Field(description="the snippet's language (python, go, ...)", max_length=40)
        ] = None,
        path: Annotated[
            str | None,
            Field(
                description="where the snippet would live (its extension gives the language)",
                max_length=MAX_PATH,
            ),
        ] = None,
        limit: Annotated[int, Field(ge=1, le=tools.MAX_RESULTS)] = 5,
        repo: RepoArg = None,
    ) -> CallToolResult:
        """Existing functions, methods and classes similar to a snippet (exact, renamed or
        near-miss copies), with path, lines, similarity and source; or, with `query`, the
        units whose words match. Answers "is there already a function that does this?"."""
        return await _call(
            resolver,
            ctx,
            repo,
            lambda ws: tools.similar_code(ws, code, query, language, path, limit),
        )

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def decisions_for(
        ctx: Context,
        path: Annotated[
            str | None, Field(description="a file path, existing or planned", max_length=MAX_PATH)
        ] = None,
        technology: Annotated[
            str | None, Field(description='a library, tool or service ("requests")', max_length=200)
        ] = None,
        repo: RepoArg = None,
    ) -> CallToolResult:
        """The binding decisions (ADRs) that govern a file or a technology: the record, its
        status, what it rules out, what to use instead, and the pull requests and commits
        that made it."""
        return await _call(
            resolver, ctx, repo, lambda ws: tools.decisions_for(ws, path, technology)
        )

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def conventions_for(
        ctx: Context,
        path: Annotated[
            str, Field(description="a file path, existing or planned", max_length=MAX_PATH)
        ],
        repo: RepoArg = None,
    ) -> CallToolResult:
        """The configured rules (layers, forbid, prefer, naming, structure) and the
        conventions mined from the code that apply at a path, with their evidence."""
        return await _call(resolver, ctx, repo, lambda ws: tools.conventions_for(ws, path))

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def review_change(
        ctx: Context,
        files: Annotated[
            list[DraftFileInput] | None,
            Field(description="the changed files with their whole new contents"),
        ] = None,
        diff: Annotated[
            str | None,
            Field(
                description="instead of files: a unified diff (git diff) against the indexed commit"
            ),
        ] = None,
        repo: RepoArg = None,
    ) -> CallToolResult:
        """The findings `cairn review` reports for this change against the indexed commit:
        duplication, broken patterns, overridden decisions, with the same fingerprints and
        messages as the required pull-request check."""
        drafts = [dict(f) for f in files] if files is not None else None
        return await _call(resolver, ctx, repo, lambda ws: tools.review_change(ws, drafts, diff))

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def why(
        ctx: Context,
        path: Annotated[str, Field(description="a file of the repository", max_length=MAX_PATH)],
        line: Annotated[int | None, Field(ge=1, description="a line of it")] = None,
        repo: RepoArg = None,
    ) -> CallToolResult:
        """The decisions, pull requests and commits that shaped this code, newest first, each
        with why it is listed (as `cairn why PATH[:LINE]`)."""
        return await _call(resolver, ctx, repo, lambda ws: tools.why_tool(ws, path, line))

    _resources(server, resolver, http=http)
    return server


async def _resource_ws(resolver: Resolver, ctx: Context, repo: str | None) -> Workspace:
    try:
        ws = await resolver.workspace(ctx, repo)
        await ws.refresh()
        return ws
    except CairnError as exc:
        raise ResourceError(str(exc)) from exc


async def _log_text(ws: Workspace) -> str:
    return json.dumps(decisions_document(await tools.decision_log(ws)), indent=2)


async def _record_text(ws: Workspace, record: str) -> str:
    log = await tools.decision_log(ws)
    wanted = record.strip().lower()
    for a in log.records:
        if wanted in (a.label.lower(), a.path.lower(), a.path.rsplit("/", 1)[-1].lower()):
            return _record_markdown(a)
    raise ResourceError(f"no decision record {record!r} (cairn://decisions lists them)")


def _record_markdown(a: Adr) -> str:
    return f"<!-- {a.path} · {a.status or 'no status'} · {a.date} -->\n{a.body}"


def _config_text(ws: Workspace) -> str:
    if ws.config_text is None:
        return f"# no {CONFIG_FILE} at {ws.commit[:10]}: Cairn's defaults apply\n"
    return ws.config_text


def _resources(server: MCPServer, resolver: Resolver, *, http: bool) -> None:
    if http:

        @server.resource(
            "cairn://{owner}/{name}/decisions",
            name="decisions",
            description="the repository's decision log (JSON, as `cairn decisions`)",
            mime_type="application/json",
        )
        async def repo_decisions(owner: str, name: str, ctx: Context) -> str:
            return await _log_text(await _resource_ws(resolver, ctx, f"{owner}/{name}"))

        @server.resource(
            "cairn://{owner}/{name}/decisions/{record}",
            name="decision",
            description="one decision record (ADR-0001, or its file name)",
            mime_type="text/markdown",
        )
        async def repo_record(owner: str, name: str, record: str, ctx: Context) -> str:
            return await _record_text(await _resource_ws(resolver, ctx, f"{owner}/{name}"), record)

        @server.resource(
            "cairn://{owner}/{name}/configuration",
            name="configuration",
            description=f"the repository's {CONFIG_FILE}",
            mime_type="text/yaml",
        )
        async def repo_config(owner: str, name: str, ctx: Context) -> str:
            return _config_text(await _resource_ws(resolver, ctx, f"{owner}/{name}"))

        return

    @server.resource(
        "cairn://decisions/{record}",
        name="decision",
        description="one decision record (ADR-0001, or its file name), as written",
        mime_type="text/markdown",
    )
    async def record(record: str, ctx: Context) -> str:
        return await _record_text(await _resource_ws(resolver, ctx, None), record)


def add_static_resources(server: MCPServer, ws: Workspace, records: list[Adr]) -> None:
    """Over stdio: the log, each record and the configuration as listed resources."""
    add_log_resources(server, ws)
    add_record_resources(server, ws, records)


def add_log_resources(server: MCPServer, ws: Workspace) -> None:
    """The decision log and the configuration, listed."""

    async def log() -> str:
        await ws.refresh()
        return await _log_text(ws)

    async def config() -> str:
        await ws.refresh()
        return _config_text(ws)

    server.resource(
        "cairn://decisions",
        name="decisions",
        description="the decision log: statuses, supersession, constraints (JSON)",
        mime_type="application/json",
    )(log)
    server.resource(
        "cairn://configuration",
        name="configuration",
        description=f"{CONFIG_FILE} at the indexed commit",
        mime_type="text/yaml",
    )(config)


def add_record_resources(server: MCPServer, ws: Workspace, records: list[Adr]) -> None:
    """One listed resource per decision record."""
    for a in records:
        server.resource(
            f"cairn://decisions/{a.label}",
            name=a.label,
            title=a.title,
            description=f"{a.label} {a.title} ({a.status or 'no status'}) — {a.path}",
            mime_type="text/markdown",
        )(_record_reader(ws, a.label))


def _record_reader(ws: Workspace, label: str) -> Any:
    async def read() -> str:
        await ws.refresh()
        return await _record_text(ws, label)

    return read

"""Every GraphQL document Cairn sends, held to GitHub's published schema.

``GraphQLContract.check`` parses the request's document, validates it against the schema
(graphql-core's standard rules) and refuses any deprecated field, argument or enum value
(``NoDeprecatedCustomRule``: GitHub deprecates a field long before it removes or breaks it),
then coerces the request's variables to the operation's variable types. With ``answers``
(root data by operation type), the document is executed against the schema on that data, so
the answer has exactly the shape the query asks for, typed as the schema says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLSchema,
    OperationDefinitionNode,
    execute_sync,
    parse,
    validate,
)
from graphql.error import GraphQLError
from graphql.execution.values import get_variable_values
from graphql.validation import NoDeprecatedCustomRule, specified_rules


@dataclass
class GraphQLContract:
    schema: GraphQLSchema
    answers: dict[str, Any] = field(default_factory=dict)  # "query"/"mutation" -> root data
    documents: list[str] = field(default_factory=list)

    def check(self, body: dict[str, Any]) -> dict[str, Any]:
        """The answer to a request ``{"query", "variables"}``; AssertionError on a violation."""
        text = body.get("query")
        assert isinstance(text, str), "the request has no query"
        self.documents.append(text)
        try:
            document = parse(text)
        except GraphQLError as e:
            raise AssertionError(f"the document does not parse: {e.message}") from e
        errors = validate(self.schema, document, [*specified_rules, NoDeprecatedCustomRule])
        assert not errors, "; ".join(e.message for e in errors)
        [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        coerced = get_variable_values(
            self.schema, operation.variable_definitions or (), body.get("variables") or {}
        )
        assert not isinstance(coerced, list), "; ".join(e.message for e in coerced)
        kind = operation.operation.value
        if kind not in self.answers:
            return {}
        result = execute_sync(
            self.schema,
            document,
            root_value=self.answers[kind],
            variable_values=body.get("variables") or {},
        )
        assert not result.errors, "; ".join(e.message for e in result.errors)
        return {"data": result.data}

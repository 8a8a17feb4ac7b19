"""The words of decisions: the verbs, negations, hedges and nouns that :mod:`analyzers.adr_cues`
reads around each technology a sentence names.

Data, and the patterns built from it. What the words are lives here; how a sentence is read
with them lives in :mod:`analyzers.adr_cues`.
"""

from __future__ import annotations

import re

CHOSEN, REJECTED, REMOVED, MENTIONED = "chosen", "rejected", "removed", "mentioned"
STATED, WEIGHED = "stated", "weighed"
NEGATIVE = (REJECTED, REMOVED)


def _words(text: str) -> tuple[str, ...]:
    return tuple(w for w in text.split("|") if w)


CHOOSE_CUES = _words(
    "use|uses|using|adopt|adopts|adopting|adopted|choose|chose|chosen|choosing|pick|"
    "decided for|decide for|"
    "picked|select|selected|go with|going with|went with|opt for|opted for|"
    "standardize on|standardise on|standardized on|standardised on|settle on|settled on|"
    "rely on|relying on|build on|built on|introduce|introducing|add|adding|keep|keeping|"
    "stick with|sticking with|sticked to|stay with|stay on|continue to use|"
    "continue using|prefer|prefers|preferring|favour|favor|in favour of|in favor of|"
    "recommend|recommends|leverage|employ|install|deploy|embrace|implement|move to|"
    "moving to|moved to|switch to|switching to|switched to|migrate to|migrating to|"
    "migrated to|upgrade to|transition to|port to|convert to|consolidate on|go for|"
    "decided on|land on|stick to"
)
REJECT = _words(
    "instead of|rather than|in place of|avoid|avoids|avoiding|reject|rejecting|ban|"
    "forbid|disallow|decided against|decide against|voted against|vote against|"
    "argued against|argue against|recommend against|recommended against|advise against|"
    "advised against|ruled out|rule out|steer clear of|without|neglected|neglect|"
    "rejected|rejects|exclude|excludes|excluded|excluding|"
    "not|no"
)
REMOVE_CUES = _words(
    "remove|removes|removing|drop|drops|dropping|stop using|stopped using|no longer use|"
    "no longer using|deprecate|deprecating|phase out|phasing out|retire|retiring|"
    "get rid of|getting rid of|eliminate|eliminating|uninstall|abandon|abandoning|ditch|"
    "ditching|ditched|delete|deletes|deleting|"
    "sunset|sunsetting|move away from|moving away from|moved away from|migrate away from|"
    "migrating away from|migrate off|move off|moving off|away from|switch off|"
    "switched off|turn off|turned off|replace|replaces|replacing|ejecting from|"
    "eject from|leave behind|wean off"
)
WEIGH = _words(
    "considered|consider|considering|explored|explore|evaluated|evaluate|evaluating|"
    "looked at|look at|investigated|investigate|compared|compare|tried|assessed|reviewed|"
    "weighed|trialled|trialed|spiked"
)
MOTION = _words(
    "switch|switching|switched|move|moving|moved|migrate|migrating|migrated|transition|"
    "transitioning|port|porting|convert|converting|change|changing|go|going|upgrade|"
    "upgrading|jump|shift|shifting|moves|migration|switches"
)
HEDGE_CUES = _words(
    "if|unless|whether|might|may|could|perhaps|maybe|possibly|potentially|in the future|"
    "someday|eventually|would like to|hope to|would|at a future point|future|can|allows|"
    "allow|allowing|able to|lets|enables|one option|an option|alternatively"
)
NEGATIVE_TURN = re.compile(
    r"\b(but|however|although|though|instead|rejected|decided against|did not|didn't|dismissed|"
    r"ruled out|not worth|too|worse|lacks?|unmaintained|deprecated|dead)\b"
)
POSTFIX_NEGATIVE = re.compile(
    r"^\W*(?:(?:is|are|was|were|will be|would be|has been|have been|had been|gets|got|being|"
    r"should be|must be|can be|to be)\s+)?(?:now\s+|also\s+|being\s+|officially\s+)?"
    r"(deprecated|removed|dropped|rejected|banned|forbidden|discouraged|retired|abandoned|avoided|"
    r"phased out|replaced|sunset|switched off|turned off|deleted|no longer (?:be )?"
    r"(?:used|supported|needed|maintained|recommended|required)|not (?:be )?"
    r"(?:allowed|permitted|supported|recommended|used))\b|"
    r"^\W*(?:isn't|is not|aren't|are not|was not|wasn't|were not|weren't|is no longer|"
    r"was no longer)"
    r"\s+(?:\w+\s+)?(?:practical|viable|suitable|appropriate|a good fit|worth it|worth the effort|"
    r"an option|feasible|needed|necessary|fit for (?:our )?(?:needs|purpose))\b"
)
POSTFIX_NOUN = re.compile(r"^\W*(removal|deprecation|retirement|sunset|decommission\w*)\b")
POSTFIX_CHOSEN = re.compile(
    r"^\W*(?:(?:is|are|was|were|will be|has been|have been|had been)\s+)(?:now\s+)?"
    r"(not\s+)?(chosen|selected|adopted|preferred|recommended|the default|the way forward)\b"
)
REPLACED_BY = re.compile(r"\b(?:replaced|superseded|succeeded) by\b")
NEW_CODE = re.compile(
    r"\b(new code|going forward|from now on|moving forward|new (?:components|features|services|"
    r"projects|modules|tests|files|work)|for new|in new|gradually|incrementally|over time)\b"
)
QUALIFIER = re.compile(
    r"^\s*(?:in|on|for)\s+(?:the\s+)?(production|prod|staging|development|dev|local|"
    r"locally|live)\b"
)
TROUBLE = re.compile(
    r"\b(difficult\w*|problems?|issues?|complexity|overhead|costs?|pitfalls?|risks?|pain|"
    r"limitations?|drawbacks?|bugs?|errors?|need for|reliance on|dependence on|lock-in|"
    r"vulnerabilit\w*|warnings?)\b"
)
OWN = re.compile(
    r"\bthis (?:excludes|rules out|precludes|prohibits)\b|"  # the team's rule, just stated
    r"\b(we|our|us|the team|prior decision|previous decision|previously|currently|existing|"
    r"this project|this repository|the codebase|the project|the service|the application|"
    r"the app)\b"
)
QUALIFIED = re.compile(
    r"\b(?:in|on|for)\s+(?:the\s+)?(production|prod|staging|development|dev|live)\b"
)
# Words after a technology that keep it the thing decided ("remove the Skylight service");
# any other noun makes the name a modifier ("python scripts"): no rule from it.
SELF_NOUNS = frozenset(
    [
        "dependency",
        "dependencies",
        "library",
        "libraries",
        "lib",
        "libs",
        "package",
        "packages",
        "gem",
        "gems",
        "module",
        "modules",
        "crate",
        "crates",
        "driver",
        "drivers",
        "client",
        "clients",
        "sdk",
        "sdks",
        "framework",
        "frameworks",
        "tool",
        "tools",
        "tooling",
        "cli",
        "service",
        "services",
        "server",
        "servers",
        "database",
        "databases",
        "db",
        "instance",
        "instances",
        "cluster",
        "integration",
        "integrations",
        "support",
        "usage",
        "plugin",
        "plugins",
        "setup",
        "config",
        "configuration",
        "pipeline",
        "pipelines",
        "workflow",
        "workflows",
        "build",
        "builds",
        "image",
        "images",
        "container",
        "containers",
        "runner",
        "runners",
        "workspace",
        "workspaces",
        "binding",
        "bindings",
        "engine",
        "engines",
        "adapter",
        "adapters",
        "api",
        "apis",
        "app",
        "apps",
        "account",
        "accounts",
        "code",
        "version",
        "versions",
        "queue",
        "queues",
        "stack",
        "platform",
        "profiler",
        "agent",
        "agents",
        "provider",
        "providers",
        "connector",
        "connectors",
        "wrapper",
        "wrappers",
        "extension",
        "extensions",
        "addon",
        "addons",
        "backend",
        "layer",
        "store",
        "cache",
        "broker",
        "implementation",
        "approach",
        "solution",
        "option",
        "options",
        "polyfill",
        "ui",
        "bundler",
        "linter",
        "formatter",
        "test",
        "tests",
        "specs",
        "suite",
        "gateway",
        "proxy",
        "router",
        "component",
        "components",
        "web",
        "file",
        "files",
    ]
)
FOLLOWERS = frozenset(
    [
        "in",
        "for",
        "on",
        "at",
        "to",
        "when",
        "and",
        "or",
        "with",
        "from",
        "as",
        "by",
        "anymore",
        "any",
        "again",
        "here",
        "there",
        "now",
        "unless",
        "except",
        "because",
        "since",
        "if",
        "where",
        "which",
        "that",
        "but",
        "so",
        "across",
        "within",
        "inside",
        "outside",
        "directly",
        "altogether",
        "entirely",
        "anywhere",
        "going",
        "instead",
        "over",
        "than",
        "is",
        "are",
        "was",
        "were",
        "has",
        "have",
        "had",
        "will",
        "would",
        "should",
        "must",
        "can",
        "may",
        "might",
        "shall",
        "could",
        "does",
        "do",
        "did",
        "be",
        "being",
        "been",
        "itself",
        "until",
        "after",
        "before",
        "during",
        "while",
        "via",
        "into",
        "under",
        "the",
        "a",
        "an",
        "our",
        "its",
        "rather",
        "their",
        "this",
        "these",
        "those",
        "all",
        "every",
        "also",
        "only",
        "too",
        "either",
        "nor",
        "not",
        "isn't",
        "aren't",
        "wasn't",
        "weren't",
        "doesn't",
        "don't",
        "won't",
        "can't",
        "shouldn't",
        "hasn't",
        "haven't",
    ]
)

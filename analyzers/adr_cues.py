"""The cues of a sentence: what it does with each technology it names.

Pure. A clause's decision verbs (use, adopt, switch to, replace … with, remove, drop, stop
using …), its negations ("not", "no", "won't use"), its hedges (if, might, could …), and the
patterns around a name ("X over Y", "X instead of Y", "from X to Y", "X is deprecated") give each
named technology a stance: chosen, rejected, removed, weighed (an alternative someone
considered) or only mentioned. A name used as a modifier ("python scripts") decides nothing; a
common word (``fetch``, ``Flask``) counts only in a decision slot.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from analyzers.adr_vocabulary import (
    CHOOSE_CUES,
    CHOSEN,
    FOLLOWERS,
    HEDGE_CUES,
    MENTIONED,
    MOTION,
    POSTFIX_CHOSEN,
    POSTFIX_NEGATIVE,
    POSTFIX_NOUN,
    QUALIFIED,
    QUALIFIER,
    REJECT,
    REJECTED,
    REMOVE_CUES,
    REMOVED,
    REPLACED_BY,
    SELF_NOUNS,
    STATED,
    TROUBLE,
    WEIGH,
)
from analyzers.catalog import Catalog, Found


@dataclass(slots=True)
class Occurrence:
    found: Found
    term: str
    tech: str
    code: bool
    stance: str = ""
    strength: str = STATED
    prefer: str = ""


def mentions_of(sentence: str, catalog: Catalog) -> list[Occurrence]:
    """The technologies and code terms a sentence names, in order."""
    occ = [Occurrence(f, sentence[f.start : f.end], f.tech, False) for f in catalog.find(sentence)]
    for m in re.finditer(r"`([^`\n]{1,100})`", sentence):
        inside = [o for o in occ if m.start() <= o.found.start and o.found.end <= m.end()]
        term = m.group(1).strip()
        if inside:
            for o in inside:
                o.code = True
                o.found = replace(o.found, weak=False)
            continue
        if not re.fullmatch(r"[@\w][\w.@/:+#-]*(\(\))?", term):
            continue
        if re.fullmatch(r"[A-Z][A-Za-z0-9]*", term) and not catalog.named(term):
            continue  # a class or model name (`User`, `Access`): no technology
        term = term.removesuffix("()")
        techs = sorted(catalog.named(term))
        f = Found(m.start(), m.end(), techs[0] if techs else "", term)
        occ.append(Occurrence(f, term, f.tech, True))
    for m in re.finditer(r"(?<![\w`@/.-])([a-z@][\w@]*(?:[./-][\w@]+)+)(?![\w`])", sentence):
        if any(o.found.start <= m.start() < o.found.end for o in occ):
            continue
        techs = sorted(catalog.named(m.group(1)))
        if techs:
            f = Found(m.start(), m.end(), techs[0], m.group(1))
            occ.append(Occurrence(f, m.group(1), techs[0], False))
    return sorted(occ, key=lambda o: o.found.start)


def _clauses(sentence: str) -> list[tuple[int, int]]:
    """Spans of the clauses of a sentence: split at ; : ( ) and contrasts (but, however …)."""
    cuts = [0]
    for m in re.finditer(
        r";|:\s|\s[-–—]\s|,?\s+but\s|,?\s+however\b|\s+whereas\s|,\s*while\s|"
        r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)(?<!\bvs)(?<!\bcf)\.\s",
        sentence,
    ):
        cuts += [m.start(), m.end()]
    # "Rather than a SOURCE column, we derive it from X": the lead clause ends at its comma
    lead = re.match(r"^\W*(?:rather than|instead of|unlike|in place of)\b[^,;]*,", sentence, re.I)
    if lead:
        cuts += [lead.end(), lead.end()]
        cuts.sort()
    cuts.append(len(sentence))
    spans = []
    for a, b in zip(cuts[::2], cuts[1::2], strict=False):
        if b > a:
            spans.append((a, b))
    return spans or [(0, len(sentence))]


_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|n't")


def cues(text: str, phrases: Iterable[str]) -> list[tuple[int, int, str]]:
    """Where each phrase occurs as whole words: (start, end, phrase); at one start the longest."""
    lower = text.lower()
    return [(m.start(1), m.end(1), m.group(1)) for m in _phrases(tuple(phrases)).finditer(lower)]


@functools.cache
def _phrases(phrases: tuple[str, ...]) -> re.Pattern[str]:
    # a lookahead finds a match at every start, so phrases that overlap are all found
    alternatives = "|".join(re.escape(p) for p in sorted(set(phrases), key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?=({alternatives})(?![\w-]))")


def classify(sentence: str, occ: list[Occurrence], *, title: bool = False) -> None:
    """Set each occurrence's stance from the cues of its clause (and its clause's neighbours)."""
    lower = sentence.lower()
    for a, b in _clauses(sentence):
        clause = lower[a:b]
        inside = [o for o in occ if a <= o.found.start < b]
        if not inside:
            continue
        events: list[tuple[int, int, str, str]] = []  # (start, end, kind, phrase)
        kinds = (
            ("choose", CHOOSE_CUES),
            ("reject", REJECT),
            ("remove", REMOVE_CUES),
            ("weigh", WEIGH),
            ("motion", MOTION),
            ("hedge", HEDGE_CUES),
        )
        for kind, phrases in kinds:
            events += [(a + s, a + e, kind, p) for s, e, p in cues(clause, phrases)]
        for m in re.finditer(
            r"(?<![\w-])(from|to|with|by|over|vs\.?|versus|in|on|for|at|inside|within|across|under|"
            r"via|into|throughout|during)(?![\w-])",
            clause,
        ):
            events.append((a + m.start(), a + m.end(), "link", m.group(1)))
        events.sort()
        # longer phrases win over the words inside them ("instead of" over "of", "stop using")
        kept: list[tuple[int, int, str, str]] = []
        for ev in events:
            if kept and ev[0] < kept[-1][1]:
                if ev[1] - ev[0] > kept[-1][1] - kept[-1][0]:
                    kept[-1] = ev
                continue
            kept.append(ev)
        _walk(sentence, clause, a, kept, inside, title)
    # "we will not follow their guide, which suggests using Gulp": what a source we decline
    # to follow recommends is rejected
    declined = _DECLINED_ADVICE.search(lower)
    if declined:
        for o in occ:
            if o.found.start >= declined.end() and o.stance in (CHOSEN, MENTIONED, ""):
                o.stance = REJECTED


def _walk(
    sentence: str,
    clause: str,
    base: int,
    events: list[tuple[int, int, str, str]],
    inside: list[Occurrence],
    title: bool,
) -> None:
    mode = ""  # choose | reject | remove | weigh
    hedged = any(e[2] == "hedge" for e in events)  # a conditional clause decides nothing
    qualified = bool(QUALIFIED.search(clause))  # "on production": a condition, not a rule
    motion = False
    replacing = False
    last_cue_end = -1
    seen: list[Occurrence] = []
    queue = sorted(
        [(e[0], 0, e) for e in events] + [(o.found.start, 1, o) for o in inside],
        key=lambda x: (x[0], x[1]),
    )
    for _, is_occ, item in queue:
        if is_occ:
            o: Occurrence = item  # type: ignore[assignment]
            if o.found.as_word and not o.code:  # "decided to go with": the word, not Go
                o.stance = ""
                continue
            if (o.found.weak or (o.code and not o.tech)) and not _slot(sentence, o, events, inside):
                o.stance = ""
                continue
            after = _PARENTHESES.sub(
                "", sentence[o.found.end :].lstrip("`")
            )  # "Trestle (link) isn't"
            if QUALIFIER.match(after) or qualified:
                o.stance = MENTIONED
                seen.append(o)
                continue
            # "the `six` package is deprecated": the predicate past the name's own noun
            bare = _OWN_NOUN.sub("", after, count=1)
            if not POSTFIX_NEGATIVE.match(bare.lower()):  # "… located in the `x` folder will be …"
                bare = _WHERE.sub("", bare, count=1)
            postfix = POSTFIX_NEGATIVE.match(bare.lower()) or POSTFIX_CHOSEN.match(bare.lower())
            # a name before a noun qualifies it ("python scripts", "`fetch` replacement
            # packages"); a code span the catalog does not know is the thing ("`global` flags")
            if (o.tech or not o.code) and not postfix and _modifier(after) and not title:
                o.stance = MENTIONED
                seen.append(o)
                continue
            if o.tech in _REGISTRIES and _REGISTRY_SENSE.match(after):
                o.stance = ""  # "a global NPM package": the registry, not the client
                continue
            if POSTFIX_NEGATIVE.match(bare.lower()) or (
                title and POSTFIX_NOUN.match(after.lower())
            ):
                o.stance = REMOVED
            elif (c := POSTFIX_CHOSEN.match(bare.lower())) is not None:
                o.stance = REJECTED if c.group(1) else CHOSEN
            elif REPLACED_BY.match(after.lower().lstrip(" ,")) or after.lower().lstrip().startswith(
                ("is replaced by", "was replaced by", "will be replaced by", "being replaced by")
            ):
                o.stance = REMOVED
            elif mode == "choose":
                o.stance = CHOSEN
            elif mode in ("reject", "remove") and TROUBLE.search(
                sentence[last_cue_end : o.found.start].lower()
            ):
                o.stance = ""  # "avoids the difficulties of Storybook": the difficulty goes
            elif mode in ("reject", "remove") and _GERUND.search(
                sentence[last_cue_end : o.found.start].lower()
            ):
                o.stance = ""  # "instead of mocking fetch": the object of another verb
            elif mode == "reject":
                o.stance = REJECTED
            elif mode == "remove":
                o.stance = REMOVED
            elif mode == "weigh":  # the thing weighed, not what it is built in ("in Rails")
                gap = sentence[last_cue_end : o.found.start].lower()
                prep = re.search(
                    r"\b(in|on|with|within|for|into|inside|through|via|to|of|from)\b", gap
                )
                o.stance = "" if prep else "weighed"
            else:
                o.stance = ""
            if hedged and o.stance in (CHOSEN, REJECTED, REMOVED):
                o.stance = "weighed" if o.stance == REJECTED else MENTIONED
            seen.append(o)
            continue
        start, end, kind, phrase = item  # type: ignore[misc]
        before = sentence[max(0, start - 24) : start].lower()
        if kind == "hedge":
            continue
        if kind == "motion":
            motion = True
            continue
        if kind == "link":
            if phrase == "from" and motion:
                mode = "remove"
            elif phrase == "to" and motion and mode == "remove":
                mode = "choose"
            elif phrase in ("with", "by") and replacing:
                mode = "choose"
                replacing = False
            elif phrase == "to" and not motion and not _next_is_mention(start, end, inside):
                mode = ""  # "use MSW to mock http requests": a purpose, not the choice
            elif phrase == "over" and seen and _next_is_mention(start, end, inside):
                for s in seen:
                    if not s.stance:
                        s.stance = CHOSEN
                mode = "reject"
            elif phrase.startswith(("vs", "versus")):
                mode = ""
            elif phrase in _PLACES and any(s.stance for s in seen):
                mode = ""  # "never use sudo in Dockerfiles": the place is not the object
            continue
        if kind == "reject" and phrase in ("not", "no"):
            nxt = _next_mention(start, end, inside)
            if nxt is None:
                continue
            rest = clause[nxt.found.end - base :]
            # "Postgres, not MySQL", "(No Yarn)", "no message queue … shall be used"; never
            # "no Python on the user's machine"
            ends = re.match(r"^[\s)\].,;:!?'\"]*$", rest)
            if not (title or ends or _PASSIVE_USE.search(rest)):
                continue
        if kind == "reject" and phrase in ("instead of", "rather than", "in place of"):
            for s in seen:
                if not s.stance:
                    s.stance = CHOSEN
        if kind == "remove" and phrase.startswith("replac"):
            replacing = True
            for s in seen:  # "X will replace Y": X is the choice
                if not s.stance:
                    s.stance = CHOSEN
        window = before.split(",")[-1][-24:]
        negated = bool(re.search(r"\b(not|never|cannot|no longer|against)\b|n't\b", window))
        if kind == "choose":
            if mode in ("reject", "remove", "weigh") and start - last_cue_end <= 12:
                pass  # "avoid using", "stop using", "decided against adopting", "considered using"
            elif negated:
                mode = "remove" if "no longer" in before else "reject"
            elif phrase in ("keep", "keeping") and mode == "remove":
                pass
            else:
                mode = "choose"
        elif kind == "remove":
            mode = "" if negated else "remove"
        elif kind == "reject":
            mode = "reject"
        elif kind == "weigh":
            mode = "weigh"
        last_cue_end = end
    for s in seen:
        if not s.stance:
            s.stance = MENTIONED
    # "the decision to use OSCAL with Trestle isn't practical": the predicate after the last
    # name is about every name joined to it
    for first, second in reversed(list(itertools.pairwise(seen))):
        gap = _PARENTHESES.sub("", sentence[first.found.end : second.found.start]).lower()
        if (
            first.stance == CHOSEN
            and second.stance in (REJECTED, REMOVED)
            and POSTFIX_NEGATIVE.match(_PARENTHESES.sub("", sentence[second.found.end :]).lower())
            and re.fullmatch(r"[\s,/]*(?:and|or|with|plus|/)?[\s,/]*", gap)
        ):
            first.stance = second.stance


_DECLINED_ADVICE = re.compile(
    r"\b(?:not|n't|never)\s+(?:\w+\s+)?(?:follow|adopt|take|go with|use|apply)\b[^.;:]*?"
    r"\b(?:which|that)\s+(?:\w+\s+)?(?:suggests?|recommends?|proposes?|advises?|requires?|"
    r"prescribes?|relies on|uses?)\b"
)
# a parenthesis right after a name (a link's address, an abbreviation) is no part of its clause
_PARENTHESES = re.compile(r"^\s*\([^()]*\)")
# Where a thing is, between its name and what happens to it: "(located) in the `resources`
# folder", "under docs/" (at most five words, up to an auxiliary verb).
_WHERE = re.compile(
    r"^[\s`]*(?:(?:located|stored|kept|living|found|used)\s+)?(?:in|under|inside|within|at)\s+"
    r"(?:[\w`'./-]+\s+){1,5}?(?=(?:is|are|was|were|will|would|has|have|had|should|must|can)\b)"
)


def _next_mention(start: int, end: int, inside: list[Occurrence]) -> Occurrence | None:
    following = [o for o in inside if o.found.start >= end]
    if not following:
        return None
    nxt = min(following, key=lambda o: o.found.start)
    return nxt if nxt.found.start - end <= 6 else None  # "not MySQL", "no Yarn", "over the X"


def _next_is_mention(start: int, end: int, inside: list[Occurrence]) -> bool:
    return _next_mention(start, end, inside) is not None


_OWN_NOUN = re.compile(
    r"^\s+(?:package|library|gem|module|crate|dependency|framework|tool|client|driver|"
    r"plugin|service|sdk)s?\b",
    re.IGNORECASE,
)
# The object of another verb ("instead of mocking fetch"), unless the verb adopts the thing
# ("rather than setting up Snyk", "instead of running Jenkins").
_GERUND = re.compile(
    r"\b(?!using\b|adopting\b|introducing\b|adding\b|keeping\b|setting\b|installing\b|"
    r"running\b|hosting\b|self-hosting\b|deploying\b|maintaining\b|enabling\b|integrating\b|"
    r"relying\b|bringing\b|pulling\b)[a-z]{3,}ing\b"
)
_PASSIVE_USE = re.compile(r"\b(?:be|is|are|was|were)\s+(?:used|adopted|allowed|introduced)\b")
_PLACES = ("in", "on", "for", "at", "inside", "within", "across", "under", "via", "into",
           "throughout", "during")  # fmt: skip
_SLOT_GLUE = re.compile(r"^(?:[\s,`'\"]|and|or|nor|the|a|an|both|either|neither|all|any|of)*$")


def _slot(
    sentence: str,
    o: Occurrence,
    events: list[tuple[int, int, str, str]],
    inside: list[Occurrence],
) -> bool:
    """Whether an ambiguous name, or a code term the catalog does not know, fills a decision
    slot: it is the object of a decision verb (nothing but other names and "and"/"or" between
    them) and ends its phrase, or it stands right before "instead of"/"rather than"/"over"."""
    after = sentence[o.found.end :].lower()
    pair = re.match(r"^\s*(instead of|rather than|over|in favou?r of)\b", after)
    # "X over Y" only with a name after "over" ("exposed over HTTP" is no choice)
    if pair and (pair.group(1) != "over" or _next_is_mention(0, o.found.end + pair.end(), inside)):
        return True
    ends = re.match(
        r"^\s*([.,;:)!?]|$|(and|or|nor|for|in|instead|rather|over|to|with|from)\b)", after
    )
    if not ends and not (o.code and not o.tech):  # a code term needs no end: "`global` flags"
        return False
    verbs = [e for e in events if (e[2] in ("choose", "reject", "remove")
             and e[3] not in ("not", "no", "without", "against"))
             or (e[2] == "link" and e[3] in ("over", "to", "from", "with", "by"))]  # fmt: skip
    # "switch from X to Y" has slots; "made to migrate from live-0" does not
    verbs = [e for e in verbs if e[3] not in ("to", "from") or _after_motion(e, events)]
    verbs = [e for e in verbs if e[1] <= o.found.start]
    if not verbs:
        return False
    gap = sentence[verbs[-1][1] : o.found.start]
    for other in sorted(inside, key=lambda x: -x.found.start):
        s, e = other.found.start - verbs[-1][1], other.found.end - verbs[-1][1]
        if s >= 0 and e <= len(gap):
            gap = gap[:s] + gap[e:]
    return bool(_SLOT_GLUE.match(gap.lower()))


def _after_motion(link: tuple[int, int, str, str], events: list[tuple[int, int, str, str]]) -> bool:
    """Whether a "to"/"from" follows a verb of motion ("switch to", "move away from")."""
    return any(e[2] in ("motion", "remove", "choose") and 0 <= link[0] - e[1] <= 30 for e in events)


# Package managers named for their registry: "an npm package", "published to PyPI as a module".
_REGISTRIES = frozenset(("npm", "yarn", "pypi", "rubygems", "nuget", "maven", "cargo"))
_REGISTRY_SENSE = re.compile(
    r"^\s+(?:packages?|modules?|registry|registries|libraries|library)\b", re.IGNORECASE
)


def _modifier(after: str) -> bool:
    m = re.match(r"^\s+([a-z][a-z'-]*)\b", after, re.IGNORECASE)
    if m is None:
        return False
    word = m.group(1).lower()
    return word not in FOLLOWERS and word not in SELF_NOUNS and not word.endswith("ly")

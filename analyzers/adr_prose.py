"""Reading a decision record's prose: which technologies it chose, rejected and removed.

Pure. A record is read whole: its title, and each section by what it is (decision, options,
context, consequences); paragraphs are re-joined across hard-wrapped lines and split into
sentences (:mod:`analyzers.adr_text`). Each technology the catalog knows (and each code span)
is classified from the cues around it (:mod:`analyzers.adr_cues`): the title's shape, the
decision verbs, negation and hedging. Then the record as a whole decides: the options it weighed
when it picked one, and the alternatives of the same role it named next to its choice. Plain
words never become a rule: only technologies and code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from analyzers.adr_cues import Occurrence, classify, cues, mentions_of
from analyzers.adr_text import Sentence, sentences
from analyzers.adr_vocabulary import (
    CHOOSE_CUES,
    CHOSEN,
    HEDGE_CUES,
    MENTIONED,
    NEGATIVE,
    NEGATIVE_TURN,
    NEW_CODE,
    OWN,
    REJECTED,
    REMOVE_CUES,
    REMOVED,
    STATED,
    WEIGHED,
)
from analyzers.catalog import Catalog

__all__ = ["CHOSEN", "MENTIONED", "NEGATIVE", "REJECTED", "REMOVED", "STATED", "WEIGHED",
           "Mention", "read"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Mention:
    """A technology (or a code term) a record names, and what the record does with it."""

    term: str  # as the record writes it
    tech: str  # catalog id; "" for a term the catalog does not know
    stance: str  # chosen | rejected | removed | mentioned
    strength: str = STATED  # stated in words, or weighed (an option or alternative passed over)
    section: str = ""  # title | decision | consequences | options | context
    line: int = 0  # 1-based, in the file
    sentence: str = ""
    code: bool = False  # written in a code span
    new_code: bool = False  # "in new code", "going forward": legacy uses are expected
    prefer: str = ""  # what the record chose instead, as it names it

    def to_json(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "tech": self.tech,
            "stance": self.stance,
            "strength": self.strength,
            "section": self.section,
            "line": self.line,
            "sentence": self.sentence,
            "code": self.code,
            "new_code": self.new_code,
            "prefer": self.prefer,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Mention:
        return cls(
            term=str(raw.get("term", "")),
            tech=str(raw.get("tech", "")),
            stance=str(raw.get("stance", MENTIONED)),
            strength=str(raw.get("strength", STATED)),
            section=str(raw.get("section", "")),
            line=int(raw.get("line", 0)),
            sentence=str(raw.get("sentence", "")),
            code=bool(raw.get("code", False)),
            new_code=bool(raw.get("new_code", False)),
            prefer=str(raw.get("prefer", "")),
        )


# ---------------------------------------------------------------------------------------------
# The record as a whole


@dataclass(slots=True)
class _Acc:
    """What the record says of one technology, per source."""

    term: str
    tech: str
    code: bool
    stated: list[tuple[str, Sentence, Occurrence]] = field(default_factory=list)
    context: list[tuple[str, Sentence, Occurrence]] = field(default_factory=list)
    options: list[tuple[str, Sentence]] = field(default_factory=list)  # option label
    weighed: list[tuple[Sentence, Occurrence]] = field(default_factory=list)
    mentioned: list[Sentence] = field(default_factory=list)


_DECISIVE = ("title", "decision", "consequences")
_SKIP = ("status", "other")


def read(title: str, lines: Sequence[str], offset: int, catalog: Catalog) -> tuple[Mention, ...]:
    """What the record chose, rejected and removed, technology by technology."""
    sents = sentences(title, lines, offset)
    accs: dict[str, _Acc] = {}
    option_items: dict[str, list[tuple[str, Sentence]]] = {}  # label -> techs
    decision_text: list[Sentence] = []
    defaults: list[tuple[str, Sentence, Occurrence]] = []
    headed: dict[str, None] = {}  # the labels of headed options, in order
    for s in sents:
        if s.section in _SKIP:
            continue
        if s.section == "decision":
            decision_text.append(s)
        occ = mentions_of(s.text, catalog)
        if s.text.rstrip().endswith("?") and not (
            s.section == "title" and s.text.lower().startswith("why")
        ):
            continue
        if s.section == "option" and s.item and _labels(s):
            headed.setdefault(s.item, None)  # an option, whether it names a technology or not
        if s.section == "option" or (s.section == "options" and s.listed):
            for o in occ:  # an option named by a common word: "* requests", "### Flask"
                if o.found.weak and o.found.start <= 2 + len(s.text) - len(s.text.lstrip("([ ")):
                    o.found = replace(o.found, weak=False)
        classify(s.text, occ, title=s.section == "title")
        if s.section == "decision" and _CHOSEN_LEAD.match(s.text):
            for o in occ:  # "Chosen option: Formik": named without a verb, still the choice
                if o.stance == MENTIONED:
                    o.stance = CHOSEN
        _attach_pairs(occ)
        for o in occ:
            if not o.stance:
                continue
            key = o.tech or o.term.lower()
            acc = accs.setdefault(key, _Acc(o.term, o.tech, o.code))
            acc.code = acc.code or o.code
            section = s.section
            if (
                section == "title"
                and o.stance == MENTIONED
                and _title_decides(s.text)
                and not _placed(s.text, o, occ)
            ):
                o.stance = CHOSEN
            first_decision = section == "decision" and s.first and o.stance == MENTIONED
            if first_decision and _cue_free(s.text) and not _hedged(s.text):
                defaults.append((key, s, o))  # "Option 3a, feature flags with the Waffle library"
            if section in ("option", "option-detail", "options"):
                if s.item:
                    label = s.item
                    option_items.setdefault(label, []).append((key, s))
                    acc.options.append((label, s))
                elif o.stance == "weighed":
                    acc.weighed.append((s, o))
                else:
                    acc.mentioned.append(s)
                continue
            if o.stance == "weighed":
                acc.weighed.append((s, o))
            elif section in _DECISIVE and o.stance in (CHOSEN, REJECTED, REMOVED):
                acc.stated.append((o.stance, s, o))
            elif o.stance in (REJECTED, REMOVED) and OWN.search(s.text.lower()):
                acc.context.append((o.stance, s, o))  # the team's own account, not a case study
            else:
                acc.mentioned.append(s)
    if not any(
        st == CHOSEN and s.section == "decision" for a in accs.values() for st, s, _ in a.stated
    ):
        for key, s, o in defaults:  # the decision names what it chose without a verb
            accs[key].stated.append((CHOSEN, s, o))
    if any(s.section == "option" for s in sents):  # options are headed: lists are their pros
        option_items = {
            label: [(k, s) for k, s in members if not s.listed]
            for label, members in option_items.items()
        }
        option_items = {label: members for label, members in option_items.items() if members}
        option_items = {label: option_items.get(label, []) for label in headed} | option_items
        for acc in accs.values():
            acc.options = [(label, s) for label, s in acc.options if not s.listed]
    chosen_label, said = _chosen_option(decision_text, option_items, sents)
    return _resolve(accs, option_items, chosen_label, said, catalog, sents)


def _title_decides(title: str) -> bool:
    lower = title.lower()
    return not re.search(r"\b(vs\.?|versus|or|comparison|compare|evaluat\w*|investigat\w*|spike|"
                         r"explor\w*|options?|alternatives?|consider\w*)\b", lower)  # fmt: skip


def _placed(text: str, o: Occurrence, occ: Sequence[Occurrence]) -> bool:
    """Whether a name is where an earlier name is used: "U.S. Web Design System in React"."""
    before = text[: o.found.start].lower()
    return bool(
        re.search(
            r"\b(?:in|on|for|within|inside|across|under|at|via|through)\s+(?:the\s+)?$", before
        )
        and any(x.found.end <= o.found.start and x is not o for x in occ)
    )


def _cue_free(text: str) -> bool:
    lower = text.lower()
    return not any(
        cues(lower, p) for p in (CHOOSE_CUES, REMOVE_CUES, ("instead of", "rather than"))
    )


def _hedged(text: str) -> bool:
    return bool(cues(text.lower(), HEDGE_CUES))


_CHOSEN_LEAD = re.compile(
    r"^\W*(?:chosen|selected)\s+(?:option|alternative|solution|approach)s?\W*:", re.IGNORECASE
)
_CHOSEN_OPTION = re.compile(
    r"(?:chosen (?:option|alternative|solution|approach)|selected (?:option|alternative)|"
    r"we (?:have )?(?:decided|chose|choose|selected|picked)(?: to go)?(?: with)?|"
    r"decided to go with|go with|going with|decision)\s*:?\s*[\"“]?\(?#?"
    r"(?:option\s*)?([0-9]+[a-z]?(?![a-z])|[a-z](?![a-z]))?\)?[\"”]?(.*)",
    re.IGNORECASE,
)


def _chosen_option(
    decision: Sequence[Sentence],
    items: dict[str, list[tuple[str, Sentence]]],
    sents: Sequence[Sentence],
) -> tuple[str, Sentence | None]:
    """The label of the option the record chose ("" when it names none), and the sentence
    that says so."""
    if not items:
        return "", None
    labels = list(items)
    for label in labels:  # "(SELECTED)", "[SELECTED]", "(Selected Option)" on the option
        if re.search(r"\bselected\b|\bchosen\b", label, re.IGNORECASE):
            return label, items[label][0][1] if items[label] else None
    for label, members in items.items():  # "**Option 4:** … (Selected Option)"
        if any(re.search(r"\(selected|\[selected|selected option", s.text, re.IGNORECASE)
               for _, s in members if s.section == "option"):  # fmt: skip
            return label, members[0][1]
    for s in [*decision, *(x for x in sents if x.section == "title")]:
        text = s.text
        m = _CHOSEN_OPTION.search(text) or re.search(
            r"\boption\s*#?([0-9]+[a-z]?)\b()", text, re.IGNORECASE
        )
        if not m:
            continue
        number, rest = (m.group(1) or "").lower(), _plain(m.group(2) or "")
        for label in labels:
            lnum = re.match(r"^\W*(?:option\s*)?#?\(?([0-9]+[a-z]?)\b", label.lower())
            if number and lnum and lnum.group(1) == number:
                return label, s
        for label in labels:
            plain = _plain(label)
            if rest and plain and (rest.startswith(plain[:40]) or plain.startswith(rest[:40])):
                return label, s
        if number and number.isdigit() and 0 < int(number) <= len(labels):
            return labels[int(number) - 1], s
    return "", None


def _plain(text: str) -> str:
    text = re.sub(r"[\"“”'`*\[\]()]", "", text).lower()
    text = re.sub(r"^\s*(?:option\s*)?#?[0-9]+[a-z]?\s*[:.)-]?\s*", "", text)
    text = re.sub(r"^\s*(selected|chosen)\s*", "", text)
    return re.sub(r"\s+", " ", text).strip(" .,:")


def _resolve(
    accs: dict[str, _Acc],
    items: dict[str, list[tuple[str, Sentence]]],
    chosen_label: str,
    said: Sentence | None,
    catalog: Catalog,
    sents: Sequence[Sentence],
) -> tuple[Mention, ...]:
    final: dict[str, Mention] = {}
    chosen_keys: set[str] = set()
    chosen_in_option = {k for k, _ in items.get(chosen_label, ())} if chosen_label else set()

    def mention(acc: _Acc, stance: str, s: Sentence, strength: str, prefer: str = "") -> Mention:
        return Mention(
            term=acc.term,
            tech=acc.tech,
            stance=stance,
            strength=strength,
            section=s.section if s.section in _DECISIVE else "options" if "option" in s.section
            else "context",
            line=s.line,
            sentence=s.text,
            code=acc.code,
            new_code=bool(NEW_CODE.search(s.text.lower())),
            prefer=prefer,
        )  # fmt: skip

    # 1. what the title, decision and consequences state
    for key, acc in accs.items():
        stances = {st for st, _, _ in acc.stated}
        if CHOSEN in stances and stances & set(NEGATIVE):
            continue  # both chosen and dropped: not a rule either way
        negative = [(st, s, o) for st, s, o in acc.stated if st in NEGATIVE]
        if negative:
            st, s, o = next(
                ((x, y, z) for x, y, z in negative if y.section != "title"), negative[0]
            )
            final[key] = mention(acc, st, s, STATED, o.prefer)
        elif CHOSEN in stances:
            s = (
                next(y for x, y, _ in acc.stated if x == CHOSEN and y.section != "title")
                if any(y.section != "title" for x, y, _ in acc.stated if x == CHOSEN)
                else acc.stated[0][1]
            )
            final[key] = mention(acc, CHOSEN, s, STATED)
            chosen_keys.add(key)
    # 2. the options: the chosen one (what it is named after; unnamed, what it describes),
    # and those passed over
    named_choice = {k for k, s in items.get(chosen_label, ()) if _labels(s)}
    described = set(chosen_in_option)  # all the chosen option's text names: never rejected
    chosen_in_option = named_choice & set(accs) or chosen_in_option
    for key in chosen_in_option:
        if key not in final and key in accs:
            acc = accs[key]
            final[key] = mention(acc, CHOSEN, acc.options[0][1], STATED)
            chosen_keys.add(key)
    if not chosen_label and items:  # the decision chose technologies: their option is chosen
        for label, members in items.items():
            if any(k in chosen_keys for k, _ in members):
                chosen_label = label
                described = {k for k, _ in members}
                chosen_in_option = {k for k, s in members if _labels(s)} or described
                break
    chosen_line = said if said is not None and said.section == "decision" else None
    chosen_line = chosen_line or _choice_sentence(sents, chosen_keys, final)
    if chosen_label:
        # An option passed over is rejected: what it is named after (or, unnamed, what it
        # describes); a variant of the chosen option ("SLF4J with Logback binding" beside
        # "SLF4J with Log4j2 binding") only for what plays the role of a chosen technology.
        roles = {catalog.group_of(accs[k].tech) for k in chosen_in_option if k in accs} - {""}
        chosen_named = _named_in(items[chosen_label], accs, catalog)
        # what to use instead: what the chosen option is named after
        picks = [accs[k].term for k, s in items[chosen_label] if k in chosen_named]
        pick = picks[0] if picks else ""
        for label, members in items.items():
            if label == chosen_label:
                continue
            keys = {k for k, _ in members}
            named = _named_in(members, accs, catalog)
            primary = named or keys
            # a variant names what the chosen option names ("SLF4J with Logback binding")
            variant = bool(named & chosen_named)
            for key, s in members:
                if key in final or key in described or key not in accs or not accs[key].tech:
                    continue
                group = catalog.group_of(accs[key].tech)
                if group == "language":
                    continue
                if (variant or key not in primary) and not (group and group in roles):
                    continue
                final[key] = mention(accs[key], REJECTED, chosen_line or s, WEIGHED, pick)
    # 3. what the context states against
    for key, acc in accs.items():
        if key in final or not acc.context:
            continue
        st, s, o = acc.context[0]
        final[key] = mention(acc, st, s, STATED, o.prefer)
    # 4. alternatives weighed, and the same role as a choice
    chosen_groups = {catalog.group_of(accs[k].tech): k for k in chosen_keys if k in accs}
    chosen_groups.pop("", None)
    chosen_groups.pop("language", None)
    for key, acc in accs.items():
        if key in final:
            continue
        group = catalog.group_of(acc.tech) if acc.tech else ""
        if acc.weighed and acc.tech:  # a code term the catalog does not know: only if stated
            s, _ = acc.weighed[0]
            if (group and group in chosen_groups) or NEGATIVE_TURN.search(s.text.lower()):
                final[key] = mention(acc, REJECTED, chosen_line or s, WEIGHED)
                continue
        if group and group in chosen_groups and (acc.mentioned or acc.weighed or acc.options):
            s = (
                chosen_line
                or (acc.mentioned or [acc.weighed[0][0] if acc.weighed else acc.options[0][1]])[0]
            )
            final[key] = mention(acc, REJECTED, s, WEIGHED)
            continue
        if acc.mentioned or acc.weighed or acc.options or acc.stated:
            first = (acc.mentioned or [w[0] for w in acc.weighed] or [o[1] for o in acc.options]
                     or [x[1] for x in acc.stated])[0]  # fmt: skip
            final[key] = mention(acc, MENTIONED, first, STATED)
    # what to use instead: the clause's own pair, else a choice of the same role, else the choice
    out = []
    for m in final.values():
        if m.stance in NEGATIVE and not m.prefer:
            group = catalog.group_of(m.tech) if m.tech else ""
            same = [
                final[k].term
                for k in chosen_keys
                if group and catalog.group_of(final[k].tech) == group
            ]
            prefer = same[0] if same else ""
            if prefer.lower() != m.term.lower():
                m = replace(m, prefer=prefer)
        out.append(m)
    return tuple(sorted(out, key=lambda m: (m.line, m.term.lower())))


def _labels(s: Sentence) -> bool:
    """Whether a sentence names an option: its heading or bold label, or its list item."""
    return s.listed or (s.section == "option" and s.text.startswith(s.item))


def _named_in(
    members: Sequence[tuple[str, Sentence]], accs: dict[str, _Acc], catalog: Catalog
) -> set[str]:
    """The technologies an option is named after (its label or list item), languages aside."""
    return {
        k
        for k, s in members
        if _labels(s)
        and k in accs
        and accs[k].tech
        and catalog.group_of(accs[k].tech) != "language"
    }


def _choice_sentence(
    sents: Sequence[Sentence], chosen: set[str], final: dict[str, Mention]
) -> Sentence | None:
    """The sentence that states the choice (for a decision by options: the 'Chosen option'
    line), so a finding points at it rather than the title."""
    for s in sents:
        if s.section == "decision" and re.search(
            r"chosen option|decided|we (will|'ll) use|"
            r"we (?:have )?(?:chose|chosen|selected|picked)\b",
            s.text,
            re.IGNORECASE,
        ):
            return s
    lines = [final[k] for k in chosen if k in final and final[k].section != "title"]
    if lines:
        best = min(lines, key=lambda m: m.line)
        return Sentence(best.sentence, best.line, best.section)
    for s in sents:
        if s.section == "decision":
            return s
    return None


def _attach_pairs(occ: list[Occurrence]) -> None:
    """The chosen term of a clause is what its rejected terms are to be replaced with."""
    chosen = [o for o in occ if o.stance == CHOSEN]
    if not chosen:
        return
    for o in occ:
        if o.stance in NEGATIVE and not o.prefer:
            o.prefer = chosen[0].term

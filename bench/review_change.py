"""The ~300-line change that the review benchmark submits: copied functions plus new code.

A new module on a branch: about 200 lines of real functions copied from elsewhere in the
corpus (some with only the function renamed, some with every local name renamed too), then
about 100 lines of code written for the bench that exists nowhere in the corpus. A reviewer
that flags duplication should point at the copies and stay quiet on the rest.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

import functions
import mutate

COPIED_LINES = 200

NEW_PYTHON = '''

class TokenBucket:
    """Admit at most ``rate`` events a second, with bursts of up to ``capacity``."""

    def __init__(self, rate, capacity, clock):
        self.rate = rate
        self.capacity = capacity
        self.clock = clock
        self.level = capacity
        self.stamp = clock()

    def _refill(self):
        now = self.clock()
        gained = (now - self.stamp) * self.rate
        self.level = min(self.capacity, self.level + gained)
        self.stamp = now

    def try_take(self, cost=1):
        self._refill()
        if self.level < cost:
            return False
        self.level -= cost
        return True

    def wait_time(self, cost=1):
        self._refill()
        missing = cost - self.level
        return max(0.0, missing / self.rate)


def merge_intervals(intervals):
    """Merge overlapping closed intervals given as (start, end) tuples."""
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            last_start, last_end = merged[-1]
            merged[-1] = (last_start, max(last_end, end))
        else:
            merged.append((start, end))
    return merged


def histogram_buckets(values, edges):
    """Count values per half-open bucket [edges[i], edges[i + 1])."""
    counts = [0] * (len(edges) - 1)
    for value in values:
        low, high = 0, len(edges) - 1
        if value < edges[0] or value >= edges[-1]:
            continue
        while high - low > 1:
            middle = (low + high) // 2
            if value >= edges[middle]:
                low = middle
            else:
                high = middle
        counts[low] += 1
    return counts


def parse_duration(text):
    """'1h30m', '45s', '2d' -> seconds."""
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    total = 0
    number = ""
    for char in text.strip():
        if char.isdigit():
            number += char
        elif char in units and number:
            total += int(number) * units[char]
            number = ""
        else:
            raise ValueError(f"bad duration: {text!r}")
    if number:
        raise ValueError(f"missing unit in {text!r}")
    return total


def round_robin(*iterables):
    """Yield one item of each iterable in turn until all are exhausted."""
    iterators = [iter(it) for it in iterables]
    while iterators:
        alive = []
        for iterator in iterators:
            try:
                yield next(iterator)
            except StopIteration:
                continue
            alive.append(iterator)
        iterators = alive
'''

NEW_TYPESCRIPT = """
export class TokenBucket {
  private level: number;
  private stamp: number;

  constructor(
    private readonly rate: number,
    private readonly capacity: number,
    private readonly clock: () => number,
  ) {
    this.level = capacity;
    this.stamp = clock();
  }

  private refill(): void {
    const now = this.clock();
    const gained = (now - this.stamp) * this.rate;
    this.level = Math.min(this.capacity, this.level + gained);
    this.stamp = now;
  }

  tryTake(cost = 1): boolean {
    this.refill();
    if (this.level < cost) {
      return false;
    }
    this.level -= cost;
    return true;
  }

  waitTime(cost = 1): number {
    this.refill();
    return Math.max(0, (cost - this.level) / this.rate);
  }
}

export function mergeIntervals(intervals: Array<[number, number]>): Array<[number, number]> {
  const merged: Array<[number, number]> = [];
  const sorted = [...intervals].sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  for (const [start, end] of sorted) {
    const last = merged[merged.length - 1];
    if (last && start <= last[1]) {
      last[1] = Math.max(last[1], end);
    } else {
      merged.push([start, end]);
    }
  }
  return merged;
}

export function histogramBuckets(values: number[], edges: number[]): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const value of values) {
    if (value < edges[0] || value >= edges[edges.length - 1]) {
      continue;
    }
    let low = 0;
    let high = edges.length - 1;
    while (high - low > 1) {
      const middle = (low + high) >> 1;
      if (value >= edges[middle]) {
        low = middle;
      } else {
        high = middle;
      }
    }
    counts[low] += 1;
  }
  return counts;
}

export function parseDuration(text: string): number {
  const units: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1 };
  let total = 0;
  let digits = "";
  for (const char of text.trim()) {
    if (char >= "0" && char <= "9") {
      digits += char;
    } else if (char in units && digits) {
      total += Number(digits) * units[char];
      digits = "";
    } else {
      throw new Error(`bad duration: ${text}`);
    }
  }
  if (digits) {
    throw new Error(`missing unit in ${text}`);
  }
  return total;
}
"""

NEW_GO = """
// reviewTokenBucket admits at most rate events a second, with bursts of up to capacity.
type reviewTokenBucket struct {
	rate     float64
	capacity float64
	level    float64
	stamp    float64
	clock    func() float64
}

func newReviewTokenBucket(rate, capacity float64, clock func() float64) *reviewTokenBucket {
	return &reviewTokenBucket{
		rate: rate, capacity: capacity, level: capacity, stamp: clock(), clock: clock,
	}
}

func (b *reviewTokenBucket) refill() {
	now := b.clock()
	gained := (now - b.stamp) * b.rate
	if b.level+gained < b.capacity {
		b.level += gained
	} else {
		b.level = b.capacity
	}
	b.stamp = now
}

func (b *reviewTokenBucket) tryTake(cost float64) bool {
	b.refill()
	if b.level < cost {
		return false
	}
	b.level -= cost
	return true
}

type reviewInterval struct{ start, end int }

func reviewMergeIntervals(in []reviewInterval) []reviewInterval {
	sorted := append([]reviewInterval(nil), in...)
	for i := 1; i < len(sorted); i++ {
		for j := i; j > 0 && sorted[j].start < sorted[j-1].start; j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	var merged []reviewInterval
	for _, iv := range sorted {
		n := len(merged)
		if n > 0 && iv.start <= merged[n-1].end {
			if iv.end > merged[n-1].end {
				merged[n-1].end = iv.end
			}
			continue
		}
		merged = append(merged, iv)
	}
	return merged
}

func reviewParseDuration(text string) (int, bool) {
	units := map[rune]int{'d': 86400, 'h': 3600, 'm': 60, 's': 1}
	total, number, digits := 0, 0, false
	for _, r := range text {
		switch {
		case r >= '0' && r <= '9':
			number = number*10 + int(r-'0')
			digits = true
		case units[r] > 0 && digits:
			total += number * units[r]
			number, digits = 0, false
		default:
			return 0, false
		}
	}
	return total, !digits
}

func reviewHistogram(values []float64, edges []float64) []int {
	counts := make([]int, len(edges)-1)
	for _, v := range values {
		if v < edges[0] || v >= edges[len(edges)-1] {
			continue
		}
		low, high := 0, len(edges)-1
		for high-low > 1 {
			middle := (low + high) / 2
			if v >= edges[middle] {
				low = middle
			} else {
				high = middle
			}
		}
		counts[low]++
	}
	return counts
}
"""


NEW_JAVA = """
    /** Admits at most {@code rate} events a second, with bursts of up to {@code capacity}. */
    static final class TokenBucket {
        private final double rate;
        private final double capacity;
        private double level;
        private long stamp;

        TokenBucket(double rate, double capacity, long now) {
            this.rate = rate;
            this.capacity = capacity;
            this.level = capacity;
            this.stamp = now;
        }

        private void refill(long now) {
            double gained = (now - stamp) / 1e9 * rate;
            level = Math.min(capacity, level + gained);
            stamp = now;
        }

        boolean tryTake(double cost, long now) {
            refill(now);
            if (level < cost) {
                return false;
            }
            level -= cost;
            return true;
        }

        double waitSeconds(double cost, long now) {
            refill(now);
            double missing = cost - level;
            return Math.max(0.0, missing / rate);
        }
    }

    /** Merges overlapping closed intervals, each given as {start, end}. */
    static java.util.List<long[]> mergeIntervals(java.util.List<long[]> intervals) {
        java.util.List<long[]> sorted = new java.util.ArrayList<>(intervals);
        sorted.sort((x, y) -> Long.compare(x[0], y[0]));
        java.util.List<long[]> merged = new java.util.ArrayList<>();
        for (long[] next : sorted) {
            if (!merged.isEmpty() && next[0] <= merged.get(merged.size() - 1)[1]) {
                long[] last = merged.get(merged.size() - 1);
                last[1] = Math.max(last[1], next[1]);
            } else {
                merged.add(new long[] {next[0], next[1]});
            }
        }
        return merged;
    }

    /** The median of a non-empty array, without sorting the caller's copy. */
    static double median(double[] values) {
        double[] copy = values.clone();
        java.util.Arrays.sort(copy);
        int middle = copy.length / 2;
        if (copy.length % 2 == 1) {
            return copy[middle];
        }
        return (copy[middle - 1] + copy[middle]) / 2.0;
    }

    /** Splits a comma-separated header value, honouring double-quoted parts. */
    static java.util.List<String> splitHeader(String value) {
        java.util.List<String> parts = new java.util.ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                parts.add(current.toString().trim());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        if (current.length() > 0) {
            parts.add(current.toString().trim());
        }
        return parts;
    }
}
"""


def _java_methods(repo: Path, rng: random.Random) -> list[functions.Function]:
    """Java methods of 30–60 lines from ``java/util`` (top-level classes' members), for copying."""
    found = []
    for path in sorted((repo / "java.base/java/util").glob("*.java")):
        text = path.read_text(errors="replace")
        tree = functions.parse("java", text)
        for node in tree.root_node.children:
            body = node.child_by_field_name("body") if node.type == "class_declaration" else None
            for member in body.named_children if body is not None else []:
                rows = member.end_point.row - member.start_point.row + 1
                name = member.child_by_field_name("name")
                if member.type == "method_declaration" and 30 <= rows <= 60 and name is not None:
                    start = member.start_byte - member.start_point.column
                    method = text.encode()[start : member.end_byte].decode(errors="replace")
                    origin = f"{path.relative_to(repo).as_posix()}:{member.start_point.row + 1}"
                    found.append(
                        functions.Function(
                            "java",
                            origin,
                            (name.text or b"").decode(),
                            method + "\n",
                            0,
                            frozenset(),
                        )
                    )
    rng.shuffle(found)
    return found


@dataclass(frozen=True)
class Copy:
    origin: str  # "path:line" in the corpus
    origin_lines: int  # how long the original is
    start_line: int  # where the copy sits in the new module (1-based, inclusive)
    end_line: int

    @property
    def origin_span(self) -> tuple[str, int, int]:
        path, line = self.origin.rsplit(":", 1)
        return path, int(line), int(line) + self.origin_lines - 1


@dataclass(frozen=True)
class Change:
    path: str  # the new module, relative to the repository
    text: str
    copies: tuple[Copy, ...]

    @property
    def lines(self) -> int:
        return self.text.count("\n")


_GO_FUNC = re.compile(r"^func (\([^)]*\) )?(\w+)", re.MULTILINE)


def _go_functions(repo: Path, rng: random.Random) -> list[functions.Function]:
    """Top-level Go functions of 35–60 lines from ``net/http`` (not tests), for copying."""
    found = []
    for path in sorted((repo / "go/src/net/http").glob("*.go")):
        if path.name.endswith("_test.go"):
            continue
        text = path.read_text()
        tree = functions.parse("go", text)
        for node in tree.root_node.children:
            rows = node.end_point.row - node.start_point.row + 1
            if node.type == "function_declaration" and 35 <= rows <= 60:
                body = (node.text or b"").decode() + "\n"
                origin = f"{path.relative_to(repo).as_posix()}:{node.start_point.row + 1}"
                found.append(functions.Function("go", origin, "", body, 0, frozenset()))
    rng.shuffle(found)
    return found


def _rename_function(text: str, language: str, new_name: str, old_name: str = "") -> str:
    if language == "java":
        return re.sub(rf"\b{re.escape(old_name)}\s*\(", f"{new_name}(", text, count=1)
    if language == "go":
        return _GO_FUNC.sub(lambda m: f"func {m.group(1) or ''}{new_name}", text, count=1)
    pattern = r"^(\s*(?:export\s+)?(?:async\s+)?(?:def|function\*?|const)\s+)(\w+)"
    return re.sub(pattern, lambda m: m.group(1) + new_name, text, count=1)


def build(corpus_name: str, repo: Path, seed: int) -> Change:
    """The new module for one corpus: its path, its text and where the copies sit in it."""
    rng = random.Random(f"{seed}:review:{corpus_name}")
    if corpus_name == "go":
        path, language, header, new_code = "go/src/net/http/review_feature.go", "go", "", NEW_GO
        header = "package http\n"
        pool = _go_functions(repo, rng)
    elif corpus_name == "java":
        path, language = "java.base/java/util/ReviewFeature.java", "java"
        header, new_code = "package java.util;\n\nclass ReviewFeature {\n", NEW_JAVA
        pool = _java_methods(repo, rng)
    elif corpus_name == "django":
        path, language = "django/utils/review_feature.py", "python"
        header, new_code = '"""Helpers added by the review benchmark."""\n', NEW_PYTHON
        pool = functions.extract(repo, frozenset({"python"}), rng, limit=400)
    else:
        path, language = "rxjs/src/internal/util/reviewFeature.ts", "typescript"
        header, new_code = "// Helpers added by the review benchmark.\n", NEW_TYPESCRIPT
        pool = functions.extract(repo, frozenset({"typescript"}), rng, limit=400)
    pool = [
        f
        for f in pool
        if 30 <= f.lines <= 60
        and (language in ("go", "java") or not f.text.startswith((" ", "const")))
    ]
    one_per_file: dict[str, functions.Function] = {}
    for function in pool:
        one_per_file.setdefault(function.origin.rsplit(":", 1)[0], function)
    pool = list(one_per_file.values())
    parts = [header]
    line = header.count("\n") + 1  # the next line to be written, 1-based
    copies: list[Copy] = []
    for number, function in enumerate(pool):
        if line > COPIED_LINES:
            break
        text = function.text
        if number % 2 and language not in ("go", "java"):
            variant = mutate.rename(function, rng)  # every local renamed too
            text = variant.text if variant else text
        text = _rename_function(text, language, f"review_copy_{number}", function.name)
        parts.append("\n" + text)
        start = line + 1
        end = start + text.rstrip("\n").count("\n")
        copies.append(Copy(function.origin, function.lines, start, end))
        line = end + 1
    parts.append(new_code)
    return Change(path, "".join(parts), tuple(copies))

"""spaCy's English tokenizer, redone in TensorFlow string ops so that it runs inside a SavedModel.

:func:`english_rules` reads, at export time, what spaCy's ``blank:en`` tokenizer knows: its
special cases (``don't`` → ``do n't``, ``Mr.``, emoticons; ``Tokenizer.rules``) and the
character classes of its prefix, suffix and infix expressions (``spacy.lang.char_classes``).
:func:`graph_tokenize` then runs spaCy's algorithm on a batch of strings with ``tf.strings`` ops
only (RE2 regular expressions and a hash table; no tensorflow-text, no Python), so a process that
loads the graph needs neither spaCy nor hfsent:

1. HTML line breaks become spaces (as :func:`hfsent.tokenize.clean`); the text is cut at
   whitespace (``str.isspace``'s characters), whitespace tokens dropped.
2. Each piece goes through spaCy's ``_split_affixes`` loop in a ``tf.while_loop``, vectorised
   over all pieces of the batch: stop at a special case; else strip one prefix and one suffix,
   checking the special cases on what is left, until nothing more comes off.
3. What is left is a special case (its tokens), a URL (one token), or is cut at its infixes.
4. spaCy's last pass (its ``PhraseMatcher``): neighbouring tokens of one piece that spell a
   special case (``)`` ``:`` → ``):``, ``Mr`` ``.`` → ``Mr.``) become it.
5. Tokens are lowercased after tokenizing, as ``Token.lower_`` is.

Limits, all from RE2 having no look-around: a lookbehind becomes a consumed character of a
capture group, so overlapping infixes (``a-b-c``) need a second pass (each pass cuts every other
one, so two cut any chain); the URL pattern loses its
exclusion of private IP addresses and its length bounds; where two merges of step 4 overlap,
the leftmost wins, not spaCy's longest; the characters \\x01 and \\x02 mark merges and are
dropped from the tokens they are in.  Letters are spaCy's own classes, translated.  On the
25,000 IMDB test reviews the tokens equal spaCy's on all but 2 (BENCHMARKS.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import tensorflow as tf

BREAK = r"(?i)<[\s\x{85}\p{Z}]*br[\s\x{85}\p{Z}]*/?[\s\x{85}\p{Z}]*>"
# Python's str.isspace: ASCII whitespace, \v, the information separators, NEL and \p{Z}.
WHITESPACE = r"[\s\x{0b}\x{1c}-\x{1f}\x{85}\p{Z}]+"
SEP = " "  # joins tokens while they are built; never inside a piece (cut at whitespace first)
MAX_AFFIX_ROUNDS = 64  # spaCy's loop has no bound; 64 prefixes and suffixes each is far beyond text


def _re2(pattern: str) -> str:
    r"""A Python ``re`` piece in RE2 syntax: ``\uXXXX`` / ``\UXXXXXXXX`` become ``\x{...}``."""
    return re.sub(r"\\[uU]([0-9A-Fa-f]{4,8})", lambda m: rf"\x{{{m.group(1)}}}", pattern)


def _alternatives(pieces) -> str:
    return "|".join(_re2(p) for p in pieces if p)


@dataclass(frozen=True)
class Rules:
    """What :func:`graph_tokenize` needs: RE2 patterns and the special cases (piece → tokens
    joined by spaces).  Made by :func:`english_rules`; plain strings, nothing of spaCy."""

    prefix: str        # ^(alternatives)(rest)$, spaCy's order (the first that matches wins)
    suffixes: tuple[str, ...]  # each ^(core)(suffix)$; the longest suffix wins, as re.search's earliest
    period_suffix: str  # ^(core)\.$ where spaCy's suffix '.' has a lookbehind
    infixes: tuple[tuple[str, str], ...]  # (pattern, replacement) pairs that insert SEP
    url: str
    specials: dict[str, str]
    merge: str = ""  # (^|SEP)(affix tokens of a special case)(SEP|$), longest first
    merge_tokens: int = 0  # the most tokens one of them has


def english_rules(tokenizer) -> Rules:
    """The rules of spaCy's English ``tokenizer`` (``spacy.blank("en").tokenizer``), for
    :func:`graph_tokenize`.  Needs spaCy; the rules it returns do not.

    Example:
        >>> rules = english_rules(spacy.blank("en").tokenizer)
        >>> rules.specials["don't"]
        "do n't"
    """
    from spacy.lang import char_classes as c
    from spacy.symbols import ORTH
    from spacy.tokenizer import Tokenizer

    alpha, lower, upper = (_re2(x) for x in (c.ALPHA, c.ALPHA_LOWER, c.ALPHA_UPPER))
    quotes = _re2(c.CONCAT_QUOTES)
    prefixes = ["§", "%", "=", "—", "–", r"\+", *c.LIST_PUNCT, *c.LIST_ELLIPSES, *c.LIST_QUOTES,
                *c.LIST_CURRENCY, *c.LIST_ICONS]
    suffixes = [*c.LIST_PUNCT, *c.LIST_ELLIPSES, *c.LIST_QUOTES, *c.LIST_ICONS,
                "'s", "'S", "’s", "’S", "—", "–"]
    after_digit = [r"\+", _re2(c.CURRENCY), _re2(c.UNITS)]
    before_period = ["°[FfCcKk]", f"[0-9{lower}%²\\-\\+{_re2(c.PUNCT)}(?:{quotes}]", f"[{upper}][{upper}]"]
    hyphens = _re2(c.HYPHENS)
    infixes = (
        (f"({_alternatives([*c.LIST_ELLIPSES, *c.LIST_ICONS])})", f"{SEP}\\1{SEP}"),
        (r"([0-9])([+\-*^])([0-9-])", f"\\1{SEP}\\2{SEP}\\3"),
        (f"([{lower}{quotes}])(\\.)([{upper}{quotes}])", f"\\1{SEP}\\2{SEP}\\3"),
        (f"([{alpha}])(,)([{alpha}])", f"\\1{SEP}\\2{SEP}\\3"),
        (f"([{alpha}0-9])({hyphens})([{alpha}])", f"\\1{SEP}\\2{SEP}\\3"),
        (f"([{alpha}0-9])([:<>=/])([{alpha}])", f"\\1{SEP}\\2{SEP}\\3"),
    )
    # spaCy's URL_MATCH less its (?!...) exclusion of private IP ranges, and with unbounded label and
    # TLD lengths: the bounded repeats of large classes overflow RE2's DFA (slow, and a log line each).
    host = r"[A-Za-z0-9\x{a1}-\x{ffff}]"
    url = (r"^(?:[\w\+\-\.]{2,}://)?(?:\S+(?::\S*)?@)?(?:"
           r"(?:[1-9]\d?|1\d\d|2[01]\d|22[0-3])(?:\.(?:1?\d{1,2}|2[0-4]\d|25[0-5])){2}"
           r"(?:\.(?:[1-9]\d?|1\d\d|2[0-4]\d|25[0-4]))|"
           f"(?:(?:{host}[A-Za-z0-9\\x{{a1}}-\\x{{ffff}}_-]*)?{host}\\.)+(?:[{lower}]{{2,}}))"
           r"(?::\d{2,5})?(?:[/?#]\S*)?$")
    rules = {key: [token[ORTH] for token in tokens] for key, tokens in tokenizer.rules.items()
             if key and not any(ch.isspace() for ch in key)}
    # spaCy's PhraseMatcher pass: the special cases that its affix rules would split, as split
    affixes_only = Tokenizer(tokenizer.vocab, rules={}, prefix_search=tokenizer.prefix_search,
                      suffix_search=tokenizer.suffix_search, infix_finditer=tokenizer.infix_finditer,
                      token_match=tokenizer.token_match, url_match=tokenizer.url_match)
    splits = ([t.text for t in affixes_only(key)] for key, orth in rules.items() if orth == [key])
    merges = sorted((split for split in splits if len(split) > 1), key=len, reverse=True)
    merge = "|".join(SEP.join(re.escape(t) for t in split) for split in merges)
    return Rules(prefix=f"^({_alternatives(prefixes)})(.*)$",
                 suffixes=(f"^(.*?)({_alternatives(suffixes)})$", f"^(.*?[0-9])({'|'.join(after_digit)})$"),
                 period_suffix=f"^(.*(?:{'|'.join(before_period)}))\\.$",
                 infixes=infixes, url=url, specials={key: SEP.join(orth) for key, orth in rules.items()},
                 merge=f"(^|{SEP})({merge})({SEP}|$)" if merges else "",
                 merge_tokens=max(map(len, merges), default=0))


def specials_table(rules: Rules) -> tf.lookup.StaticHashTable:
    """Special case → its tokens joined by spaces, ``""`` for any other piece."""
    keys = list(rules.specials)
    return tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(tf.constant(keys, tf.string),
                                            tf.constant([rules.specials[k] for k in keys], tf.string)),
        default_value="")


def _group(strings: tf.Tensor, pattern: str, group: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Whether ``pattern`` matches all of each string, and its capture ``group`` ('' where not)."""
    hit = tf.strings.regex_full_match(strings, pattern)
    return hit, tf.where(hit, tf.strings.regex_replace(strings, pattern, f"\\{group}"), "")


def _suffix(rest: tf.Tensor, rules: Rules) -> tf.Tensor:
    """spaCy's ``find_suffix``: the longest suffix any expression finds (``re.search`` over the
    joined expressions returns the one that starts first)."""
    best = tf.fill(tf.shape(rest), "")
    candidates = [_group(rest, pattern, 2)[1] for pattern in rules.suffixes]
    candidates.append(tf.where(tf.strings.regex_full_match(rest, rules.period_suffix), ".", ""))
    for suffix in candidates:
        best = tf.where(tf.strings.length(suffix) > tf.strings.length(best), suffix, best)
    return best


def _is_special(special, s: tf.Tensor) -> tf.Tensor:
    return tf.strings.length(special.lookup(s)) > 0


def _affix_step(s: tf.Tensor, rules: Rules, special) -> tuple[tf.Tensor, ...]:
    """One turn of spaCy's loop on pieces not yet done: ``(rest, prefix, suffix, stop)``."""
    has_pre, pre = _group(s, rules.prefix, 1)
    rest = tf.where(has_pre, tf.strings.regex_replace(s, rules.prefix, r"\2"), s)
    # spaCy's prefix '+' has a lookahead: (?![0-9])
    plus_digit = tf.equal(pre, "+") & tf.strings.regex_full_match(rest, "[0-9].*")
    has_pre, pre, rest = has_pre & ~plus_digit, tf.where(plus_digit, "", pre), tf.where(plus_digit, s, rest)
    suf = _suffix(rest, rules)
    core = tf.strings.substr(rest, tf.zeros_like(tf.strings.length(rest)),
                             tf.strings.length(rest) - tf.strings.length(suf))
    # spaCy stops at once if what is left after the prefix (or before the suffix) is special
    pre_special = has_pre & tf.not_equal(rest, "") & _is_special(special, rest)
    minus_suf = tf.strings.join([pre, core])
    suf_special = (~pre_special & tf.not_equal(suf, "") & tf.not_equal(minus_suf, "")
                   & _is_special(special, minus_suf))
    new_s = tf.where(pre_special, rest, tf.where(suf_special, minus_suf, core))
    stop = pre_special | suf_special | (tf.equal(pre, "") & tf.equal(suf, ""))
    return new_s, tf.where(suf_special, "", pre), tf.where(pre_special, "", suf), stop


def _split_affixes(pieces: tf.Tensor, rules: Rules, special) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """spaCy's ``Tokenizer._split_affixes`` on every piece at once: ``(prefixes, rest, suffixes)``,
    the affixes joined by :data:`SEP` in token order.  Each turn works on the pieces not yet done."""
    def body(s, left, right, done):
        at = tf.where(~done)
        part = tf.gather_nd(s, at)
        stop_now = tf.equal(part, "") | _is_special(special, part)
        new_s, pre, suf, stop = _affix_step(part, rules, special)
        new_s, pre, suf = (tf.where(stop_now, a, b) for a, b in ((part, new_s), ("", pre), ("", suf)))
        left = tf.tensor_scatter_nd_update(left, at, tf.strings.join([tf.gather_nd(left, at), pre], SEP))
        right = tf.tensor_scatter_nd_update(right, at, tf.strings.join([suf, tf.gather_nd(right, at)], SEP))
        return (tf.tensor_scatter_nd_update(s, at, new_s), left, right,
                tf.tensor_scatter_nd_update(done, at, stop_now | stop))

    empty = tf.fill(tf.shape(pieces), "")
    s, left, right, _ = tf.while_loop(
        lambda s, left, right, done: tf.reduce_any(~done), body,
        (pieces, empty, empty, tf.zeros(tf.shape(pieces), tf.bool)), maximum_iterations=MAX_AFFIX_ROUNDS)
    return left, s, right


def _attach(core: tf.Tensor, rules: Rules, special) -> tf.Tensor:
    """The middle of each piece as tokens joined by SEP: a special case, a URL, or infix splits."""
    split = core
    for pattern, replacement in rules.infixes:
        for _ in range(2):  # a consumed lookbehind/lookahead character hides the next overlapping match
            split = tf.strings.regex_replace(split, pattern, replacement)
    expansion = special.lookup(core)
    return tf.where(tf.strings.length(expansion) > 0, expansion,
                    tf.where(tf.strings.regex_full_match(core, rules.url), core, split))


def _merge_specials(joined: tf.Tensor, rules: Rules) -> tf.Tensor:
    """spaCy's last pass (its ``PhraseMatcher`` of special cases): tokens of one piece that
    together spell a special case made of affixes (``)`` ``:`` → ``):``, ``Mr`` ``.`` → ``Mr.``)
    become that one token.  Matches are put between \\x01 and \\x02, then the separators inside removed."""
    if not rules.merge:
        return joined
    marked = joined
    for _ in range(2):  # a match consumes the separator that the next one would start with
        marked = tf.strings.regex_replace(marked, rules.merge, "\\1\x01\\2\x02\\3")
    at = tf.where(tf.strings.regex_full_match(marked, ".*\x01.*"))
    part = tf.gather_nd(marked, at)
    for _ in range(rules.merge_tokens - 1):
        part = tf.strings.regex_replace(part, f"\x01([^\x02{SEP}]*){SEP}([^\x02]*\x02)", "\x01\\1\\2")
    return tf.tensor_scatter_nd_update(joined, at, tf.strings.regex_replace(part, "[\x01\x02]", ""))


def graph_tokenize(texts: tf.Tensor, rules: Rules, special: tf.lookup.StaticHashTable,
                   lowercase: bool = True) -> tf.RaggedTensor:
    """Tokens of each of ``texts`` (a 1-D string tensor) as a ``[batch, None]`` RaggedTensor,
    spaCy's English tokenizer as closely as RE2 allows (see the module docstring).

    Args:
        texts: UTF-8 strings.
        rules, special: from :func:`english_rules` and :func:`specials_table`.
        lowercase: lowercase the tokens (``Token.lower_``), as hfsent does by default.

    Example:
        >>> graph_tokenize(tf.constant(["It's GREAT!<br />"]), rules, specials_table(rules))
        <tf.RaggedTensor [[b'it', b"'s", b'great', b'!']]>
    """
    texts = tf.strings.regex_replace(tf.strings.regex_replace(texts, BREAK, " "), WHITESPACE, " ")
    pieces = tf.strings.split(texts, sep=" ")
    flat = pieces.flat_values
    # Most pieces are plain words: no affix, infix or URL, only perhaps a special case ("cannot").
    expansion = special.lookup(flat)
    joined = tf.where(tf.strings.length(expansion) > 0, expansion, flat)
    at = tf.where(~tf.strings.regex_full_match(flat, "[A-Za-z]*"))
    left, core, right = _split_affixes(tf.gather_nd(flat, at), rules, special)
    rest = tf.strings.join([left, _attach(core, rules, special), right], SEP)
    # one SEP between tokens (empty affixes leave runs of them), so that merges see neighbours
    rest = _merge_specials(tf.strings.strip(tf.strings.regex_replace(rest, f"{SEP}+", SEP)), rules)
    joined = tf.tensor_scatter_nd_update(joined, at, rest)
    tokens = tf.strings.split(joined)  # [piece, token]: whitespace split drops the empty ones
    tokens = tf.RaggedTensor.from_nested_row_splits(
        tokens.flat_values, [pieces.row_splits, tokens.row_splits]).merge_dims(1, 2)
    return tf.strings.lower(tokens, encoding="utf-8") if lowercase else tokens

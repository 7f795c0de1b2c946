"""Parsing for the small POSIX-ish shell of simulated containers.

Words are lists of parts: ("lit", text) quoted literally, ("dq", text)
double-quoted (variables expand, no splitting), ("raw", text) unquoted,
("cmd", text) a $(...) substitution, ("arith", text) $((...)).
AST nodes are tuples; see `Parser` for their shapes.
"""

OPS = ["&&", "||", ";;", ">>", "2>&1", ">&2", "1>&2", "2>>", "2>", "1>", ";", "|", "&",
       "(", ")", "<", ">", "\n"]
RESERVED = {"while", "until", "do", "done", "if", "then", "elif", "else", "fi", "for",
            "in", "{", "}", "!", "case", "esac"}


class ShellSyntaxError(Exception):
    pass


def _dollar_paren(src: str, i: int) -> int:
    """Index just past the ')' matching the '(' at src[i]."""
    depth, j = 0, i
    while j < len(src):
        ch = src[j]
        if ch == "'":
            j = src.index("'", j + 1) if "'" in src[j + 1:] else len(src)
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise ShellSyntaxError("unterminated $(")


def tokenize(src: str) -> list[tuple]:
    toks: list[tuple] = []
    parts: list[tuple] = []
    buf: list[str] = []
    i, n = 0, len(src)

    def flush_buf():
        if buf:
            parts.append(("raw", "".join(buf)))
            buf.clear()

    def end_word():
        flush_buf()
        if parts:
            toks.append(("word", list(parts)))
            parts.clear()

    while i < n:
        ch = src[i]
        if ch == "\\" and i + 1 < n:
            if src[i + 1] == "\n":
                i += 2
                continue
            flush_buf()
            parts.append(("lit", src[i + 1]))
            i += 2
        elif ch == "'":
            j = src.find("'", i + 1)
            if j < 0:
                raise ShellSyntaxError("unterminated quoted string")
            flush_buf()
            parts.append(("lit", src[i + 1:j]))
            i = j + 1
        elif ch == '"':
            j, text = i + 1, []
            while j < n and src[j] != '"':
                if src[j] == "\\" and j + 1 < n and src[j + 1] in '"\\$`':
                    text.append("\\" + src[j + 1] if src[j + 1] == "$" else src[j + 1])
                    j += 2
                    continue
                text.append(src[j])
                j += 1
            if j >= n:
                raise ShellSyntaxError("unterminated quoted string")
            flush_buf()
            parts.append(("dq", "".join(text)))
            i = j + 1
        elif ch == "$" and src.startswith("$((", i):
            j = src.find("))", i)
            if j < 0:
                raise ShellSyntaxError("unterminated $((")
            flush_buf()
            parts.append(("arith", src[i + 3:j]))
            i = j + 2
        elif ch == "$" and i + 1 < n and src[i + 1] == "(":
            j = _dollar_paren(src, i + 1)
            flush_buf()
            parts.append(("cmd", src[i + 2:j - 1]))
            i = j
        elif ch == "`":
            j = src.find("`", i + 1)
            if j < 0:
                raise ShellSyntaxError("unterminated `")
            flush_buf()
            parts.append(("cmd", src[i + 1:j]))
            i = j + 1
        elif ch == "#" and not buf and not parts:
            while i < n and src[i] != "\n":
                i += 1
        elif ch in " \t":
            end_word()
            i += 1
        else:
            op = next((o for o in OPS if src.startswith(o, i)), None)
            if op and op[0].isdigit() and (buf or parts):
                op = None          # "a2>b" is not a redirect of fd 2
            if op:
                end_word()
                toks.append(("op", op))
                i += len(op)
            else:
                buf.append(ch)
                i += 1
    end_word()
    return toks


def literal(tok) -> str | None:
    """A word token's text if it is plain (unquoted, no expansion)."""
    if tok[0] != "word" or len(tok[1]) != 1 or tok[1][0][0] != "raw":
        return None
    return tok[1][0][1]


class Parser:
    """seq: ("seq", [(node, background)]); ("andor", first, [(op, node)]);
    ("pipe", [cmd], negate); ("simple", assigns, words, redirs);
    ("while", cond, body, until); ("if", [(cond, body)], else_or_None);
    ("for", var, words_or_None, body); ("group", seq); ("subshell", seq)."""

    def __init__(self, toks):
        self.toks = toks
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else ("eof", None)

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def at_word(self, *words) -> bool:
        return literal(self.peek()) in words

    def expect_word(self, word):
        if not self.at_word(word):
            tok = self.peek()
            got = "end of file" if tok[0] == "eof" else repr(literal(tok) or tok[1])
            raise ShellSyntaxError(f"syntax error: unexpected {got} (expecting \"{word}\")")
        self.take()

    def skip_newlines(self):
        while self.peek() == ("op", "\n") or self.peek() == ("op", ";"):
            self.take()

    def parse(self):
        seq = self.seq(stop=())
        if self.peek()[0] != "eof":
            raise ShellSyntaxError(f"syntax error: unexpected {literal(self.peek()) or self.peek()[1]!r}")
        return seq

    def seq(self, stop):
        items = []
        while True:
            self.skip_newlines()
            tok = self.peek()
            if tok[0] == "eof" or literal(tok) in stop or tok == ("op", ")"):
                return ("seq", items)
            node = self.andor()
            bg = False
            if self.peek() == ("op", "&"):
                self.take()
                bg = True
            items.append((node, bg))

    def andor(self):
        first = self.pipeline()
        rest = []
        while self.peek() in (("op", "&&"), ("op", "||")):
            op = self.take()[1]
            while self.peek() == ("op", "\n"):
                self.take()
            rest.append((op, self.pipeline()))
        return ("andor", first, rest)

    def pipeline(self):
        negate = False
        if self.at_word("!"):
            self.take()
            negate = True
        cmds = [self.command()]
        while self.peek() == ("op", "|"):
            self.take()
            cmds.append(self.command())
        return ("pipe", cmds, negate)

    def command(self):
        word = literal(self.peek())
        if word in ("while", "until"):
            self.take()
            cond = self.seq(stop=("do",))
            self.expect_word("do")
            body = self.seq(stop=("done",))
            self.expect_word("done")
            return ("while", cond, body, word == "until")
        if word == "if":
            self.take()
            arms, other = [], None
            while True:
                cond = self.seq(stop=("then",))
                self.expect_word("then")
                body = self.seq(stop=("elif", "else", "fi"))
                arms.append((cond, body))
                w = literal(self.take())
                if w == "elif":
                    continue
                if w == "else":
                    other = self.seq(stop=("fi",))
                    self.expect_word("fi")
                elif w != "fi":
                    raise ShellSyntaxError("syntax error: unexpected end of file (expecting \"fi\")")
                return ("if", arms, other)
        if word == "for":
            self.take()
            var = literal(self.take())
            if not var:
                raise ShellSyntaxError("syntax error: bad for loop variable")
            words = None
            self.skip_newlines()
            if self.at_word("in"):
                self.take()
                words = []
                while self.peek()[0] == "word":
                    words.append(self.take())
            self.skip_newlines()
            self.expect_word("do")
            body = self.seq(stop=("done",))
            self.expect_word("done")
            return ("for", var, words, body)
        if word == "{":
            self.take()
            body = self.seq(stop=("}",))
            self.expect_word("}")
            return ("group", body)
        if self.peek() == ("op", "("):
            self.take()
            body = self.seq(stop=())
            if self.take() != ("op", ")"):
                raise ShellSyntaxError("syntax error: missing ')'")
            return ("subshell", body)
        if word in ("do", "done", "then", "fi", "else", "elif", "}", "esac"):
            raise ShellSyntaxError(f"syntax error: unexpected \"{word}\"")
        return self.simple()

    def simple(self):
        assigns, words, redirs = [], [], []
        while True:
            tok = self.peek()
            if tok[0] == "word":
                self.take()
                first = tok[1][0]
                if not words and first[0] == "raw" and "=" in first[1] \
                        and first[1].split("=", 1)[0].isidentifier():
                    name, rest = first[1].split("=", 1)
                    assigns.append((name, ("word", [("raw", rest)] + tok[1][1:])))
                else:
                    words.append(tok)
            elif tok[0] == "op" and tok[1] in (">", ">>", "<", "2>", "2>>", "1>"):
                self.take()
                target = self.take()
                if target[0] != "word":
                    raise ShellSyntaxError("syntax error: unexpected redirection")
                redirs.append((tok[1], target))
            elif tok[0] == "op" and tok[1] in ("2>&1", ">&2", "1>&2"):
                self.take()
                redirs.append((tok[1], None))
            else:
                break
        if not (assigns or words or redirs):
            got = tok[1] if tok[0] == "op" else "end of file"
            got = "newline" if got == "\n" else got
            raise ShellSyntaxError(f"syntax error: unexpected {got!r}")
        return ("simple", assigns, words, redirs)


def parse(src: str):
    return Parser(tokenize(src)).parse()

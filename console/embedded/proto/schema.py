"""A small parser for the vendored proto2 files: messages, fields, maps.

Covers what go-to-protobuf emits: package, import, option, (nested) message,
`optional|required|repeated TYPE name = N [opts];` and `map<K, V> name = N;`.
Anything else is an error naming the file and line, so a regenerated file with
a new construct fails loudly instead of decoding wrongly.
"""

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent

SCALARS = frozenset({"double", "float", "int32", "int64", "uint32", "uint64", "sint32",
                     "sint64", "fixed32", "fixed64", "sfixed32", "sfixed64", "bool",
                     "string", "bytes"})


@dataclass(frozen=True)
class Field:
    name: str
    number: int
    type: str             # a scalar name or a message's full name (map: the value type)
    repeated: bool = False
    key: str | None = None  # map key type; set only for map fields
    pointer: bool = True  # Go pointer: sent only when set, so a zero value is meaningful

    @property
    def is_map(self) -> bool:
        return self.key is not None

    @property
    def is_message(self) -> bool:
        return self.type not in SCALARS


@dataclass
class Message:
    full_name: str
    fields: dict[int, Field] = field(default_factory=dict)
    by_name: dict[str, Field] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.full_name.rsplit(".", 1)[1]


def file_for_import(path: str) -> str:
    """k8s.io/api/core/v1/generated.proto -> api.core.v1.proto (see _extract)."""
    inner = path.removeprefix("k8s.io/").removesuffix("/generated.proto")
    return inner.replace("/", ".") + ".proto"


_TOKEN = re.compile(r'\s*(?:(//[^\n]*|/\*.*?\*/)|("(?:[^"\\]|\\.)*"|\'[^\']*\')|([A-Za-z_][\w.]*)|(\d+)|(\S))', re.S)


def _tokens(text: str, fname: str):
    """Yield (token, line); comments dropped, strings kept with their quotes."""
    pos, line = 0, 1
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            break
        start_line = line + text.count("\n", pos, m.start(m.lastindex))
        line += text.count("\n", pos, m.end())
        pos = m.end()
        if m.group(1) is None:
            yield m.group(m.lastindex), start_line
    if text[pos:].strip():
        raise ValueError(f"{fname}:{line}: cannot read the rest of the file")


class _Parser:
    def __init__(self, text: str, fname: str):
        self.toks = list(_tokens(text, fname))
        self.i = 0
        self.fname = fname
        self.package = ""
        self.imports: list[str] = []
        self.messages: list[tuple[Message, dict[int, str]]] = []  # with unresolved type names

    def error(self, what: str) -> ValueError:
        line = self.toks[min(self.i, len(self.toks) - 1)][1] if self.toks else 1
        return ValueError(f"{self.fname}:{line}: {what}")

    def next(self) -> str:
        if self.i >= len(self.toks):
            raise self.error("unexpected end of file")
        self.i += 1
        return self.toks[self.i - 1][0]

    def expect(self, tok: str) -> None:
        got = self.next()
        if got != tok:
            self.i -= 1
            raise self.error(f"expected {tok!r}, found {got!r}")

    def skip_statement(self) -> None:
        while self.next() != ";":
            pass

    def parse(self) -> None:
        while self.i < len(self.toks):
            tok = self.next()
            if tok in ("syntax", "option"):
                self.skip_statement()
            elif tok == "package":
                self.package = self.next()
                self.expect(";")
            elif tok == "import":
                self.imports.append(self.next().strip("\"'"))
                self.expect(";")
            elif tok == "message":
                self.message(self.package)
            else:
                self.i -= 1
                raise self.error(f"unexpected {tok!r} at top level")

    def message(self, scope: str) -> None:
        msg = Message(f"{scope}.{self.next()}")
        types: dict[int, str] = {}
        self.messages.append((msg, types))
        self.expect("{")
        while (tok := self.next()) != "}":
            if tok == "message":
                self.message(msg.full_name)
                continue
            if tok == "option":
                self.skip_statement()
                continue
            key = None
            if tok == "map":
                self.expect("<")
                key = self.next()
                self.expect(",")
                ftype = self.next()
                self.expect(">")
                label = "repeated"
            elif tok in ("optional", "required", "repeated"):
                label, ftype = tok, self.next()
            else:
                self.i -= 1
                raise self.error(f"unexpected {tok!r} in message {msg.name}")
            name = self.next()
            self.expect("=")
            number = self.next()
            if not number.isdigit():
                raise self.error(f"field {name}: bad number {number!r}")
            pointer = True
            if (tok := self.next()) == "[":
                opts = []
                while (tok := self.next()) != "]":
                    opts.append(tok)
                pointer = "".join(opts) != "(gogoproto.nullable)=false"
                tok = self.next()
            if tok != ";":
                self.i -= 1
                raise self.error(f"field {name}: expected ';'")
            f = Field(name, int(number), ftype, repeated=label == "repeated", key=key, pointer=pointer)
            if f.number in msg.fields or name in msg.by_name:
                raise self.error(f"field {name} = {number} declared twice in {msg.name}")
            msg.fields[f.number] = f
            msg.by_name[name] = f
            types[f.number] = ftype


@cache
def messages() -> dict[str, Message]:
    """Every message of the vendored files, by full name, types resolved."""
    parsed = []
    for path in sorted(HERE.glob("*.proto")):
        p = _Parser(path.read_text(), path.name)
        p.parse()
        parsed.append(p)
    table = {m.full_name: m for p in parsed for m, _ in p.messages}
    for p in parsed:
        for msg, types in p.messages:
            for number, tname in types.items():
                resolved = _resolve(tname, msg.full_name, table)
                if resolved is None:
                    raise ValueError(f"{p.fname}: {msg.name}.{msg.fields[number].name}: "
                                     f"unknown type {tname}")
                f = msg.fields[number]
                msg.fields[number] = f = Field(f.name, f.number, resolved, f.repeated, f.key, f.pointer)
                msg.by_name[f.name] = f
    return table


def _resolve(tname: str, scope: str, table: dict[str, Message]) -> str | None:
    if tname in SCALARS:
        return tname
    tname = tname.lstrip(".")
    # innermost scope first, as protoc does
    while scope:
        candidate = f"{scope}.{tname}"
        if candidate in table:
            return candidate
        scope = scope.rpartition(".")[0]
    return tname if tname in table else None

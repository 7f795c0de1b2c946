"""Regenerate the vendored Kubernetes .proto files from a kubectl binary.

Every Kubernetes Go binary embeds, gzip-compressed, the FileDescriptorProto of
each generated.proto it was built with (gogo's proto.RegisterFile). Rendering
those back to .proto text gives the exact field numbers and types of that
release, plus gogo's `nullable=false` marks that tell pointer fields (sent only
when set, so a zero is meaningful) from value fields (always sent).

    python -m console.embedded.proto._extract /usr/lib/google-cloud-sdk/bin/kubectl.1.33 [OUTDIR]

Not imported at run time; kubelab never needs kubectl.
"""

import subprocess
import sys
import zlib
from pathlib import Path

from .wire import iter_fields

# import path -> vendored file name (flat, so package-data "*.proto" ships them)
WANTED = [
    "k8s.io/apimachinery/pkg/runtime/generated.proto",
    "k8s.io/apimachinery/pkg/runtime/schema/generated.proto",
    "k8s.io/apimachinery/pkg/util/intstr/generated.proto",
    "k8s.io/apimachinery/pkg/api/resource/generated.proto",
    "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto",
    "k8s.io/api/core/v1/generated.proto",
    "k8s.io/api/apps/v1/generated.proto",
    "k8s.io/api/autoscaling/v1/generated.proto",
    "k8s.io/api/autoscaling/v2/generated.proto",
    "k8s.io/api/discovery/v1/generated.proto",
    "k8s.io/api/policy/v1/generated.proto",
    "k8s.io/api/authorization/v1/generated.proto",
    "k8s.io/api/authentication/v1/generated.proto",
    "k8s.io/api/batch/v1/generated.proto",
    "k8s.io/api/rbac/v1/generated.proto",
]

HEADER = """/*
Copyright The Kubernetes Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// {path} of Kubernetes {version}, rendered back to .proto text by
// console/embedded/proto/_extract.py from the FileDescriptorProto that the
// kubectl {version} binary embeds (doc comments are not in that descriptor).
// [(gogoproto.nullable) = false] marks a Go value field; fields without it are
// Go pointers, sent only when set.
"""

SCALARS = {1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32",
           6: "fixed64", 7: "fixed32", 8: "bool", 9: "string", 12: "bytes",
           13: "uint32", 15: "sfixed32", 16: "sfixed64", 17: "sint32", 18: "sint64"}
NULLABLE = 65001  # gogoproto.nullable


def file_name(import_path: str) -> str:
    """k8s.io/api/core/v1/generated.proto -> api.core.v1.proto"""
    inner = import_path.removeprefix("k8s.io/").removesuffix("/generated.proto")
    return inner.replace("/", ".") + ".proto"


def _fields(buf: bytes) -> dict[int, list]:
    out: dict[int, list] = {}
    for number, _, value in iter_fields(buf):
        out.setdefault(number, []).append(value)
    return out


def descriptors(binary: bytes) -> dict[str, dict]:
    magic = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    found, pos = {}, 0
    while (pos := binary.find(magic, pos)) >= 0:
        try:
            raw = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(binary[pos:pos + 4_000_000])
            fd = _fields(raw)
            name = fd[1][0].decode()
        except (zlib.error, ValueError, KeyError, IndexError, UnicodeDecodeError):
            name = None
        if name and name.endswith("generated.proto"):
            found[name] = fd
        pos += 1
    return found


def _type_name(name: str, package: str) -> str:
    name = name.lstrip(".")
    return name[len(package) + 1:] if name.startswith(package + ".") and name.count(".") == package.count(".") + 1 else name


def render_message(msg: dict, package: str, indent: str = "") -> list[str]:
    name = msg[1][0].decode()
    entries = {}  # nested map-entry types: name -> (key type, value type)
    for nested in msg.get(3, []):
        n = _fields(nested)
        opts = _fields(n[7][0]) if 7 in n else {}
        if opts.get(7, [0])[0]:
            kv = [_fields(f) for f in n[2]]
            entries[n[1][0].decode()] = [_field_type(f, package) for f in kv]
    lines = [f"{indent}message {name} {{"]
    for raw in msg.get(2, []):
        f = _fields(raw)
        fname, number, label = f[1][0].decode(), f[3][0], f[4][0]
        ftype = _field_type(f, package)
        short = ftype.rsplit(".", 1)[-1]
        if label == 3 and short in entries and ftype.endswith(name + "." + short):
            k, v = entries[short]
            decl = f"map<{k}, {v}> {fname} = {number}"
        else:
            decl = f"{'repeated' if label == 3 else 'optional'} {ftype} {fname} = {number}"
        opts = _fields(f[8][0]) if 8 in f else {}
        if opts.get(NULLABLE, [1])[0] == 0:
            decl += " [(gogoproto.nullable) = false]"
        lines.append(f"{indent}  {decl};")
    for nested in msg.get(3, []):
        n = _fields(nested)
        if n[1][0].decode() not in entries:
            lines += render_message(n, package, indent + "  ")
    lines.append(f"{indent}}}")
    return lines


def _field_type(f: dict, package: str) -> str:
    t = f[5][0]
    if t in SCALARS:
        return SCALARS[t]
    if t == 11:
        return _type_name(f[6][0].decode(), package)
    raise ValueError(f"unsupported descriptor type {t} for field {f[1][0]!r}")


def render(path: str, fd: dict, version: str) -> str:
    package = fd[2][0].decode()
    out = [HEADER.format(path=path, version=version), 'syntax = "proto2";', "",
           f"package {package};", ""]
    out += [f'import "{d.decode()}";' for d in fd.get(3, [])]
    for msg in fd.get(4, []):
        out.append("")
        out += render_message(_fields(msg), package)
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m console.embedded.proto._extract KUBECTL [OUTDIR]", file=sys.stderr)
        return 2
    kubectl = argv[0]
    outdir = Path(argv[1] if len(argv) > 1 else Path(__file__).parent)
    version = subprocess.run([kubectl, "version", "--client", "-o", "yaml"], capture_output=True,
                             text=True, check=True).stdout
    version = next(line.split(":", 1)[1].strip() for line in version.splitlines()
                   if line.strip().startswith("gitVersion:"))
    found = descriptors(Path(kubectl).read_bytes())
    for path in WANTED:
        if path not in found:
            print(f"{kubectl}: no descriptor for {path}", file=sys.stderr)
            return 1
        (outdir / file_name(path)).write_text(render(path, found[path], version))
        print(f"wrote {file_name(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

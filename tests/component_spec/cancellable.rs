//! The `cancellable` immediate of `waitable-set.wait`, `waitable-set.poll`,
//! `thread.yield` and the suspending `thread.*` built-ins: the text parser (`wast` 263) refuses it since
//! WebAssembly/component-model#716, but the binary format still has its byte, which
//! the translator's reader (wasmtime-environ 48's wasmparser) takes. The runner blanks
//! the keyword in the script (spaces, so spans and lines stay), encodes the component,
//! and sets the byte of each built-in that had it: the built-ins of a component are
//! encoded in the order they are written.

use wasmparser::{CanonicalFunction, Parser, Payload};

/// The built-ins that take the immediate, as written after `canon`.
const NAMES: [&str; 8] = [
    "waitable-set.wait",
    "waitable-set.poll",
    "thread.yield-then-resume",
    "thread.yield-then-promote",
    "thread.yield",
    "thread.suspend-then-resume",
    "thread.suspend-then-promote",
    "thread.suspend",
];

/// `text` with every `cancellable` immediate blanked, and each of those built-ins'
/// byte offset in the text with whether it had the immediate, in text order.
pub fn strip(text: &str) -> (String, Vec<(usize, bool)>) {
    let mut out = text.as_bytes().to_vec();
    let mut marks = Vec::new();
    let mut at = 0;
    while let Some(found) = text[at..].find("canon ") {
        let start = at + found;
        at = start + "canon ".len();
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        if text[line_start..start].contains(";;") {
            continue;
        }
        let rest = text[at..].trim_start();
        let name_at = text.len() - rest.len();
        let Some(name) = NAMES.iter().find(|name| {
            rest.starts_with(**name)
                && rest[name.len()..].starts_with(|c: char| c.is_whitespace() || c == ')')
        }) else {
            continue;
        };
        let after = &text[name_at + name.len()..];
        let keyword = after.trim_start();
        let keyword_at = text.len() - keyword.len();
        let cancellable = keyword.starts_with("cancellable")
            && keyword["cancellable".len()..].starts_with(|c: char| c.is_whitespace() || c == ')');
        if cancellable {
            out[keyword_at..keyword_at + "cancellable".len()].fill(b' ');
        }
        marks.push((start, cancellable));
    }
    // Only ASCII bytes were replaced by ASCII spaces.
    (
        String::from_utf8(out).unwrap_or_else(|_| text.to_string()),
        marks,
    )
}

/// Sets the `cancellable` byte of the built-ins of `wasm` (encoded from the text
/// `strip` blanked) that had it: `marks` are those built-ins' flags in text order.
pub fn patch(wasm: &mut [u8], marks: &[bool]) -> Result<(), String> {
    if !marks.contains(&true) {
        return Ok(());
    }
    let mut offsets = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| format!("cannot read the component: {e}"))?;
        if let Payload::ComponentCanonicalSection(reader) = payload {
            for item in reader.into_iter_with_offsets() {
                let (offset, func) = item.map_err(|e| format!("cannot read a canon: {e}"))?;
                if matches!(
                    func,
                    CanonicalFunction::WaitableSetWait { .. }
                        | CanonicalFunction::WaitableSetPoll { .. }
                        | CanonicalFunction::ThreadYield
                        | CanonicalFunction::ThreadSuspend
                        | CanonicalFunction::ThreadSuspendThenResume
                        | CanonicalFunction::ThreadYieldThenResume
                        | CanonicalFunction::ThreadSuspendThenPromote
                        | CanonicalFunction::ThreadYieldThenPromote
                ) {
                    offsets.push(offset as usize);
                }
            }
        }
    }
    if offsets.len() != marks.len() {
        return Err(format!(
            "{} `cancellable`-taking built-ins written, {} encoded",
            marks.len(),
            offsets.len()
        ));
    }
    for (offset, _) in offsets.iter().zip(marks).filter(|(_, mark)| **mark) {
        // The opcode, then the immediate the encoder wrote as 0.
        match wasm.get(offset + 1) {
            Some(0) if matches!(wasm[*offset], 0x20 | 0x21 | 0x0c | 0x29..=0x2d) => {
                wasm[offset + 1] = 1
            }
            _ => return Err(format!("no `cancellable` byte at offset {offset}")),
        }
    }
    Ok(())
}

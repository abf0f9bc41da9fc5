;; WASI 0.3: the host lowers a directory entry of `read-directory`'s
;; `stream<directory-entry>` into the reader's buffer with the reader's `realloc`,
;; with the instance's `may_leave` clear, as the canonical ABI lowers. A `realloc` that
;; calls a built-in then (here `stream.new`) traps "cannot leave", and never re-enters
;; the runtime in the middle of the copy. Built with `--dir .::d:ro`.
(component
  (import "wasi:filesystem/types@0.3.0" (instance $types
    (export "descriptor" (type $desc (sub resource)))
    (type $dtype' (variant (case "block-device") (case "character-device")
      (case "directory") (case "fifo") (case "symbolic-link") (case "regular-file")
      (case "socket") (case "other" (option string))))
    (export "descriptor-type" (type $dtype (eq $dtype')))
    (type $entry' (record (field "type" $dtype) (field "name" string)))
    (export "directory-entry" (type $entry (eq $entry')))
    (type $error' (variant (case "access") (case "already") (case "bad-descriptor")
      (case "busy") (case "deadlock") (case "quota") (case "exist")
      (case "file-too-large") (case "illegal-byte-sequence") (case "in-progress")
      (case "interrupted") (case "invalid") (case "io") (case "is-directory")
      (case "loop") (case "too-many-links") (case "message-size") (case "name-too-long")
      (case "no-device") (case "no-entry") (case "no-lock") (case "insufficient-memory")
      (case "insufficient-space") (case "not-directory") (case "not-empty")
      (case "not-recoverable") (case "unsupported") (case "no-tty")
      (case "no-such-device") (case "overflow") (case "not-permitted") (case "pipe")
      (case "read-only") (case "invalid-seek") (case "text-file-busy")
      (case "cross-device") (case "other" (option string))))
    (export "error-code" (type $error (eq $error')))
    (export "[method]descriptor.read-directory"
      (func (param "self" (borrow $desc))
        (result (tuple (stream $entry) (future (result (error $error)))))))))
  (alias export $types "descriptor" (type $desc))
  (alias export $types "directory-entry" (type $entry))
  (import "wasi:filesystem/preopens@0.3.0" (instance $preopens
    (alias outer 1 $desc (type $d))
    (export "descriptor" (type $d' (eq $d)))
    (export "get-directories" (func (result (list (tuple (own $d') string)))))))
  (type $entries (stream $entry))
  (type $bytes (stream u8))
  (core module $libc
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    ;; Set once the directory is read: the next allocation calls the built-in.
    (global $armed (export "armed") (mut i32) (i32.const 0))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at (global.get $next))
      (global.set $next (i32.add (local.get $at) (local.get 3)))
      (local.get $at)))
  (core instance $libc (instantiate $libc))
  (core func $get-directories (canon lower (func $preopens "get-directories")
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $read-directory (canon lower (func $types "[method]descriptor.read-directory")
    (memory (core memory $libc "memory"))))
  (core func $stream.new (canon stream.new $bytes))
  (core module $main
    (import "" "memory" (memory 1))
    (import "" "armed" (global $armed (mut i32)))
    (import "" "get-directories" (func $get-directories (param i32)))
    (import "" "read-directory" (func $read-directory (param i32 i32)))
    (import "" "stream.read" (func $stream.read (param i32 i32 i32) (result i32)))
    (func (export "run") (result i32)
      ;; The preopens' list at 0: (pointer, length); its first tuple's handle.
      (call $get-directories (i32.const 0))
      (if (i32.eqz (i32.load (i32.const 4))) (then unreachable))
      (call $read-directory (i32.load (i32.load (i32.const 0))) (i32.const 8))
      (global.set $armed (i32.const 1))
      ;; Up to 4 entries of 24 bytes at 64: the first name's `realloc` traps.
      (drop (call $stream.read (i32.load (i32.const 8)) (i32.const 64) (i32.const 4)))
      (i32.const 0)))
  (core module $realloc
    (import "" "realloc" (func $bump (param i32 i32 i32 i32) (result i32)))
    (import "" "armed" (global $armed (mut i32)))
    (import "" "stream.new" (func $stream.new (result i64)))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (if (global.get $armed) (then (drop (call $stream.new))))
      (call $bump (local.get 0) (local.get 1) (local.get 2) (local.get 3))))
  (core instance $realloc (instantiate $realloc
    (with "" (instance
      (export "realloc" (func $libc "realloc"))
      (export "armed" (global $libc "armed"))
      (export "stream.new" (func $stream.new))))))
  (core func $stream.read (canon stream.read $entries
    (memory (core memory $libc "memory")) (realloc (core func $realloc "realloc"))))
  (core instance $main (instantiate $main
    (with "" (instance
      (export "memory" (memory $libc "memory"))
      (export "armed" (global $libc "armed"))
      (export "get-directories" (func $get-directories))
      (export "read-directory" (func $read-directory))
      (export "stream.read" (func $stream.read))))))
  (func $run (result (result))
    (canon lift (core func $main "run")))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.3.0" (instance $run)))

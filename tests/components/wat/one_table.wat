;; One handle table per component instance, as the canonical ABI has it: handles of a
;; resource the host defines (wasi:io/streams output-stream, from wasi:cli/stdout) and of
;; one the component defines share the instance's indices, and a freed index is reused
;; first, whichever kind frees it and whichever takes it. `run` prints the handles it
;; got (`handles: 1 2 3 2 2`) and returns ok (exit status 0).
(component
  (import "wasi:io/error@0.2.6" (instance $errors
    (export "error" (type (sub resource)))))
  (alias export $errors "error" (type $error))
  (import "wasi:io/streams@0.2.6" (instance $streams
    (export "output-stream" (type $os (sub resource)))
    (alias outer 1 $error (type $error'))
    (export "error" (type $e (eq $error')))
    (type $stream-error' (variant (case "last-operation-failed" (own $e)) (case "closed")))
    (export "stream-error" (type $stream-error (eq $stream-error')))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" (borrow $os)) (param "contents" (list u8))
        (result (result (error $stream-error)))))))
  (alias export $streams "output-stream" (type $os))
  (import "wasi:cli/stdout@0.2.6" (instance $stdout
    (export "get-stdout" (func (result (own $os))))))
  (core module $libc
    (memory (export "memory") 1))
  (core instance $libc (instantiate $libc))
  (type $thing (resource (rep i32)))
  (core func $new (canon resource.new $thing))
  (core func $drop (canon resource.drop $thing))
  (core func $drop-stream (canon resource.drop $os))
  (core func $get-stdout (canon lower (func $stdout "get-stdout")))
  (core func $write (canon lower (func $streams "[method]output-stream.blocking-write-and-flush")
    (memory (core memory $libc "memory"))))
  (core module $main
    (import "libc" "memory" (memory 1))
    (import "host" "get-stdout" (func $get-stdout (result i32)))
    (import "host" "write" (func $write (param i32 i32 i32 i32)))
    (import "host" "drop-stream" (func $drop-stream (param i32)))
    (import "thing" "new" (func $new (param i32) (result i32)))
    (import "thing" "drop" (func $drop (param i32)))
    (data (i32.const 16) "handles: ? ? ? ? ?\n")
    ;; Puts handle `h` (a digit) at position `i` of the line.
    (func $put (param $i i32) (param $h i32)
      (i32.store8 offset=25 (i32.mul (local.get $i) (i32.const 2))
        (i32.add (i32.const 48) (local.get $h))))
    (func (export "run") (result i32)
      (local $out i32) (local $a i32) (local $b i32) (local $again i32) (local $c i32)
      (local.set $out (call $get-stdout))
      (local.set $a (call $new (i32.const 7)))
      (local.set $b (call $new (i32.const 8)))
      ;; Freed by a guest resource, taken by a host one.
      (call $drop (local.get $a))
      (local.set $again (call $get-stdout))
      ;; Freed by a host resource, taken by a guest one.
      (call $drop-stream (local.get $again))
      (local.set $c (call $new (i32.const 9)))
      (call $put (i32.const 0) (local.get $out))
      (call $put (i32.const 1) (local.get $a))
      (call $put (i32.const 2) (local.get $b))
      (call $put (i32.const 3) (local.get $again))
      (call $put (i32.const 4) (local.get $c))
      (call $write (local.get $out) (i32.const 16) (i32.const 19) (i32.const 64))
      (call $drop (local.get $b))
      (call $drop (local.get $c))
      (call $drop-stream (local.get $out))
      (i32.load8_u (i32.const 64))))
  (core instance $main (instantiate $main
    (with "libc" (instance $libc))
    (with "host" (instance
      (export "get-stdout" (func $get-stdout))
      (export "write" (func $write))
      (export "drop-stream" (func $drop-stream))))
    (with "thing" (instance
      (export "new" (func $new))
      (export "drop" (func $drop))))))
  (func $run (result (result)) (canon lift (core func $main "run")))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run)))

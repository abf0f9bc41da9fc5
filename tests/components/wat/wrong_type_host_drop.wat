;; One handle table per component instance: resource.drop of a resource the host
;; defines (an output-stream), given the handle of a resource the component defines
;; (index 2, after stdout's 1), traps naming the handle.
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
    (import "host" "get-stdout" (func $get-stdout (result i32)))
    (import "host" "drop-stream" (func $drop-stream (param i32)))
    (import "thing" "new" (func $new (param i32) (result i32)))
    (import "thing" "drop" (func $drop (param i32)))
    (func (export "run") (result i32)
      (local $out i32)
      (local.set $out (call $get-stdout))
      (call $drop-stream (call $new (i32.const 5)))
      (i32.const 0)))
  (core instance $main (instantiate $main
    (with "host" (instance
      (export "get-stdout" (func $get-stdout))
      (export "drop-stream" (func $drop-stream))))
    (with "thing" (instance
      (export "new" (func $new))
      (export "drop" (func $drop))))))
  (func $run (result (result)) (canon lift (core func $main "run")))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run)))

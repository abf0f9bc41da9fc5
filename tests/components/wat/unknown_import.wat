;; A command that imports a function no host provides: `wafer build` refuses it, and
;; with --trap-unknown-imports calling it traps, naming the import.
(component
  (import "wasi:http/outgoing-handler@0.2.0" (instance $http
    (export "handle" (func (param "id" u32) (result u32)))))
  (core func $handle (canon lower (func $http "handle")))
  (core module $m
    (import "http" "handle" (func $handle (param i32) (result i32)))
    (func (export "run") (result i32)
      (drop (call $handle (i32.const 7)))
      (i32.const 0)))
  (core instance $i (instantiate $m
    (with "http" (instance (export "handle" (func $handle))))))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run)))

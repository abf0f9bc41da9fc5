;; A string passed to and returned from another component instance with a memory of its
;; own, through a fused adapter: the argument is copied into the callee's memory with its
;; realloc, the result into the caller's with the caller's realloc (UTF-8 copies between
;; memories, validated), and the callee's post-return runs after. `run` returns ok
;; (exit status 0) when the greeting is right and the post-return ran once.
(component
  (component $greeter
    (core module $m
      (memory (export "memory") 1)
      (global $heap (mut i32) (i32.const 1024))
      (global $posts (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $ptr i32)
        (local.set $ptr
          (i32.and
            (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
            (i32.sub (i32.const 0) (local.get 2))))
        (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
        ;; Growing or shrinking keeps the contents (the canonical ABI may shrink a
        ;; string it allocated for the worst case).
        (memory.copy (local.get $ptr) (local.get 0)
          (select (local.get 1) (local.get 3) (i32.lt_u (local.get 1) (local.get 3))))
        (local.get $ptr))
      (data (i32.const 16) "hello, ")
      ;; greet(name) = "hello, " ++ name, in a result area at 0.
      (func (export "greet") (param $name i32) (param $len i32) (result i32)
        (memory.copy (i32.const 512) (i32.const 16) (i32.const 7))
        (memory.copy (i32.const 519) (local.get $name) (local.get $len))
        (i32.store (i32.const 0) (i32.const 512))
        (i32.store (i32.const 4) (i32.add (local.get $len) (i32.const 7)))
        (i32.const 0))
      (func (export "post-greet") (param i32)
        (global.set $posts (i32.add (global.get $posts) (i32.const 1))))
      (func (export "posts") (result i32) (global.get $posts)))
    (core instance $i (instantiate $m))
    (func (export "greet") (param "name" string) (result string)
      (canon lift (core func $i "greet") (memory (core memory $i "memory"))
        (realloc (core func $i "realloc")) (post-return (core func $i "post-greet"))))
    (func (export "posts") (result u32) (canon lift (core func $i "posts"))))

  (component $user
    (import "greet" (func $greet (param "name" string) (result string)))
    (import "posts" (func $posts (result u32)))
    (core module $libc
      (memory (export "memory") 1)
      (global $heap (mut i32) (i32.const 4096))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $ptr i32)
        (local.set $ptr
          (i32.and
            (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
            (i32.sub (i32.const 0) (local.get 2))))
        (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
        ;; Growing or shrinking keeps the contents (the canonical ABI may shrink a
        ;; string it allocated for the worst case).
        (memory.copy (local.get $ptr) (local.get 0)
          (select (local.get 1) (local.get 3) (i32.lt_u (local.get 1) (local.get 3))))
        (local.get $ptr)))
    (core instance $libc (instantiate $libc))
    (core func $greet (canon lower (func $greet)
      (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
    (core func $posts (canon lower (func $posts)))
    (core module $main
      (import "libc" "memory" (memory 1))
      (import "greeter" "greet" (func $greet (param i32 i32 i32)))
      (import "greeter" "posts" (func $posts (result i32)))
      (data (i32.const 100) "wafer")
      (data (i32.const 200) "hello, wafer")
      (func $check (param i32) (if (i32.eqz (local.get 0)) (then (unreachable))))
      (func (export "run") (result i32)
        (local $at i32) (local $i i32)
        (call $greet (i32.const 100) (i32.const 5) (i32.const 300))
        (call $check (i32.eq (i32.load (i32.const 304)) (i32.const 12)))
        (local.set $at (i32.load (i32.const 300)))
        ;; The result was allocated by this instance's realloc, past its heap start.
        (call $check (i32.ge_u (local.get $at) (i32.const 4096)))
        (block $done
          (loop $bytes
            (br_if $done (i32.eq (local.get $i) (i32.const 12)))
            (call $check
              (i32.eq
                (i32.load8_u (i32.add (local.get $at) (local.get $i)))
                (i32.load8_u (i32.add (i32.const 200) (local.get $i)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $bytes)))
        (call $check (i32.eq (call $posts) (i32.const 1)))
        (i32.const 0)))
    (core instance $main (instantiate $main
      (with "libc" (instance $libc))
      (with "greeter" (instance
        (export "greet" (func $greet))
        (export "posts" (func $posts))))))
    (func (export "run") (result (result)) (canon lift (core func $main "run"))))

  (instance $greeter (instantiate $greeter))
  (instance $user (instantiate $user
    (with "greet" (func $greeter "greet"))
    (with "posts" (func $greeter "posts"))))
  (alias export $user "run" (func $run))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run)))

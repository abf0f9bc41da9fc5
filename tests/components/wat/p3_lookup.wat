;; A WASI 0.3 command that looks up `slow.example.test` (the lookup test's DNS server
;; answers it after 300 ms) while a 50 ms timer runs: the lookup is a subtask
;; (`STARTED`), the timer's subtask resolves first, then the lookup's, with 10.1.2.3.
;; Exit status 0 (`ok`) only then; anything else traps.
(component
  (import "wasi:sockets/types@0.3.0" (instance $types
    (type $v4 (tuple u8 u8 u8 u8))
    (type $v6 (tuple u16 u16 u16 u16 u16 u16 u16 u16))
    (type $ip (variant (case "ipv4" $v4) (case "ipv6" $v6)))
    (export "ip-address" (type (eq $ip)))))
  (alias export $types "ip-address" (type $ip-address))
  (import "wasi:sockets/ip-name-lookup@0.3.0" (instance $lookup
    (alias outer 1 $ip-address (type $ip0))
    (export "ip-address" (type $ip (eq $ip0)))
    (type $ec0 (variant
      (case "access-denied")
      (case "invalid-argument")
      (case "name-unresolvable")
      (case "temporary-resolver-failure")
      (case "permanent-resolver-failure")
      (case "other" (option string))))
    (export "error-code" (type $ec (eq $ec0)))
    (export "resolve-addresses"
      (func async (param "name" string) (result (result (list $ip) (error $ec)))))))
  (import "wasi:clocks/monotonic-clock@0.3.0" (instance $clock
    (export "wait-for" (func async (param "how-long" u64)))))
  (core module $Memory
    (memory (export "mem") 1)
    ;; A bump allocator for the list of addresses.
    (global $next (mut i32) (i32.const 0x1000))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at (i32.and
        (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get 2))))
      (global.set $next (i32.add (local.get $at) (local.get 3)))
      (local.get $at))
    (data (i32.const 0x100) "slow.example.test"))
  (core instance $memory (instantiate $Memory))
  (core func $resolve (canon lower (func $lookup "resolve-addresses") async
    (memory (core memory $memory "mem")) (realloc (core func $memory "realloc"))))
  (core func $wait-for (canon lower (func $clock "wait-for") async
    (memory (core memory $memory "mem"))))
  (core func $set.new (canon waitable-set.new))
  (core func $set.wait (canon waitable-set.wait (memory (core memory $memory "mem"))))
  (core func $join (canon waitable.join))
  (core func $subtask.drop (canon subtask.drop))
  (core module $M
    (import "" "mem" (memory 1))
    (import "" "resolve" (func $resolve (param i32 i32 i32) (result i32)))
    (import "" "wait-for" (func $wait-for (param i64) (result i32)))
    (import "" "set.new" (func $set.new (result i32)))
    (import "" "set.wait" (func $set.wait (param i32 i32) (result i32)))
    (import "" "join" (func $join (param i32 i32)))
    (import "" "subtask.drop" (func $subtask.drop (param i32)))
    ;; The subtask of a call that answered `STARTED` (1).
    (func $started (param $status i32) (result i32)
      (if (i32.ne (i32.and (local.get $status) (i32.const 0xf)) (i32.const 1))
        (then unreachable))
      (i32.shr_u (local.get $status) (i32.const 4)))
    ;; Waits on `$set` for subtask `$subtask` to return.
    (func $returns (param $set i32) (param $subtask i32)
      (if (i32.ne (call $set.wait (local.get $set) (i32.const 0)) (i32.const 1 (; SUBTASK ;)))
        (then unreachable))
      (if (i32.ne (i32.load (i32.const 0)) (local.get $subtask))
        (then unreachable))
      (if (i32.ne (i32.load (i32.const 4)) (i32.const 2 (; RETURNED ;)))
        (then unreachable))
      (call $subtask.drop (local.get $subtask)))
    (func (export "run") (result i32)
      (local $lookup i32) (local $timer i32) (local $set i32)
      (local.set $lookup (call $started (call $resolve (i32.const 0x100) (i32.const 17) (i32.const 0x200))))
      (local.set $timer (call $started (call $wait-for (i64.const 50000000))))
      (local.set $set (call $set.new))
      (call $join (local.get $lookup) (local.get $set))
      (call $join (local.get $timer) (local.get $set))
      (call $returns (local.get $set) (local.get $timer))
      (call $returns (local.get $set) (local.get $lookup))
      ;; ok, and a list of addresses (18 bytes each) with IPv4 10.1.2.3 among them.
      (if (i32.load8_u (i32.const 0x200)) (then unreachable))
      (call $has-10-1-2-3 (i32.load (i32.const 0x204)) (i32.load (i32.const 0x208)))
      (i32.const 0 (; ok ;)))
    (func $has-10-1-2-3 (param $at i32) (param $count i32)
      (loop $next
        (if (i32.eqz (local.get $count)) (then unreachable))
        (if (i32.and
              (i32.eqz (i32.load8_u (local.get $at)))
              (i32.eq (i32.load (i32.add (local.get $at) (i32.const 2))) (i32.const 0x0302010a)))
          (then return))
        (local.set $at (i32.add (local.get $at) (i32.const 18)))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $next))))
  (core instance $m (instantiate $M (with "" (instance
    (export "mem" (memory $memory "mem"))
    (export "resolve" (func $resolve))
    (export "wait-for" (func $wait-for))
    (export "set.new" (func $set.new))
    (export "set.wait" (func $set.wait))
    (export "join" (func $join))
    (export "subtask.drop" (func $subtask.drop))))))
  (func $run async (result (result)) (canon lift (core func $m "run")))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.3.0" (instance $run)))

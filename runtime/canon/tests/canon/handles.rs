//! The handle table: index allocation, own and borrow rules, lending, borrow scopes,
//! opaque handles, and handles passed by lifting and lowering values.

use wafer_canon::handles::{Entry, Handle, MAX_TABLE_LENGTH};
use wafer_canon::{
    AsyncKind, Dropped, FlatReader, FlatVal, HandleTable, Handles, OpaqueKind, ResourceId, Trap,
    TypeId, Types, Val, lift_flat, lower_flat,
};

use crate::support::{cx, memory, parse};

const R1: ResourceId = ResourceId(1);
const R2: ResourceId = ResourceId(2);

#[test]
fn indices_start_at_one_and_freed_ones_are_reused_last_first() {
    let mut table = HandleTable::new();
    assert_eq!(table.resource_new(R1, 10), Ok(1));
    assert_eq!(table.resource_new(R1, 20), Ok(2));
    assert_eq!(table.resource_new(R1, 30), Ok(3));
    assert_eq!(table.resource_drop(R1, 2), Ok(Dropped::Own { rep: 20 }));
    assert_eq!(table.resource_new(R1, 40), Ok(2));
    assert_eq!(table.resource_drop(R1, 3), Ok(Dropped::Own { rep: 30 }));
    assert_eq!(table.resource_drop(R1, 1), Ok(Dropped::Own { rep: 10 }));
    assert_eq!(table.resource_new(R1, 50), Ok(1));
    assert_eq!(table.resource_new(R1, 60), Ok(3));
    assert_eq!(table.resource_new(R1, 70), Ok(4));
    assert_eq!(table.len(), 4);
    assert_eq!(table.resource_rep(R1, 3), Ok(60));
}

#[test]
fn unknown_indices() {
    let mut table = HandleTable::new();
    let h = table.resource_new(R1, 10).unwrap();
    for index in [0, 2, 5, u32::MAX] {
        assert_eq!(
            table.resource_rep(R1, index),
            Err(Trap::UnknownHandle(index))
        );
        assert_eq!(
            table.resource_drop(R1, index),
            Err(Trap::UnknownHandle(index))
        );
        assert_eq!(table.lift_own(R1, index), Err(Trap::UnknownHandle(index)));
    }
    // Use after drop, and a double drop.
    table.resource_drop(R1, h).unwrap();
    assert_eq!(table.resource_rep(R1, h), Err(Trap::UnknownHandle(h)));
    assert_eq!(table.resource_drop(R1, h), Err(Trap::UnknownHandle(h)));
    // Moved out by lifting an own.
    let h = table.resource_new(R1, 11).unwrap();
    assert_eq!(table.lift_own(R1, h), Ok(11));
    assert_eq!(table.lift_own(R1, h), Err(Trap::UnknownHandle(h)));
    assert!(table.is_empty());
}

#[test]
fn wrong_types() {
    let mut table = HandleTable::new();
    let h = table.resource_new(R1, 10).unwrap();
    assert_eq!(table.resource_rep(R2, h), Err(Trap::HandleWrongType(h)));
    assert_eq!(table.resource_drop(R2, h), Err(Trap::HandleWrongType(h)));
    assert_eq!(table.lift_own(R2, h), Err(Trap::HandleWrongType(h)));
    let subtask = table.begin_subtask();
    assert_eq!(
        table.lift_borrow(subtask, R2, h),
        Err(Trap::HandleWrongType(h))
    );
    // An opaque handle is not a resource, nor a stream of another type, nor a future.
    let mut types = Types::new();
    let stream_u8 = parse(&mut types, "stream<u8>");
    let stream_u16 = parse(&mut types, "stream<u16>");
    let s = table
        .lower_opaque(OpaqueKind::Stream, stream_u8, 5)
        .unwrap();
    assert_eq!(table.resource_rep(R1, s), Err(Trap::HandleWrongType(s)));
    assert_eq!(
        table.lift_opaque(OpaqueKind::Stream, stream_u16, s),
        Err(Trap::HandleWrongType(s))
    );
    assert_eq!(
        table.lift_opaque(OpaqueKind::Future, stream_u8, s),
        Err(Trap::HandleWrongType(s))
    );
    assert_eq!(
        table.lift_opaque(OpaqueKind::Stream, stream_u8, h),
        Err(Trap::HandleWrongType(h))
    );
    // Nothing was removed by the failed attempts.
    assert_eq!(table.len(), 2);
}

#[test]
fn lent_handles_cannot_be_moved_or_dropped_until_the_call_ends() {
    let mut table = HandleTable::new();
    let h = table.resource_new(R1, 10).unwrap();
    let first = table.begin_subtask();
    let second = table.begin_subtask();
    assert_eq!(table.lift_borrow(first, R1, h), Ok(10));
    assert_eq!(table.lift_borrow(second, R1, h), Ok(10));
    assert!(matches!(
        table.entry(h),
        Some(Entry::Resource(Handle { lends: 2, .. }))
    ));
    assert_eq!(table.resource_drop(R1, h), Err(Trap::HandleLent(h)));
    assert_eq!(table.lift_own(R1, h), Err(Trap::HandleLent(h)));
    // Still usable for its representation.
    assert_eq!(table.resource_rep(R1, h), Ok(10));
    table.end_subtask(first);
    assert_eq!(table.resource_drop(R1, h), Err(Trap::HandleLent(h)));
    table.end_subtask(second);
    assert_eq!(table.resource_drop(R1, h), Ok(Dropped::Own { rep: 10 }));
    // Ending a subtask twice, or one that never was, does nothing.
    table.end_subtask(second);
}

#[test]
fn borrows_lowered_into_a_call_must_be_dropped_before_it_returns() {
    let mut table = HandleTable::new();
    let task = table.begin_task();
    let b = table.lower_borrow(task, R1, 42).unwrap();
    assert_eq!(table.task_borrows(task), Some(1));
    assert!(matches!(
        table.entry(b),
        Some(Entry::Resource(Handle {
            own: false,
            rep: 42,
            ..
        }))
    ));
    assert_eq!(table.resource_rep(R1, b), Ok(42));
    // A borrow cannot be lifted as an own.
    assert_eq!(table.lift_own(R1, b), Err(Trap::NotOwnHandle(b)));
    assert_eq!(table.end_task(task), Err(Trap::BorrowsRemain));
    assert_eq!(table.resource_drop(R1, b), Ok(Dropped::Borrow));
    assert_eq!(table.task_borrows(task), Some(0));
    assert_eq!(table.end_task(task), Ok(()));
    assert_eq!(table.task_borrows(task), None);
    assert!(table.is_empty());
}

#[test]
fn a_borrow_passed_on_is_lent_too() {
    let mut table = HandleTable::new();
    let task = table.begin_task();
    let b = table.lower_borrow(task, R1, 42).unwrap();
    let subtask = table.begin_subtask();
    assert_eq!(table.lift_borrow(subtask, R1, b), Ok(42));
    assert_eq!(table.resource_drop(R1, b), Err(Trap::HandleLent(b)));
    table.end_subtask(subtask);
    assert_eq!(table.resource_drop(R1, b), Ok(Dropped::Borrow));
    assert_eq!(table.end_task(task), Ok(()));
}

#[test]
fn an_instance_gets_the_representation_of_its_own_resources() {
    let mut table = HandleTable::new();
    table.set_implements(R1);
    assert!(table.implements(R1) && !table.implements(R2));
    let task = table.begin_task();
    assert_eq!(table.lower_borrow(task, R1, 42), Ok(42));
    assert_eq!(table.task_borrows(task), Some(0));
    assert!(table.is_empty());
    let b = table.lower_borrow(task, R2, 42).unwrap();
    assert_eq!(b, 1);
    assert_eq!(table.task_borrows(task), Some(1));
}

#[test]
fn borrows_need_a_call() {
    let mut table = HandleTable::new();
    let h = table.resource_new(R1, 10).unwrap();
    // The table itself, outside any call.
    assert_eq!(
        Handles::lift_borrow(&mut table, R1, h),
        Err(Trap::NoBorrowScope)
    );
    assert_eq!(
        Handles::lower_borrow(&mut table, R1, 10),
        Err(Trap::NoBorrowScope)
    );
    // A borrow is lowered into a task, lifted for a subtask, not the other way round.
    let task = table.begin_task();
    let subtask = table.begin_subtask();
    assert_eq!(
        table.task_scope(task).lift_borrow(R1, h),
        Err(Trap::NoBorrowScope)
    );
    assert_eq!(
        table.subtask_scope(subtask).lower_borrow(R1, 10),
        Err(Trap::NoBorrowScope)
    );
    assert_eq!(table.task_scope(task).lower_borrow(R1, 10), Ok(2));
    assert_eq!(table.subtask_scope(subtask).lift_borrow(R1, h), Ok(10));
    // Ended calls are no scope.
    table.end_subtask(subtask);
    assert_eq!(table.lift_borrow(subtask, R1, h), Err(Trap::NoBorrowScope));
    table.resource_drop(R1, 2).unwrap();
    table.end_task(task).unwrap();
    assert_eq!(table.lower_borrow(task, R1, 10), Err(Trap::NoBorrowScope));
    assert_eq!(table.end_task(task), Err(Trap::NoBorrowScope));
}

#[test]
fn the_table_has_a_limit() {
    assert_eq!(MAX_TABLE_LENGTH, (1 << 28) - 1);
    let mut table = HandleTable::with_max_len(3);
    for expected in 1..=3 {
        assert_eq!(table.resource_new(R1, expected), Ok(expected));
    }
    assert_eq!(table.resource_new(R1, 4), Err(Trap::HandleTableFull));
    let mut types = Types::new();
    let future = parse(&mut types, "future");
    assert_eq!(
        table.lower_opaque(OpaqueKind::Future, future, 1),
        Err(Trap::HandleTableFull)
    );
    table.resource_drop(R1, 2).unwrap();
    assert_eq!(table.resource_new(R1, 5), Ok(2));
}

#[test]
fn streams_and_futures_move_and_error_contexts_stay() {
    let mut types = Types::new();
    let stream = parse(&mut types, "stream<string>");
    let future = parse(&mut types, "future");
    let mut table = HandleTable::new();
    let s = table.lower_opaque(OpaqueKind::Stream, stream, 100).unwrap();
    let f = table.lower_opaque(OpaqueKind::Future, future, 200).unwrap();
    let e = table
        .lower_opaque(OpaqueKind::ErrorContext, TypeId::ERROR_CONTEXT, 300)
        .unwrap();
    assert_eq!((s, f, e), (1, 2, 3));
    assert_eq!(table.lift_opaque(OpaqueKind::Stream, stream, s), Ok(100));
    assert_eq!(
        table.lift_opaque(OpaqueKind::Stream, stream, s),
        Err(Trap::UnknownHandle(s))
    );
    assert_eq!(table.lift_opaque(OpaqueKind::Future, future, f), Ok(200));
    assert_eq!(
        table.lift_opaque(OpaqueKind::ErrorContext, TypeId::ERROR_CONTEXT, e),
        Ok(300)
    );
    assert_eq!(
        table.lift_opaque(OpaqueKind::ErrorContext, TypeId::ERROR_CONTEXT, e),
        Ok(300)
    );
    assert_eq!(table.len(), 1);
}

#[test]
fn removing_an_error_context_checks_its_kind_and_frees_the_index() {
    let mut table = HandleTable::new();
    let set = table.add_async(AsyncKind::WaitableSet, 7).unwrap();
    let e = table
        .lower_opaque(OpaqueKind::ErrorContext, TypeId::ERROR_CONTEXT, 300)
        .unwrap();
    let remove = |table: &mut HandleTable, index| {
        table.remove_opaque(OpaqueKind::ErrorContext, TypeId::ERROR_CONTEXT, index)
    };
    assert_eq!(remove(&mut table, set), Err(Trap::HandleWrongType(set)));
    assert_eq!(remove(&mut table, 9), Err(Trap::UnknownHandle(9)));
    assert_eq!(remove(&mut table, e), Ok(300));
    assert_eq!(remove(&mut table, e), Err(Trap::UnknownHandle(e)));
    // The index is free again, and the waitable set is untouched.
    assert_eq!(table.add_async(AsyncKind::WaitableSet, 8), Ok(e));
    assert_eq!(table.async_id(AsyncKind::WaitableSet, set), Ok(7));
}

/// A call from instance A to instance B passing `borrow<R1>` and `own<R2>`, through
/// flat values: A lifts the arguments (lending its handle, moving the own out), B
/// lowers them (a borrow handle in its task, a new own handle).
#[test]
fn a_call_between_instances() {
    let mut types = Types::new();
    let params = [parse(&mut types, "borrow<1>"), parse(&mut types, "own<2>")];
    let mut a = HandleTable::new();
    let mut b = HandleTable::new();
    let lent = a.resource_new(R1, 1000).unwrap();
    let given = a.resource_new(R2, 2000).unwrap();
    let mut memory = memory();
    let opts = Default::default();

    // A calls: lift its arguments in a subtask.
    let subtask = a.begin_subtask();
    let args = [FlatVal::I32(lent), FlatVal::I32(given)];
    let mut reader = FlatReader::new(&args);
    let mut a_scope = a.subtask_scope(subtask);
    let values = params
        .iter()
        .map(|&ty| {
            lift_flat(
                &mut cx(&types, opts, &mut memory, &mut a_scope),
                &mut reader,
                ty,
            )
        })
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert_eq!(values, [Val::Borrow(1000), Val::Own(2000)]);
    assert_eq!(a.entry(given), None, "the own moved out of A");

    // B is called: lower them into its task.
    let task = b.begin_task();
    let mut flat = Vec::new();
    let mut b_scope = b.task_scope(task);
    for (value, &ty) in values.iter().zip(&params) {
        lower_flat(
            &mut cx(&types, opts, &mut memory, &mut b_scope),
            value,
            ty,
            &mut flat,
        )
        .unwrap();
    }
    assert_eq!(flat, [FlatVal::I32(1), FlatVal::I32(2)]);
    // B must drop the borrow before returning; it keeps the own.
    assert_eq!(b.end_task(task), Err(Trap::BorrowsRemain));
    assert_eq!(a.resource_drop(R1, lent), Err(Trap::HandleLent(lent)));
    assert_eq!(b.resource_drop(R1, 1), Ok(Dropped::Borrow));
    assert_eq!(b.end_task(task), Ok(()));
    assert_eq!(b.resource_rep(R2, 2), Ok(2000));
    // The call returns to A: its handle is no longer lent.
    a.end_subtask(subtask);
    assert_eq!(a.resource_drop(R1, lent), Ok(Dropped::Own { rep: 1000 }));
    assert!(a.is_empty());
}

#[test]
fn lifting_traps_from_the_table_come_through() {
    let mut types = Types::new();
    let own = parse(&mut types, "own<1>");
    let mut table = HandleTable::new();
    let borrowed = {
        let task = table.begin_task();
        table.lower_borrow(task, R1, 5).unwrap()
    };
    let mut memory = memory();
    for (index, trap) in [
        (0, Trap::UnknownHandle(0)),
        (9, Trap::UnknownHandle(9)),
        (borrowed, Trap::NotOwnHandle(borrowed)),
    ] {
        let flat = [FlatVal::I32(index)];
        let got = lift_flat(
            &mut cx(&types, Default::default(), &mut memory, &mut table),
            &mut FlatReader::new(&flat),
            own,
        );
        assert_eq!(got, Err(trap));
    }
}

#[test]
fn async_entries_share_indices_and_check_their_kind() {
    let mut table = HandleTable::new();
    let resource = ResourceId(0);
    let own = table.resource_new(resource, 7).unwrap();
    let set = table.add_async(AsyncKind::WaitableSet, 42).unwrap();
    assert_eq!((own, set), (1, 2));
    assert_eq!(table.async_id(AsyncKind::WaitableSet, set), Ok(42));
    // A resource handle is not a waitable set, nor a set a resource handle.
    assert_eq!(
        table.async_id(AsyncKind::WaitableSet, own),
        Err(Trap::HandleWrongType(own))
    );
    assert_eq!(
        table.resource_rep(resource, set),
        Err(Trap::HandleWrongType(set))
    );
    assert_eq!(table.remove_async(AsyncKind::WaitableSet, set), Ok(42));
    assert_eq!(
        table.async_id(AsyncKind::WaitableSet, set),
        Err(Trap::UnknownHandle(set))
    );
    // The freed index is reused by the next entry of either kind.
    assert_eq!(table.resource_new(resource, 8), Ok(set));
}

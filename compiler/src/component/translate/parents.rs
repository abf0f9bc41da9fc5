//! Which component instance instantiated each one: the canonical ABI's reentrance rule
//! enters a callee's ancestors with it (`ComponentInstance.parent` in the spec), and the
//! translator keeps that chain to itself.
//!
//! The translator numbers component instances as it inlines the component: the root is
//! 0, and each `instantiate` of a component takes the next number and inlines that
//! component's body on the spot, before its instantiator goes on. This walk does the
//! same over the component's sections, following component definitions, imports
//! (resolved through instantiation arguments), `alias outer` and exports. A component
//! it cannot follow (one aliased from an instance's exports, say) stops the walk: the
//! caller then knows no parents rather than wrong ones.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use wasmtime_environ::wasmparser as wp;

/// A step of a component body that matters to instance numbering, in section order.
#[derive(Debug)]
enum Step {
    /// A nested component definition (a body, by index).
    Define(usize),
    /// An imported component (by import name).
    ImportComponent(String),
    /// An imported instance.
    ImportInstance(String),
    /// `alias outer COUNT INDEX` of a component.
    OuterComponent { count: u32, index: u32 },
    /// A component aliased from an instance's export.
    ExportedComponent { instance: u32, name: String },
    /// An instance aliased from an instance's export.
    ExportedInstance,
    /// `instantiate` of a component with named arguments.
    Instantiate { component: u32, args: Vec<Arg> },
    /// An instance made of local items.
    FromExports(Vec<Arg>),
    /// An export, which adds to its sort's index space.
    Export(Arg),
}

/// A named item: a component, an instance, or something else.
#[derive(Debug, Clone)]
struct Arg {
    name: String,
    kind: Sort,
    index: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    Component,
    Instance,
    Other,
}

impl From<wp::ComponentExternalKind> for Sort {
    fn from(kind: wp::ComponentExternalKind) -> Sort {
        match kind {
            wp::ComponentExternalKind::Component => Sort::Component,
            wp::ComponentExternalKind::Instance => Sort::Instance,
            _ => Sort::Other,
        }
    }
}

/// A component as this walk knows it: a body with the scope it was defined in.
#[derive(Debug, Clone)]
enum Component {
    Known { body: usize, scope: Rc<Scope> },
    Unknown,
}

/// An instance as this walk knows it: the components among its exports.
#[derive(Debug, Clone)]
enum Instance {
    Exports(HashMap<String, Component>),
    Other,
}

/// The index spaces of one instantiation of a body, and the scope it was defined in.
#[derive(Debug, Default)]
struct Scope {
    components: RefCell<Vec<Component>>,
    instances: RefCell<Vec<Instance>>,
    outer: Option<Rc<Scope>>,
}

/// The walk could not follow a component.
struct Lost;

/// The parent of each component instance (`None` for the root), or `None` when the
/// walk cannot follow the component.
pub(super) fn parents(wasm: &[u8]) -> Option<Vec<Option<u32>>> {
    let bodies = bodies(wasm)?;
    let mut walk = Walk {
        bodies: &bodies,
        parents: vec![None],
    };
    let root = Rc::new(Scope::default());
    walk.body(0, 0, root, &HashMap::new()).ok()?;
    Some(walk.parents)
}

/// Every component body's steps; the root's is first.
fn bodies(wasm: &[u8]) -> Option<Vec<Vec<Step>>> {
    enum Open {
        Component(usize),
        Module,
    }
    let mut bodies: Vec<Vec<Step>> = vec![Vec::new()];
    let mut open = vec![Open::Component(0)];
    for payload in wp::Parser::new(0).parse_all(wasm) {
        let payload = payload.ok()?;
        let Some(Open::Component(current)) = open.last() else {
            match payload {
                wp::Payload::ModuleSection { .. } => open.push(Open::Module),
                wp::Payload::End(_) => {
                    open.pop();
                }
                _ => {}
            }
            continue;
        };
        let current = *current;
        let steps = &mut bodies[current];
        match payload {
            wp::Payload::ModuleSection { .. } => open.push(Open::Module),
            wp::Payload::ComponentSection { .. } => {
                let body = bodies.len();
                bodies[current].push(Step::Define(body));
                bodies.push(Vec::new());
                open.push(Open::Component(body));
            }
            wp::Payload::End(_) => {
                open.pop();
            }
            wp::Payload::ComponentImportSection(section) => {
                for import in section {
                    let import = import.ok()?;
                    let name = import.name.name.to_string();
                    match import.ty {
                        wp::ComponentTypeRef::Component(_) => {
                            steps.push(Step::ImportComponent(name))
                        }
                        wp::ComponentTypeRef::Instance(_) => steps.push(Step::ImportInstance(name)),
                        _ => {}
                    }
                }
            }
            wp::Payload::ComponentAliasSection(section) => {
                for alias in section {
                    match alias.ok()? {
                        wp::ComponentAlias::Outer {
                            kind: wp::ComponentOuterAliasKind::Component,
                            count,
                            index,
                        } => steps.push(Step::OuterComponent { count, index }),
                        wp::ComponentAlias::InstanceExport {
                            kind,
                            instance_index,
                            name,
                        } => match Sort::from(kind) {
                            Sort::Component => steps.push(Step::ExportedComponent {
                                instance: instance_index,
                                name: name.to_string(),
                            }),
                            Sort::Instance => steps.push(Step::ExportedInstance),
                            Sort::Other => {}
                        },
                        _ => {}
                    }
                }
            }
            wp::Payload::ComponentInstanceSection(section) => {
                for instance in section {
                    match instance.ok()? {
                        wp::ComponentInstance::Instantiate {
                            component_index,
                            args,
                        } => steps.push(Step::Instantiate {
                            component: component_index,
                            args: args
                                .iter()
                                .map(|arg| Arg {
                                    name: arg.name.to_string(),
                                    kind: arg.kind.into(),
                                    index: arg.index,
                                })
                                .collect(),
                        }),
                        wp::ComponentInstance::FromExports(exports) => {
                            steps.push(Step::FromExports(exports.iter().map(arg).collect()))
                        }
                    }
                }
            }
            wp::Payload::ComponentExportSection(section) => {
                for export in section {
                    steps.push(Step::Export(arg(&export.ok()?)));
                }
            }
            _ => {}
        }
    }
    Some(bodies)
}

fn arg(export: &wp::ComponentExport<'_>) -> Arg {
    Arg {
        name: export.name.name.to_string(),
        kind: export.kind.into(),
        index: export.index,
    }
}

/// Instances numbered so far, with their parents.
struct Walk<'a> {
    bodies: &'a [Vec<Step>],
    parents: Vec<Option<u32>>,
}

/// What an instantiation's arguments provide, by name.
type Args = HashMap<String, (Sort, Component, Instance)>;

impl Walk<'_> {
    /// Walks one instantiation of `body` as instance `instance`, in `scope`.
    fn body(
        &mut self,
        body: usize,
        instance: u32,
        scope: Rc<Scope>,
        args: &Args,
    ) -> Result<(), Lost> {
        let component = |scope: &Scope, index: u32| {
            scope
                .components
                .borrow()
                .get(index as usize)
                .cloned()
                .unwrap_or(Component::Unknown)
        };
        let instance_of = |scope: &Scope, index: u32| {
            scope
                .instances
                .borrow()
                .get(index as usize)
                .cloned()
                .unwrap_or(Instance::Other)
        };
        let named = |scope: &Scope, arg: &Arg| match arg.kind {
            Sort::Component => (
                Sort::Component,
                component(scope, arg.index),
                Instance::Other,
            ),
            Sort::Instance => (
                Sort::Instance,
                Component::Unknown,
                instance_of(scope, arg.index),
            ),
            Sort::Other => (Sort::Other, Component::Unknown, Instance::Other),
        };
        for step in &self.bodies[body] {
            match step {
                Step::Define(child) => scope.components.borrow_mut().push(Component::Known {
                    body: *child,
                    scope: scope.clone(),
                }),
                Step::ImportComponent(name) => {
                    let found = match args.get(name) {
                        Some((Sort::Component, component, _)) => component.clone(),
                        _ => Component::Unknown,
                    };
                    scope.components.borrow_mut().push(found);
                }
                Step::ImportInstance(name) => {
                    let found = match args.get(name) {
                        Some((Sort::Instance, _, instance)) => instance.clone(),
                        _ => Instance::Other,
                    };
                    scope.instances.borrow_mut().push(found);
                }
                Step::OuterComponent { count, index } => {
                    let mut target = scope.clone();
                    for _ in 0..*count {
                        target = target.outer.clone().ok_or(Lost)?;
                    }
                    let found = component(&target, *index);
                    scope.components.borrow_mut().push(found);
                }
                Step::ExportedComponent { instance, name } => {
                    let found = match instance_of(&scope, *instance) {
                        Instance::Exports(exports) => {
                            exports.get(name).cloned().unwrap_or(Component::Unknown)
                        }
                        Instance::Other => Component::Unknown,
                    };
                    scope.components.borrow_mut().push(found);
                }
                Step::ExportedInstance => scope.instances.borrow_mut().push(Instance::Other),
                Step::Instantiate {
                    component: index,
                    args: given,
                } => {
                    let Component::Known {
                        body: child,
                        scope: defined_in,
                    } = component(&scope, *index)
                    else {
                        return Err(Lost);
                    };
                    let child_args: Args = given
                        .iter()
                        .map(|arg| (arg.name.clone(), named(&scope, arg)))
                        .collect();
                    let number = self.parents.len() as u32;
                    self.parents.push(Some(instance));
                    let child_scope = Rc::new(Scope {
                        outer: Some(defined_in),
                        ..Scope::default()
                    });
                    self.body(child, number, child_scope, &child_args)?;
                    // What the new instance exports is not followed.
                    scope.instances.borrow_mut().push(Instance::Other);
                }
                Step::FromExports(exports) => {
                    let components = exports
                        .iter()
                        .filter(|e| e.kind == Sort::Component)
                        .map(|e| (e.name.clone(), component(&scope, e.index)))
                        .collect();
                    scope
                        .instances
                        .borrow_mut()
                        .push(Instance::Exports(components));
                }
                Step::Export(export) => match export.kind {
                    Sort::Component => {
                        let found = component(&scope, export.index);
                        scope.components.borrow_mut().push(found);
                    }
                    Sort::Instance => {
                        let found = instance_of(&scope, export.index);
                        scope.instances.borrow_mut().push(found);
                    }
                    Sort::Other => {}
                },
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parents_of(wat: &str) -> Option<Vec<Option<u32>>> {
        parents(&wat::parse_str(wat).unwrap())
    }

    #[test]
    fn nested_instances_number_depth_first() {
        let wat = r#"(component
            (component $leaf)
            (component $middle
              (import "leaf" (component $l))
              (instance (instantiate $l))
              (instance (instantiate $l)))
            (instance (instantiate $middle (with "leaf" (component $leaf))))
            (instance (instantiate $leaf))
            (component $outer-user
              (alias outer 1 $leaf (component $l2))
              (instance (instantiate $l2))))
          "#;
        // 0 root; 1 middle (2, 3 its leaves); 4 a leaf; $outer-user is never
        // instantiated.
        assert_eq!(
            parents_of(wat),
            Some(vec![None, Some(0), Some(1), Some(1), Some(0)])
        );
    }

    #[test]
    fn components_through_outer_aliases_and_exports() {
        let wat = r#"(component
            (component $leaf)
            (component $user
              (alias outer 1 $leaf (component $l))
              (instance (instantiate $l)))
            (instance $bag (export "c" (component $leaf)))
            (alias export $bag "c" (component $again))
            (instance (instantiate $user))
            (instance (instantiate $again)))
          "#;
        assert_eq!(parents_of(wat), Some(vec![None, Some(0), Some(1), Some(0)]));
    }

    #[test]
    fn an_imported_component_stops_the_walk() {
        let wat = r#"(component
            (import "c" (component $c))
            (instance (instantiate $c)))
          "#;
        assert_eq!(parents_of(wat), None);
    }
}

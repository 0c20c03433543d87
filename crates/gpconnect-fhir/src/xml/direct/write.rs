//! Step 2: the writer that walks the value tree with the JSON → XML writer's rules and STU3
//! element order.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::escape::escape_attribute;
use super::tree::V;
use crate::error::{Error, Result};
use crate::xml::element::Child;
use crate::xml::order::{elements, fallback_rank, lookup};
use crate::xml::writer::{FHIR_NS, MAX_DEPTH, is_attribute, is_name, xhtml};

/// A FHIRPath-like location, formatted only for an error message.
#[derive(Clone, Copy)]
pub(super) enum Loc<'p> {
    /// The empty location (the root resource).
    Root,
    /// A location that starts afresh (a resource's fields are located from its type).
    Reset(&'p str),
    /// `parent.name`
    Field(&'p Loc<'p>, &'p str),
    /// `parent[i]`
    Index(&'p Loc<'p>, usize),
}

impl Loc<'_> {
    pub(super) const ROOT: Loc<'static> = Loc::Root;

    fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) {
        match self {
            Loc::Root => {}
            Loc::Reset(s) => out.push_str(s),
            Loc::Field(parent, name) => {
                parent.render_into(out);
                out.push('.');
                out.push_str(name);
            }
            Loc::Index(parent, i) => {
                parent.render_into(out);
                let _ = write!(out, "[{i}]");
            }
        }
    }
}

fn too_deep() -> Error {
    Error::TooLarge {
        what: "nesting depth",
        limit: MAX_DEPTH,
    }
}

pub(super) struct Writer {
    pub(super) out: String,
}

impl Writer {
    fn indent(&mut self, depth: usize) {
        self.out.push('\n');
        for _ in 0..depth {
            self.out.push_str("  ");
        }
    }

    pub(super) fn resource(
        &mut self,
        value: &V,
        depth: usize,
        root: bool,
        loc: &Loc<'_>,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(too_deep());
        }
        let rt = value
            .get("resourceType")
            .and_then(V::as_str)
            .ok_or_else(|| Error::UnexpectedResource {
                expected: "resource",
                found: "an object without resourceType".to_owned(),
                location: loc.render(),
            })?;
        if !is_name(rt) {
            return Err(Error::UnexpectedResource {
                expected: "resource",
                found: "an invalid resourceType".to_owned(),
                location: loc.render(),
            });
        }
        if depth > 0 {
            self.indent(depth);
        }
        self.out.push('<');
        self.out.push_str(rt);
        if root {
            self.out.push_str(" xmlns=\"");
            self.out.push_str(FHIR_NS);
            self.out.push('"');
        }
        self.out.push('>');
        let V::Obj(fields) = value else {
            return Err(Error::UnexpectedResource {
                expected: "resource",
                found: "not an object".to_owned(),
                location: loc.render(),
            });
        };
        self.children(fields, Some(rt), true, depth + 1, &Loc::Reset(rt))?;
        self.indent(depth);
        self.out.push_str("</");
        self.out.push_str(rt);
        self.out.push('>');
        Ok(())
    }

    fn children(
        &mut self,
        fields: &[(Cow<'static, str>, V)],
        type_name: Option<&str>,
        is_resource: bool,
        depth: usize,
        loc: &Loc<'_>,
    ) -> Result<()> {
        let known_type = type_name.is_some_and(|t| elements(t).is_some());
        // Base names in input order, `_x` folded into `x`; attributes and resourceType
        // skipped; each with its rank in the type's element order.
        let mut names: Vec<(usize, &str)> = Vec::with_capacity(fields.len());
        for (key, _) in fields {
            let base = key.strip_prefix('_').unwrap_or(key);
            if base == "resourceType" && is_resource {
                continue;
            }
            if is_attribute(base, type_name, is_resource) {
                continue;
            }
            if !names.iter().any(|(_, n)| *n == base) {
                let rank = match type_name.and_then(|t| lookup(t, base)) {
                    Some((i, _, _)) => i,
                    None if known_type => usize::MAX,
                    None => fallback_rank(base, is_resource),
                };
                names.push((rank, base));
            }
        }
        names.sort_by_key(|(rank, _)| *rank);
        for (_, name) in names {
            let child_loc = Loc::Field(loc, name);
            if !is_name(name) {
                return Err(Error::Xml {
                    position: 0,
                    reason: format!(
                        "`{}` is not a valid element name at {}",
                        name.escape_debug(),
                        loc.render()
                    ),
                });
            }
            let value = fields.iter().find(|(k, _)| k == name).map(|(_, v)| v);
            let ext = fields
                .iter()
                .find(|(k, _)| k.strip_prefix('_') == Some(name))
                .map(|(_, v)| v);
            let (child, choice_type) = match type_name.and_then(|t| lookup(t, name)) {
                Some((_, el, choice)) => (Some(el.2), choice),
                None => (None, None),
            };
            let child_type = match child {
                Some(Child::Complex(t)) => Some(t),
                Some(Child::Choice) => choice_type,
                _ => match name {
                    "extension" | "modifierExtension" => Some("Extension"),
                    _ => None,
                },
            };
            match (value, ext) {
                (Some(V::Arr(items)), ext) => {
                    let exts = match ext {
                        Some(V::Arr(e)) => e.as_slice(),
                        _ => &[],
                    };
                    for (i, item) in items.iter().enumerate() {
                        self.one(
                            name,
                            Some(item),
                            exts.get(i),
                            child_type,
                            depth,
                            &Loc::Index(&child_loc, i),
                        )?;
                    }
                    // Extensions beyond the values (values were null and omitted).
                    for (i, e) in exts.iter().enumerate().skip(items.len()) {
                        self.one(
                            name,
                            None,
                            Some(e),
                            child_type,
                            depth,
                            &Loc::Index(&child_loc, i),
                        )?;
                    }
                }
                (None, Some(V::Arr(exts))) => {
                    for (i, e) in exts.iter().enumerate() {
                        self.one(
                            name,
                            None,
                            Some(e),
                            child_type,
                            depth,
                            &Loc::Index(&child_loc, i),
                        )?;
                    }
                }
                (value, ext) => self.one(name, value, ext, child_type, depth, &child_loc)?,
            }
        }
        Ok(())
    }

    fn one(
        &mut self,
        name: &str,
        value: Option<&V>,
        ext: Option<&V>,
        child_type: Option<&str>,
        depth: usize,
        loc: &Loc<'_>,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(too_deep());
        }
        match value {
            Some(v @ V::Obj(fields)) if fields.iter().any(|(k, _)| k == "resourceType") => {
                self.indent(depth);
                self.out.push('<');
                self.out.push_str(name);
                self.out.push('>');
                self.resource(v, depth + 1, false, loc)?;
                self.indent(depth);
                self.close(name);
            }
            Some(V::Obj(fields)) => {
                self.indent(depth);
                self.out.push('<');
                self.out.push_str(name);
                let mut has_children = false;
                let mut clean = true;
                for (k, v) in fields {
                    if is_attribute(k, child_type, false) {
                        if let V::Str(s) = v {
                            self.out.push(' ');
                            self.out.push_str(k);
                            self.out.push_str("=\"");
                            clean &= escape_attribute(&mut self.out, s);
                            self.out.push('"');
                        }
                    } else {
                        let base = k.strip_prefix('_').unwrap_or(k);
                        has_children |= !is_attribute(base, child_type, false);
                    }
                }
                if !clean {
                    return Err(control_in(name));
                }
                if has_children {
                    self.out.push('>');
                    self.children(fields, child_type, false, depth + 1, loc)?;
                    self.indent(depth);
                    self.close(name);
                } else {
                    self.out.push_str("/>");
                }
            }
            Some(V::Str(div)) if name == "div" => {
                self.indent(depth);
                self.out.push_str(&xhtml(div, &loc.render())?);
            }
            Some(V::Null) | None if ext.is_none() => {}
            primitive => {
                let text: Option<&str> = match primitive {
                    Some(V::Str(s)) => Some(s),
                    Some(V::Bool(true)) => Some("true"),
                    Some(V::Bool(false)) => Some("false"),
                    Some(V::Num(n)) => Some(n),
                    Some(V::Arr(_)) => {
                        return Err(Error::Xml {
                            position: 0,
                            reason: format!("nested array at {}", loc.render()),
                        });
                    }
                    _ => None,
                };
                let ext_fields = match ext {
                    Some(V::Obj(f)) => f.as_slice(),
                    _ => &[],
                };
                // A primitive with no value, no id and no extension carries nothing: FHIR
                // XML has no such element (ele-1), and the reader would drop it.
                let start = self.out.len();
                self.indent(depth);
                self.out.push('<');
                self.out.push_str(name);
                let mut clean_id = true;
                let mut carries_attributes = text.is_some();
                if let Some(id) = ext_fields
                    .iter()
                    .find(|(k, _)| k == "id")
                    .and_then(|(_, v)| v.as_str())
                {
                    self.out.push_str(" id=\"");
                    clean_id = escape_attribute(&mut self.out, id);
                    self.out.push('"');
                    carries_attributes = true;
                }
                if let Some(text) = text {
                    self.out.push_str(" value=\"");
                    if !escape_attribute(&mut self.out, text) {
                        return Err(Error::Xml {
                            position: 0,
                            reason: format!(
                                "a control character XML cannot carry at {}",
                                loc.render()
                            ),
                        });
                    }
                    self.out.push('"');
                }
                if !clean_id {
                    return Err(control_in(name));
                }
                let mut extensions = ext_fields.iter().filter(|(k, _)| k != "id").peekable();
                if extensions.peek().is_none() {
                    if !carries_attributes {
                        self.out.truncate(start);
                        return Ok(());
                    }
                    self.out.push_str("/>");
                } else {
                    self.out.push('>');
                    let before = self.out.len();
                    let owned: Vec<(Cow<'static, str>, V)> = extensions.cloned().collect();
                    self.children(&owned, Some("Element"), false, depth + 1, loc)?;
                    if self.out.len() == before && !carries_attributes {
                        self.out.truncate(start);
                        return Ok(());
                    }
                    self.indent(depth);
                    self.close(name);
                }
            }
        }
        Ok(())
    }

    fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }
}

fn control_in(name: &str) -> Error {
    Error::Xml {
        position: 0,
        reason: format!("a control character XML cannot carry in `{name}`"),
    }
}

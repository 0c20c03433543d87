//! FHIR XML → FHIR JSON, using the STU3 tables for cardinality and primitive types.

use serde_json::{Map, Value};

use super::dom::Element;
use super::element::Child;
use super::order::{choice_primitive, lookup};
use crate::error::{Error, Result};

/// Converts a resource element (`<Bundle>`, `<Patient>`, …) to FHIR JSON.
pub(crate) fn resource_to_json(el: &Element, depth: usize) -> Result<Value> {
    let mut obj = Map::new();
    obj.insert("resourceType".to_owned(), Value::String(el.name.clone()));
    fill(&mut obj, el, Some(&el.name), true, depth)?;
    Ok(Value::Object(obj))
}

fn fill(
    obj: &mut Map<String, Value>,
    el: &Element,
    type_name: Option<&str>,
    is_resource: bool,
    depth: usize,
) -> Result<()> {
    if depth > super::dom::MAX_DEPTH {
        return Err(Error::TooLarge {
            what: "nesting depth",
            limit: super::dom::MAX_DEPTH,
        });
    }
    if !is_resource {
        for (k, v) in &el.attributes {
            if k == "id" || (k == "url" && type_name == Some("Extension")) {
                obj.insert(k.clone(), Value::String(v.clone()));
            }
        }
    }
    for child in &el.children {
        let name = child.name.as_str();
        let found = type_name.and_then(|t| lookup(t, name));
        let many = match found {
            Some((_, el, _)) => el.1,
            None => el.children.iter().filter(|c| c.name == name).count() > 1,
        };
        let kind = match found {
            Some((_, el, choice)) => match el.2 {
                Child::Choice => match choice {
                    Some(t) => Child::Complex(t),
                    None => choice_primitive(name),
                },
                other => other,
            },
            None if name == "extension" || name == "modifierExtension" => {
                Child::Complex("Extension")
            }
            None if child.attribute("value").is_some() || child.xhtml.is_some() => Child::String,
            None => Child::Complex(""),
        };
        let (value, ext) = match kind {
            Child::Resource => {
                let inner = match child.children.as_slice() {
                    [one] => one,
                    _ => {
                        return Err(Error::Xml {
                            position: 0,
                            reason: format!("`{name}` must hold exactly one resource"),
                        });
                    }
                };
                (Some(resource_to_json(inner, depth + 1)?), None)
            }
            Child::Complex(t) => {
                let mut inner = Map::new();
                let t = if t.is_empty() { None } else { Some(t) };
                fill(&mut inner, child, t, false, depth + 1)?;
                (Some(Value::Object(inner)), None)
            }
            primitive => {
                if name == "div" {
                    (child.xhtml.clone().map(Value::String), None)
                } else {
                    let value = match child.attribute("value") {
                        Some(v) => Some(typed(v, primitive, name)?),
                        None => None,
                    };
                    let mut ext = Map::new();
                    if let Some(id) = child.attribute("id") {
                        ext.insert("id".to_owned(), Value::String(id.to_owned()));
                    }
                    let exts = child
                        .children
                        .iter()
                        .filter(|c| c.name == "extension")
                        .map(|c| {
                            let mut m = Map::new();
                            fill(&mut m, c, Some("Extension"), false, depth + 1)?;
                            Ok(Value::Object(m))
                        })
                        .collect::<Result<Vec<_>>>()?;
                    if !exts.is_empty() {
                        ext.insert("extension".to_owned(), Value::Array(exts));
                    }
                    (
                        value,
                        if ext.is_empty() {
                            None
                        } else {
                            Some(Value::Object(ext))
                        },
                    )
                }
            }
        };
        push(obj, name, value, ext, many)?;
    }
    Ok(())
}

fn typed(text: &str, kind: Child, name: &str) -> Result<Value> {
    let bad = || Error::Xml {
        position: 0,
        reason: format!(
            "`{name}` value is not a valid {}",
            if kind == Child::Boolean {
                "boolean"
            } else {
                "number"
            }
        ),
    };
    Ok(match kind {
        Child::Boolean => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad()),
        },
        Child::Number => Value::Number(text.parse::<serde_json::Number>().map_err(|_| bad())?),
        _ => Value::String(text.to_owned()),
    })
}

fn push(
    obj: &mut Map<String, Value>,
    name: &str,
    value: Option<Value>,
    ext: Option<Value>,
    many: bool,
) -> Result<()> {
    let ext_key = format!("_{name}");
    if many {
        let len = match obj.get(name) {
            Some(Value::Array(a)) => a.len(),
            _ => match obj.get(&ext_key) {
                Some(Value::Array(a)) => a.len(),
                _ => 0,
            },
        };
        let values = obj
            .entry(name.to_owned())
            .or_insert_with(|| Value::Array(vec![Value::Null; len]));
        if let Value::Array(a) = values {
            a.push(value.unwrap_or(Value::Null));
        }
        if ext.is_some() || obj.contains_key(&ext_key) {
            let exts = obj
                .entry(ext_key)
                .or_insert_with(|| Value::Array(vec![Value::Null; len]));
            if let Value::Array(a) = exts {
                a.push(ext.unwrap_or(Value::Null));
            }
        }
    } else {
        if obj.contains_key(name) || obj.contains_key(&ext_key) {
            return Err(Error::Xml {
                position: 0,
                reason: format!("`{name}` occurs more than once but may occur only once"),
            });
        }
        if let Some(v) = value {
            obj.insert(name.to_owned(), v);
        }
        if let Some(e) = ext {
            obj.insert(ext_key, e);
        }
    }
    Ok(())
}

/// Drops `null`-only arrays left when every primitive of a repeating element had no value.
pub(crate) fn tidy(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !matches!(v, Value::Array(a) if a.iter().all(Value::is_null)));
            for v in map.values_mut() {
                tidy(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(tidy),
        _ => {}
    }
}

//! `Activity`: locally configured performed/with/method values and a duration.

use crate::error::Error;
use crate::types::{opt_minutes, write_opt_minutes};
use crate::xml::{Element, Writer};

/// `Activity { Performed, With, Method, Duration }` (values configured locally).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Activity {
    /// `Performed`
    pub performed: Option<String>,
    /// `With`
    pub with: Option<String>,
    /// `Method`
    pub method: Option<String>,
    /// `Duration` in minutes.
    pub duration: Option<u32>,
}

impl Activity {
    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            performed: el.child_text("Performed"),
            with: el.child_text("With"),
            method: el.child_text("Method"),
            duration: opt_minutes(el, "Duration")?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("Activity");
        w.opt("Performed", self.performed.as_deref());
        w.opt("With", self.with.as_deref());
        w.opt("Method", self.method.as_deref());
        write_opt_minutes(w, "Duration", self.duration);
        w.close("Activity");
    }
}

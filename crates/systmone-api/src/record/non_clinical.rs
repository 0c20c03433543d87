//! The non-clinical items: [`NonClinicalItem`], `Task` and `Visit`.

use chrono::{NaiveDate, NaiveDateTime};

use crate::error::Error;
use crate::redact::debug_redacted;
use crate::types::{
    ReferralUid, TaskUid, VisitUid, opt_date, opt_date_time, opt_minutes, write_opt_date,
    write_opt_date_time, write_opt_minutes,
};
use crate::xml::{Element, RawElement, Writer};

use super::appointment::Appointment;

/// One item under `NonClinical`, in document order.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NonClinicalItem {
    /// `Appointment`
    Appointment(Appointment),
    /// `Task`
    Task(Task),
    /// `Visit`
    Visit(Visit),
    /// An item this crate does not type, kept whole.
    Other(RawElement),
}

impl NonClinicalItem {
    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(match el.name() {
            "Appointment" => NonClinicalItem::Appointment(Appointment::read(el)?),
            "Task" => NonClinicalItem::Task(Task::read(el)?),
            "Visit" => NonClinicalItem::Visit(Visit::read(el)?),
            _ => NonClinicalItem::Other(el.to_raw()),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        match self {
            NonClinicalItem::Appointment(a) => a.write(w),
            NonClinicalItem::Task(t) => t.write(w),
            NonClinicalItem::Visit(v) => v.write(w),
            NonClinicalItem::Other(raw) => raw.write(w),
        }
    }

    pub(crate) fn read_all(parent: Element<'_, '_>) -> Result<Vec<Self>, Error> {
        parent.children().map(Self::read).collect()
    }
}

impl From<Task> for NonClinicalItem {
    fn from(t: Task) -> Self {
        NonClinicalItem::Task(t)
    }
}

impl From<Appointment> for NonClinicalItem {
    fn from(a: Appointment) -> Self {
        NonClinicalItem::Appointment(a)
    }
}

impl From<Visit> for NonClinicalItem {
    fn from(v: Visit) -> Self {
        NonClinicalItem::Visit(v)
    }
}

/// `Task`. New tasks: `TaskType`, `Due`?, `Content`, and at most one of the assignees (none
/// means unassigned). Updates: `TaskUID` plus the changed content or assignment. Reads carry
/// `TaskUID`, `DateTime`, `TaskType`, `Status`, `Content`.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Task {
    /// `TaskUID`
    pub task_uid: Option<TaskUid>,
    /// `DateTime` (reads).
    pub date_time: Option<NaiveDateTime>,
    /// `TaskType` (locally configured, e.g. "Clinical Review Required").
    pub task_type: Option<String>,
    /// `Status` (reads).
    pub status: Option<String>,
    /// `Due`
    pub due: Option<NaiveDate>,
    /// `Content`
    pub content: Option<String>,
    /// `UserNameAssigned`
    pub user_name_assigned: Option<String>,
    /// `GroupNameAssigned`
    pub group_name_assigned: Option<String>,
    /// `TeamNameAssigned`
    pub team_name_assigned: Option<String>,
}

debug_redacted!(Task {
    task_uid,
    date_time,
    task_type,
    status,
    due,
    content: redacted,
    user_name_assigned,
    group_name_assigned,
    team_name_assigned
});

impl Task {
    /// A new task of this type with this content, unassigned.
    pub fn new(task_type: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            task_type: Some(task_type.into()),
            content: Some(content.into()),
            ..Self::default()
        }
    }

    /// Assigns the task to a SystmOne user.
    pub fn assigned_to_user(mut self, user_name: impl Into<String>) -> Self {
        self.user_name_assigned = Some(user_name.into());
        self
    }

    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            task_uid: el.child("TaskUID").map(|u| TaskUid::new(u.text().trim())),
            date_time: opt_date_time(el, "DateTime")?,
            task_type: el.child_text("TaskType"),
            status: el.child_text("Status"),
            due: opt_date(el, "Due")?,
            content: el.child_text("Content"),
            user_name_assigned: el.child_text("UserNameAssigned"),
            group_name_assigned: el.child_text("GroupNameAssigned"),
            team_name_assigned: el.child_text("TeamNameAssigned"),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("Task");
        w.opt("TaskUID", self.task_uid.as_ref().map(TaskUid::as_str));
        write_opt_date_time(w, "DateTime", self.date_time);
        w.opt("TaskType", self.task_type.as_deref());
        w.opt("Status", self.status.as_deref());
        write_opt_date(w, "Due", self.due);
        w.opt("Content", self.content.as_deref());
        w.opt("UserNameAssigned", self.user_name_assigned.as_deref());
        w.opt("GroupNameAssigned", self.group_name_assigned.as_deref());
        w.opt("TeamNameAssigned", self.team_name_assigned.as_deref());
        w.close("Task");
    }
}

/// `Visit { DateTime, Duration, Comments?, UserName, LinkedReferralUID?, Status? }`; update
/// with `VisitUID` + `Status`.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Visit {
    /// `VisitUID`
    pub visit_uid: Option<VisitUid>,
    /// `DateTime`
    pub date_time: Option<NaiveDateTime>,
    /// `Duration` in minutes.
    pub duration: Option<u32>,
    /// `Comments`
    pub comments: Option<String>,
    /// `UserName`
    pub user_name: Option<String>,
    /// `LinkedReferralUID`
    pub linked_referral_uid: Option<ReferralUid>,
    /// `Status`
    pub status: Option<String>,
}

debug_redacted!(Visit {
    visit_uid,
    date_time,
    duration,
    comments: redacted,
    user_name,
    linked_referral_uid,
    status
});

impl Visit {
    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            visit_uid: el.child("VisitUID").map(|u| VisitUid::new(u.text().trim())),
            date_time: opt_date_time(el, "DateTime")?,
            duration: opt_minutes(el, "Duration")?,
            comments: el.child_text("Comments"),
            user_name: el.child_text("UserName"),
            linked_referral_uid: el
                .child("LinkedReferralUID")
                .map(|u| ReferralUid::new(u.text().trim())),
            status: el.child_text("Status"),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("Visit");
        w.opt("VisitUID", self.visit_uid.as_ref().map(VisitUid::as_str));
        write_opt_date_time(w, "DateTime", self.date_time);
        write_opt_minutes(w, "Duration", self.duration);
        w.opt("Comments", self.comments.as_deref());
        w.opt("UserName", self.user_name.as_deref());
        w.opt(
            "LinkedReferralUID",
            self.linked_referral_uid.as_ref().map(ReferralUid::as_str),
        );
        w.opt("Status", self.status.as_deref());
        w.close("Visit");
    }
}

//! Shift windows: when, in ward-local wall-clock time, an audit may complete a task.
//!
//! A shift window is a start and an end time of day; an end at or before the start means the
//! next day (the night shift runs 21:30 on its due date to 07:30 the day after). Windows are
//! trust configuration; the defaults are
//!
//! | shift | window |
//! | --- | --- |
//! | early | 07:00–15:00 |
//! | late | 14:30–22:00 |
//! | night | 21:30–07:30 (next day) |
//!
//! and they may overlap at handover. Windows are compared in wall-clock time in the wards'
//! time zone (Europe/London by default), so a 07:00 start is 07:00 GMT in winter and 07:00 BST
//! in summer, and a night shift across a clock change is an hour shorter (March) or longer
//! (October) in real time.
//!
//! Which window a task has ([`TaskWindow`]):
//! - a task that names its shift (`"shift": "night"`) has that shift's window on its due date;
//! - otherwise a daily audit's task has its audit type's shift (ligature checks: night);
//! - a walkaround task that names no shift accepts any shift of its due date (from the
//!   earliest shift start to the latest shift end: 07:00 to 07:30 the next day by default);
//! - a weekly audit's task has its whole due date (midnight to midnight), or with
//!   [`crate::WeeklyMatching::SameIsoWeek`] any day of the same ISO week.

use std::fmt;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};
use serde::Serialize;

use crate::audit_type::{AuditType, Cadence, Shift};
use crate::error::AssuranceError;

/// One shift's hours in wall-clock time: `start` on the due date to `end` (the next day when
/// `end <= start`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct ShiftWindow {
    /// Start, on the due date.
    pub start: NaiveTime,
    /// End (exclusive); the next day when not after `start`.
    pub end: NaiveTime,
}

impl ShiftWindow {
    /// A window from `start` to `end`.
    ///
    /// # Errors
    /// [`AssuranceError::InvalidConfig`] when `start == end` (an empty or 24-hour window is
    /// ambiguous: give two shifts instead).
    pub fn new(start: NaiveTime, end: NaiveTime) -> Result<Self, AssuranceError> {
        if start == end {
            return Err(AssuranceError::InvalidConfig {
                reason: "a shift window must not start and end at the same time".into(),
            });
        }
        Ok(Self { start, end })
    }

    /// A window from hours and minutes (`ShiftWindow::hm((21, 30), (7, 30))`).
    ///
    /// # Errors
    /// [`AssuranceError::InvalidConfig`] for a time that does not exist or an empty window.
    pub fn hm(start: (u32, u32), end: (u32, u32)) -> Result<Self, AssuranceError> {
        let time = |(h, m): (u32, u32)| {
            NaiveTime::from_hms_opt(h, m, 0).ok_or_else(|| AssuranceError::InvalidConfig {
                reason: "a shift time must be HH:MM between 00:00 and 23:59".into(),
            })
        };
        Self::new(time(start)?, time(end)?)
    }

    /// Whether the window runs past midnight into the next day.
    #[must_use]
    pub fn crosses_midnight(&self) -> bool {
        self.end <= self.start
    }

    /// The window of the shift due on `date`, as wall-clock bounds `[start, end)`.
    #[must_use]
    pub fn bounds_on(&self, date: NaiveDate) -> (NaiveDateTime, NaiveDateTime) {
        let start = date.and_time(self.start);
        let end_date = if self.crosses_midnight() {
            date.succ_opt().unwrap_or(date)
        } else {
            date
        };
        (start, end_date.and_time(self.end))
    }
}

impl std::str::FromStr for ShiftWindow {
    type Err = AssuranceError;

    /// `HH:MM-HH:MM`, e.g. `21:30-07:30` (an end at or before the start is the next day).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || AssuranceError::InvalidConfig {
            reason: "a shift window is HH:MM-HH:MM, e.g. 21:30-07:30".into(),
        };
        let (start, end) = text.trim().split_once('-').ok_or_else(invalid)?;
        let time = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| invalid());
        Self::new(time(start)?, time(end)?)
    }
}

impl fmt::Display for ShiftWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M"),
            if self.crosses_midnight() {
                " next day"
            } else {
                ""
            }
        )
    }
}

/// The three shifts' windows (trust configuration; see the module docs for the defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ShiftWindows {
    /// The early shift (default 07:00–15:00).
    pub early: ShiftWindow,
    /// The late shift (default 14:30–22:00).
    pub late: ShiftWindow,
    /// The night shift (default 21:30–07:30 the next day).
    pub night: ShiftWindow,
}

impl Default for ShiftWindows {
    fn default() -> Self {
        let at = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN);
        Self {
            early: ShiftWindow {
                start: at(7, 0),
                end: at(15, 0),
            },
            late: ShiftWindow {
                start: at(14, 30),
                end: at(22, 0),
            },
            night: ShiftWindow {
                start: at(21, 30),
                end: at(7, 30),
            },
        }
    }
}

impl ShiftWindows {
    /// A shift's window.
    #[must_use]
    pub fn window(&self, shift: Shift) -> ShiftWindow {
        match shift {
            Shift::Early => self.early,
            Shift::Late => self.late,
            Shift::Night => self.night,
        }
    }

    /// Replace one shift's window.
    #[must_use]
    pub fn with(mut self, shift: Shift, window: ShiftWindow) -> Self {
        match shift {
            Shift::Early => self.early = window,
            Shift::Late => self.late = window,
            Shift::Night => self.night = window,
        }
        self
    }

    /// The window of every shift of `date` together: from the earliest start to the latest
    /// end.
    #[must_use]
    pub fn any_shift_bounds(&self, date: NaiveDate) -> (NaiveDateTime, NaiveDateTime) {
        let bounds = Shift::ALL.map(|s| self.window(s).bounds_on(date));
        let start = bounds.iter().map(|b| b.0).min().unwrap_or(bounds[0].0);
        let end = bounds.iter().map(|b| b.1).max().unwrap_or(bounds[0].1);
        (start, end)
    }
}

/// Which window a task accepts completions in (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskWindow {
    /// The named (or the audit type's) shift on the due date.
    Shift(Shift),
    /// Any shift of the due date (a walkaround task naming no shift).
    AnyShift,
    /// The whole due date (weekly audits).
    WholeDay,
    /// Any day of the due date's ISO week (weekly audits under `SameIsoWeek`).
    IsoWeek,
}

impl TaskWindow {
    /// The window of a task of `audit_type` that names `shift` (or none).
    #[must_use]
    pub fn for_task(audit_type: AuditType, shift: Option<Shift>, iso_week: bool) -> Self {
        match (shift.or(audit_type.default_shift()), audit_type.cadence()) {
            (Some(shift), _) => Self::Shift(shift),
            (None, Cadence::EachShiftChange) => Self::AnyShift,
            (None, _) if iso_week => Self::IsoWeek,
            (None, _) => Self::WholeDay,
        }
    }

    /// The wall-clock bounds `[start, end)` of this window for a task due on `date`.
    #[must_use]
    pub fn bounds(self, windows: &ShiftWindows, date: NaiveDate) -> (NaiveDateTime, NaiveDateTime) {
        let next = |d: NaiveDate, n: i64| d.checked_add_signed(Duration::days(n)).unwrap_or(d);
        match self {
            Self::Shift(shift) => windows.window(shift).bounds_on(date),
            Self::AnyShift => windows.any_shift_bounds(date),
            Self::WholeDay => (
                date.and_time(NaiveTime::MIN),
                next(date, 1).and_time(NaiveTime::MIN),
            ),
            Self::IsoWeek => {
                let monday = next(date, -i64::from(date.weekday().num_days_from_monday()));
                (
                    monday.and_time(NaiveTime::MIN),
                    next(monday, 7).and_time(NaiveTime::MIN),
                )
            }
        }
    }

    /// A description for log lines: `night 21:30-07:30 next day`, `any shift`, `whole day`,
    /// `ISO week`.
    #[must_use]
    pub fn describe(self, windows: &ShiftWindows) -> String {
        match self {
            Self::Shift(shift) => format!("{shift} {}", windows.window(shift)),
            Self::AnyShift => "any shift of the day".into(),
            Self::WholeDay => "whole day".into(),
            Self::IsoWeek => "ISO week".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn night_crosses_midnight_and_handover_overlaps() {
        let w = ShiftWindows::default();
        let d = NaiveDate::from_ymd_opt(2026, 1, 27).unwrap();
        assert_eq!(
            w.night.bounds_on(d),
            (dt("2026-01-27 21:30"), dt("2026-01-28 07:30"))
        );
        assert_eq!(w.night.to_string(), "21:30-07:30 next day");
        assert_eq!(
            w.any_shift_bounds(d),
            (dt("2026-01-27 07:00"), dt("2026-01-28 07:30"))
        );
        assert_eq!(
            TaskWindow::IsoWeek.bounds(&w, d),
            (dt("2026-01-26 00:00"), dt("2026-02-02 00:00"))
        );
        assert!(ShiftWindow::hm((7, 0), (7, 0)).is_err());
        assert_eq!("21:30-07:30".parse::<ShiftWindow>().unwrap(), w.night);
        assert!("21:30".parse::<ShiftWindow>().is_err());
        assert!("25:00-07:00".parse::<ShiftWindow>().is_err());
        assert!(ShiftWindow::hm((25, 0), (7, 0)).is_err());
        assert_eq!(
            TaskWindow::for_task(AuditType::LigatureCheck, None, false),
            TaskWindow::Shift(Shift::Night)
        );
        assert_eq!(
            TaskWindow::for_task(AuditType::Walkaround, None, false),
            TaskWindow::AnyShift
        );
        assert_eq!(
            TaskWindow::for_task(AuditType::Walkaround, Some(Shift::Late), false),
            TaskWindow::Shift(Shift::Late)
        );
        assert_eq!(
            TaskWindow::for_task(AuditType::FireSafety, None, true),
            TaskWindow::IsoWeek
        );
    }
}

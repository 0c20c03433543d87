//! What search derives once per service: ages, cost, sessions, points, areas and word weights.

use std::collections::HashMap;

use chrono::Weekday;

use super::filters::{area_shapes, area_tokens};
use super::geo::GeoPoint;
use super::{Facts, Postings, Session};
use crate::formats::{self, TimeOfDay};
use crate::model::Service;

impl Postings {
    pub(super) fn weight(&self, doc: u32) -> Option<u16> {
        let index = self.docs.binary_search(&doc).ok()?;
        self.weights.get(index).copied()
    }
}

pub(super) fn day_bit(day: Weekday) -> u8 {
    1 << day.num_days_from_monday()
}

impl Facts {
    pub(super) fn of(service: &Service) -> Self {
        let mut sessions = Vec::new();
        for schedule in &service.schedules {
            let days = schedule
                .byday
                .as_deref()
                .and_then(|byday| formats::parse_byday(byday).ok())
                .map_or(0, |days| {
                    days.iter().fold(0u8, |bits, d| bits | day_bit(d.weekday))
                });
            let opens = schedule
                .opens_at
                .as_deref()
                .and_then(TimeOfDay::parse)
                .map(|t| t.minutes());
            let closes = schedule
                .closes_at
                .as_deref()
                .and_then(TimeOfDay::parse)
                .map(|t| t.minutes());
            if days != 0 || opens.is_some() || closes.is_some() {
                sessions.push(Session {
                    days,
                    opens,
                    closes,
                });
            }
        }
        let points = service
            .service_at_locations
            .iter()
            .enumerate()
            .filter_map(|(index, sal)| {
                let (lat, lon) = sal.location.as_ref()?.coordinates()?;
                Some((u16::try_from(index).ok()?, GeoPoint::new(lat, lon)?))
            })
            .collect();
        Self {
            minimum_age: service.minimum_age_years().unwrap_or(0.0),
            maximum_age: service.maximum_age_years().unwrap_or(f64::INFINITY),
            paid: service.cost_options.iter().any(|c| {
                c.amount
                    .as_ref()
                    .and_then(serde_json::Number::as_f64)
                    .is_some_and(|a| a > 0.0)
            }),
            sessions,
            points,
            status: service.status.clone(),
            cheapest: service
                .cost_options
                .iter()
                .filter_map(|c| c.amount.as_ref().and_then(serde_json::Number::as_f64))
                .min_by(f64::total_cmp)
                .unwrap_or(0.0)
                .max(0.0),
            areas: area_tokens(service),
            shapes: area_shapes(service),
            last_modified: service
                .last_modified
                .as_deref()
                .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
                .map(|at| at.with_timezone(&chrono::Utc)),
        }
    }
}

/// Splits text into lower-case words of letters and digits.
pub fn tokenize(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
}

/// Word weights of one service: name 4, organization name and taxonomy terms 2, description 1.
pub(super) fn weighted_words(service: &Service) -> HashMap<String, u16> {
    let mut words: HashMap<String, u16> = HashMap::new();
    let mut add = |text: &str, weight: u16| {
        for word in tokenize(text) {
            let entry = words.entry(word).or_default();
            *entry = entry.saturating_add(weight);
        }
    };
    add(&service.name, 4);
    if let Some(organization) = &service.organization {
        add(&organization.name, 2);
    }
    for term in service.taxonomy_terms() {
        add(&term.name, 2);
    }
    if let Some(description) = &service.description {
        add(description, 1);
    }
    words
}

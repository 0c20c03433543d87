//! The semantic rules the schemas cannot express (Warnings): ranges, dates, schedules,
//! coordinates, postcodes, costs, attributes.

use serde_json::{Map, Value};

use super::spec::Spec;
use super::walker::Walker;
use super::{Rule, Severity};
use crate::formats::{self, UkPostcode, parse_byday};
use crate::search::AreaExtent;

impl Walker<'_> {
    pub(super) fn semantics(&mut self, map: &Map<String, Value>, spec: &Spec, path: &str) {
        let number = |key: &str| map.get(key).and_then(Value::as_f64);
        let text = |key: &str| map.get(key).and_then(Value::as_str);
        let date = |key: &str| text(key).and_then(formats::parse_date);
        match spec.object {
            "service" => {
                for key in ["minimum_age", "maximum_age"] {
                    if number(key).is_some_and(|age| age < 0.0) {
                        self.push(
                            Severity::Warning,
                            Rule::AgeRange,
                            &format!("{path}.{key}"),
                            format!("`{key}` is negative"),
                        );
                    }
                }
                if let (Some(min), Some(max)) = (number("minimum_age"), number("maximum_age"))
                    && min > max
                {
                    self.push(
                        Severity::Warning,
                        Rule::AgeRange,
                        &format!("{path}.minimum_age"),
                        format!("minimum_age {min} is above maximum_age {max}"),
                    );
                }
                if let (Some(today), Some(assured)) = (self.context.today, date("assured_date")) {
                    let age = (today - assured).num_days();
                    if age > self.context.stale_after_days {
                        self.push(Severity::Warning, Rule::StaleAssuredDate, &format!("{path}.assured_date"), format!("assured_date {assured} is {age} days old (recommended: checked within {} days)", self.context.stale_after_days));
                    } else if age < 0 {
                        self.push(
                            Severity::Warning,
                            Rule::FutureDate,
                            &format!("{path}.assured_date"),
                            format!("assured_date {assured} is in the future"),
                        );
                    }
                }
                if let (Some(today), Some(modified)) = (self.context.today, text("last_modified"))
                    && let Ok(modified) = chrono::DateTime::parse_from_rfc3339(modified)
                    && modified.date_naive() > today
                {
                    self.push(
                        Severity::Warning,
                        Rule::FutureDate,
                        &format!("{path}.last_modified"),
                        "last_modified is in the future",
                    );
                }
            }
            "schedule" | "cost_option" => {
                if let (Some(from), Some(to)) = (date("valid_from"), date("valid_to"))
                    && from > to
                {
                    self.push(
                        Severity::Warning,
                        Rule::DateRange,
                        &format!("{path}.valid_from"),
                        format!("valid_from {from} is after valid_to {to}"),
                    );
                }
                if spec.object == "cost_option" {
                    if number("amount").is_some_and(|amount| amount < 0.0) {
                        self.push(
                            Severity::Warning,
                            Rule::NegativeAmount,
                            &format!("{path}.amount"),
                            "amount is negative",
                        );
                    }
                } else {
                    self.schedule(map, path);
                }
            }
            "location" => {
                match (map.get("latitude"), map.get("longitude")) {
                    (Some(_), None) | (None, Some(_)) => self.push(
                        Severity::Warning,
                        Rule::Coordinates,
                        path,
                        "only one of latitude and longitude is given",
                    ),
                    _ => {}
                }
                if let Some(latitude) = number("latitude")
                    && !(-90.0..=90.0).contains(&latitude)
                {
                    self.push(
                        Severity::Warning,
                        Rule::Coordinates,
                        &format!("{path}.latitude"),
                        format!("latitude {latitude} is outside -90..90"),
                    );
                }
                if let Some(longitude) = number("longitude")
                    && !(-180.0..=180.0).contains(&longitude)
                {
                    self.push(
                        Severity::Warning,
                        Rule::Coordinates,
                        &format!("{path}.longitude"),
                        format!("longitude {longitude} is outside -180..180"),
                    );
                }
                if number("latitude") == Some(0.0) && number("longitude") == Some(0.0) {
                    self.push(
                        Severity::Warning,
                        Rule::Coordinates,
                        &format!("{path}.latitude"),
                        "coordinates (0, 0) are a placeholder, not a UK location",
                    );
                }
            }
            "address" => {
                let uk = text("country")
                    .is_some_and(|c| matches!(c.to_ascii_uppercase().as_str(), "GB" | "UK"));
                if uk
                    && let Some(postcode) = text("postal_code")
                    && UkPostcode::try_from(postcode).is_err()
                {
                    self.push(
                        Severity::Warning,
                        Rule::Postcode,
                        &format!("{path}.postal_code"),
                        format!("{postcode:?} is not a UK postcode"),
                    );
                }
                if let Some(country) = text("country")
                    && (country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()))
                {
                    self.push(Severity::Warning, Rule::Format, &format!("{path}.country"), format!("country should be an ISO 3166-1 alpha-2 code such as \"GB\", found {country:?}"));
                }
            }
            "service_area"
                if text("extent_type")
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("geojson")) =>
            {
                match map.get("extent") {
                    None => self.push(
                        Severity::Warning,
                        Rule::ServiceAreaExtent,
                        &format!("{path}.extent_type"),
                        "extent_type is geojson but there is no extent",
                    ),
                    Some(Value::String(extent)) => {
                        if let Err(error) = AreaExtent::parse_geojson(extent) {
                            self.push(
                                Severity::Warning,
                                Rule::ServiceAreaExtent,
                                &format!("{path}.extent"),
                                format!(
                                    "extent is not a usable GeoJSON area, so search ignores it: {error}"
                                ),
                            );
                        }
                    }
                    // A non-string extent is a type error from the walker.
                    Some(_) => {}
                }
            }
            "attribute"
                if !map.contains_key("taxonomy_term") && !map.contains_key("taxonomy_term_id") =>
            {
                self.push(
                    Severity::Warning,
                    Rule::AttributeWithoutTerm,
                    path,
                    "attribute has neither taxonomy_term nor taxonomy_term_id",
                );
            }
            _ => {}
        }
    }

    pub(super) fn schedule(&mut self, map: &Map<String, Value>, path: &str) {
        let text = |key: &str| map.get(key).and_then(Value::as_str);
        let weekly = text("freq") == Some("WEEKLY");
        if let Some(byday) = text("byday") {
            match parse_byday(byday) {
                Err(token) => self.push(Severity::Warning, Rule::Schedule, &format!("{path}.byday"), format!("byday token {token:?} is not MO, TU, WE, TH, FR, SA or SU (with an optional ordinal for MONTHLY)")),
                Ok(days) if weekly && days.iter().any(|d| d.ordinal.is_some()) => {
                    self.push(Severity::Warning, Rule::Schedule, &format!("{path}.byday"), "ordinals such as 1SA only make sense with freq MONTHLY");
                }
                Ok(_) => {}
            }
        }
        if let Some(bymonthday) = text("bymonthday") {
            if weekly {
                self.push(
                    Severity::Warning,
                    Rule::Schedule,
                    &format!("{path}.bymonthday"),
                    "bymonthday only makes sense with freq MONTHLY",
                );
            }
            let bad = bymonthday.split(',').map(str::trim).find(|token| {
                !token
                    .parse::<i8>()
                    .is_ok_and(|day| day != 0 && (-31..=31).contains(&day))
            });
            if let Some(token) = bad {
                self.push(
                    Severity::Warning,
                    Rule::Schedule,
                    &format!("{path}.bymonthday"),
                    format!(
                        "bymonthday value {token:?} is not a day of the month (1..31 or -31..-1)"
                    ),
                );
            }
        }
        if let Some(interval) = map.get("interval").and_then(Value::as_f64) {
            if interval < 1.0 || interval.fract() != 0.0 {
                self.push(
                    Severity::Warning,
                    Rule::Schedule,
                    &format!("{path}.interval"),
                    format!("interval {interval} is not a positive whole number"),
                );
            } else if interval > 1.0 && !map.contains_key("dtstart") {
                self.push(
                    Severity::Warning,
                    Rule::Schedule,
                    &format!("{path}.dtstart"),
                    "dtstart is needed when interval is above 1",
                );
            }
        }
        let opens = text("opens_at").and_then(formats::TimeOfDay::parse);
        let closes = text("closes_at").and_then(formats::TimeOfDay::parse);
        if let (Some(opens), Some(closes)) = (opens, closes)
            && opens.time >= closes.time
        {
            self.push(
                Severity::Warning,
                Rule::Schedule,
                &format!("{path}.closes_at"),
                format!(
                    "closes_at {} is not after opens_at {}",
                    closes.time, opens.time
                ),
            );
        }
        if (text("opens_at").is_some() || text("closes_at").is_some())
            && text("byday").is_none()
            && text("bymonthday").is_none()
        {
            self.push(
                Severity::Info,
                Rule::Schedule,
                path,
                "opening times without byday or bymonthday do not say which days they apply to",
            );
        }
    }
}
